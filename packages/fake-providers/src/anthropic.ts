// Imitates the Anthropic Messages API (https://docs.anthropic.com/en/api/messages, streaming per https://docs.anthropic.com/en/docs/build-with-claude/streaming, errors per https://docs.anthropic.com/en/api/errors, token counting per https://docs.anthropic.com/en/api/messages-count-tokens, Message Batches per https://docs.anthropic.com/en/api/creating-message-batches, https://docs.anthropic.com/en/api/retrieving-message-batches and https://docs.anthropic.com/en/api/retrieving-message-batch-results).
/**
 * A local stand-in for api.anthropic.com that the real `@anthropic-ai/sdk` talks to via `baseURL`.
 *
 * Each request's reply comes from, most specific first: the `x-fake-behavior` request header
 * (JSON `AnthropicReply`), the queue filled by `enqueue()`, the `script` option, `defaults`, then
 * a plain text message. A reply decides tokens (usage exactly as the API reports it: `input_tokens`
 * EXCLUDES cache reads and cache writes), content blocks (text, thinking, tool_use), and
 * failures (an error envelope with any status, `retry-after` on 429, a stream cut short).
 * `POST /v1/messages` answers JSON, or an SSE event stream when the body has `stream: true`.
 * Message Batches: `POST /v1/messages/batches`, `GET /v1/messages/batches/{id}` and
 * `GET /v1/messages/batches/{id}/results` (see {@link AnthropicBatchReply}).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { listen, readBody, retryAfterHeaders, scriptedReply, writeJson, writeSse } from './fake-server.ts';

export interface AnthropicUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  /** Split of cache_creation_input_tokens by TTL. */
  cache_creation?: { ephemeral_5m_input_tokens: number; ephemeral_1h_input_tokens: number } | null;
  service_tier?: string | null;
  /** Part of output_tokens spent thinking (the API reports it on newer models; older ones leave it out). */
  output_tokens_details?: { thinking_tokens: number } | null;
  /** Server tools the API ran for the request (web search, billed per search). */
  server_tool_use?: { web_search_requests: number } | null;
}

export type AnthropicBlock =
  | { type: 'text'; text: string }
  | { type: 'thinking'; thinking: string; signature: string }
  | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> };

export interface AnthropicMessageReply {
  /** Defaults to the request's model. */
  model?: string;
  id?: string;
  content?: AnthropicBlock[];
  stop_reason?: 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use' | 'pause_turn' | 'refusal';
  usage?: Partial<AnthropicUsage>;
  /** Streaming only: end the response after this many events (no message_stop), to imitate a cut connection. */
  cutAfterEvents?: number;
}

export interface AnthropicErrorReply {
  status: number;
  /** The envelope's error.type, e.g. rate_limit_error, overloaded_error, invalid_request_error. */
  type: string;
  message?: string;
  /** Seconds, sent as `retry-after` (the API sends it on 429). */
  retryAfter?: number;
  /** Milliseconds, sent as `retry-after-ms` (what the SDK prefers; keeps retry tests fast). */
  retryAfterMs?: number;
}

/**
 * One line of a Message Batch's results `.jsonl`, as the API documents it
 * (https://docs.anthropic.com/en/api/retrieving-message-batch-results): a full Message when it
 * succeeded, the API's error envelope when it errored, nothing more when it was canceled or expired.
 */
export interface AnthropicBatchResult {
  custom_id: string;
  result:
    | { type: 'succeeded'; message: Record<string, unknown> }
    | { type: 'errored'; error: { type: 'error'; error: { type: string; message: string }; request_id?: string | null } }
    | { type: 'canceled' }
    | { type: 'expired' };
}

/** What `POST /v1/messages/batches` does with the batch it creates. */
export interface AnthropicBatchReply {
  /**
   * The lines `GET /v1/messages/batches/{id}/results` serves, in this order. Default: each
   * request `succeeded`, with the message a `{ message }` reply would give for its `params`
   * (`usage.service_tier: 'batch'`), except a request whose `params` lack `model`, `max_tokens`
   * or `messages`: the API validates `params` asynchronously, so that request is `errored`
   * (`invalid_request_error`) while the batch itself is accepted.
   */
  results?: AnthropicBatchResult[];
  /** Retrieves that still answer `processing_status: 'in_progress'` (no `results_url`) before the batch ends. Default 0. */
  pendingPolls?: number;
}

/**
 * `{ batch }` scripts `POST /v1/messages/batches`; a `{ message }` reply there answers every
 * request of the batch with that message; `{ error }` fails it.
 */
export type AnthropicReply = { message: AnthropicMessageReply } | { error: AnthropicErrorReply } | { countTokens: number } | { batch: AnthropicBatchReply };

export interface AnthropicRecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  /** Parsed JSON body (undefined when not JSON). */
  body: any;
  receivedAt: number;
}

export interface FakeAnthropicOptions {
  /** Default 0 (an ephemeral port). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Reply for requests nothing more specific scripts. */
  defaults?: AnthropicReply;
  /** Chooses the reply per request; return undefined for the defaults. */
  script?: (request: AnthropicRecordedRequest, index: number) => AnthropicReply | undefined;
}

export interface FakeAnthropicServer {
  /** Base URL for `new Anthropic({ baseURL })` (the SDK appends `/v1/messages`). */
  url: string;
  port: number;
  requests: AnthropicRecordedRequest[];
  /** Replies for the next requests, first-in first-out (SDK retries consume entries too). */
  enqueue(...replies: AnthropicReply[]): void;
  /** Clears recorded requests and the queue. */
  reset(): void;
  close(): Promise<void>;
}

const DEFAULT_USAGE: AnthropicUsage = { input_tokens: 12, output_tokens: 7 };

let seq = 0;
const nextId = (prefix: string) => `${prefix}_fake${(++seq).toString().padStart(6, '0')}`;

function fullUsage(u: Partial<AnthropicUsage> | undefined): AnthropicUsage {
  const usage: AnthropicUsage = {
    input_tokens: u?.input_tokens ?? DEFAULT_USAGE.input_tokens,
    output_tokens: u?.output_tokens ?? DEFAULT_USAGE.output_tokens,
    cache_creation_input_tokens: u?.cache_creation_input_tokens ?? 0,
    cache_read_input_tokens: u?.cache_read_input_tokens ?? 0,
    cache_creation: u?.cache_creation ?? {
      ephemeral_5m_input_tokens: u?.cache_creation_input_tokens ?? 0,
      ephemeral_1h_input_tokens: 0,
    },
    service_tier: u?.service_tier ?? 'standard',
  };
  if (u?.output_tokens_details) usage.output_tokens_details = u.output_tokens_details;
  if (u?.server_tool_use) usage.server_tool_use = u.server_tool_use;
  return usage;
}

function messageOf(reply: AnthropicMessageReply, model: string) {
  const content = reply.content ?? [{ type: 'text', text: 'Hello from the fake Anthropic API.' }];
  return {
    id: reply.id ?? nextId('msg'),
    type: 'message',
    role: 'assistant',
    model: reply.model ?? model,
    content,
    stop_reason: reply.stop_reason ?? (content.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn'),
    stop_sequence: null,
    usage: fullUsage(reply.usage),
  };
}

/** The SSE events the API sends for `message`, in order (usage in message_start and message_delta). */
export function anthropicStreamEvents(message: ReturnType<typeof messageOf>): Array<{ event: string; data: unknown }> {
  const { content, usage, stop_reason, ...head } = message;
  const events: Array<{ event: string; data: unknown }> = [];
  // message_start carries the input-side usage and a placeholder output count; message_delta the final output.
  events.push({
    event: 'message_start',
    data: { type: 'message_start', message: { ...head, content: [], stop_reason: null, usage: { ...usage, output_tokens: 1 } } },
  });
  content.forEach((block, index) => {
    if (block.type === 'text') {
      events.push({ event: 'content_block_start', data: { type: 'content_block_start', index, content_block: { type: 'text', text: '' } } });
      if (index === 0) events.push({ event: 'ping', data: { type: 'ping' } });
      for (const piece of chunks(block.text)) {
        events.push({ event: 'content_block_delta', data: { type: 'content_block_delta', index, delta: { type: 'text_delta', text: piece } } });
      }
    } else if (block.type === 'thinking') {
      events.push({
        event: 'content_block_start',
        data: { type: 'content_block_start', index, content_block: { type: 'thinking', thinking: '', signature: '' } },
      });
      for (const piece of chunks(block.thinking)) {
        events.push({ event: 'content_block_delta', data: { type: 'content_block_delta', index, delta: { type: 'thinking_delta', thinking: piece } } });
      }
      events.push({
        event: 'content_block_delta',
        data: { type: 'content_block_delta', index, delta: { type: 'signature_delta', signature: block.signature } },
      });
    } else {
      events.push({
        event: 'content_block_start',
        data: { type: 'content_block_start', index, content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} } },
      });
      for (const piece of chunks(JSON.stringify(block.input))) {
        events.push({ event: 'content_block_delta', data: { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: piece } } });
      }
    }
    events.push({ event: 'content_block_stop', data: { type: 'content_block_stop', index } });
  });
  events.push({
    event: 'message_delta',
    data: {
      type: 'message_delta',
      delta: { stop_reason, stop_sequence: null },
      // The API repeats the cumulative input-side counts here; output_tokens is final.
      usage: {
        output_tokens: usage.output_tokens,
        input_tokens: usage.input_tokens,
        cache_creation_input_tokens: usage.cache_creation_input_tokens,
        cache_read_input_tokens: usage.cache_read_input_tokens,
        ...(usage.output_tokens_details ? { output_tokens_details: usage.output_tokens_details } : {}),
        ...(usage.server_tool_use ? { server_tool_use: usage.server_tool_use } : {}),
      },
    },
  });
  events.push({ event: 'message_stop', data: { type: 'message_stop' } });
  return events;
}

function chunks(text: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += 8) out.push(text.slice(i, i + 8));
  return out.length ? out : [''];
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  writeJson(res, status, body, { 'content-type': 'application/json', 'request-id': nextId('req'), ...headers });
}

function sendError(res: ServerResponse, e: AnthropicErrorReply) {
  const headers = { 'x-should-retry': e.status === 429 || e.status >= 500 ? 'true' : 'false', ...retryAfterHeaders(e) };
  const requestId = nextId('req');
  sendJson(
    res,
    e.status,
    { type: 'error', error: { type: e.type, message: e.message ?? e.type }, request_id: requestId },
    { ...headers, 'request-id': requestId },
  );
}

export async function startFakeAnthropic(options: FakeAnthropicOptions = {}): Promise<FakeAnthropicServer> {
  const queue: AnthropicReply[] = [];
  const requests: AnthropicRecordedRequest[] = [];
  let counter = 0;
  const batches = messageBatches(
    () => `http://${options.host ?? '127.0.0.1'}:${(server.address() as AddressInfo).port}`,
    (rec, index) => scriptedReply(rec, index, queue, options),
  );

  const server = createServer(async (req, res) => {
    const text = await readBody(req);
    let body: any;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      return sendError(res, { status: 400, type: 'invalid_request_error', message: 'body is not JSON' });
    }
    const path = (req.url ?? '/').split('?')[0]!;
    const rec: AnthropicRecordedRequest = { method: req.method ?? 'GET', path, headers: req.headers, body, receivedAt: Date.now() };
    requests.push(rec);
    const index = counter++;
    if (path === '/v1/messages/batches' || path.startsWith('/v1/messages/batches/')) return batches.answer(req.method ?? 'GET', path, rec, index, res);
    if (req.method !== 'POST' || (path !== '/v1/messages' && path !== '/v1/messages/count_tokens')) {
      return sendError(res, { status: 404, type: 'not_found_error', message: `no route ${req.method} ${path}` });
    }
    const reply = scriptedReply(rec, index, queue, options);
    if (reply && 'error' in reply) return sendError(res, reply.error);
    if (path === '/v1/messages/count_tokens') {
      return sendJson(res, 200, { input_tokens: reply && 'countTokens' in reply ? reply.countTokens : 42 });
    }
    const message = messageOf(reply && 'message' in reply ? reply.message : {}, body?.model ?? 'claude-sonnet-4-5');
    if (!body?.stream) return sendJson(res, 200, message);

    const headers = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'request-id': nextId('req') };
    const events = anthropicStreamEvents(message).map((e) => ({ event: e.event, data: JSON.stringify(e.data) }));
    // A cut stream ends cleanly, without message_stop.
    return writeSse(res, headers, events, { cutAfter: reply && 'message' in reply ? reply.message.cutAfterEvents : undefined });
  });
  return listen(server, options, '', requests, queue);
}

interface StoredBatch {
  id: string;
  createdAt: Date;
  endedAt?: Date;
  results: AnthropicBatchResult[];
  pendingPolls: number;
}

/**
 * The Message Batches routes. A batch is processed the moment it is created (its results are
 * fixed then); retrieving it reports `in_progress` for `pendingPolls` retrieves, then `ended` with
 * a `results_url` on this server. Only `POST` takes a scripted reply, so polling consumes no
 * queue entries.
 */
function messageBatches(origin: () => string, replyFor: (rec: AnthropicRecordedRequest, index: number) => AnthropicReply | undefined) {
  const stored = new Map<string, StoredBatch>();

  // The MessageBatch object (https://docs.anthropic.com/en/api/retrieving-message-batches).
  function batchObject(b: StoredBatch, ended: boolean) {
    const counts = { processing: ended ? 0 : b.results.length, succeeded: 0, errored: 0, canceled: 0, expired: 0 };
    if (ended) for (const r of b.results) counts[r.result.type]++;
    if (ended) b.endedAt ??= new Date();
    return {
      id: b.id,
      type: 'message_batch',
      processing_status: ended ? 'ended' : 'in_progress',
      request_counts: counts,
      ended_at: b.endedAt?.toISOString() ?? null,
      created_at: b.createdAt.toISOString(),
      expires_at: new Date(b.createdAt.getTime() + 24 * 3600_000).toISOString(),
      archived_at: null,
      cancel_initiated_at: null,
      results_url: ended ? `${origin()}/v1/messages/batches/${b.id}/results` : null,
    };
  }

  function create(rec: AnthropicRecordedRequest, index: number, res: ServerResponse) {
    const requests = rec.body?.requests;
    // The batch's own shape is checked now (https://docs.anthropic.com/en/api/creating-message-batches):
    // 1 to 100,000 requests, each a unique custom_id matching ^[a-zA-Z0-9_-]{1,64}$ and a params object.
    if (!Array.isArray(requests) || !requests.length)
      return sendError(res, { status: 400, type: 'invalid_request_error', message: 'requests: List should have at least 1 item' });
    const ids = new Set<string>();
    for (const [i, r] of requests.entries()) {
      const id = r?.custom_id;
      if (typeof id !== 'string' || !/^[a-zA-Z0-9_-]{1,64}$/.test(id))
        return sendError(res, {
          status: 400,
          type: 'invalid_request_error',
          message: `requests.${i}.custom_id: String should match pattern '^[a-zA-Z0-9_-]{1,64}$'`,
        });
      if (ids.has(id))
        return sendError(res, {
          status: 400,
          type: 'invalid_request_error',
          message: `requests.${i}.custom_id: Duplicate custom_id '${id}': each request in a Message Batch needs a unique custom_id`,
        });
      ids.add(id);
      if (!r.params || typeof r.params !== 'object')
        return sendError(res, { status: 400, type: 'invalid_request_error', message: `requests.${i}.params: Field required` });
    }
    const reply = replyFor(rec, index);
    if (reply && 'error' in reply) return sendError(res, reply.error);
    const scripted = reply && 'batch' in reply ? reply.batch : undefined;
    const messageReply = reply && 'message' in reply ? reply.message : {};
    const results =
      scripted?.results ??
      requests.map((r: { custom_id: string; params: Record<string, unknown> }): AnthropicBatchResult => {
        // Each request's params are validated when it is processed: a bad one is an errored result.
        const missing = ['model', 'max_tokens', 'messages'].find((f) => r.params[f] === undefined);
        if (missing) {
          const error = { type: 'invalid_request_error', message: `${missing}: Field required` };
          return { custom_id: r.custom_id, result: { type: 'errored', error: { type: 'error', error, request_id: null } } };
        }
        const message = messageOf({ ...messageReply, usage: { service_tier: 'batch', ...messageReply.usage } }, String(r.params.model));
        return { custom_id: r.custom_id, result: { type: 'succeeded', message } };
      });
    const b: StoredBatch = { id: nextId('msgbatch'), createdAt: new Date(), results, pendingPolls: scripted?.pendingPolls ?? 0 };
    stored.set(b.id, b);
    return sendJson(res, 200, batchObject(b, false));
  }

  return {
    answer(method: string, path: string, rec: AnthropicRecordedRequest, index: number, res: ServerResponse) {
      if (method === 'POST' && path === '/v1/messages/batches') return create(rec, index, res);
      const m = /^\/v1\/messages\/batches\/([^/]+)(\/results)?$/.exec(path);
      const b = m ? stored.get(m[1]!) : undefined;
      if (method !== 'GET' || !m || !b) return sendError(res, { status: 404, type: 'not_found_error', message: `no route ${method} ${path}` });
      if (!m[2]) {
        const ended = b.pendingPolls <= 0;
        if (!ended) b.pendingPolls--;
        return sendJson(res, 200, batchObject(b, ended));
      }
      if (b.pendingPolls > 0) return sendError(res, { status: 404, type: 'not_found_error', message: `message batch ${b.id} has not ended` });
      // A `.jsonl` file, one result per line; the SDK asks for it with `Accept: application/binary` and reads the body as a byte stream.
      res.writeHead(200, { 'content-type': 'application/binary', 'request-id': nextId('req') });
      res.end(b.results.map((r) => JSON.stringify(r)).join('\n') + '\n');
    },
  };
}
