/**
 * `@google/genai` emits no spans. `models.generateContent`, `generateContentStream` and
 * `embedContent` are per-instance arrow functions, so the patch goes one level down, on the
 * prototype methods each of them sends its HTTP request through (`generateContentInternal`,
 * `generateContentStreamInternal`, `embedContentInternal`): one span per billed request, which
 * also covers chats, automatic function calling loops and automatic continuation hops.
 */
import type { Attributes } from '@opentelemetry/api';
import * as A from '@spendtrace/semconv';
import type { Usage } from '@spendtrace/semconv';
import { capTimes, promptText, type DescribeRequest } from '../budget-gate.ts';
import { instrumentedMethod, type CallSite, type CallTarget } from '../call-site.ts';
import { errorType as genericErrorType } from '../task-context.ts';
import { estimateOutputTokens } from '../token-estimate.ts';
import { serverAddress, setDefined, type GenAIHost } from '../provider-host.ts';
import { InferenceCall, startAttributes, startCallSpan, type CallInit } from '../inference-call.ts';
import { countingFetch } from '../retry-attempts.ts';
import { unwrapIfWrapped, wrapOnce, type Wrapper } from '../wrapping.ts';
import { geminiInput, geminiOutput } from '../content-capture.ts';
import type { ChatMessage } from '../internal-types.ts';
import { requestHash } from '../request-hash.ts';

/** Look-alike shapes of the SDK objects touched. */
interface ModelsLike {
  apiClient?: { isVertexAI?: () => boolean; getBaseUrl?: () => string };
}

/**
 * The SDK retries inside `ApiClient.apiCall` (with `httpOptions.retryOptions`), calling its fetch
 * function once per attempt; the class is not exported, so its prototype is patched on first use.
 */
const apiClientPrototypes = new Set<object>();
type ApiCall = (url: string, init: unknown, retryOptions: unknown, timeout: unknown, abortSignal: unknown, fetchFn?: typeof fetch) => Promise<unknown>;
function instrumentAttempts(w: Wrapper, models: ModelsLike): void {
  const proto = models.apiClient ? Object.getPrototypeOf(models.apiClient) : undefined;
  if (!proto || apiClientPrototypes.has(proto) || typeof proto.apiCall !== 'function') return;
  apiClientPrototypes.add(proto);
  wrapOnce(
    w,
    proto,
    'apiCall',
    (original: ApiCall) =>
      function apiCall(this: unknown, url: string, init: unknown, retryOptions: unknown, timeout: unknown, abortSignal: unknown, fetchFn?: typeof fetch) {
        return original.call(this, url, init, retryOptions, timeout, abortSignal, countingFetch(fetchFn ?? globalThis.fetch));
      },
  );
}

/** Removes the attempt counting from every ApiClient prototype patched so far. */
export function uninstrumentAttempts(w: Wrapper): void {
  for (const proto of apiClientPrototypes) unwrapIfWrapped(w, proto, 'apiCall');
  apiClientPrototypes.clear();
}

/**
 * `spendtrace.request.hash` of a generate/embed request: model, system instruction and contents.
 * Text parts hash as text, other parts (function calls and responses, inline data) by their JSON.
 */
export function geminiRequestHash(params: GenerateParams | undefined): string {
  const messages: ChatMessage[] = [];
  const parts = (list: unknown[]) =>
    list.map((p) =>
      typeof p === 'string'
        ? { type: 'text', text: p }
        : typeof (p as { text?: unknown })?.text === 'string'
          ? { type: 'text', text: (p as { text: string }).text }
          : { type: 'part', text: JSON.stringify(p) },
    );
  const add = (role: string, c: unknown) => {
    if (typeof c === 'string') messages.push({ role, content: c });
    else if (c && typeof c === 'object' && Array.isArray((c as { parts?: unknown }).parts)) {
      const content = c as { role?: string; parts: unknown[] };
      messages.push({ role: content.role ?? role, content: parts(content.parts) });
    } else if (c !== undefined && c !== null) messages.push({ role, content: parts([c]) });
  };
  const sys = params?.config?.systemInstruction;
  if (sys !== undefined) add('system', sys);
  const contents = params?.contents;
  if (Array.isArray(contents)) for (const c of contents) add('user', c);
  else add('user', contents);
  return requestHash(modelName(params?.model), messages);
}
interface GenerateParams {
  model?: string;
  contents?: unknown;
  config?: {
    temperature?: number;
    topP?: number;
    topK?: number;
    maxOutputTokens?: number;
    stopSequences?: string[];
    seed?: number;
    candidateCount?: number;
    presencePenalty?: number;
    frequencyPenalty?: number;
    systemInstruction?: unknown;
    tools?: unknown[];
  };
}
export interface GeminiUsageMetadata {
  promptTokenCount?: number;
  candidatesTokenCount?: number;
  cachedContentTokenCount?: number;
  thoughtsTokenCount?: number;
  toolUsePromptTokenCount?: number;
}
interface GenerateResponse {
  responseId?: string;
  modelVersion?: string;
  candidates?: Array<{ finishReason?: string; content?: { parts?: Array<{ text?: string }> } }>;
  usageMetadata?: GeminiUsageMetadata;
}
interface EmbedResponse {
  usageMetadata?: { promptTokenCount?: number };
  metadata?: { billableCharacterCount?: number };
  embeddings?: Array<{ statistics?: { tokenCount?: number } }>;
}

type AsyncFn = (this: ModelsLike, params: GenerateParams) => Promise<unknown>;

/**
 * Usage in spendtrace's shape: `promptTokenCount` already includes cached content;
 * `candidatesTokenCount` leaves out thinking, which is billed as output, so it is added.
 */
export function usageFromGemini(u: GeminiUsageMetadata): Usage {
  const thoughts = u.thoughtsTokenCount ?? 0;
  const usage: Usage = {
    inputTokens: (u.promptTokenCount ?? 0) + (u.toolUsePromptTokenCount ?? 0),
    outputTokens: (u.candidatesTokenCount ?? 0) + thoughts,
  };
  if (u.cachedContentTokenCount) usage.cacheReadTokens = u.cachedContentTokenCount;
  if (thoughts) usage.reasoningTokens = thoughts;
  return usage;
}

/** `error.type`: the google.rpc status (RESOURCE_EXHAUSTED, ...) from the error body, else the HTTP status, else the class. */
export function geminiErrorType(err: unknown): string {
  const e = err as { status?: unknown; message?: unknown } | undefined;
  if (e && typeof e === 'object') {
    if (typeof e.message === 'string' && e.message.startsWith('{')) {
      try {
        const status = (JSON.parse(e.message) as { error?: { status?: unknown } }).error?.status;
        if (typeof status === 'string' && status) return status;
      } catch {
        // Not the JSON envelope: fall through.
      }
    }
    if (typeof e.status === 'number') return String(e.status);
  }
  return genericErrorType(err);
}

const modelName = (m: string | undefined) => (m?.startsWith('models/') ? m.slice(7) : m);

const finishReasons = (r: GenerateResponse | undefined) => (r?.candidates ?? []).map((c) => c.finishReason?.toLowerCase()).filter((x): x is string => !!x);

/** The request's settings, added when the call ends. */
function requestAttributes(params: GenerateParams | undefined, attrs: Attributes, stream: boolean): void {
  const c = params?.config;
  if (c) {
    setDefined(attrs, [
      [A.ATTR_GEN_AI_REQUEST_TEMPERATURE, c.temperature],
      [A.ATTR_GEN_AI_REQUEST_TOP_P, c.topP],
      [A.ATTR_GEN_AI_REQUEST_TOP_K, c.topK],
      [A.ATTR_GEN_AI_REQUEST_MAX_TOKENS, c.maxOutputTokens],
      [A.ATTR_GEN_AI_REQUEST_STOP_SEQUENCES, c.stopSequences],
      [A.ATTR_GEN_AI_REQUEST_SEED, c.seed],
      [A.ATTR_GEN_AI_REQUEST_CHOICE_COUNT, c.candidateCount !== undefined && c.candidateCount !== 1 ? c.candidateCount : undefined],
      [A.ATTR_GEN_AI_REQUEST_PRESENCE_PENALTY, c.presencePenalty],
      [A.ATTR_GEN_AI_REQUEST_FREQUENCY_PENALTY, c.frequencyPenalty],
    ]);
  }
  if (stream) attrs[A.ATTR_GEN_AI_REQUEST_STREAM] = true;
}

type Kind = 'generate' | 'stream' | 'embed';

/** One `generateContent` / `generateContentStream` / `embedContent` request and its span. */
class GeminiCall extends InferenceCall {
  declare readonly host: GenAIHost;
  readonly kind: Kind;
  readonly params: GenerateParams | undefined;
  reasons: string[] | undefined;
  usage: Usage | undefined;
  /** A stream's usage came on the chunk with the finish reason: the counts are the call's. */
  usageFinal = false;
  /** A stream's text until its final counts arrive (for local counting). */
  text = '';

  constructor(init: CallInit & { host: GenAIHost }, kind: Kind, params: GenerateParams | undefined) {
    super(init);
    this.kind = kind;
    this.params = params;
    // The request as sent: a chat's history may grow before the call ends.
    if (kind !== 'embed' && init.host.captureMessageContent) Object.assign(this.attrs, geminiInput(params));
  }

  /** The SDK's result, before the app sees it (returned unchanged). */
  readonly resolved = (result: unknown): unknown => {
    try {
      if (this.kind === 'stream') return instrumentStream(this, result as AsyncGenerator<GenerateResponse>);
      if (this.kind === 'embed') this.readEmbedding(result as EmbedResponse);
      else this.readResponse(result as GenerateResponse);
    } catch (err) {
      this.host.diag.error('could not record a @google/genai response', err);
      this.finish();
    }
    return result;
  };

  readonly rejected = (err: unknown): never => {
    this.finish(err);
    throw err;
  };

  private readResponse(r: GenerateResponse): void {
    this.responseId = r?.responseId;
    this.responseModel = r?.modelVersion;
    this.reasons = finishReasons(r);
    if (r?.usageMetadata) this.usage = usageFromGemini(r.usageMetadata);
    if (this.host.captureMessageContent) Object.assign(this.attrs, geminiOutput(r));
    this.finish();
  }

  private readEmbedding(r: EmbedResponse): void {
    let tokens = r?.usageMetadata?.promptTokenCount;
    // Vertex reports per-embedding token counts instead.
    if (tokens === undefined && r?.embeddings?.some((e) => e.statistics?.tokenCount !== undefined)) {
      tokens = r.embeddings.reduce((n, e) => n + (e.statistics?.tokenCount ?? 0), 0);
    }
    if (tokens !== undefined) this.usage = { inputTokens: tokens, outputTokens: 0 };
    this.finish();
  }

  /**
   * A stream chunk. Every one carries usageMetadata; the counts are final on the chunk with the
   * finish reason (earlier ones carry the prompt count alone), so the text is kept until then.
   */
  observeChunk(chunk: GenerateResponse): void {
    if (!this.firstChunkAt) this.firstChunkAt = performance.now();
    this.responseId ??= chunk?.responseId;
    this.responseModel ??= chunk?.modelVersion;
    const r = finishReasons(chunk);
    if (chunk?.usageMetadata) {
      this.usage = usageFromGemini(chunk.usageMetadata);
      if (r.length) this.usageFinal = true;
    }
    if (r.length) this.reasons = r;
    if (!this.usageFinal) for (const p of chunk?.candidates?.[0]?.content?.parts ?? []) this.text += p.text ?? '';
  }

  /**
   * Local token counts where the API reported none: batchEmbedContents' input; a stream's prompt
   * and text when no chunk carried usage, its output text when it ended before the final counts
   * (the app stopped reading, the connection dropped). A stream that sent nothing was not billed.
   */
  private estimate(): Promise<Usage> | undefined {
    const model = this.responseModel ?? this.requestModel;
    if (this.kind === 'embed') return estimateOutputTokens(model, textOf(this.params?.contents)).then((n) => ({ inputTokens: n, outputTokens: 0 }));
    if (this.kind !== 'stream' || !this.firstChunkAt) return undefined;
    const output = estimateOutputTokens(model, this.text);
    const reported = this.usage;
    if (reported) return output.then((n) => ({ ...reported, outputTokens: Math.max(reported.outputTokens, n) }));
    return Promise.all([estimateOutputTokens(model, geminiPromptText(this.params)), output]).then(([inputTokens, outputTokens]) => ({
      inputTokens,
      outputTokens,
    }));
  }

  /** Ends the span once: response, usage, cost, attribution; `err` for a failed call. */
  finish(err?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    const end = this.attrs;
    try {
      this.attribution(end);
      requestAttributes(this.params, end, this.kind === 'stream');
      this.response(end, this.reasons);
      if (err !== undefined) {
        this.failed(end, err, geminiErrorType(err));
      }
      if (this.usage && (this.kind !== 'stream' || this.usageFinal)) {
        this.price(end, this.usage, undefined, this.responseModel);
        return this.close(end);
      }
      const estimate = this.estimate();
      if (!estimate) return this.close(end);
      this.closeEstimated(end, estimate, this.responseModel);
    } catch (e) {
      this.host.diag.error('@google/genai span: finishing failed', e);
      this.close(end);
    }
  }
}

/**
 * Instruments the SDK's stream generator in place (own `next` / `return` / `throw`), so the app
 * iterates the SDK's own object and gets the SDK's own promise for each chunk, observed by one
 * reaction registered before the app's. The span ends when the chunks end, fail, or the app stops
 * reading (`break` calls `return`).
 */
function instrumentStream(call: GeminiCall, gen: AsyncGenerator<GenerateResponse>): AsyncGenerator<GenerateResponse> {
  if (!gen || typeof gen.next !== 'function') {
    call.finish();
    return gen;
  }
  const next = gen.next;
  const ret = gen.return;
  const thr = gen.throw;
  const onChunk = (r: IteratorResult<GenerateResponse>) => {
    try {
      if (r.done) call.finish();
      else call.observeChunk(r.value);
    } catch (err) {
      call.host.diag.error('could not read a @google/genai stream chunk', err);
    }
  };
  const onError = (err: unknown) => call.finish(err);
  gen.next = function (this: AsyncGenerator<GenerateResponse>, ...args: [] | [unknown]) {
    const p = next.apply(this, args);
    p.then(onChunk, onError);
    return p;
  };
  if (typeof ret === 'function') {
    gen.return = function (this: AsyncGenerator<GenerateResponse>, value: unknown) {
      const p = ret.call(this, value as never);
      p.then(() => call.finish(), onError);
      return p;
    };
  }
  if (typeof thr === 'function') {
    gen.throw = function (this: AsyncGenerator<GenerateResponse>, err: unknown) {
      const p = thr.call(this, err);
      p.then(() => call.finish(err), onError);
      return p;
    };
  }
  return gen;
}

/** A generate request as the budget check reads it: `maxOutputTokens` per candidate. */
const geminiBudget: DescribeRequest = (params: GenerateParams | undefined) => ({
  text: geminiPromptText(params),
  maxOutputTokens: capTimes(params?.config?.maxOutputTokens, params?.config?.candidateCount),
});
const embedBudget: DescribeRequest = (params: GenerateParams | undefined) => ({ text: promptText(params?.contents), maxOutputTokens: undefined });

/**
 * Wraps one of the SDK's internal request methods through the call-site template (call-site.ts).
 * The call is the context the SDK runs in, so each HTTP attempt is counted on it; the app gets a
 * promise of the SDK's own result (the internal methods return plain promises).
 */
function patched(host: GenAIHost, operation: string, kind: Kind) {
  const site: CallSite<ModelsLike, CallTarget, GeminiCall> = {
    what: `@google/genai ${operation}`,
    describe: kind === 'embed' ? embedBudget : geminiBudget,
    target(self, params: GenerateParams | undefined) {
      return { provider: self.apiClient?.isVertexAI?.() ? A.GEN_AI_PROVIDER.GCP_VERTEX_AI : A.GEN_AI_PROVIDER.GCP_GEMINI, model: modelName(params?.model) };
    },
    start(self, params: GenerateParams | undefined, target, scope, parent) {
      const start = startAttributes(operation, target.provider, target.model, serverAddress(self.apiClient?.getBaseUrl?.()));
      const span = startCallSpan(host, operation, target.model, start, parent);
      const call = new GeminiCall(
        { host, span, parent, start, provider: target.provider, model: target.model, scope, hash: geminiRequestHash(params), timed: kind === 'stream' },
        kind,
        params,
      );
      instrumentAttempts(host.wrapper, self);
      return call;
    },
    attach: (call, result) => (result as Promise<unknown>).then(call.resolved, call.rejected),
    refuse: (err) => Promise.reject(err),
  };
  return (original: AsyncFn): AsyncFn => instrumentedMethod(host, site, original) as AsyncFn;
}

export const patchedGenerateContent = (host: GenAIHost) => patched(host, A.GEN_AI_OPERATION.GENERATE_CONTENT, 'generate');
export const patchedGenerateContentStream = (host: GenAIHost) => patched(host, A.GEN_AI_OPERATION.GENERATE_CONTENT, 'stream');
export const patchedEmbedContent = (host: GenAIHost) => patched(host, A.GEN_AI_OPERATION.EMBEDDINGS, 'embed');

function textOf(contents: unknown): string {
  if (typeof contents === 'string') return contents;
  if (Array.isArray(contents)) return contents.map(textOf).join('\n');
  if (contents && typeof contents === 'object') {
    const c = contents as { text?: unknown; parts?: unknown; functionCall?: unknown; functionResponse?: unknown };
    if (typeof c.text === 'string') return c.text;
    if (Array.isArray(c.parts)) return c.parts.map(textOf).join('');
    // Function calls and responses are billed as the model sees them; their JSON is a close proxy.
    if (c.functionCall) return JSON.stringify(c.functionCall);
    if (c.functionResponse) return JSON.stringify(c.functionResponse);
  }
  return '';
}

/**
 * The text of a generate request as local counting sees it (streams without usageMetadata):
 * system instruction, contents (text parts, function call / response JSON; inline media is not
 * counted) and tool declarations as JSON, one per line.
 */
export function geminiPromptText(params: GenerateParams | undefined): string {
  const pieces: string[] = [];
  const sys = textOf(params?.config?.systemInstruction);
  if (sys) pieces.push(sys);
  const contents = textOf(params?.contents);
  if (contents) pieces.push(contents);
  if (params?.config?.tools?.length) pieces.push(JSON.stringify(params.config.tools));
  return pieces.join('\n');
}
