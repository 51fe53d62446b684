/**
 * GenAI client metrics (semantic conventions, gen-ai-metrics.md) and spendtrace's cost counter,
 * recorded when an inference span ends.
 *
 * Every call of spendtrace's own records its metrics when it finishes (inference-call.ts holds
 * every attribute already); the Anthropic SDK's native spans call {@link GenAIMetrics.recordCall}
 * from their own `end()` (anthropic/native-tracing.ts), batch result lines once each
 * (batch-results.ts). One call, one recording: nothing is counted twice. Attributes are tracked
 * by the call, not read back from the SDK span, so unsampled calls are measured too.
 */
import { createNoopMeter, ValueType, type Attributes, type Counter, type Histogram, type Meter, type TimeInput } from '@opentelemetry/api';
import * as A from '@spendtrace/semconv';

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

/** A cache key for the values of `keys` in `attrs` (absent, string and number values kept apart). */
function keyOf(attrs: Attributes, keys: readonly string[], extra: string): string {
  let key = extra;
  for (const k of keys) {
    const v = attrs[k];
    key += v === undefined || v === null ? '\u0001' : typeof v === 'string' ? `\u0002${v}` : `\u0003${String(v)}`;
  }
  return key;
}

/** The metric attribute sets of one kind of call, built once and reused (the SDK only reads them). */
interface CallAttributeSets {
  common: Attributes;
  input: Attributes;
  output: Attributes;
}

/** Bound on each attribute-set cache: a new set is only built for a new (operation, provider, model, ...) combination. */
const MAX_CACHED_SETS = 2048;

const count = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined);

/** Whether all three instruments are the API's no-op ones (no meter provider registered): then nothing is recorded at all. */
function areNoop(histograms: Histogram[], counter: Counter): boolean {
  const noop = createNoopMeter();
  const noopHistogram = noop.createHistogram('spendtrace.noop');
  return histograms.every((h) => h === noopHistogram) && counter === noop.createCounter('spendtrace.noop');
}

export class GenAIMetrics {
  readonly tokenUsage: Histogram;
  readonly duration: Histogram;
  readonly cost: Counter;
  /** False when the meter is the API's no-op one: recording is skipped before any attribute is read. */
  readonly enabled: boolean;
  private readonly callSets = new Map<string, CallAttributeSets>();
  private readonly costSets = new Map<string, Attributes>();

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
    let noop = false;
    try {
      noop = areNoop([this.tokenUsage, this.duration], this.cost);
    } catch {
      // Unknown instruments: record.
    }
    this.enabled = !noop;
  }

  /** The conventions' attribute sets for a call with these span attributes (cached per combination). */
  private callSetsOf(attrs: Attributes, estimated: boolean): CallAttributeSets {
    const key = keyOf(attrs, CALL_KEYS, estimated ? 'e' : 'x');
    let sets = this.callSets.get(key);
    if (!sets) {
      const common = pick(attrs, CALL_KEYS);
      // Locally counted tokens are marked, so dashboards can leave them out.
      const base = estimated ? { ...common, [A.ATTR_SPENDTRACE_USAGE_ESTIMATED]: true } : common;
      sets = { common, input: { ...base, [A.ATTR_GEN_AI_TOKEN_TYPE]: 'input' }, output: { ...base, [A.ATTR_GEN_AI_TOKEN_TYPE]: 'output' } };
      if (this.callSets.size >= MAX_CACHED_SETS) this.callSets.clear();
      this.callSets.set(key, sets);
    }
    return sets;
  }

  private costSetOf(attrs: Attributes): Attributes {
    const key = keyOf(attrs, COST_KEYS, '');
    let set = this.costSets.get(key);
    if (!set) {
      set = pick(attrs, COST_KEYS);
      if (this.costSets.size >= MAX_CACHED_SETS) this.costSets.clear();
      this.costSets.set(key, set);
    }
    return set;
  }

  /** One finished inference call, from its span's attributes. */
  recordCall(attrs: Attributes, durationS: number): void {
    if (!this.enabled) return;
    const sets = this.callSetsOf(attrs, attrs[A.ATTR_SPENDTRACE_USAGE_ESTIMATED] === true);
    // A Batch API result is recorded when the app reports it: its span's length is no latency.
    if (Number.isFinite(durationS) && durationS >= 0 && attrs[A.ATTR_SPENDTRACE_BATCH] !== true) this.duration.record(durationS, sets.common);
    const input = count(attrs[A.ATTR_GEN_AI_USAGE_INPUT_TOKENS]);
    const output = count(attrs[A.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]);
    if (input !== undefined) this.tokenUsage.record(input, sets.input);
    if (output !== undefined) this.tokenUsage.record(output, sets.output);
    const usd = count(attrs[A.ATTR_GEN_AI_USAGE_COST_AMOUNT]);
    if (usd) this.cost.add(usd, this.costSetOf(attrs));
  }

  /** A paid tool fee (`recordToolCost`). */
  recordToolCost(usd: number, attrs: Attributes): void {
    if (usd > 0 && this.enabled) this.cost.add(usd, { [A.ATTR_GEN_AI_OPERATION_NAME]: A.GEN_AI_OPERATION.EXECUTE_TOOL, ...pick(attrs, COST_KEYS) });
  }
}

/** Epoch milliseconds of a span TimeInput, as the SDK reads it. */
export function epochMs(t: TimeInput): number {
  if (typeof t === 'number') return t < performance.timeOrigin ? performance.timeOrigin + t : t;
  if (t instanceof Date) return t.getTime();
  if (Array.isArray(t)) return t[0] * 1e3 + t[1] / 1e6;
  return Date.now();
}
export const nowMs = (): number => performance.timeOrigin + performance.now();
