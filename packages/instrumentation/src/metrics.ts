/**
 * GenAI client metrics (semantic conventions, gen-ai-metrics.md) and spendtrace's cost counter,
 * recorded when an inference span ends.
 *
 * Every provider module starts its spans through the instrumentation's tracer, which
 * {@link inferenceTracer} wraps: a CLIENT span that carries `gen_ai.operation.name` comes back as
 * an {@link InferenceSpan} that remembers the attributes set on it and records the metrics once,
 * at `end()`. The Anthropic SDK's native spans come from the SDK's own tracer, so they call
 * {@link GenAIMetrics.recordCall} from their own `end()` (anthropic/native-tracing.ts). One call,
 * one span end, one recording: nothing is counted twice. Attributes are tracked on the wrapper,
 * not read back from the SDK span, so unsampled calls are measured too.
 */
import { SpanKind, ValueType, type Attributes, type Context, type Counter, type Histogram, type Meter, type Span, type SpanAttributes, type SpanOptions, type TimeInput, type Tracer } from '@opentelemetry/api';
import * as A from '@spendtrace/semconv';
import { AttributeKeepingSpan } from './attribute-keeping-span.ts';
import { noteRequest } from './task-context.ts';

export const METRIC_GEN_AI_CLIENT_TOKEN_USAGE = 'gen_ai.client.token.usage' as const;
export const METRIC_GEN_AI_CLIENT_OPERATION_DURATION = 'gen_ai.client.operation.duration' as const;
/** USD spent on LLM calls and paid tools (a monotonic counter; no convention exists yet). */
export const METRIC_SPENDTRACE_COST = 'spendtrace.cost' as const;

/** The conventions' ExplicitBucketBoundaries for `gen_ai.client.token.usage`. */
export const TOKEN_USAGE_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];
/** The conventions' ExplicitBucketBoundaries for `gen_ai.client.operation.duration` (seconds). */
export const OPERATION_DURATION_BUCKETS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];

/** Span attributes copied onto the conventions' metrics (their attribute table). */
const CALL_KEYS = [
  A.ATTR_GEN_AI_OPERATION_NAME,
  A.ATTR_GEN_AI_PROVIDER_NAME,
  A.ATTR_GEN_AI_REQUEST_MODEL,
  A.ATTR_GEN_AI_RESPONSE_MODEL,
  A.ATTR_SERVER_ADDRESS,
  A.ATTR_SERVER_PORT,
  A.ATTR_ERROR_TYPE,
] as const;
/** And onto the cost counter: what spend is grouped by (no ids: they would explode cardinality). */
const COST_KEYS = [
  A.ATTR_GEN_AI_OPERATION_NAME,
  A.ATTR_GEN_AI_PROVIDER_NAME,
  A.ATTR_GEN_AI_REQUEST_MODEL,
  A.ATTR_GEN_AI_RESPONSE_MODEL,
  A.ATTR_GEN_AI_AGENT_NAME,
  A.ATTR_SPENDTRACE_TASK_NAME,
  A.ATTR_SPENDTRACE_TOOL_NAME,
  A.ATTR_GEN_AI_USAGE_COST_SOURCE,
] as const;

function pick(attrs: Attributes, keys: readonly string[]): Attributes {
  const out: Attributes = {};
  for (const k of keys) {
    const v = attrs[k];
    if (v !== undefined && v !== null) out[k] = v;
  }
  return out;
}

const count = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined);

export class GenAIMetrics {
  readonly tokenUsage: Histogram;
  readonly duration: Histogram;
  readonly cost: Counter;

  constructor(meter: Meter) {
    this.tokenUsage = meter.createHistogram(METRIC_GEN_AI_CLIENT_TOKEN_USAGE, {
      description: 'Number of input and output tokens used per GenAI call.',
      unit: '{token}',
      valueType: ValueType.INT,
      advice: { explicitBucketBoundaries: TOKEN_USAGE_BUCKETS },
    });
    this.duration = meter.createHistogram(METRIC_GEN_AI_CLIENT_OPERATION_DURATION, {
      description: 'GenAI operation duration.',
      unit: 's',
      valueType: ValueType.DOUBLE,
      advice: { explicitBucketBoundaries: OPERATION_DURATION_BUCKETS },
    });
    this.cost = meter.createCounter(METRIC_SPENDTRACE_COST, {
      description: 'Money spent on LLM calls and paid tool calls, in USD.',
      unit: 'USD',
      valueType: ValueType.DOUBLE,
    });
  }

  /** One finished inference call, from its span's attributes. */
  recordCall(attrs: Attributes, durationS: number): void {
    const common = pick(attrs, CALL_KEYS);
    // A Batch API result is recorded when the app reports it: its span's length is no latency.
    if (Number.isFinite(durationS) && durationS >= 0 && attrs[A.ATTR_SPENDTRACE_BATCH] !== true) this.duration.record(durationS, common);
    const input = count(attrs[A.ATTR_GEN_AI_USAGE_INPUT_TOKENS]);
    const output = count(attrs[A.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]);
    if (input !== undefined || output !== undefined) {
      // Locally counted tokens are marked, so dashboards can leave them out.
      const base = attrs[A.ATTR_SPENDTRACE_USAGE_ESTIMATED] === true ? { ...common, [A.ATTR_SPENDTRACE_USAGE_ESTIMATED]: true } : common;
      if (input !== undefined) this.tokenUsage.record(input, { ...base, [A.ATTR_GEN_AI_TOKEN_TYPE]: 'input' });
      if (output !== undefined) this.tokenUsage.record(output, { ...base, [A.ATTR_GEN_AI_TOKEN_TYPE]: 'output' });
    }
    const usd = count(attrs[A.ATTR_GEN_AI_USAGE_COST_AMOUNT]);
    if (usd) this.cost.add(usd, pick(attrs, COST_KEYS));
  }

  /** A paid tool fee (`recordToolCost`). */
  recordToolCost(usd: number, attrs: Attributes): void {
    if (usd > 0) this.cost.add(usd, { [A.ATTR_GEN_AI_OPERATION_NAME]: A.GEN_AI_OPERATION.EXECUTE_TOOL, ...pick(attrs, COST_KEYS) });
  }
}

/** What the wrapped tracer needs from the instrumentation (read per span: meter providers change). */
export interface MetricsHost {
  readonly metrics: GenAIMetrics;
}

/** Epoch milliseconds of a span TimeInput, as the SDK reads it. */
export function epochMs(t: TimeInput): number {
  if (typeof t === 'number') return t < performance.timeOrigin ? performance.timeOrigin + t : t;
  if (t instanceof Date) return t.getTime();
  if (Array.isArray(t)) return t[0] * 1e3 + t[1] / 1e6;
  return Date.now();
}
export const nowMs = (): number => performance.timeOrigin + performance.now();

/**
 * The instrumentation's tracer as the provider modules see it: inference spans (CLIENT, with
 * `gen_ai.operation.name`) come back wrapped; any other span is the inner tracer's own.
 */
export function inferenceTracer(inner: Tracer, host: MetricsHost): Tracer {
  return {
    startSpan(name: string, options?: SpanOptions, ctx?: Context): Span {
      const attrs = options?.attributes;
      if (options?.kind !== SpanKind.CLIENT || !attrs || attrs[A.ATTR_GEN_AI_OPERATION_NAME] === undefined) return inner.startSpan(name, options, ctx);
      const repeat = repeatOf(attrs);
      if (repeat) options = { ...options, attributes: { ...attrs, [A.ATTR_SPENDTRACE_REQUEST_REPEAT]: repeat } };
      const startMs = options.startTime !== undefined ? epochMs(options.startTime) : nowMs();
      return new InferenceSpan(inner.startSpan(name, options, ctx), options.attributes!, startMs, host);
    },
    startActiveSpan: ((...args: unknown[]) => (inner.startActiveSpan as (...a: unknown[]) => unknown)(...args)) as Tracer['startActiveSpan'],
  };
}

/** `spendtrace.request.repeat` for a call starting now with these attributes (0 outside a task or without a hash). */
export function repeatOf(attrs: SpanAttributes): number {
  const hash = attrs[A.ATTR_SPENDTRACE_REQUEST_HASH];
  return typeof hash === 'string' ? noteRequest(hash) : 0;
}

/** Keeps the span's attributes (attribute-keeping-span.ts) and records the call's metrics at `end()`. */
export class InferenceSpan extends AttributeKeepingSpan {
  private readonly startMs: number;
  private readonly host: MetricsHost;
  private ended = false;

  constructor(inner: Span, initial: SpanAttributes, startMs: number, host: MetricsHost) {
    super(inner, initial);
    this.startMs = startMs;
    this.host = host;
  }

  override end(endTime?: TimeInput): void {
    if (!this.ended) {
      this.ended = true;
      try {
        const endMs = endTime === undefined ? nowMs() : epochMs(endTime);
        this.host.metrics.recordCall(this.attrs, (endMs - this.startMs) / 1000);
      } catch {
        // Metrics never break a call; the span still ends.
      }
    }
    this.inner.end(endTime);
  }
}
