/**
 * `@anthropic-ai/sdk` 1.x (and 0.x from 0.134.0) traces its own calls (tracer scope `com.anthropic.sdk.typescript`,
 * spans `anthropic.messages.create`, `anthropic.messages.count_tokens`, ... of kind CLIENT, on by
 * default, through the global tracer provider or the client's `openTelemetry.tracerProvider`).
 * Its spans carry usage but no cost. For such a client spendtrace emits no span of its own: it
 * wraps the client's tracer (`client._tracer`, undefined when the client's tracing is off) so
 * that each native span
 *  - starts with the task's attribution (samplers see it) and, for `messages.create` inside
 *    `withPrompt`, the prompt template's `gen_ai.prompt.name` / `.version`,
 *  - gets `gen_ai.response.finish_reasons`, `spendtrace.retry.attempt` and the cost attributes
 *    just before it ends, from the usage attributes the SDK set on it,
 *  - adds its cost to the task's running cost (so budgets see it), even when it is not sampled:
 *    the wrapper reports itself as recording until it ends, so the SDK records usage on it.
 */
import { context, type Attributes, type Context, type Span, type SpanAttributes, type SpanOptions, type TimeInput, type Tracer } from '@opentelemetry/api';
import * as A from '@spendtrace/semconv';
import type { Usage } from '@spendtrace/semconv';
import { AttributeKeepingSpan } from '../attribute-keeping-span.ts';
import type { Reservation } from '../budget-gate.ts';
import { anthropicInput } from '../content-capture.ts';
import { epochMs, nowMs } from '../metrics.ts';
import { currentPromptAttributes } from '../prompt-template.ts';
import { noteRequest } from '../task-context.ts';
import { trackAttempts } from '../retry-attempts.ts';
import type { GenAIHost } from '../provider-host.ts';
import { callScope, recordUsage, type CallScope } from './native-usage.ts';
import { anthropicRequestHash } from './request.ts';

/** Attribute names the SDK sets that spendtrace reads (its own names, not ours to define). */
const NATIVE_CACHE_WRITE_1H = 'anthropic.usage.cache_creation.ephemeral_1h_input_tokens';
const NATIVE_STOP_REASON = 'anthropic.message.stop_reason';
const NATIVE_RESEND_COUNT = 'http.request.resend_count';
const NATIVE_MESSAGES_CREATE = 'anthropic.messages.create';

const WRAPPED = Symbol.for('spendtrace.anthropic.nativeTracer');

/** The request of the `messages.create` call running right now (the SDK starts its span synchronously inside it). */
let pending: { body: unknown; reservation: Reservation | undefined } | undefined;

/**
 * Before a natively traced `messages.create` runs: the span the SDK starts for it (or, from a
 * helper, already started and passed as `__span`) gets the request hash, repeat count and, when
 * capture is on and the SDK records no content, the input messages. Returns the cleanup.
 */
export function nativeCallStarting(host: GenAIHost, body: unknown, helperSpan: unknown, reservation: Reservation | undefined): () => void {
  const started = (helperSpan as { span?: unknown } | undefined)?.span;
  if (started instanceof PricedNativeSpan) {
    started.learnRequest(body, reservation);
    return noop;
  }
  pending = { body, reservation };
  return clearPending;
}
const noop = () => {};
const clearPending = () => {
  // A span the SDK did not start must not hold the budget.
  pending?.reservation?.release();
  pending = undefined;
};

interface TracedClient {
  _tracer?: Tracer & { [WRAPPED]?: true };
}

/** Whether this client traces its calls itself (SDK 1.x or 0.134+ with tracing left on). */
export function hasNativeTracing(client: unknown): boolean {
  return !!(client && (client as TracedClient)._tracer);
}

/** Makes the client's native spans priced and attributed (once per client). */
export function adoptNativeTracing(client: unknown, host: GenAIHost): void {
  const c = client as TracedClient;
  const tracer = c._tracer;
  if (!tracer || tracer[WRAPPED]) return;
  c._tracer = pricingTracer(tracer, host);
}

function pricingTracer(inner: Tracer, host: GenAIHost): Tracer & { [WRAPPED]: true } {
  return {
    [WRAPPED]: true,
    startSpan(name: string, options?: SpanOptions, ctx?: Context): Span {
      if (!host.isEnabled()) return inner.startSpan(name, options, ctx);
      let scope: CallScope | undefined;
      try {
        scope = callScope(ctx ?? activeContext());
        // The SDK starts its span synchronously inside the call, so withPrompt's context is still current here.
        const prompt = name === NATIVE_MESSAGES_CREATE ? currentPromptAttributes() : undefined;
        if (scope.attribution || prompt) options = { ...options, attributes: { ...options?.attributes, ...scope.attribution, ...prompt } };
      } catch (err) {
        host.diag.error('spendtrace: could not attribute a native Anthropic span', err);
      }
      const span = new PricedNativeSpan(
        inner.startSpan(name, options, ctx),
        name,
        options?.attributes,
        scope ?? { task: undefined, attribution: undefined },
        host,
      );
      if (pending && name === NATIVE_MESSAGES_CREATE) {
        const { body, reservation } = pending;
        pending = undefined;
        span.learnRequest(body, reservation);
      }
      return span;
    },
    startActiveSpan: ((...args: unknown[]) => (inner.startActiveSpan as (...a: unknown[]) => unknown)(...args)) as Tracer['startActiveSpan'],
  };
}

const activeContext = () => context.active();

/** Keeps the attributes the SDK sets on its span (attribute-keeping-span.ts) so the cost can be computed at end. */
class PricedNativeSpan extends AttributeKeepingSpan {
  private readonly name: string;
  private readonly scope: CallScope;
  private readonly host: GenAIHost;
  private readonly startMs = nowMs();
  private ended = false;
  private requestKnown = false;
  /** The call's worst case held against the task until the span ends (budget-gate.ts). */
  private reservation: Reservation | undefined;

  constructor(inner: Span, name: string, initial: SpanAttributes | undefined, scope: CallScope, host: GenAIHost) {
    super(inner, { ...initial });
    this.name = name;
    this.scope = scope;
    this.host = host;
    // Retries of the call are counted while this span is active (retry-attempts.ts).
    if (name === NATIVE_MESSAGES_CREATE) trackAttempts(this);
  }

  /** What only the request tells: its hash (and repeat count in the task) and, opted in, its messages. */
  learnRequest(body: unknown, reservation: Reservation | undefined): void {
    if (this.requestKnown || this.name !== NATIVE_MESSAGES_CREATE) {
      reservation?.release();
      return;
    }
    this.requestKnown = true;
    this.reservation = reservation;
    try {
      const hash = anthropicRequestHash(body as Parameters<typeof anthropicRequestHash>[0]);
      const attrs: Attributes = { [A.ATTR_SPENDTRACE_REQUEST_HASH]: hash };
      const repeat = noteRequest(hash, this.scope.task);
      if (repeat) attrs[A.ATTR_SPENDTRACE_REQUEST_REPEAT] = repeat;
      // The SDK records content itself in its `content` mode; it is not added twice.
      if (this.host.captureMessageContent && this.attrs[A.ATTR_GEN_AI_INPUT_MESSAGES] === undefined)
        Object.assign(attrs, anthropicInput(body as Parameters<typeof anthropicInput>[0]));
      this.setAttributes(attrs);
    } catch (err) {
      this.host.diag.error('spendtrace: could not read an Anthropic request', err);
    }
  }

  /** True until it ends, even when not sampled: the SDK then still records usage, which budgets need. */
  override isRecording(): boolean {
    return !this.ended;
  }
  override end(endTime?: TimeInput): void {
    if (this.ended) return;
    this.ended = true;
    this.reservation?.release();
    if (this.name === NATIVE_MESSAGES_CREATE) {
      try {
        this.price();
      } catch (err) {
        this.host.diag.error('spendtrace: could not price a native Anthropic span', err);
      }
      try {
        // The one place a native span's metrics are recorded (it never passes through spendtrace's tracer).
        this.host.metrics?.recordCall(this.attrs, ((endTime === undefined ? nowMs() : epochMs(endTime)) - this.startMs) / 1000);
      } catch (err) {
        this.host.diag.error('spendtrace: could not record metrics of a native Anthropic span', err);
      }
    }
    this.inner.end(endTime);
  }

  private price(): void {
    const a = this.attrs;
    const resend = a[NATIVE_RESEND_COUNT];
    const extra: Attributes = {};
    if (typeof resend === 'number' && resend > 0) extra[A.ATTR_SPENDTRACE_RETRY_ATTEMPT] = resend;
    const stop = a[NATIVE_STOP_REASON];
    if (typeof stop === 'string' && a[A.ATTR_GEN_AI_RESPONSE_FINISH_REASONS] === undefined) extra[A.ATTR_GEN_AI_RESPONSE_FINISH_REASONS] = [stop];
    this.setAttributes(extra);

    const input = a[A.ATTR_GEN_AI_USAGE_INPUT_TOKENS];
    const output = a[A.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS];
    // A call that failed before the API reported usage was not billed.
    if (typeof input !== 'number' && typeof output !== 'number') return;
    const usage: Usage = { inputTokens: num(input), outputTokens: num(output) };
    const cacheRead = num(a[A.ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS]);
    const cacheWrite = num(a[A.ATTR_GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS]);
    const cacheWrite1h = num(a[NATIVE_CACHE_WRITE_1H]);
    const reasoning = num(a[A.ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS]);
    if (cacheRead) usage.cacheReadTokens = cacheRead;
    if (cacheWrite) usage.cacheWriteTokens = cacheWrite;
    if (cacheWrite1h) usage.cacheWrite1hTokens = cacheWrite1h;
    if (reasoning) usage.reasoningTokens = reasoning;
    // A stream cut before message_delta leaves input usage only; the SDK then records no output.
    const estimated = typeof output !== 'number';
    const provider = typeof a[A.ATTR_GEN_AI_PROVIDER_NAME] === 'string' ? (a[A.ATTR_GEN_AI_PROVIDER_NAME] as string) : A.GEN_AI_PROVIDER.ANTHROPIC;
    const model = str(a[A.ATTR_GEN_AI_RESPONSE_MODEL]) ?? str(a[A.ATTR_GEN_AI_REQUEST_MODEL]);
    // The SDK already set the usage attributes in the conventions' shape; only cost is added.
    recordUsage(this.host, this, this.scope, provider, model, usage, estimated, false);
  }
}

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0;
}
function str(v: unknown): string | undefined {
  return typeof v === 'string' && v ? v : undefined;
}
