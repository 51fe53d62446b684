// Imitates the OpenAI Chat Completions, Responses, Embeddings and legacy Completions APIs (JSON, SSE streaming, error bodies) per https://platform.openai.com/docs/api-reference, and the Files and Batch APIs a batch goes through (https://platform.openai.com/docs/api-reference/files, https://platform.openai.com/docs/api-reference/batch, https://platform.openai.com/docs/guides/batch)
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
 * A batch's way through the Files and Batch APIs: `POST /v1/files` (multipart upload),
 * `GET /v1/files/{id}` and `/content`, `POST /v1/batches`, `GET /v1/batches/{id}`.
 *
 * Behaviour is scriptable per request (see {@link FakeBehavior}), from most to least specific:
 * the `x-fake-behavior` request header (JSON), `metadata.fake_behavior` in the body (JSON string),
 * the queue filled by `server.enqueue()`, the `script` option, then `defaults`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
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
  /**
   * `POST /v1/batches`: the batch's result lines, in the Batch API's output shape
   * `{ id, custom_id, response: { status_code, request_id, body } | null, error }`. Lines with a
   * 2xx `status_code` go to the output file, the others to the error file, as the API splits
   * them. Default: each input line is sent to this fake itself, in order (recorded and scripted
   * like any request, so `enqueue()`d behaviours apply to the lines one by one, with an
   * `x-fake-batch-id` header) and its answer becomes the line. Either way the input file is
   * validated first, as the API does: a line whose `url` is not the batch's `endpoint`, a second
   * model, a duplicate `custom_id` or a line that is not JSON fails the batch (`status: 'failed'`,
   * `errors.data`, no output file).
   */
  batchOutput?: Array<Record<string, unknown>>;
  /**
   * `POST /v1/batches`: retrieves that still answer `status: 'in_progress'` (`validating` for a
   * batch that will fail validation) before the batch is `completed` (or `failed`). Default 0.
   */
  pendingPolls?: number;
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
  const batches = filesAndBatches(
    () => `http://${options.host ?? '127.0.0.1'}:${(server.address() as AddressInfo).port}`,
    (rec, index) => behaviorFor(rec, index),
    (res, f, id) => sendError(res, f, id),
  );

  function behaviorFor(rec: RecordedRequest, index: number): FakeBehavior {
    return scriptedReply(rec, index, queue, options, parseJson(rec.body?.metadata?.fake_behavior)) ?? {};
  }

  function sendError(res: ServerResponse, f: FakeFailure, requestId: string) {
    const [type, code, message] = ERROR_TYPES[f.status] ?? (f.status >= 500 ? ERROR_TYPES[500]! : ERROR_TYPES[400]!);
    // The SDK obeys x-should-retry over its own status rules; leave it unset so its defaults apply.
    const headers = { 'content-type': 'application/json', 'x-request-id': requestId, ...retryAfterHeaders(f) };
    writeJson(
      res,
      f.status,
      { error: { message: f.message ?? message, type: f.type ?? type, param: null, code: f.code !== undefined ? f.code : code } },
      headers,
    );
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
    if (/^\/v1\/(?:files|batches)(?:\/|$)/.test(path)) return batches.answer(req.method ?? 'GET', path, rec, raw, index, res, requestId);
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
      return sendJson(
        res,
        { id, object: 'chat.completion', created, model, choices, usage, service_tier: 'default', system_fingerprint: 'fp_fake' },
        requestId,
      );
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
      for (const piece of [args.slice(0, half), args.slice(half)])
        if (piece) events.push(chunk({ tool_calls: [{ index: i, function: { arguments: piece } }] }));
    });
    events.push(chunk({}, finishReason));
    if (includeUsage) events.push(JSON.stringify({ ...base, choices: [], usage }));
    events.push('[DONE]');

    await writeEvents(
      res,
      events.map((data) => ({ data })),
      b,
      requestId,
    );
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
  const emit = (type: string, fields: Record<string, unknown>) =>
    events.push({ event: type, data: JSON.stringify({ type, sequence_number: seq++, ...fields }) });
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
      emit('response.content_part.added', {
        item_id: item.id,
        output_index: outputIndex,
        content_index: 0,
        part: { type: 'output_text', text: '', annotations: [] },
      });
      for (const delta of chunksOf(text, b))
        emit('response.output_text.delta', { item_id: item.id, output_index: outputIndex, content_index: 0, delta, logprobs: [] });
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
  return writeEvents(
    res,
    events.map((data) => ({ data })),
    b,
    requestId,
  );
}

interface StoredFile {
  /** The File object (https://platform.openai.com/docs/api-reference/files/object). */
  meta: Record<string, unknown>;
  content: string;
}

/** An entry of the Batch object's `errors.data`: why validation failed the batch. */
export interface FakeBatchError {
  code: string;
  message: string;
  param: string | null;
  /** 1-based line of the input file. */
  line: number | null;
}

interface StoredBatch {
  /** The Batch object's fixed fields (https://platform.openai.com/docs/api-reference/batch/object). */
  batch: Record<string, unknown>;
  /** Validation errors: the batch ends `failed`, without output or error file. */
  errors: FakeBatchError[];
  outputFileId: string | null;
  errorFileId: string | null;
  counts: { total: number; completed: number; failed: number };
  usage: Record<string, unknown> | undefined;
  pendingPolls: number;
  endedAt?: number;
}

/**
 * The input file checks the API makes before running a batch
 * (https://platform.openai.com/docs/guides/batch, https://platform.openai.com/docs/api-reference/batch/request-input):
 * each line a JSON request `{ custom_id, method: 'POST', url, body }`, `custom_id` unique, every
 * `url` the batch's `endpoint` ("the endpoint to be used for all requests in the batch"), one model
 * per file. A batch that fails them ends `failed` with `errors.data` naming the lines; the messages
 * follow the API's wording where it is published, the codes are this fake's.
 */
function validateBatchInput(lines: Array<{ line: number; request: any }>, endpoint: string): FakeBatchError[] {
  const errors: FakeBatchError[] = [];
  const seen = new Set<string>();
  let model: string | undefined;
  for (const { line, request: r } of lines) {
    if (!r || typeof r !== 'object') {
      errors.push({ code: 'invalid_json_line', message: 'This line is not parseable as valid JSON.', param: null, line });
      continue;
    }
    if (typeof r.custom_id !== 'string' || !r.custom_id)
      errors.push({ code: 'missing_required_parameter', message: "Missing required parameter: 'custom_id'.", param: 'custom_id', line });
    else if (seen.has(r.custom_id))
      errors.push({
        code: 'duplicate_custom_id',
        message: `The custom_id for this request is a duplicate of another request: ${r.custom_id}.`,
        param: 'custom_id',
        line,
      });
    else seen.add(r.custom_id);
    if (r.method !== 'POST') errors.push({ code: 'invalid_method', message: "Only 'POST' is supported as a request method.", param: 'method', line });
    if (r.url !== endpoint)
      errors.push({
        code: 'mismatched_endpoint',
        message: `The url of this request (${r.url}) does not match the batch endpoint (${endpoint}).`,
        param: 'url',
        line,
      });
    const m = r.body?.model;
    if (typeof m !== 'string')
      errors.push({ code: 'missing_required_parameter', message: "Missing required parameter: 'body.model'.", param: 'body.model', line });
    else if (model === undefined) model = m;
    else if (m !== model)
      errors.push({
        code: 'mismatched_model',
        message: `The model of this request (${m}) differs from the batch's model (${model}): each input file can only include requests to a single model.`,
        param: 'body.model',
        line,
      });
  }
  if (!lines.length) errors.push({ code: 'empty_file', message: 'The input file is empty.', param: null, line: null });
  return errors;
}

/** The Batch object's `usage`: the token usage of its succeeded requests, summed. */
function batchUsage(ok: Array<Record<string, any>>): Record<string, unknown> {
  let input = 0;
  let cached = 0;
  let output = 0;
  let reasoning = 0;
  for (const l of ok) {
    const u = l.response?.body?.usage;
    input += u?.prompt_tokens ?? u?.input_tokens ?? 0;
    cached += u?.prompt_tokens_details?.cached_tokens ?? u?.input_tokens_details?.cached_tokens ?? 0;
    output += u?.completion_tokens ?? u?.output_tokens ?? 0;
    reasoning += u?.completion_tokens_details?.reasoning_tokens ?? u?.output_tokens_details?.reasoning_tokens ?? 0;
  }
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: cached },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: reasoning },
    total_tokens: input + output,
  };
}

/**
 * The Files and Batch routes. A batch is validated and run the moment it is created (its output
 * and error files are written then); retrieving it reports `validating` / `in_progress` for
 * `pendingPolls` retrieves, then `completed` with `output_file_id` / `error_file_id` (each `null`
 * when it would have no lines, as the API reports it), or `failed` with `errors` when its input
 * file fails validation (see {@link validateBatchInput}). Only `POST /v1/batches` takes a
 * scripted behaviour (`fail`, `delayMs`, `batchOutput`, `pendingPolls`): uploads and polling
 * consume no queue entries.
 */
function filesAndBatches(
  origin: () => string,
  behaviorFor: (rec: RecordedRequest, index: number) => FakeBehavior,
  sendError: (res: ServerResponse, f: FakeFailure, requestId: string) => void,
) {
  const files = new Map<string, StoredFile>();
  const batches = new Map<string, StoredBatch>();
  let seq = 0;
  const now = () => Math.floor(Date.now() / 1000);

  function storeFile(content: string, filename: string, purpose: string): StoredFile {
    const id = `file-fake${++seq}`;
    const file: StoredFile = {
      meta: {
        id,
        object: 'file',
        bytes: Buffer.byteLength(content),
        created_at: now(),
        filename,
        purpose,
        status: 'processed',
        expires_at: null,
        status_details: null,
      },
      content,
    };
    files.set(id, file);
    return file;
  }

  async function upload(rec: RecordedRequest, raw: string, res: ServerResponse, requestId: string) {
    // The SDK uploads multipart/form-data; the text round trip keeps a UTF-8 JSONL file intact.
    const form = await new Response(raw, { headers: { 'content-type': String(rec.headers['content-type'] ?? '') } }).formData().catch(() => undefined);
    const file = form?.get('file');
    const purpose = form?.get('purpose');
    if (!file || typeof file === 'string' || typeof purpose !== 'string') {
      return sendError(res, { status: 400, message: "Missing required parameter: 'file' or 'purpose'.", code: 'missing_required_parameter' }, requestId);
    }
    sendJson(res, storeFile(await file.text(), file.name, purpose).meta, requestId);
  }

  /** The default batch run: each input line sent to this server, its answer written as a result line. */
  async function run(requests: any[], batchId: string): Promise<Array<Record<string, unknown>>> {
    const lines: Array<Record<string, unknown>> = [];
    for (const line of requests) {
      const r = await fetch(`${origin()}${line.url}`, {
        method: line.method,
        headers: { 'content-type': 'application/json', 'x-fake-batch-id': batchId },
        body: JSON.stringify(line.body),
      });
      const text = await r.text();
      const body = parseJson(text);
      const id = `batch_req_fake${++seq}`;
      // An answer that is not JSON (a scripted `truncatedBody`) is a request the batch could not complete.
      if (body === undefined)
        lines.push({
          id,
          custom_id: line.custom_id,
          response: null,
          error: { code: 'batch_request_failed', message: `The request's response could not be read: ${text.slice(0, 80)}` },
        });
      else lines.push({ id, custom_id: line.custom_id, response: { status_code: r.status, request_id: r.headers.get('x-request-id'), body }, error: null });
    }
    return lines;
  }

  async function create(rec: RecordedRequest, index: number, res: ServerResponse, requestId: string) {
    const body = rec.body;
    for (const field of ['input_file_id', 'endpoint', 'completion_window']) {
      if (typeof body?.[field] !== 'string')
        return sendError(res, { status: 400, message: `Missing required parameter: '${field}'.`, code: 'missing_required_parameter' }, requestId);
    }
    const input = files.get(body.input_file_id);
    if (!input) return sendError(res, { status: 404, message: `No such File object: ${body.input_file_id}`, code: null }, requestId);
    const b = behaviorFor(rec, index);
    if (b.delayMs) await sleep(b.delayMs);
    if (b.fail) return sendError(res, b.fail, requestId);
    const id = `batch_fake${++seq}`;
    const parsed = input.content
      .split('\n')
      .map((text, i) => ({ line: i + 1, text }))
      .filter((l) => l.text.trim())
      .map((l) => ({ line: l.line, request: parseJson(l.text) }));
    const errors = validateBatchInput(parsed, body.endpoint);
    const lines = errors.length
      ? []
      : (b.batchOutput ??
        (await run(
          parsed.map((l) => l.request),
          id,
        )));
    const succeeded = (l: any) => !l.error && typeof l.response?.status_code === 'number' && l.response.status_code < 300;
    const jsonl = (ls: Array<Record<string, unknown>>) => ls.map((l) => `${JSON.stringify(l)}\n`).join('');
    const ok = lines.filter(succeeded);
    const failed = lines.filter((l) => !succeeded(l));
    const created = now();
    const model = parsed.find((l) => typeof l.request?.body?.model === 'string')?.request.body.model;
    const stored: StoredBatch = {
      batch: {
        id,
        object: 'batch',
        endpoint: body.endpoint,
        ...(model ? { model } : {}),
        input_file_id: body.input_file_id,
        completion_window: body.completion_window,
        created_at: created,
        expires_at: created + 24 * 3600,
        metadata: body.metadata ?? null,
      },
      errors,
      outputFileId: ok.length ? (storeFile(jsonl(ok), `${id}_output.jsonl`, 'batch_output').meta.id as string) : null,
      errorFileId: failed.length ? (storeFile(jsonl(failed), `${id}_error.jsonl`, 'batch_output').meta.id as string) : null,
      counts: { total: lines.length, completed: ok.length, failed: failed.length },
      usage: errors.length ? undefined : batchUsage(ok),
      pendingPolls: b.pendingPolls ?? 0,
    };
    batches.set(id, stored);
    sendJson(res, batchObject(stored, 'validating'), requestId);
  }

  /** The Batch object in `status`, every timestamp and file id the API reports `null` until it is set. */
  function batchObject(s: StoredBatch, status: 'validating' | 'in_progress' | 'completed' | 'failed') {
    const started = status !== 'validating' && !s.errors.length ? (s.batch.created_at as number) : null;
    const completed = status === 'completed' ? (s.endedAt ?? null) : null;
    return {
      ...s.batch,
      status,
      errors: status === 'failed' ? { object: 'list', data: s.errors } : null,
      output_file_id: completed !== null ? s.outputFileId : null,
      error_file_id: completed !== null ? s.errorFileId : null,
      in_progress_at: started,
      finalizing_at: completed,
      completed_at: completed,
      failed_at: status === 'failed' ? (s.endedAt ?? null) : null,
      expired_at: null,
      cancelling_at: null,
      cancelled_at: null,
      request_counts: completed !== null ? s.counts : { total: status === 'in_progress' ? s.counts.total : 0, completed: 0, failed: 0 },
      ...(completed !== null && s.usage ? { usage: s.usage } : {}),
    };
  }

  function retrieve(s: StoredBatch, res: ServerResponse, requestId: string) {
    if (s.pendingPolls > 0) {
      s.pendingPolls--;
      return sendJson(res, batchObject(s, s.errors.length ? 'validating' : 'in_progress'), requestId);
    }
    s.endedAt ??= now();
    sendJson(res, batchObject(s, s.errors.length ? 'failed' : 'completed'), requestId);
  }

  return {
    async answer(method: string, path: string, rec: RecordedRequest, raw: string, index: number, res: ServerResponse, requestId: string): Promise<void> {
      if (method === 'POST' && path === '/v1/files') return upload(rec, raw, res, requestId);
      if (method === 'POST' && path === '/v1/batches') return create(rec, index, res, requestId);
      const file = /^\/v1\/files\/([^/]+)(\/content)?$/.exec(path);
      const stored = file && method === 'GET' ? files.get(file[1]!) : undefined;
      if (stored && file![2]) {
        // The file's bytes (the SDK asks with `Accept: application/binary` and returns the raw Response).
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'x-request-id': requestId });
        res.end(stored.content);
        return;
      }
      if (stored) return sendJson(res, stored.meta, requestId);
      const batch = /^\/v1\/batches\/([^/]+)$/.exec(path);
      const s = batch && method === 'GET' ? batches.get(batch[1]!) : undefined;
      if (s) return retrieve(s, res, requestId);
      const what = file ? `No such File object: ${file[1]}` : batch ? `No batch found with id '${batch[1]}'.` : `Unknown request URL: ${method} ${path}.`;
      sendError(res, { status: 404, message: what, code: file || batch ? null : 'unknown_url' }, requestId);
    },
  };
}
