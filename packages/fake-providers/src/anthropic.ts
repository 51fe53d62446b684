// Imitates the Anthropic Messages API (https://docs.anthropic.com/en/api/messages, streaming per https://docs.anthropic.com/en/docs/build-with-claude/streaming, errors per https://docs.anthropic.com/en/api/errors, token counting per https://docs.anthropic.com/en/api/messages-count-tokens).
/**
 * A local stand-in for api.anthropic.com that the real `@anthropic-ai/sdk` talks to via `baseURL`.
 *
 * Each request's reply comes from, most specific first: the `x-fake-behavior` request header
 * (JSON `AnthropicReply`), the queue filled by `enqueue()`, the `script` option, `defaults`, then
 * a plain text message. A reply decides tokens (usage exactly as the API reports it: `input_tokens`
 * EXCLUDES cache reads and cache writes), content blocks (text, thinking, tool_use), and
 * failures (an error envelope with any status, `retry-after` on 429, a stream cut short).
 * `POST /v1/messages` answers JSON, or an SSE event stream when the body has `stream: true`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
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

export type AnthropicReply = { message: AnthropicMessageReply } | { error: AnthropicErrorReply } | { countTokens: number };

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
  events.push({ event: 'message_start', data: { type: 'message_start', message: { ...head, content: [], stop_reason: null, usage: { ...usage, output_tokens: 1 } } } });
  content.forEach((block, index) => {
    if (block.type === 'text') {
      events.push({ event: 'content_block_start', data: { type: 'content_block_start', index, content_block: { type: 'text', text: '' } } });
      if (index === 0) events.push({ event: 'ping', data: { type: 'ping' } });
      for (const piece of chunks(block.text)) {
        events.push({ event: 'content_block_delta', data: { type: 'content_block_delta', index, delta: { type: 'text_delta', text: piece } } });
      }
    } else if (block.type === 'thinking') {
      events.push({ event: 'content_block_start', data: { type: 'content_block_start', index, content_block: { type: 'thinking', thinking: '', signature: '' } } });
      for (const piece of chunks(block.thinking)) {
        events.push({ event: 'content_block_delta', data: { type: 'content_block_delta', index, delta: { type: 'thinking_delta', thinking: piece } } });
      }
      events.push({ event: 'content_block_delta', data: { type: 'content_block_delta', index, delta: { type: 'signature_delta', signature: block.signature } } });
    } else {
      events.push({ event: 'content_block_start', data: { type: 'content_block_start', index, content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} } } });
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
  sendJson(res, e.status, { type: 'error', error: { type: e.type, message: e.message ?? e.type }, request_id: requestId }, { ...headers, 'request-id': requestId });
}

export async function startFakeAnthropic(options: FakeAnthropicOptions = {}): Promise<FakeAnthropicServer> {
  const queue: AnthropicReply[] = [];
  const requests: AnthropicRecordedRequest[] = [];
  let counter = 0;

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
