// Imitates the OpenAI Chat Completions, Responses, Embeddings and legacy Completions APIs (JSON, SSE streaming, error bodies) per https://platform.openai.com/docs/api-reference
/**
 * A fake OpenAI server on 127.0.0.1 for tests, the demo and benchmarks. The real `openai` SDK
 * talks to it through `baseURL`, so every byte the SDK parses has the API's own wire shape:
 * `chat.completion` objects with a `usage` block (prompt/completion tokens, cached and reasoning
 * details), `chat.completion.chunk` SSE events ending in `data: [DONE]` (with the final usage
 * chunk only when `stream_options.include_usage` is true), tool calls, OpenAI error JSON, 429s
 * with `retry-after`, and a connection dropped mid-stream. Also `POST /v1/responses` (a `response`
 * object, or the `response.*` SSE events ending in `response.completed` with `usage.input_tokens`,
 * `input_tokens_details.cached_tokens`, `output_tokens`, `output_tokens_details.reasoning_tokens`;
 * built-in `web_search_call` / `file_search_call` output items), `POST /v1/embeddings` and the
 * legacy `POST /v1/completions` (JSON and SSE). Azure OpenAI paths
 * (`/openai/deployments/{deployment}/...?api-version=...`) answer like their `/v1` equivalents.
 *
 * Behaviour is scriptable per request (see {@link FakeBehavior}), from most to least specific:
 * the `x-fake-behavior` request header (JSON), `metadata.fake_behavior` in the body (JSON string),
 * the queue filled by `server.enqueue()`, the `script` option, then `defaults`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listen, parseJson, readBody, retryAfterHeaders, scriptedReply, sleep, writeJson, writeSse } from './fake-server.ts';

export interface FakeToolCall {
  name: string;
  /** JSON text, or an object that is JSON-encoded. */
  arguments?: string | Record<string, unknown>;
  /** Defaults to `call_<n>`. */
  id?: string;
}

export interface FakeFailure {
  /** HTTP status: 400, 401, 403, 404, 429, 500, 503, ... */
  status: number;
  message?: string;
  /** OpenAI error `type`; defaults by status (invalid_request_error, requests, server_error, ...). */
  type?: string;
  code?: string | null;
  /** Seconds, sent as `retry-after` (429/503). */
  retryAfter?: number;
}

/** What one request gets back. Every field is optional; unset fields are derived deterministically. */
export interface FakeBehavior {
  /**
   * `usage.prompt_tokens` (Responses: `usage.input_tokens`). Default: 3 + Σ over messages
   * (3 + ceil(text chars / 4)); Responses: the same over `instructions` and `input` items;
   * Embeddings and Completions: Σ ceil(chars / 4) over the inputs (token arrays count their length).
   */
  promptTokens?: number;
  /** `usage.completion_tokens` (includes reasoning). Default: ceil(output chars / 4) + reasoningTokens. */
  completionTokens?: number;
  /** `usage.prompt_tokens_details.cached_tokens`. Default 0. */
  cachedTokens?: number;
  /** `usage.completion_tokens_details.reasoning_tokens`. Default 0. */
  reasoningTokens?: number;
  /** Assistant text. Default: `Echo: ` + the last user message's first 60 characters. */
  content?: string;
  /** Answer with tool calls (finish_reason `tool_calls`, content null unless `content` is set). */
  toolCalls?: FakeToolCall[];
  /** `model` in the response. Default: the request model's dated snapshot (gpt-4o-mini -> gpt-4o-mini-2024-07-18). */
  responseModel?: string;
  /** `finish_reason`. Default `stop` (or `tool_calls`). */
  finishReason?: string;
  /** `id`. Default `chatcmpl-fake<n>`. */
  id?: string;
  /** A provider-reported `usage.cost` in USD (as OpenRouter sends). Default: none. */
  cost?: number;
  /** Fail with an OpenAI error body instead of answering. */
  fail?: FakeFailure;
  /** Answer 200 `application/json` with a body cut off mid-object (a proxy that truncated it): the SDK's parse fails. */
  truncatedBody?: boolean;
  /** Streaming: number of content chunks the text is split into. Default: one per word, at most 16. */
  chunks?: number;
  /** Streaming: destroy the connection after this many SSE events were written (an error mid-stream). */
  destroyAfterChunks?: number;
  /** Wait before answering (ms). Default 0. */
  delayMs?: number;
  /** Responses API: `web_search_call` items in the output (each one billed as a web search). Default 0. */
  webSearches?: number;
  /** Responses API: `file_search_call` items in the output. Default 0. */
  fileSearches?: number;
  /** Responses API: end `incomplete` for this reason (e.g. `max_output_tokens`) instead of `completed`. */
  incompleteReason?: string;
  /** Responses API streaming: end with a `response.failed` event carrying this error instead of `response.completed`. */
  streamFailure?: { code: string; message?: string };
  /** Embeddings: vector length. Default: the request's `dimensions`, else 8. */
  dimensions?: number;
  /** Streaming: wait between chunks (ms). Default 0. */
  chunkDelayMs?: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  /** Parsed JSON body (undefined when not JSON). */
  body: any;
  receivedAt: number;
}

export interface FakeOpenAIOptions {
  /** Default 0 (an ephemeral port). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Behaviour for requests nothing more specific scripts. */
  defaults?: FakeBehavior;
  /** Chooses behaviour per request (e.g. by model or by count); return undefined for the defaults. */
  script?: (request: RecordedRequest, index: number) => FakeBehavior | undefined;
  /** Request model -> response model, merged over the built-in snapshot table. */
  modelSnapshots?: Record<string, string>;
  /** Keep at most this many recorded requests (oldest dropped). Default 10,000; 0 records none (benchmarks). */
  recordLimit?: number;
}

export interface FakeOpenAIServer {
  /** Base URL including `/v1`, for `new OpenAI({ baseURL })`. */
  url: string;
  port: number;
  /** Requests received, in order. */
  requests: RecordedRequest[];
  /** Behaviours for the next requests, used first-in first-out (SDK retries consume entries too). */
  enqueue(...behaviors: FakeBehavior[]): void;
  /** Clears recorded requests and the queue. */
  reset(): void;
  close(): Promise<void>;
}

/** Dated snapshots the API reports for an alias. */
export const MODEL_SNAPSHOTS: Readonly<Record<string, string>> = {
  'gpt-4o-mini': 'gpt-4o-mini-2024-07-18',
  'gpt-4o': 'gpt-4o-2024-08-06',
  'gpt-4.1': 'gpt-4.1-2025-04-14',
  'gpt-4.1-mini': 'gpt-4.1-mini-2025-04-14',
  'gpt-4.1-nano': 'gpt-4.1-nano-2025-04-14',
  'gpt-3.5-turbo': 'gpt-3.5-turbo-0125',
  'gpt-4-turbo': 'gpt-4-turbo-2024-04-09',
  o1: 'o1-2024-12-17',
  'o3-mini': 'o3-mini-2025-01-31',
  o3: 'o3-2025-04-16',
  'o4-mini': 'o4-mini-2025-04-16',
  'gpt-5': 'gpt-5-2025-08-07',
  'gpt-5-mini': 'gpt-5-mini-2025-08-07',
  'gpt-5-nano': 'gpt-5-nano-2025-08-07',
};

const ERROR_TYPES: Record<number, [type: string, code: string | null, message: string]> = {
  400: ['invalid_request_error', null, 'Invalid request.'],
  401: ['invalid_request_error', 'invalid_api_key', 'Incorrect API key provided.'],
  403: ['invalid_request_error', 'unsupported_country_region_territory', 'Country, region, or territory not supported'],
  404: ['invalid_request_error', 'model_not_found', 'The model does not exist or you do not have access to it.'],
  429: ['requests', 'rate_limit_exceeded', 'Rate limit reached for requests. Please try again later.'],
  500: ['server_error', null, 'The server had an error while processing your request. Sorry about that!'],
  503: ['server_error', null, 'The engine is currently overloaded, please try again later.'],
};

/** Text of a message's `content` (string or array of parts). */
function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    let s = '';
    for (const p of content) if (p && typeof p === 'object' && typeof (p as { text?: unknown }).text === 'string') s += (p as { text: string }).text;
    return s;
  }
  return '';
}

/** The documented default prompt token count: 3 + Σ (3 + ceil(chars / 4)). */
export function fakePromptTokens(messages: unknown): number {
  let n = 3;
  if (Array.isArray(messages)) for (const m of messages) n += 3 + Math.ceil(textOf((m as { content?: unknown })?.content).length / 4);
  return n;
}

export async function startFakeOpenAI(options: FakeOpenAIOptions = {}): Promise<FakeOpenAIServer> {
  const requests: RecordedRequest[] = [];
  const queue: FakeBehavior[] = [];
  const snapshots = { ...MODEL_SNAPSHOTS, ...options.modelSnapshots };
  const recordLimit = options.recordLimit ?? 10_000;
  let counter = 0;

  function behaviorFor(rec: RecordedRequest, index: number): FakeBehavior {
    return scriptedReply(rec, index, queue, options, parseJson(rec.body?.metadata?.fake_behavior)) ?? {};
  }

  function sendError(res: ServerResponse, f: FakeFailure, requestId: string) {
    const [type, code, message] = ERROR_TYPES[f.status] ?? (f.status >= 500 ? ERROR_TYPES[500]! : ERROR_TYPES[400]!);
    // The SDK obeys x-should-retry over its own status rules; leave it unset so its defaults apply.
    const headers = { 'content-type': 'application/json', 'x-request-id': requestId, ...retryAfterHeaders(f) };
    writeJson(res, f.status, { error: { message: f.message ?? message, type: f.type ?? type, param: null, code: f.code !== undefined ? f.code : code } }, headers);
  }

  async function handle(req: IncomingMessage, res: ServerResponse, raw: string) {
    const index = counter++;
    const requestId = `req_fake${index}`;
    const path = (req.url ?? '/').split('?')[0]!;
    const rec: RecordedRequest = { method: req.method ?? 'GET', path, headers: req.headers, body: parseJson(raw), receivedAt: Date.now() };
    if (recordLimit > 0) {
      requests.push(rec);
      if (requests.length > recordLimit) requests.shift();
    }
    const route = req.method === 'POST' ? routeOf(path) : undefined;
    if (!route) {
      return sendError(res, { status: 404, message: `Unknown request URL: ${req.method} ${path}.`, code: 'unknown_url' }, requestId);
    }
    if (route !== 'chat') {
      const invalid = validate(route, rec.body);
      if (invalid) return sendError(res, { status: 400, message: invalid, code: 'missing_required_parameter' }, requestId);
      const b = behaviorFor(rec, index);
      if (b.delayMs) await sleep(b.delayMs);
      if (b.fail) return sendError(res, b.fail, requestId);
      const model = b.responseModel ?? snapshots[rec.body.model] ?? rec.body.model;
      if (route === 'responses') return answerResponses(res, rec.body, b, model, index, requestId);
      if (route === 'embeddings') return answerEmbeddings(res, rec.body, b, model, requestId);
      return answerCompletions(res, rec.body, b, model, index, requestId);
    }
    const body = rec.body;
    if (!body || typeof body.model !== 'string' || !Array.isArray(body.messages)) {
      return sendError(res, { status: 400, message: "Missing required parameter: 'model' or 'messages'.", code: 'missing_required_parameter' }, requestId);
    }
    const b = behaviorFor(rec, index);
    if (b.delayMs) await sleep(b.delayMs);
    if (b.fail) return sendError(res, b.fail, requestId);
    if (b.truncatedBody) {
      res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': requestId });
      res.end(`{"id":"chatcmpl-fake${index}","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Tru`);
      return;
    }

    const model = b.responseModel ?? snapshots[body.model] ?? body.model;
    const id = b.id ?? `chatcmpl-fake${index}`;
    const created = Math.floor(Date.now() / 1000);
    const toolCalls = b.toolCalls?.map((t, i) => ({
      id: t.id ?? `call_${index}_${i}`,
      type: 'function' as const,
      function: { name: t.name, arguments: typeof t.arguments === 'string' ? t.arguments : JSON.stringify(t.arguments ?? {}) },
    }));
    let content: string | null = b.content ?? null;
    if (content === null && !toolCalls) {
      const lastUser = [...body.messages].reverse().find((m: { role?: string }) => m?.role === 'user');
      content = `Echo: ${textOf(lastUser?.content).slice(0, 60)}`;
    }
    const finishReason = b.finishReason ?? (toolCalls ? 'tool_calls' : 'stop');
    const reasoning = b.reasoningTokens ?? 0;
    const outChars = (content?.length ?? 0) + (toolCalls?.reduce((n, t) => n + t.function.name.length + t.function.arguments.length, 0) ?? 0);
    const usage: Record<string, unknown> = {
      prompt_tokens: b.promptTokens ?? fakePromptTokens(body.messages),
      completion_tokens: b.completionTokens ?? Math.ceil(outChars / 4) + reasoning,
      total_tokens: 0,
      prompt_tokens_details: { cached_tokens: b.cachedTokens ?? 0, audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: reasoning, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
    };
    usage.total_tokens = (usage.prompt_tokens as number) + (usage.completion_tokens as number);
    if (b.cost !== undefined) usage.cost = b.cost;
    const n = typeof body.n === 'number' && body.n > 1 ? body.n : 1;

    if (!body.stream) {
      const choices = Array.from({ length: n }, (_, i) => ({
        index: i,
        message: { role: 'assistant', content, refusal: null, annotations: [], ...(toolCalls ? { tool_calls: toolCalls } : {}) },
        logprobs: null,
        finish_reason: finishReason,
      }));
      return sendJson(res, { id, object: 'chat.completion', created, model, choices, usage, service_tier: 'default', system_fingerprint: 'fp_fake' }, requestId);
    }

    // Streaming, as the API sends it: role chunk, content chunks, tool call chunks, finish chunk,
    // then (only with stream_options.include_usage) a usage chunk with empty choices, then [DONE].
    const includeUsage = body.stream_options?.include_usage === true;
    const base = { id, object: 'chat.completion.chunk', created, model, service_tier: 'default', system_fingerprint: 'fp_fake' };
    const events: string[] = [];
    const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
      JSON.stringify({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], ...(includeUsage ? { usage: null } : {}) });
    events.push(chunk({ role: 'assistant', content: toolCalls && content === null ? null : '', refusal: null }));
    if (content) {
      const words = content.split(/(?<= )/);
      const parts = Math.max(1, Math.min(b.chunks ?? Math.min(words.length, 16), content.length));
      const size = Math.ceil(content.length / parts);
      for (let i = 0; i < content.length; i += size) events.push(chunk({ content: content.slice(i, i + size) }));
    }
    toolCalls?.forEach((t, i) => {
      events.push(chunk({ tool_calls: [{ index: i, id: t.id, type: 'function', function: { name: t.function.name, arguments: '' } }] }));
      const args = t.function.arguments;
      const half = Math.ceil(args.length / 2);
      for (const piece of [args.slice(0, half), args.slice(half)]) if (piece) events.push(chunk({ tool_calls: [{ index: i, function: { arguments: piece } }] }));
    });
    events.push(chunk({}, finishReason));
    if (includeUsage) events.push(JSON.stringify({ ...base, choices: [], usage }));
    events.push('[DONE]');

    await writeEvents(res, events.map((data) => ({ data })), b, requestId);
  }

  const server = createServer((req, res) => {
    readBody(req)
      .then((raw) => handle(req, res, raw))
      .catch((err) => {
        if (!res.headersSent) sendError(res, { status: 500, message: String(err) }, 'req_fake_error');
        else res.destroy();
      });
  });
  server.keepAliveTimeout = 5_000;
  return listen(server, options, '/v1', requests, queue);
}

type Route = 'chat' | 'responses' | 'embeddings' | 'completions';

/** `/v1/...`, and Azure's `/openai/deployments/{deployment}/...` and `/openai/v1/...`. */
function routeOf(path: string): Route | undefined {
  const m = /^(?:\/v1|\/openai\/deployments\/[^/]+|\/openai\/v1|\/openai)\/(chat\/completions|responses|embeddings|completions)\/?$/.exec(path);
  if (!m) return undefined;
  return m[1] === 'chat/completions' ? 'chat' : (m[1] as Route);
}

function validate(route: Route, body: any): string | undefined {
  if (!body || typeof body.model !== 'string') return "Missing required parameter: 'model'.";
  if (route === 'embeddings' && body.input === undefined) return "Missing required parameter: 'input'.";
  if (route === 'completions' && body.prompt === undefined) return "Missing required parameter: 'prompt'.";
  return undefined;
}

/** Writes SSE events (with an `event:` line when named), honouring chunkDelayMs and destroyAfterChunks. */
function writeEvents(res: ServerResponse, events: Array<{ event?: string; data: string }>, b: FakeBehavior, requestId: string): Promise<void> {
  const headers = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-request-id': requestId };
  return writeSse(res, headers, events, { cutAfter: b.destroyAfterChunks, cut: 'destroy', gapMs: b.chunkDelayMs });
}

function sendJson(res: ServerResponse, json: unknown, requestId: string): void {
  writeJson(res, 200, json, { 'content-type': 'application/json', 'x-request-id': requestId, 'openai-processing-ms': '1' });
}

/** Text pieces of a Responses request: `instructions`, then `input` (a string, or items whose content is a string or input_text parts). */
function responsesInputTexts(body: any): string[] {
  const texts: string[] = [];
  if (typeof body?.instructions === 'string') texts.push(body.instructions);
  const input = body?.input;
  if (typeof input === 'string') texts.push(input);
  else if (Array.isArray(input)) for (const item of input) texts.push(typeof item?.output === 'string' ? item.output : textOf(item?.content));
  return texts;
}

/** The documented default `usage.input_tokens` of a Responses request: 3 + Σ (3 + ceil(chars / 4)) over instructions and input items. */
export function fakeResponsesInputTokens(body: unknown): number {
  let n = 3;
  for (const t of responsesInputTexts(body)) n += 3 + Math.ceil(t.length / 4);
  return n;
}

/** The documented default token count of an Embeddings `input` or a Completions `prompt`: Σ ceil(chars / 4); token arrays count their length. */
export function fakeInputTokens(input: unknown): number {
  if (typeof input === 'string') return Math.ceil(input.length / 4);
  if (Array.isArray(input)) {
    if (input.every((x) => typeof x === 'number')) return input.length;
    return input.reduce((n: number, x) => n + fakeInputTokens(x), 0);
  }
  return 0;
}

function chunksOf(text: string, b: FakeBehavior): string[] {
  const words = text.split(/(?<= )/);
  const parts = Math.max(1, Math.min(b.chunks ?? Math.min(words.length, 16), text.length || 1));
  const size = Math.max(1, Math.ceil(text.length / parts));
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

function answerResponses(res: ServerResponse, body: any, b: FakeBehavior, model: string, index: number, requestId: string): Promise<void> | void {
  const id = b.id ?? `resp_fake${index}`;
  const createdAt = Math.floor(Date.now() / 1000);
  const texts = responsesInputTexts(body);
  const lastText = texts[texts.length - 1] ?? '';
  const reasoning = b.reasoningTokens ?? 0;
  const output: any[] = [];
  for (let i = 0; i < (b.webSearches ?? 0); i++) {
    output.push({ type: 'web_search_call', id: `ws_fake${index}_${i}`, status: 'completed', action: { type: 'search', query: lastText.slice(0, 40) } });
  }
  for (let i = 0; i < (b.fileSearches ?? 0); i++) {
    output.push({ type: 'file_search_call', id: `fs_fake${index}_${i}`, status: 'completed', queries: [lastText.slice(0, 40)], results: null });
  }
  if (reasoning) output.push({ type: 'reasoning', id: `rs_fake${index}`, summary: [] });
  const toolCalls = b.toolCalls?.map((t, i) => ({
    type: 'function_call',
    id: `fc_fake${index}_${i}`,
    call_id: t.id ?? `call_${index}_${i}`,
    name: t.name,
    arguments: typeof t.arguments === 'string' ? t.arguments : JSON.stringify(t.arguments ?? {}),
    status: 'completed',
  }));
  let content: string | null = b.content ?? null;
  if (content === null && !toolCalls) content = `Echo: ${lastText.slice(0, 60)}`;
  if (content !== null) {
    output.push({
      type: 'message',
      id: `msg_fake${index}`,
      status: 'completed',
      role: 'assistant',
      content: [{ type: 'output_text', text: content, annotations: [], logprobs: [] }],
    });
  }
  if (toolCalls) output.push(...toolCalls);
  const outChars = (content?.length ?? 0) + (toolCalls?.reduce((n, t) => n + t.name.length + t.arguments.length, 0) ?? 0);
  const usage: Record<string, unknown> = {
    input_tokens: b.promptTokens ?? fakeResponsesInputTokens(body),
    input_tokens_details: { cached_tokens: b.cachedTokens ?? 0 },
    output_tokens: b.completionTokens ?? Math.ceil(outChars / 4) + reasoning,
    output_tokens_details: { reasoning_tokens: reasoning },
    total_tokens: 0,
  };
  usage.total_tokens = (usage.input_tokens as number) + (usage.output_tokens as number);
  if (b.cost !== undefined) usage.cost = b.cost;
  const base = {
    id,
    object: 'response',
    created_at: createdAt,
    model,
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    parallel_tool_calls: true,
    previous_response_id: body.previous_response_id ?? null,
    reasoning: { effort: null, summary: null },
    service_tier: 'default',
    store: true,
    temperature: body.temperature ?? 1,
    text: body.text ?? { format: { type: 'text' } },
    tool_choice: body.tool_choice ?? 'auto',
    tools: body.tools ?? [],
    top_p: body.top_p ?? 1,
    truncation: 'disabled',
    user: null,
    metadata: body.metadata ?? {},
    error: null,
  };
  const incomplete = b.incompleteReason ? { reason: b.incompleteReason } : null;
  const final = { ...base, status: incomplete ? 'incomplete' : 'completed', incomplete_details: incomplete, output, usage };
  if (!body.stream) return sendJson(res, final, requestId);

  // Streaming, as the API sends it: named `response.*` events, each with `type` and
  // `sequence_number`; usage only on the terminal response.completed / .incomplete (null on .failed).
  let seq = 0;
  const events: Array<{ event: string; data: string }> = [];
  const emit = (type: string, fields: Record<string, unknown>) => events.push({ event: type, data: JSON.stringify({ type, sequence_number: seq++, ...fields }) });
  const pending = { ...base, status: 'in_progress', incomplete_details: null, output: [], usage: null };
  emit('response.created', { response: pending });
  emit('response.in_progress', { response: pending });
  output.forEach((item, outputIndex) => {
    if (item.type === 'web_search_call' || item.type === 'file_search_call') {
      emit('response.output_item.added', { output_index: outputIndex, item: { ...item, status: 'in_progress' } });
      for (const phase of ['in_progress', 'searching', 'completed']) emit(`response.${item.type}.${phase}`, { output_index: outputIndex, item_id: item.id });
      emit('response.output_item.done', { output_index: outputIndex, item });
    } else if (item.type === 'message') {
      const text: string = item.content[0].text;
      emit('response.output_item.added', { output_index: outputIndex, item: { ...item, status: 'in_progress', content: [] } });
      emit('response.content_part.added', { item_id: item.id, output_index: outputIndex, content_index: 0, part: { type: 'output_text', text: '', annotations: [] } });
      for (const delta of chunksOf(text, b)) emit('response.output_text.delta', { item_id: item.id, output_index: outputIndex, content_index: 0, delta, logprobs: [] });
      emit('response.output_text.done', { item_id: item.id, output_index: outputIndex, content_index: 0, text, logprobs: [] });
      emit('response.content_part.done', { item_id: item.id, output_index: outputIndex, content_index: 0, part: item.content[0] });
      emit('response.output_item.done', { output_index: outputIndex, item });
    } else if (item.type === 'function_call') {
      emit('response.output_item.added', { output_index: outputIndex, item: { ...item, arguments: '', status: 'in_progress' } });
      emit('response.function_call_arguments.delta', { item_id: item.id, output_index: outputIndex, delta: item.arguments });
      emit('response.function_call_arguments.done', { item_id: item.id, output_index: outputIndex, arguments: item.arguments });
      emit('response.output_item.done', { output_index: outputIndex, item });
    } else {
      emit('response.output_item.added', { output_index: outputIndex, item });
      emit('response.output_item.done', { output_index: outputIndex, item });
    }
  });
  if (b.streamFailure) {
    const error = { code: b.streamFailure.code, message: b.streamFailure.message ?? 'The model failed to generate a response.' };
    emit('response.failed', { response: { ...base, status: 'failed', incomplete_details: null, output, usage: null, error } });
  } else {
    emit(incomplete ? 'response.incomplete' : 'response.completed', { response: final });
  }
  return writeEvents(res, events, b, requestId);
}

function fakeVector(seed: number, dims: number): number[] {
  const v: number[] = [];
  for (let i = 0; i < dims; i++) v.push(Math.fround(Math.sin(seed * 31 + i) / 2));
  return v;
}

function isTokenArray(x: unknown): boolean {
  return Array.isArray(x) && x.length > 0 && x.every((t) => typeof t === 'number');
}

function answerEmbeddings(res: ServerResponse, body: any, b: FakeBehavior, model: string, requestId: string): void {
  const inputs: unknown[] = typeof body.input === 'string' || isTokenArray(body.input) ? [body.input] : body.input;
  const dims = b.dimensions ?? (typeof body.dimensions === 'number' ? body.dimensions : 8);
  const base64 = body.encoding_format === 'base64';
  const data = inputs.map((_, index) => {
    const v = fakeVector(index + 1, dims);
    return { object: 'embedding', index, embedding: base64 ? Buffer.from(new Float32Array(v).buffer).toString('base64') : v };
  });
  const prompt = b.promptTokens ?? fakeInputTokens(body.input);
  const usage: Record<string, unknown> = { prompt_tokens: prompt, total_tokens: prompt };
  if (b.cost !== undefined) usage.cost = b.cost;
  sendJson(res, { object: 'list', data, model, usage }, requestId);
}

function answerCompletions(res: ServerResponse, body: any, b: FakeBehavior, model: string, index: number, requestId: string): Promise<void> | void {
  const id = b.id ?? `cmpl-fake${index}`;
  const created = Math.floor(Date.now() / 1000);
  const prompts: unknown[] = typeof body.prompt === 'string' || isTokenArray(body.prompt) ? [body.prompt] : body.prompt;
  const n = (typeof body.n === 'number' && body.n > 1 ? body.n : 1) * Math.max(1, prompts.length);
  const firstPrompt = typeof prompts[0] === 'string' ? prompts[0] : '';
  const text = b.content ?? ` Echo: ${firstPrompt.slice(0, 60)}`;
  const finishReason = b.finishReason ?? 'stop';
  const usage: Record<string, unknown> = {
    prompt_tokens: b.promptTokens ?? fakeInputTokens(body.prompt),
    completion_tokens: b.completionTokens ?? Math.ceil(text.length / 4) * n,
    total_tokens: 0,
  };
  usage.total_tokens = (usage.prompt_tokens as number) + (usage.completion_tokens as number);
  if (b.cost !== undefined) usage.cost = b.cost;
  if (!body.stream) {
    const choices = Array.from({ length: n }, (_, i) => ({ text, index: i, logprobs: null, finish_reason: finishReason }));
    return sendJson(res, { id, object: 'text_completion', created, model, choices, usage, system_fingerprint: 'fp_fake' }, requestId);
  }
  // As the API streams it: text chunks, a finish chunk, the usage chunk (empty choices) only with
  // stream_options.include_usage, then [DONE].
  const includeUsage = body.stream_options?.include_usage === true;
  const base = { id, object: 'text_completion', created, model, system_fingerprint: 'fp_fake' };
  const chunk = (piece: string, finish: string | null) =>
    JSON.stringify({ ...base, choices: [{ text: piece, index: 0, logprobs: null, finish_reason: finish }], ...(includeUsage ? { usage: null } : {}) });
  const events = chunksOf(text, b).map((piece) => chunk(piece, null));
  events.push(chunk('', finishReason));
  if (includeUsage) events.push(JSON.stringify({ ...base, choices: [], usage }));
  events.push('[DONE]');
  return writeEvents(res, events.map((data) => ({ data })), b, requestId);
}
