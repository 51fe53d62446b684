/**
 * `messages.create` (and `beta.messages.create`, which `messages.stream()`, `parse()` and the tool
 * runner call): a native span gets priced (native-tracing.ts); otherwise spendtrace starts its own
 * `chat {model}` span, reads usage from the Message or from the SSE events, and ends it when the
 * call fails, the Message is parsed, or the app stops reading the stream.
 */
import { context, SpanKind, SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';
import * as A from '@spendtrace/semconv';
import type { Usage } from '@spendtrace/semconv';
import { errorType as genericErrorType } from '../task-context.ts';
import { estimateOutputTokens } from '../token-estimate.ts';
import { anthropicInput, anthropicOutput } from '../content-capture.ts';
import type { ChatMessage } from '../internal-types.ts';
import { requestHash } from '../request-hash.ts';
import { trackAttempts } from '../retry-attempts.ts';
import { budgetGate, callScope, recordUsage, serverAttributes, setDefined, type CallScope, type GenAIHost } from './llm-call.ts';
import { adoptNativeTracing, hasNativeTracing, nativeCallStarting } from './native-tracing.ts';

/** Look-alike shapes of the SDK objects touched (0.x and 1.x). */
interface MessagesResource {
  _client?: { baseURL?: string; _genAIProviderName?: string; _tracer?: unknown };
}
interface CreateBody {
  model?: string;
  max_tokens?: number;
  temperature?: number;
  top_p?: number;
  top_k?: number;
  stop_sequences?: string[];
  stream?: boolean;
  messages?: unknown[];
  system?: unknown;
}
export interface AnthropicApiUsage {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  cache_creation?: { ephemeral_5m_input_tokens?: number | null; ephemeral_1h_input_tokens?: number | null } | null;
  output_tokens_details?: { thinking_tokens?: number | null } | null;
}
interface MessageLike {
  id?: string;
  role?: string;
  content?: unknown;
  model?: string;
  stop_reason?: string | null;
  usage?: AnthropicApiUsage | null;
}
interface APIPromiseLike extends Promise<unknown> {
  _thenUnwrap?: (fn: (data: unknown, props: unknown) => unknown) => Promise<unknown>;
}
interface StreamLike {
  iterator?: () => AsyncIterator<StreamEvent>;
}
interface StreamEvent {
  type?: string;
  message?: MessageLike;
  usage?: AnthropicApiUsage | null;
  delta?: { type?: string; stop_reason?: string | null; text?: string; thinking?: string; partial_json?: string };
}

export type CreateFn = (this: MessagesResource, body: CreateBody, options?: { __span?: unknown }) => unknown;

/**
 * `spendtrace.request.hash` of a Messages request: model, system prompt and messages. Text
 * blocks hash as text; other blocks (tool use and results, images, documents) by their JSON.
 */
export function anthropicRequestHash(body: CreateBody | undefined): string {
  const messages: ChatMessage[] = [];
  const blocks = (content: unknown) =>
    typeof content === 'string' ? content : Array.isArray(content) ? content.map((b: { type?: string; text?: unknown }) => (b?.type === 'text' ? b : { type: b?.type, text: JSON.stringify(b) })) : undefined;
  if (body?.system !== undefined) messages.push({ role: 'system', content: blocks(body.system) });
  if (Array.isArray(body?.messages)) for (const m of body.messages as Array<{ role?: string; content?: unknown }>) messages.push({ role: m?.role, content: blocks(m?.content) });
  return requestHash(body?.model, messages);
}

/**
 * Usage in spendtrace's shape from the API's: `input_tokens` there EXCLUDES cache reads and
 * writes, so they are added; the 1-hour share of cache writes is priced at its own rate.
 */
export function usageFromAnthropic(u: AnthropicApiUsage): Usage {
  const cacheRead = u.cache_read_input_tokens ?? 0;
  const cacheWrite = u.cache_creation_input_tokens ?? 0;
  const usage: Usage = { inputTokens: (u.input_tokens ?? 0) + cacheRead + cacheWrite, outputTokens: u.output_tokens ?? 0 };
  if (cacheRead) usage.cacheReadTokens = cacheRead;
  if (cacheWrite) usage.cacheWriteTokens = cacheWrite;
  const oneHour = u.cache_creation?.ephemeral_1h_input_tokens ?? 0;
  if (oneHour) usage.cacheWrite1hTokens = oneHour;
  const thinking = u.output_tokens_details?.thinking_tokens ?? 0;
  if (thinking) usage.reasoningTokens = thinking;
  return usage;
}

/** `error.type`: the API's error envelope type (rate_limit_error, overloaded_error, ...), else the HTTP status, else the class. */
export function anthropicErrorType(err: unknown): string {
  const e = err as { type?: unknown; status?: unknown; error?: { error?: { type?: unknown }; type?: unknown } } | undefined;
  if (e && typeof e === 'object') {
    if (typeof e.type === 'string' && e.type) return e.type;
    const envelope = e.error?.error?.type ?? (e.error?.type !== 'error' ? e.error?.type : undefined);
    if (typeof envelope === 'string' && envelope) return envelope;
    if (typeof e.status === 'number') return String(e.status);
  }
  return genericErrorType(err);
}

export function patchedCreate(host: GenAIHost) {
  return (original: CreateFn): CreateFn =>
    function create(this: MessagesResource, body: CreateBody, options?: { __span?: unknown }) {
      if (!host.isEnabled()) return original.apply(this, arguments as unknown as [CreateBody, { __span?: unknown }?]);
      const ctx = context.active();
      let scope: CallScope;
      let native: boolean;
      try {
        scope = callScope(ctx);
        native = hasNativeTracing(this._client);
        if (native) adoptNativeTracing(this._client, host);
      } catch (err) {
        host.diag.error('spendtrace: anthropic messages.create instrumentation failed; calling through', err);
        return original.apply(this, arguments as unknown as [CreateBody, { __span?: unknown }?]);
      }
      // Fail fast before any request: an over-budget task makes no further LLM calls.
      budgetGate(scope, body?.model);
      if (native || options?.__span) {
        // The SDK starts its span inside this call (or started it already, in a helper): the span learns the request.
        const done = nativeCallStarting(host, body, options?.__span);
        try {
          return original.apply(this, arguments as unknown as [CreateBody, { __span?: unknown }?]);
        } finally {
          done();
        }
      }

      let span: Span;
      try {
        span = startSpan(host, this, body, ctx, scope);
      } catch (err) {
        host.diag.error('spendtrace: could not start an anthropic span; calling through', err);
        return original.apply(this, arguments as unknown as [CreateBody, { __span?: unknown }?]);
      }
      let promise: APIPromiseLike;
      try {
        promise = context.with(trace.setSpan(ctx, span), () => original.apply(this, arguments as unknown as [CreateBody, { __span?: unknown }?])) as APIPromiseLike;
      } catch (err) {
        endWithError(span, err);
        throw err;
      }
      return attach(host, promise, span, body, scope);
    };
}

function startSpan(host: GenAIHost, resource: MessagesResource, body: CreateBody, ctx: ReturnType<typeof context.active>, scope: CallScope): Span {
  const model = body?.model;
  const attrs: Attributes = {
    [A.ATTR_GEN_AI_OPERATION_NAME]: A.GEN_AI_OPERATION.CHAT,
    [A.ATTR_GEN_AI_PROVIDER_NAME]: resource._client?._genAIProviderName ?? A.GEN_AI_PROVIDER.ANTHROPIC,
    ...serverAttributes(resource._client?.baseURL),
    ...scope.attribution,
  };
  setDefined(attrs, [
    [A.ATTR_GEN_AI_REQUEST_MODEL, model],
    [A.ATTR_GEN_AI_REQUEST_MAX_TOKENS, body?.max_tokens],
    [A.ATTR_GEN_AI_REQUEST_TEMPERATURE, body?.temperature],
    [A.ATTR_GEN_AI_REQUEST_TOP_P, body?.top_p],
    [A.ATTR_GEN_AI_REQUEST_TOP_K, body?.top_k],
    [A.ATTR_GEN_AI_REQUEST_STOP_SEQUENCES, body?.stop_sequences],
  ]);
  if (body?.stream) attrs[A.ATTR_GEN_AI_REQUEST_STREAM] = true;
  attrs[A.ATTR_SPENDTRACE_REQUEST_HASH] = anthropicRequestHash(body);
  if (host.captureMessageContent) Object.assign(attrs, anthropicInput(body));
  const span = host.tracer.startSpan(`${A.GEN_AI_OPERATION.CHAT}${model ? ` ${model}` : ''}`, { kind: SpanKind.CLIENT, attributes: attrs }, ctx);
  providers.set(span, attrs[A.ATTR_GEN_AI_PROVIDER_NAME] as string);
  trackAttempts(span);
  return span;
}

/** Observes the SDK's promise without replacing what the app gets (`_thenUnwrap` keeps `.withResponse()`). */
function attach(host: GenAIHost, promise: APIPromiseLike, span: Span, body: CreateBody, scope: CallScope): unknown {
  const onError = (err: unknown) => endWithError(span, err);
  const onData = (data: unknown) => {
    try {
      if (body?.stream && data && typeof (data as StreamLike).iterator === 'function') observeStream(host, data as StreamLike, span, body, scope);
      else {
        if (host.captureMessageContent) span.setAttributes(anthropicOutput(data as MessageLike));
        finishMessage(host, span, data as MessageLike, body, scope);
      }
    } catch (err) {
      host.diag.error('spendtrace: could not record an anthropic response', err);
      span.end();
    }
    return data;
  };
  if (typeof promise?._thenUnwrap === 'function') {
    // The transform runs only once the app reads the result; a failure never reaches it.
    const responsePromise = (promise as unknown as { responsePromise?: Promise<unknown> }).responsePromise;
    responsePromise?.then(undefined, onError);
    return promise._thenUnwrap((data) => onData(data));
  }
  // Without the SDK's helper (a shape we do not know): observe, and hand back the same promise.
  promise.then(onData, onError);
  return promise;
}

function finishMessage(host: GenAIHost, span: Span, msg: MessageLike, body: CreateBody, scope: CallScope): void {
  setResponseAttributes(span, msg?.id, msg?.model, msg?.stop_reason);
  if (msg?.usage) recordUsage(host, span, scope, providerOf(span), msg.model ?? body?.model, usageFromAnthropic(msg.usage));
  span.setStatus({ code: SpanStatusCode.OK });
  span.end();
}

function setResponseAttributes(span: Span, id: string | undefined, model: string | undefined, stop: string | null | undefined): void {
  const attrs: Attributes = {};
  if (id) attrs[A.ATTR_GEN_AI_RESPONSE_ID] = id;
  if (model) attrs[A.ATTR_GEN_AI_RESPONSE_MODEL] = model;
  if (stop) attrs[A.ATTR_GEN_AI_RESPONSE_FINISH_REASONS] = [stop];
  span.setAttributes(attrs);
}

const providers = new WeakMap<Span, string>();
function providerOf(span: Span): string {
  return providers.get(span) ?? A.GEN_AI_PROVIDER.ANTHROPIC;
}

/**
 * `messages.stream()` starts the native span itself before it calls `create`, so the client's
 * tracer must be adopted first; the span, budget gate and pricing then happen in `create`.
 */
export function patchedStreamHelper(host: GenAIHost) {
  return (original: (...args: unknown[]) => unknown) =>
    function stream(this: MessagesResource, ...args: unknown[]) {
      try {
        if (host.isEnabled() && hasNativeTracing(this._client)) adoptNativeTracing(this._client, host);
      } catch (err) {
        host.diag.error('spendtrace: could not adopt the Anthropic client tracer', err);
      }
      return original.apply(this, args);
    };
}

/**
 * Wraps the stream's event source in place (`Stream.iterator`, which iteration, `tee()` and
 * `toReadableStream()` all go through): usage comes from message_start (input side) and
 * message_delta (final output); the span ends when the events end, fail, or the app stops reading.
 */
function observeStream(host: GenAIHost, stream: StreamLike, span: Span, body: CreateBody, scope: CallScope): void {
  const source = stream.iterator!.bind(stream);
  const started = performance.now();
  let firstChunk = false;
  let ended = false;
  let msg: MessageLike | undefined;
  let usage: AnthropicApiUsage | undefined;
  let stop: string | null | undefined;
  let sawDelta = false;
  let text = '';

  const finish = (err?: unknown) => {
    if (ended) return;
    ended = true;
    try {
      setResponseAttributes(span, msg?.id, msg?.model, stop);
      if (usage) {
        const u = usageFromAnthropic(usage);
        if (!sawDelta) {
          // Cut before message_delta: message_start's output count is a placeholder; count what arrived.
          void estimateOutputTokens(msg?.model ?? body?.model, text).then(
            (n) => {
              u.outputTokens = n;
              recordUsage(host, span, scope, providerOf(span), msg?.model ?? body?.model, u, true);
              span.end();
            },
            () => span.end(),
          );
          if (err !== undefined) markError(span, err);
          return;
        }
        recordUsage(host, span, scope, providerOf(span), msg?.model ?? body?.model, u);
      }
      if (err !== undefined) markError(span, err);
      else span.setStatus({ code: SpanStatusCode.OK });
    } catch (e) {
      host.diag.error('spendtrace: could not record an anthropic stream', e);
    }
    span.end();
  };

  stream.iterator = function iterator(): AsyncIterator<StreamEvent> {
    const it = source();
    return {
      async next() {
        let r: IteratorResult<StreamEvent>;
        try {
          r = await it.next();
        } catch (err) {
          finish(err);
          throw err;
        }
        if (r.done) {
          finish();
          return r;
        }
        try {
          const e = r.value;
          switch (e?.type) {
            case 'message_start':
              msg = e.message;
              usage = { ...e.message?.usage };
              break;
            case 'message_delta':
              sawDelta = true;
              if (e.usage) {
                for (const [k, v] of Object.entries(e.usage)) if (v != null) (usage ??= {})[k as keyof AnthropicApiUsage] = v as never;
              }
              if (e.delta?.stop_reason) stop = e.delta.stop_reason;
              break;
            case 'content_block_delta':
              if (!firstChunk) {
                firstChunk = true;
                span.setAttribute(A.ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK, (performance.now() - started) / 1000);
              }
              text += e.delta?.text ?? e.delta?.thinking ?? e.delta?.partial_json ?? '';
              break;
          }
        } catch (err) {
          host.diag.error('spendtrace: could not read an anthropic stream event', err);
        }
        return r;
      },
      async return(value?: unknown) {
        finish();
        return (await it.return?.(value)) ?? { done: true, value: undefined };
      },
      async throw(err?: unknown) {
        finish(err);
        if (it.throw) return it.throw(err);
        throw err;
      },
    };
  };
}

function markError(span: Span, err: unknown): void {
  span.setAttribute(A.ATTR_ERROR_TYPE, anthropicErrorType(err));
  span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
}

function endWithError(span: Span, err: unknown): void {
  markError(span, err);
  span.end();
}
