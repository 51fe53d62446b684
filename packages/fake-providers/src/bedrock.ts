// Imitates the Amazon Bedrock Runtime API (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_Operations_Amazon_Bedrock_Runtime.html): Converse, ConverseStream, InvokeModel, InvokeModelWithResponseStream.
/**
 * A local stand-in for bedrock-runtime.{region}.amazonaws.com that the real
 * `@aws-sdk/client-bedrock-runtime` talks to through its `endpoint` option (static credentials;
 * the signature is not checked). It speaks HTTP/2 in cleartext (h2c), as the SDK's default request
 * handler (`NodeHttp2Handler`) does for every Bedrock Runtime operation.
 *
 * Routes: `POST /model/{modelId}/converse` (JSON), `/converse-stream` (an
 * `application/vnd.amazon.eventstream` of messageStart, contentBlockDelta, contentBlockStop,
 * messageStop and metadata events), `/invoke` (the model family's native JSON body) and
 * `/invoke-with-response-stream` (`chunk` events whose `bytes` are the family's native stream
 * events, base64 in JSON; the last one carries `amazon-bedrock-invocationMetrics`), for the
 * Anthropic (`anthropic.*`: the Messages API), Meta (`meta.*`: Llama `generation`) and Amazon
 * (`amazon.nova*`: the Nova messages schema) families. The event-stream framing (prelude, headers,
 * CRC32s) is made by `@smithy/eventstream-codec`. Converse usage is reported as Bedrock does:
 * `inputTokens` EXCLUDES `cacheReadInputTokens` and `cacheWriteInputTokens`.
 */
import { createServer, type Http2Session } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { parseJson, readBody, scriptedReply, writeJson, type FakeServerControls } from './fake-server.ts';

export interface BedrockUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadInputTokens?: number;
  cacheWriteInputTokens?: number;
}

export interface BedrockReply {
  text?: string;
  usage?: Partial<BedrockUsage>;
  /** Converse `stopReason` (end_turn, max_tokens, tool_use, ...). */
  stopReason?: string;
  /** Streams: how many deltas the text is split into. */
  chunks?: number;
  /** Streams: drop the connection after this many events. */
  destroyAfterEvents?: number;
  /** An error reply instead: the HTTP status and the exception name (ThrottlingException, ValidationException, ...). */
  error?: { status: number; type: string; message?: string };
}

export interface BedrockRecordedRequest {
  operation: 'converse' | 'converse-stream' | 'invoke' | 'invoke-with-response-stream';
  modelId: string;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

export interface FakeBedrockOptions {
  port?: number;
  host?: string;
  defaults?: BedrockReply;
  script?: (request: BedrockRecordedRequest, index: number) => BedrockReply | undefined;
}

export type FakeBedrockServer = FakeServerControls<BedrockReply, BedrockRecordedRequest>;

const codec = new EventStreamCodec(toUtf8, fromUtf8);
const ROUTE = /^\/model\/([^/]+)\/(converse|converse-stream|invoke|invoke-with-response-stream)$/;
const DEFAULT_USAGE: BedrockUsage = { inputTokens: 12, outputTokens: 8 };

type Family = 'anthropic' | 'meta' | 'amazon';
function familyOf(modelId: string): Family | undefined {
  const id = modelId.replace(/^(?:arn:[^/]+\/)?(?:us|eu|apac|global)\./, '');
  if (id.startsWith('anthropic.')) return 'anthropic';
  if (id.startsWith('meta.')) return 'meta';
  if (id.startsWith('amazon.nova')) return 'amazon';
  return undefined;
}

/** One event-stream message: `:event-type`, `:content-type`, `:message-type` headers and a JSON payload. */
function eventMessage(type: string, payload: unknown): Uint8Array {
  return codec.encode({
    headers: {
      ':event-type': { type: 'string', value: type },
      ':content-type': { type: 'string', value: 'application/json' },
      ':message-type': { type: 'string', value: 'event' },
    },
    body: fromUtf8(JSON.stringify(payload)),
  });
}

function split(text: string, n: number): string[] {
  const size = Math.max(1, Math.ceil(text.length / Math.max(1, n)));
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out.length ? out : [''];
}

const b64 = (v: unknown) => ({ bytes: Buffer.from(JSON.stringify(v)).toString('base64') });

function converseUsage(u: BedrockUsage): Record<string, number> {
  const out: Record<string, number> = {
    inputTokens: u.inputTokens,
    outputTokens: u.outputTokens,
    totalTokens: u.inputTokens + u.outputTokens + (u.cacheReadInputTokens ?? 0) + (u.cacheWriteInputTokens ?? 0),
  };
  if (u.cacheReadInputTokens !== undefined) out.cacheReadInputTokens = u.cacheReadInputTokens;
  if (u.cacheWriteInputTokens !== undefined) out.cacheWriteInputTokens = u.cacheWriteInputTokens;
  return out;
}

/** Nova's usage block: cache counts as `cacheReadInputTokenCount` / `cacheWriteInputTokenCount`. */
function novaUsage(u: BedrockUsage): Record<string, number> {
  const usage: Record<string, number> = { inputTokens: u.inputTokens, outputTokens: u.outputTokens, totalTokens: u.inputTokens + u.outputTokens };
  if (u.cacheReadInputTokens !== undefined) usage.cacheReadInputTokenCount = u.cacheReadInputTokens;
  if (u.cacheWriteInputTokens !== undefined) usage.cacheWriteInputTokenCount = u.cacheWriteInputTokens;
  return usage;
}

/** The family's native InvokeModel response body. */
function invokeBody(family: Family, modelId: string, text: string, u: BedrockUsage, id: string): unknown {
  switch (family) {
    case 'anthropic': {
      const usage: Record<string, number> = { input_tokens: u.inputTokens, output_tokens: u.outputTokens };
      if (u.cacheReadInputTokens !== undefined) usage.cache_read_input_tokens = u.cacheReadInputTokens;
      if (u.cacheWriteInputTokens !== undefined) usage.cache_creation_input_tokens = u.cacheWriteInputTokens;
      return {
        id,
        type: 'message',
        role: 'assistant',
        model: modelId.replace(/^.*anthropic\./, '').replace(/-v\d+:\d+$/, ''),
        content: [{ type: 'text', text }],
        stop_reason: 'end_turn',
        stop_sequence: null,
        usage,
      };
    }
    case 'meta':
      return { generation: text, prompt_token_count: u.inputTokens, generation_token_count: u.outputTokens, stop_reason: 'stop' };
    case 'amazon':
      return { output: { message: { role: 'assistant', content: [{ text }] } }, stopReason: 'end_turn', usage: novaUsage(u) };
  }
}

/** The family's native stream events for InvokeModelWithResponseStream (the metrics go on the last). */
function invokeStreamEvents(family: Family, modelId: string, pieces: string[], u: BedrockUsage, id: string): unknown[] {
  const metrics = {
    'amazon-bedrock-invocationMetrics': { inputTokenCount: u.inputTokens, outputTokenCount: u.outputTokens, invocationLatency: 120, firstByteLatency: 40 },
  };
  switch (family) {
    case 'anthropic': {
      const startUsage: Record<string, number> = { input_tokens: u.inputTokens, output_tokens: 1 };
      if (u.cacheReadInputTokens !== undefined) startUsage.cache_read_input_tokens = u.cacheReadInputTokens;
      if (u.cacheWriteInputTokens !== undefined) startUsage.cache_creation_input_tokens = u.cacheWriteInputTokens;
      return [
        { type: 'message_start', message: { id, type: 'message', role: 'assistant', model: modelId, content: [], stop_reason: null, usage: startUsage } },
        { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
        ...pieces.map((text) => ({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } })),
        { type: 'content_block_stop', index: 0 },
        { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: u.outputTokens } },
        { type: 'message_stop', ...metrics },
      ];
    }
    case 'meta':
      return pieces.map((generation, i) => ({
        generation,
        prompt_token_count: i === 0 ? u.inputTokens : null,
        generation_token_count: i + 1,
        stop_reason: i === pieces.length - 1 ? 'stop' : null,
        ...(i === pieces.length - 1 ? metrics : {}),
      }));
    case 'amazon':
      return [
        { messageStart: { role: 'assistant' } },
        ...pieces.map((text) => ({ contentBlockDelta: { delta: { text }, contentBlockIndex: 0 } })),
        { contentBlockStop: { contentBlockIndex: 0 } },
        { messageStop: { stopReason: 'end_turn' } },
        { metadata: { usage: novaUsage(u) }, ...metrics },
      ];
  }
}

export async function startFakeBedrock(options: FakeBedrockOptions = {}): Promise<FakeBedrockServer> {
  const queue: BedrockReply[] = [];
  const requests: BedrockRecordedRequest[] = [];
  let counter = 0;
  const sessions = new Set<Http2Session>();
  const server = createServer(async (req, res) => {
    const text = await readBody(req as never);
    const url = new URL(req.url ?? '/', 'http://fake');
    const m = ROUTE.exec(url.pathname);
    if (req.method !== 'POST' || !m) {
      writeJson(
        res as never,
        404,
        { message: `no route for ${req.method} ${url.pathname}` },
        { 'content-type': 'application/json', 'x-amzn-errortype': 'UnknownOperationException' },
      );
      return;
    }
    const modelId = decodeURIComponent(m[1]!);
    const operation = m[2] as BedrockRecordedRequest['operation'];
    const rec: BedrockRecordedRequest = { operation, modelId, headers: req.headers as BedrockRecordedRequest['headers'], body: parseJson(text) };
    const index = requests.length;
    requests.push(rec);
    const reply = scriptedReply(rec, index, queue, options) ?? {};
    const requestId = `fake-req-${++counter}`;
    const headers = { 'x-amzn-requestid': requestId };
    if (reply.error) {
      writeJson(
        res as never,
        reply.error.status,
        { message: reply.error.message ?? reply.error.type },
        { ...headers, 'content-type': 'application/json', 'x-amzn-errortype': reply.error.type },
      );
      return;
    }
    const family = familyOf(modelId);
    if ((operation === 'invoke' || operation === 'invoke-with-response-stream') && !family) {
      writeJson(
        res as never,
        400,
        { message: `The provided model identifier is invalid: ${modelId}` },
        { ...headers, 'content-type': 'application/json', 'x-amzn-errortype': 'ValidationException' },
      );
      return;
    }
    if (operation === 'converse' || operation === 'converse-stream') {
      if (!Array.isArray(rec.body?.messages) || rec.body.messages.length === 0) {
        writeJson(
          res as never,
          400,
          { message: 'A conversation must start with a user message.' },
          { ...headers, 'content-type': 'application/json', 'x-amzn-errortype': 'ValidationException' },
        );
        return;
      }
    }
    const usage: BedrockUsage = { ...DEFAULT_USAGE, ...reply.usage };
    const answer = reply.text ?? 'Hello from the fake Bedrock.';
    const stopReason = reply.stopReason ?? 'end_turn';
    if (operation === 'converse') {
      writeJson(
        res as never,
        200,
        { output: { message: { role: 'assistant', content: [{ text: answer }] } }, stopReason, usage: converseUsage(usage), metrics: { latencyMs: 120 } },
        { ...headers, 'content-type': 'application/json' },
      );
      return;
    }
    if (operation === 'invoke') {
      res.writeHead(200, {
        ...headers,
        'content-type': 'application/json',
        'x-amzn-bedrock-input-token-count': String(usage.inputTokens),
        'x-amzn-bedrock-output-token-count': String(usage.outputTokens),
      });
      res.end(JSON.stringify(invokeBody(family!, modelId, answer, usage, `msg_fake_${counter}`)));
      return;
    }
    const pieces = split(answer, reply.chunks ?? 3);
    const events: Uint8Array[] =
      operation === 'converse-stream'
        ? [
            eventMessage('messageStart', { role: 'assistant' }),
            ...pieces.map((t) => eventMessage('contentBlockDelta', { contentBlockIndex: 0, delta: { text: t } })),
            eventMessage('contentBlockStop', { contentBlockIndex: 0 }),
            eventMessage('messageStop', { stopReason }),
            eventMessage('metadata', { usage: converseUsage(usage), metrics: { latencyMs: 120 } }),
          ]
        : invokeStreamEvents(family!, modelId, pieces, usage, `msg_fake_${counter}`).map((e) => eventMessage('chunk', b64(e)));
    res.writeHead(200, { ...headers, 'content-type': 'application/vnd.amazon.eventstream' });
    for (let i = 0; i < events.length; i++) {
      if (reply.destroyAfterEvents !== undefined && i >= reply.destroyAfterEvents) {
        // The connection drops mid-response, once what was written has reached the client.
        setTimeout(() => res.stream.session?.destroy(), 50);
        return;
      }
      res.write(events[i]!);
    }
    res.end();
  });
  server.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    port,
    requests,
    enqueue: (...replies) => void queue.push(...replies),
    reset: () => {
      requests.length = 0;
      queue.length = 0;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const s of sessions) s.destroy();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
