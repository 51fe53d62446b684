/**
 * `@google/genai` emits no spans. `models.generateContent`, `generateContentStream` and
 * `embedContent` are per-instance arrow functions, so the patch goes one level down, on the
 * prototype methods each of them sends its HTTP request through (`generateContentInternal`,
 * `generateContentStreamInternal`, `embedContentInternal`): one span per billed request, which
 * also covers chats, automatic function calling loops and automatic continuation hops.
 */
import { context, SpanKind, SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';
import * as A from '@spendtrace/semconv';
import type { Usage } from '@spendtrace/semconv';
import { errorType as genericErrorType } from '../task-context.ts';
import { estimateOutputTokens } from '../token-estimate.ts';
import { budgetGate, callScope, recordUsage, serverAttributes, setDefined, type CallScope, type GenAIHost } from '../anthropic/llm-call.ts';
import { countingFetch, trackAttempts } from '../retry-attempts.ts';
import { unwrapMethod, wrapMethod } from '../anthropic/wrap.ts';
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
function instrumentAttempts(models: ModelsLike): void {
  const proto = models.apiClient ? Object.getPrototypeOf(models.apiClient) : undefined;
  if (!proto || apiClientPrototypes.has(proto) || typeof proto.apiCall !== 'function') return;
  apiClientPrototypes.add(proto);
  wrapMethod(proto, 'apiCall', (original: ApiCall) =>
    function apiCall(this: unknown, url: string, init: unknown, retryOptions: unknown, timeout: unknown, abortSignal: unknown, fetchFn?: typeof fetch) {
      return original.call(this, url, init, retryOptions, timeout, abortSignal, countingFetch(fetchFn ?? globalThis.fetch));
    },
  );
}

/** Removes the attempt counting from every ApiClient prototype patched so far. */
export function uninstrumentAttempts(): void {
  for (const proto of apiClientPrototypes) unwrapMethod(proto, 'apiCall');
  apiClientPrototypes.clear();
}

/**
 * `spendtrace.request.hash` of a generate/embed request: model, system instruction and contents.
 * Text parts hash as text, other parts (function calls and responses, inline data) by their JSON.
 */
export function geminiRequestHash(params: GenerateParams | undefined): string {
  const messages: ChatMessage[] = [];
  const parts = (list: unknown[]) => list.map((p) => (typeof p === 'string' ? { type: 'text', text: p } : typeof (p as { text?: unknown })?.text === 'string' ? { type: 'text', text: (p as { text: string }).text } : { type: 'part', text: JSON.stringify(p) }));
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

function startSpan(host: GenAIHost, models: ModelsLike, operation: string, params: GenerateParams, ctx: ReturnType<typeof context.active>, scope: CallScope, stream: boolean): { span: Span; provider: string } {
  const model = modelName(params?.model);
  const provider = models.apiClient?.isVertexAI?.() ? A.GEN_AI_PROVIDER.GCP_VERTEX_AI : A.GEN_AI_PROVIDER.GCP_GEMINI;
  const attrs: Attributes = {
    [A.ATTR_GEN_AI_OPERATION_NAME]: operation,
    [A.ATTR_GEN_AI_PROVIDER_NAME]: provider,
    ...serverAttributes(models.apiClient?.getBaseUrl?.()),
    ...scope.attribution,
  };
  const c = params?.config;
  setDefined(attrs, [
    [A.ATTR_GEN_AI_REQUEST_MODEL, model],
    [A.ATTR_GEN_AI_REQUEST_TEMPERATURE, c?.temperature],
    [A.ATTR_GEN_AI_REQUEST_TOP_P, c?.topP],
    [A.ATTR_GEN_AI_REQUEST_TOP_K, c?.topK],
    [A.ATTR_GEN_AI_REQUEST_MAX_TOKENS, c?.maxOutputTokens],
    [A.ATTR_GEN_AI_REQUEST_STOP_SEQUENCES, c?.stopSequences],
    [A.ATTR_GEN_AI_REQUEST_SEED, c?.seed],
    [A.ATTR_GEN_AI_REQUEST_CHOICE_COUNT, c?.candidateCount !== undefined && c.candidateCount !== 1 ? c.candidateCount : undefined],
    [A.ATTR_GEN_AI_REQUEST_PRESENCE_PENALTY, c?.presencePenalty],
    [A.ATTR_GEN_AI_REQUEST_FREQUENCY_PENALTY, c?.frequencyPenalty],
  ]);
  if (stream) attrs[A.ATTR_GEN_AI_REQUEST_STREAM] = true;
  attrs[A.ATTR_SPENDTRACE_REQUEST_HASH] = geminiRequestHash(params);
  if (host.captureMessageContent && operation !== A.GEN_AI_OPERATION.EMBEDDINGS) Object.assign(attrs, geminiInput(params));
  const span = host.tracer.startSpan(`${operation}${model ? ` ${model}` : ''}`, { kind: SpanKind.CLIENT, attributes: attrs }, ctx);
  trackAttempts(span);
  return { span, provider };
}

function setResponse(span: Span, r: { responseId?: string; modelVersion?: string; finishReasons?: string[] }): void {
  const attrs: Attributes = {};
  if (r.responseId) attrs[A.ATTR_GEN_AI_RESPONSE_ID] = r.responseId;
  if (r.modelVersion) attrs[A.ATTR_GEN_AI_RESPONSE_MODEL] = r.modelVersion;
  if (r.finishReasons?.length) attrs[A.ATTR_GEN_AI_RESPONSE_FINISH_REASONS] = r.finishReasons;
  span.setAttributes(attrs);
}

const finishReasons = (r: GenerateResponse | undefined) =>
  (r?.candidates ?? []).map((c) => c.finishReason?.toLowerCase()).filter((x): x is string => !!x);

function fail(span: Span, err: unknown): void {
  span.setAttribute(A.ATTR_ERROR_TYPE, geminiErrorType(err));
  span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
  span.end();
}

/** Shared prologue: fail open, gate the budget, start the span, run the request inside it. */
function around(host: GenAIHost, operation: string, stream: boolean, original: AsyncFn, onResult: (span: Span, provider: string, scope: CallScope, params: GenerateParams, result: unknown) => unknown): AsyncFn {
  return async function (this: ModelsLike, params: GenerateParams) {
    if (!host.isEnabled()) return original.call(this, params);
    const ctx = context.active();
    let scope: CallScope;
    let started: { span: Span; provider: string };
    try {
      scope = callScope(ctx);
    } catch (err) {
      host.diag.error('spendtrace: @google/genai instrumentation failed; calling through', err);
      return original.call(this, params);
    }
    budgetGate(scope, modelName(params?.model));
    try {
      started = startSpan(host, this, operation, params, ctx, scope, stream);
      instrumentAttempts(this);
    } catch (err) {
      host.diag.error('spendtrace: could not start a @google/genai span; calling through', err);
      return original.call(this, params);
    }
    let result: unknown;
    try {
      result = await context.with(trace.setSpan(ctx, started.span), () => original.call(this, params));
    } catch (err) {
      fail(started.span, err);
      throw err;
    }
    try {
      return onResult(started.span, started.provider, scope, params, result);
    } catch (err) {
      host.diag.error('spendtrace: could not record a @google/genai response', err);
      started.span.end();
      return result;
    }
  };
}

export function patchedGenerateContent(host: GenAIHost) {
  return (original: AsyncFn): AsyncFn =>
    around(host, A.GEN_AI_OPERATION.GENERATE_CONTENT, false, original, (span, provider, scope, params, result) => {
      const r = result as GenerateResponse;
      setResponse(span, { responseId: r?.responseId, modelVersion: r?.modelVersion, finishReasons: finishReasons(r) });
      if (host.captureMessageContent) span.setAttributes(geminiOutput(r));
      if (r?.usageMetadata) recordUsage(host, span, scope, provider, r.modelVersion ?? modelName(params?.model), usageFromGemini(r.usageMetadata));
      span.setStatus({ code: SpanStatusCode.OK });
      span.end();
      return result;
    });
}

export function patchedGenerateContentStream(host: GenAIHost) {
  return (original: AsyncFn): AsyncFn =>
    around(host, A.GEN_AI_OPERATION.GENERATE_CONTENT, true, original, (span, provider, scope, params, result) =>
      observeStream(host, result as AsyncGenerator<GenerateResponse>, span, provider, scope, params),
    );
}

/**
 * Re-yields the SDK's chunks. Every chunk carries cumulative usageMetadata, so the last one seen
 * is the call's usage; a stream that carried none is counted locally and marked estimated.
 */
function observeStream(host: GenAIHost, source: AsyncGenerator<GenerateResponse>, span: Span, provider: string, scope: CallScope, params: GenerateParams): AsyncGenerator<GenerateResponse> {
  const requestModel = modelName(params?.model);
  const started = performance.now();
  let usage: GeminiUsageMetadata | undefined;
  let responseId: string | undefined;
  let modelVersion: string | undefined;
  let reasons: string[] = [];
  let text = '';
  let first = true;
  let ended = false;

  const finish = (err?: unknown) => {
    if (ended) return;
    ended = true;
    try {
      setResponse(span, { responseId, modelVersion, finishReasons: reasons });
      const model = modelVersion ?? requestModel;
      if (err !== undefined) {
        if (usage) recordUsage(host, span, scope, provider, model, usageFromGemini(usage));
        return fail(span, err);
      }
      if (usage) {
        recordUsage(host, span, scope, provider, model, usageFromGemini(usage));
      } else {
        // No usage at all: input (the request's text) and output (the text that arrived) counted locally.
        void Promise.all([estimateOutputTokens(model, geminiPromptText(params)), estimateOutputTokens(model, text)]).then(
          ([inputTokens, outputTokens]) => {
            recordUsage(host, span, scope, provider, model, { inputTokens, outputTokens }, true);
            span.setStatus({ code: SpanStatusCode.OK });
            span.end();
          },
          () => span.end(),
        );
        return;
      }
      span.setStatus({ code: SpanStatusCode.OK });
    } catch (e) {
      host.diag.error('spendtrace: could not record a @google/genai stream', e);
    }
    span.end();
  };

  async function* wrapped(): AsyncGenerator<GenerateResponse> {
    let completed = false;
    try {
      for await (const chunk of source) {
        try {
          if (first) {
            first = false;
            span.setAttribute(A.ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK, (performance.now() - started) / 1000);
          }
          if (chunk?.usageMetadata) usage = chunk.usageMetadata;
          responseId ??= chunk?.responseId;
          modelVersion ??= chunk?.modelVersion;
          const r = finishReasons(chunk);
          if (r.length) reasons = r;
          if (!usage) for (const p of chunk?.candidates?.[0]?.content?.parts ?? []) text += p.text ?? '';
        } catch (err) {
          host.diag.error('spendtrace: could not read a @google/genai stream chunk', err);
        }
        yield chunk;
      }
      completed = true;
    } catch (err) {
      finish(err);
      throw err;
    } finally {
      // Completed, or the app stopped reading (break / return): the span ends with what arrived.
      if (completed || !ended) finish();
    }
  }
  return wrapped();
}

export function patchedEmbedContent(host: GenAIHost) {
  return (original: AsyncFn): AsyncFn =>
    around(host, A.GEN_AI_OPERATION.EMBEDDINGS, false, original, (span, provider, scope, params, result) => {
      const r = result as EmbedResponse;
      const model = modelName(params?.model);
      let tokens = r?.usageMetadata?.promptTokenCount;
      // Vertex reports per-embedding token counts instead.
      if (tokens === undefined && r?.embeddings?.some((e) => e.statistics?.tokenCount !== undefined)) {
        tokens = r.embeddings.reduce((n, e) => n + (e.statistics?.tokenCount ?? 0), 0);
      }
      if (tokens !== undefined) {
        recordUsage(host, span, scope, provider, model, { inputTokens: tokens, outputTokens: 0 });
        span.setStatus({ code: SpanStatusCode.OK });
        span.end();
        return result;
      }
      // The Gemini API's batchEmbedContents reports no tokens: count the input text locally.
      void estimateOutputTokens(model, textOf(params?.contents)).then(
        (n) => {
          recordUsage(host, span, scope, provider, model, { inputTokens: n, outputTokens: 0 }, true);
          span.setStatus({ code: SpanStatusCode.OK });
          span.end();
        },
        () => span.end(),
      );
      return result;
    });
}

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
