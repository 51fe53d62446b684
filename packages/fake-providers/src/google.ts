// Imitates the Google Gemini API v1beta (https://ai.google.dev/api/generate-content, https://ai.google.dev/api/embeddings, errors per https://ai.google.dev/gemini-api/docs/troubleshooting and google.rpc.Status).
/**
 * A local stand-in for generativelanguage.googleapis.com that the real `@google/genai` talks to
 * via `httpOptions.baseUrl`.
 *
 * Routes (under /v1beta, and /v1 which @google/genai 3.x uses by default): `POST /v1beta/models/{model}:generateContent`, `:streamGenerateContent?alt=sse`,
 * and the same methods on Vertex AI's paths (`/v1beta1/projects/{p}/locations/{l}/publishers/google/models/{model}:…`,
 * `/v1beta1/publishers/google/models/{model}:…` in express mode, plus `:predict` for Vertex text embeddings),
 * `:embedContent` and `:batchEmbedContents` (what the SDK's `models.embedContent` calls on the
 * Gemini API). Each request's reply comes from, most specific first: the `x-fake-behavior` request
 * header (JSON `GeminiReply`), the queue filled by `enqueue()`, the `script` option, `defaults`,
 * then a plain text answer. Usage is
 * reported as the API does: `promptTokenCount` INCLUDES `cachedContentTokenCount`;
 * `candidatesTokenCount` EXCLUDES `thoughtsTokenCount` (both are billed as output).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listen, readBody, retryAfterHeaders, scriptedReply, writeJson, writeSse } from './fake-server.ts';

export interface GeminiUsageMetadata {
  promptTokenCount: number;
  candidatesTokenCount?: number;
  cachedContentTokenCount?: number;
  thoughtsTokenCount?: number;
  toolUsePromptTokenCount?: number;
  totalTokenCount?: number;
}

export type GeminiPart = { text: string; thought?: boolean } | { functionCall: { name: string; args: Record<string, unknown> } };

export interface GeminiGenerateReply {
  parts?: GeminiPart[];
  finishReason?: 'STOP' | 'MAX_TOKENS' | 'SAFETY' | 'RECITATION' | 'OTHER';
  /** Defaults to the model in the path. */
  modelVersion?: string;
  responseId?: string;
  usage?: Partial<GeminiUsageMetadata>;
  /** Streaming: how many chunks to split the text into (usage rides on every chunk, final on the last). */
  chunks?: number;
  /** Streaming: leave usageMetadata off every chunk. */
  omitUsage?: boolean;
  /** Streaming: drop the connection after this many chunks (a stream that fails part-way). */
  destroyAfterChunks?: number;
}

export interface GeminiEmbedReply {
  /** One vector per input; defaults to as many as the request has. */
  dimensions?: number;
  /** Reported as usageMetadata.promptTokenCount when set (the API does not always report it). */
  promptTokenCount?: number;
  /** Vertex AI `:predict`: each instance's `statistics.token_count` (default 4 each). */
  tokenCounts?: number[];
}

export interface GeminiErrorReply {
  status: number;
  /** google.rpc.Code name, e.g. RESOURCE_EXHAUSTED, INVALID_ARGUMENT, UNAVAILABLE. */
  rpcStatus: string;
  message?: string;
  /** Seconds: sent as `retry-after` and as a RetryInfo detail. */
  retryAfter?: number;
}

export type GeminiReply = { generate: GeminiGenerateReply } | { embed: GeminiEmbedReply } | { error: GeminiErrorReply };

export interface GeminiRecordedRequest {
  method: string;
  path: string;
  /** The query string without `?` (`alt=sse` on streams). */
  query: string;
  headers: IncomingMessage['headers'];
  /** Parsed JSON body (undefined when not JSON). */
  body: any;
  receivedAt: number;
}

export interface FakeGeminiOptions {
  /** Default 0 (an ephemeral port). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Reply for requests nothing more specific scripts. */
  defaults?: GeminiReply;
  /** Chooses the reply per request; return undefined for the defaults. */
  script?: (request: GeminiRecordedRequest, index: number) => GeminiReply | undefined;
}

export interface FakeGeminiServer {
  /** Base URL for `new GoogleGenAI({ apiKey, httpOptions: { baseUrl } })`. */
  url: string;
  port: number;
  requests: GeminiRecordedRequest[];
  /** Replies for the next requests, first-in first-out. */
  enqueue(...replies: GeminiReply[]): void;
  /** Clears recorded requests and the queue. */
  reset(): void;
  close(): Promise<void>;
}

let seq = 0;

function usageOf(u: Partial<GeminiUsageMetadata> | undefined): GeminiUsageMetadata {
  const prompt = u?.promptTokenCount ?? 9;
  const candidates = u?.candidatesTokenCount ?? 5;
  const usage: GeminiUsageMetadata = { promptTokenCount: prompt, candidatesTokenCount: candidates };
  if (u?.cachedContentTokenCount) usage.cachedContentTokenCount = u.cachedContentTokenCount;
  if (u?.thoughtsTokenCount) usage.thoughtsTokenCount = u.thoughtsTokenCount;
  if (u?.toolUsePromptTokenCount) usage.toolUsePromptTokenCount = u.toolUsePromptTokenCount;
  usage.totalTokenCount = u?.totalTokenCount ?? prompt + candidates + (u?.thoughtsTokenCount ?? 0) + (u?.toolUsePromptTokenCount ?? 0);
  return usage;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  writeJson(res, status, body, { 'content-type': 'application/json; charset=UTF-8', ...headers });
}

function sendError(res: ServerResponse, e: GeminiErrorReply) {
  const details: unknown[] = [];
  if (e.retryAfter !== undefined) details.push({ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${e.retryAfter}s` });
  sendJson(
    res,
    e.status,
    { error: { code: e.status, message: e.message ?? e.rpcStatus, status: e.rpcStatus, ...(details.length ? { details } : {}) } },
    retryAfterHeaders(e),
  );
}

export async function startFakeGemini(options: FakeGeminiOptions = {}): Promise<FakeGeminiServer> {
  const queue: GeminiReply[] = [];
  const requests: GeminiRecordedRequest[] = [];
  let counter = 0;

  const server = createServer(async (req, res) => {
    const text = await readBody(req);
    let body: any;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      return sendError(res, { status: 400, rpcStatus: 'INVALID_ARGUMENT', message: 'Invalid JSON payload received.' });
    }
    const [path = '/', query = ''] = (req.url ?? '/').split('?');
    const rec: GeminiRecordedRequest = { method: req.method ?? 'GET', path, query, headers: req.headers, body, receivedAt: Date.now() };
    requests.push(rec);
    const index = counter++;
    // Gemini API: /v1beta/models/{m}:method. Vertex AI: /v1beta1/projects/{p}/locations/{l}/publishers/google/models/{m}:method,
    // or /v1beta1/publishers/google/models/{m}:method in express mode (API key, no project).
    const m =
      /^\/v1(?:beta1?|alpha)?\/(?:projects\/[^/]+\/locations\/[^/]+\/)?(?:publishers\/google\/)?models\/([^:]+):(generateContent|streamGenerateContent|embedContent|batchEmbedContents|predict)$/.exec(
        path,
      );
    if (req.method !== 'POST' || !m) {
      return sendError(res, { status: 404, rpcStatus: 'NOT_FOUND', message: `no route ${req.method} ${path}` });
    }
    const model = decodeURIComponent(m[1]!);
    const method = m[2]!;
    const reply = scriptedReply(rec, index, queue, options);
    if (reply && 'error' in reply) return sendError(res, reply.error);

    if (method === 'predict') {
      // Vertex AI text embeddings (https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/text-embeddings-api):
      // one prediction per instance, tokens per instance in statistics.token_count, no usageMetadata.
      const e = reply && 'embed' in reply ? reply.embed : {};
      const instances: unknown[] = Array.isArray(body?.instances) ? body.instances : [];
      const dims = e.dimensions ?? 8;
      const predictions = instances.map((_, i) => ({
        embeddings: {
          values: Array.from({ length: dims }, (_, d) => ((i + 1) * (d + 1)) / 100),
          statistics: { token_count: e.tokenCounts?.[i] ?? 4, truncated: false },
        },
      }));
      const chars = instances.reduce((n: number, x) => n + String((x as { content?: unknown })?.content ?? '').length, 0);
      return sendJson(res, 200, { predictions, metadata: { billableCharacterCount: chars } });
    }
    if (method === 'embedContent' || method === 'batchEmbedContents') {
      const e = reply && 'embed' in reply ? reply.embed : {};
      const count = method === 'embedContent' ? 1 : (body?.requests?.length ?? 1);
      const dims = e.dimensions ?? 8;
      const embeddings = Array.from({ length: count }, (_, i) => ({ values: Array.from({ length: dims }, (_, d) => ((i + 1) * (d + 1)) / 100) }));
      const usage = e.promptTokenCount !== undefined ? { usageMetadata: { promptTokenCount: e.promptTokenCount, totalTokenCount: e.promptTokenCount } } : {};
      return sendJson(res, 200, method === 'embedContent' ? { embedding: embeddings[0], ...usage } : { embeddings, ...usage });
    }

    const g = reply && 'generate' in reply ? reply.generate : {};
    const parts = g.parts ?? [{ text: 'Hello from the fake Gemini API.' }];
    const usage = usageOf(g.usage);
    const responseId = g.responseId ?? `fake-gemini-${++seq}`;
    const modelVersion = g.modelVersion ?? model;
    const finishReason = g.finishReason ?? 'STOP';

    if (method === 'generateContent') {
      return sendJson(res, 200, {
        candidates: [{ content: { role: 'model', parts }, finishReason, index: 0 }],
        usageMetadata: { ...usage, promptTokensDetails: [{ modality: 'TEXT', tokenCount: usage.promptTokenCount }] },
        modelVersion,
        responseId,
      });
    }

    // streamGenerateContent?alt=sse: one JSON GenerateContentResponse per `data:` line. Every chunk
    // carries usageMetadata with the prompt count; candidatesTokenCount grows, final on the last chunk.
    const n = Math.max(1, g.chunks ?? 3);
    const pieces = splitParts(parts, n);
    const events = pieces.map((chunkParts, i) => {
      const last = i === pieces.length - 1;
      const chunk: Record<string, unknown> = {
        candidates: [{ content: { role: 'model', parts: chunkParts }, index: 0, ...(last ? { finishReason } : {}) }],
        modelVersion,
        responseId,
      };
      if (!g.omitUsage) {
        chunk.usageMetadata = last
          ? usage
          : {
              promptTokenCount: usage.promptTokenCount,
              ...(usage.cachedContentTokenCount ? { cachedContentTokenCount: usage.cachedContentTokenCount } : {}),
              totalTokenCount: usage.promptTokenCount,
            };
      }
      return { data: JSON.stringify(chunk) };
    });
    return writeSse(res, { 'content-type': 'text/event-stream' }, events, { eol: '\r\n', cutAfter: g.destroyAfterChunks, cut: 'destroy' });
  });
  return listen(server, options, '', requests, queue);
}

/** Splits text parts into `n` chunks of parts (non-text parts go in the last chunk, as the API sends them whole). */
function splitParts(parts: GeminiPart[], n: number): GeminiPart[][] {
  const text = parts
    .filter((p): p is { text: string; thought?: boolean } => 'text' in p && !p.thought)
    .map((p) => p.text)
    .join('');
  const thoughts = parts.filter((p) => 'text' in p && p.thought);
  const others = parts.filter((p) => !('text' in p));
  const size = Math.ceil(text.length / n) || 1;
  const out: GeminiPart[][] = [];
  for (let i = 0; i < n; i++) {
    const slice = text.slice(i * size, (i + 1) * size);
    const chunk: GeminiPart[] = [];
    if (i === 0) chunk.push(...thoughts);
    if (slice) chunk.push({ text: slice });
    if (i === n - 1) chunk.push(...others);
    out.push(chunk);
  }
  return out;
}
