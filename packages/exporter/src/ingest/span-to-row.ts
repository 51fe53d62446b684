/**
 * One OTLP span -> one `spans` row: classify, normalize our names and peers', price, clamp.
 * Absurd values (huge strings, NaN / negative / huge token counts, impossible times, bad costs)
 * are clamped or dropped here, each with a warning kept on the row, so no single span can fail a
 * batch. A span without valid ids is rejected (deduplication and rollups key on them).
 */
import * as A from '@spendtrace/semconv';
import { batchQuote, formatPico, usageFromAttributes, usdToPico, type Pico, type PriceQuote, type Pricer, type Usage } from '@spendtrace/semconv';
import type { Attributes, AttrValue, OtlpSpan } from '../otlp/span.ts';
import { putAttr, SPAN_KIND_NAMES, STATUS_CODE_NAMES } from '../otlp/span.ts';
import { classifySpan, COST_ATTRIBUTES, type SpanClass } from './classify.ts';
import type { SpanRow } from './span-row.ts';

/** Limits on what one span may carry into storage. */
export const LIMITS = {
  /** Longest attribute value kept, in UTF-16 units (cut on a code point boundary); longer ones are cut. */
  maxValueChars: 16_384,
  /** All attribute keys and values of one span's map together; attributes past it are dropped. */
  maxSpanAttributeChars: 131_072,
  /**
   * The same for a resource's map. It is stored on every span of the resource, so it is kept
   * small: an 8 MB resource attribute copied into 5,000 rows was a 40 GB batch.
   */
  maxResourceAttributeChars: 16_384,
  /** Longest attribute key; longer keys are dropped. */
  maxKeyChars: 256,
  /** Attributes kept per span (and per resource). */
  maxAttributes: 512,
  /** Longest value of a dimension column (names, models, ids). */
  maxLabelChars: 512,
  /**
   * Largest token count of one kind on one call; anything above is not a real count. The largest
   * context window offered today is 10M tokens (Llama 4 Scout; Gemini 2M, GPT-4.1 1M); twice that.
   */
  maxTokens: 20_000_000,
  /**
   * Largest cost of one span in USD, reported or computed. The dearest listed call within
   * maxTokens (o1-pro, 20M input at $150/M plus 2M output at $600/M) is $4,200; a span above
   * it is a hostile or broken one: its reported cost is dropped, a computed one left unpriced.
   */
  maxCostUsd: 5_000,
  /** Times outside [2000-01-01, 2100-01-01) are not real span times. */
  minTimeNs: 946_684_800_000_000_000n,
  maxTimeNs: 4_102_444_800_000_000_000n,
} as const;

export interface ResourceContext {
  serviceName: string;
  resourceAttributes: Record<string, string>;
  scopeName: string;
  scopeVersion: string;
}

export type SpanOutcome = { row: SpanRow; warnings: string[] } | { rejected: string };

const TOKEN_ATTRIBUTES = [
  A.ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  A.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  A.ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
  A.ATTR_GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS,
  A.ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
  A.PEER_GEN_AI_USAGE_PROMPT_TOKENS,
  A.PEER_GEN_AI_USAGE_COMPLETION_TOKENS,
  A.PEER_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
  A.PEER_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS_ALT,
  A.PEER_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS_ALT,
  A.PEER_GEN_AI_USAGE_REASONING_TOKENS,
  A.PEER_LLM_TOKEN_COUNT_PROMPT,
  A.PEER_LLM_TOKEN_COUNT_COMPLETION,
  A.PEER_LLM_TOKEN_COUNT_CACHE_READ,
  A.PEER_LLM_TOKEN_COUNT_CACHE_WRITE,
  A.PEER_LLM_TOKEN_COUNT_REASONING,
  A.PEER_LLM_USAGE_PROMPT_TOKENS,
  A.PEER_LLM_USAGE_COMPLETION_TOKENS,
  A.PEER_AI_USAGE_PROMPT_TOKENS,
  A.PEER_AI_USAGE_COMPLETION_TOKENS,
  A.PEER_AI_USAGE_INPUT_TOKENS,
  A.PEER_AI_USAGE_OUTPUT_TOKENS,
  A.PEER_AI_USAGE_CACHED_INPUT_TOKENS,
  A.PEER_AI_USAGE_REASONING_TOKENS,
] as const;

const MONEY_ATTRIBUTES: ReadonlySet<string> = new Set<string>([
  ...TOKEN_ATTRIBUTES,
  ...COST_ATTRIBUTES,
  A.ATTR_GEN_AI_USAGE_COST_SOURCE,
  A.ATTR_GEN_AI_USAGE_COST_CURRENCY,
  A.ATTR_SPENDTRACE_COST_INPUT,
  A.ATTR_SPENDTRACE_COST_OUTPUT,
  A.ATTR_SPENDTRACE_COST_CACHE_READ,
  A.ATTR_SPENDTRACE_COST_CACHE_WRITE,
  A.ATTR_SPENDTRACE_COST_REASONING,
  A.ATTR_SPENDTRACE_COST_UNPRICED,
  A.ATTR_SPENDTRACE_PRICING_VERSION,
  A.ATTR_SPENDTRACE_USAGE_ESTIMATED,
  A.ATTR_SPENDTRACE_TOOL_COST_AMOUNT,
]);

/** Attributes that become their own columns on every span, so the Map does not repeat them. */
const COLUMN_ATTRIBUTES: ReadonlySet<string> = new Set<string>([
  A.ATTR_GEN_AI_OPERATION_NAME,
  A.ATTR_GEN_AI_PROVIDER_NAME,
  A.ATTR_GEN_AI_REQUEST_MODEL,
  A.ATTR_GEN_AI_RESPONSE_MODEL,
  A.ATTR_SPENDTRACE_TASK_ID,
  A.ATTR_SPENDTRACE_TASK_NAME,
  A.ATTR_GEN_AI_AGENT_NAME,
  A.ATTR_USER_ID,
  A.ATTR_ERROR_TYPE,
  A.ATTR_SPENDTRACE_RETRY_ATTEMPT,
  A.ATTR_SPENDTRACE_REQUEST_HASH,
  A.ATTR_SPENDTRACE_TASK_OUTCOME,
]);

const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;

export function spanToRow(span: OtlpSpan, res: ResourceContext, pricer: Pricer, nowNs: bigint): SpanOutcome {
  if (!HEX32.test(span.traceId) || /^0+$/.test(span.traceId)) return { rejected: `span ${JSON.stringify(span.name.slice(0, 80))}: invalid trace id` };
  if (!HEX16.test(span.spanId) || /^0+$/.test(span.spanId)) return { rejected: `span ${JSON.stringify(span.name.slice(0, 80))}: invalid span id` };

  const warnings: string[] = [];
  const attrs = sanitizeNumbers(span.attributes, warnings);
  const kind = classifySpan(attrs);

  // Times: impossible values fall back to the other end, else to the time of receipt.
  let start = span.startTimeUnixNano;
  let end = span.endTimeUnixNano;
  const validTime = (t: bigint) => t >= LIMITS.minTimeNs && t < LIMITS.maxTimeNs;
  if (!validTime(end)) {
    warnings.push(`end time ${end} out of range`);
    end = validTime(start) ? start : nowNs;
  }
  if (!validTime(start)) {
    warnings.push(`start time ${start} out of range`);
    start = end;
  }
  if (end < start) {
    warnings.push('end time before start time');
    end = start;
  }

  const str = (k: string) => label(attrs[k], warnings, k);
  const provider = providerOf(attrs, warnings);
  const requestModel =
    str(A.ATTR_GEN_AI_REQUEST_MODEL) ||
    label(attrs[A.PEER_LLM_MODEL_NAME], warnings, A.PEER_LLM_MODEL_NAME) ||
    label(attrs[A.PEER_AI_MODEL_ID], warnings, A.PEER_AI_MODEL_ID);
  const responseModel = str(A.ATTR_GEN_AI_RESPONSE_MODEL) || label(attrs[A.PEER_AI_RESPONSE_MODEL], warnings, A.PEER_AI_RESPONSE_MODEL);
  const operation = str(A.ATTR_GEN_AI_OPERATION_NAME);
  const statusCode = STATUS_CODE_NAMES[span.status.code] ?? 'unset';

  const money =
    kind === 'inference'
      ? priceInference(attrs, provider, requestModel, responseModel, end, statusCode, pricer, warnings)
      : kind === 'tool'
        ? priceTool(attrs, warnings)
        : NO_MONEY;

  const toolName =
    kind === 'tool'
      ? str(A.ATTR_GEN_AI_TOOL_NAME) || label(attrs['tool.name'], warnings, 'tool.name')
      : kind === 'inference'
        ? str(A.ATTR_SPENDTRACE_TOOL_NAME)
        : '';
  const retryAttempt = smallCount(attrs, A.ATTR_SPENDTRACE_RETRY_ATTEMPT, warnings);
  const requestRepeat = smallCount(attrs, A.ATTR_SPENDTRACE_REQUEST_REPEAT, warnings);

  const map = attributeMap(attrs, kind === 'inference' || kind === 'tool', warnings);
  map[A.ATTR_OTEL_SCOPE_NAME] = res.scopeName;
  if (res.scopeVersion) map[A.ATTR_OTEL_SCOPE_VERSION] = res.scopeVersion;
  if (warnings.length) map[A.ATTR_SPENDTRACE_INGEST_WARNINGS] = cut(warnings.join('; '), LIMITS.maxValueChars);

  const row: SpanRow = {
    trace_id: span.traceId,
    span_id: span.spanId,
    parent_span_id: HEX16.test(span.parentSpanId) ? span.parentSpanId : '',
    start_time: nsText(start),
    end_time: nsText(end),
    duration_ns: (end - start).toString(),
    service_name: res.serviceName,
    span_name: cut(span.name, LIMITS.maxLabelChars),
    span_kind: SPAN_KIND_NAMES[span.kind] ?? 'unspecified',
    kind,
    task_id: str(A.ATTR_SPENDTRACE_TASK_ID) || span.traceId,
    task_name: str(A.ATTR_SPENDTRACE_TASK_NAME),
    agent_name: str(A.ATTR_GEN_AI_AGENT_NAME),
    user_id: str(A.ATTR_USER_ID),
    tool_name: toolName,
    operation,
    provider,
    request_model: requestModel,
    response_model: responseModel,
    input_tokens: money.usage.inputTokens,
    output_tokens: money.usage.outputTokens,
    cache_read_tokens: money.usage.cacheReadTokens ?? 0,
    cache_write_tokens: money.usage.cacheWriteTokens ?? 0,
    reasoning_tokens: money.usage.reasoningTokens ?? 0,
    cost: formatPico(money.total),
    cost_input: formatPico(money.input),
    cost_output: formatPico(money.output),
    cost_cache_read: formatPico(money.cacheRead),
    cost_cache_write: formatPico(money.cacheWrite),
    cost_reasoning: formatPico(money.reasoning),
    cost_source: money.source,
    unpriced: money.unpriced ? 1 : 0,
    usage_estimated: kind === 'inference' && truthy(attrs[A.ATTR_SPENDTRACE_USAGE_ESTIMATED]) ? 1 : 0,
    pricing_version: money.pricingVersion,
    status_code: statusCode,
    error_type: str(A.ATTR_ERROR_TYPE) || (statusCode === 'error' ? '_OTHER' : ''),
    outcome: kind === 'task' ? str(A.ATTR_SPENDTRACE_TASK_OUTCOME) : '',
    retry_attempt: retryAttempt,
    request_repeat: requestRepeat,
    request_hash: str(A.ATTR_SPENDTRACE_REQUEST_HASH),
    attributes: map,
    resource_attributes: res.resourceAttributes,
  };
  return { row, warnings };
}

/** A small whole-number attribute (retry attempt, repeat count): 0 when absent, dropped with a warning when absurd. */
function smallCount(attrs: Attributes, key: string, warnings: string[]): number {
  const v = attrs[key];
  if (v === undefined) return 0;
  const n = typeof v === 'number' ? v : Number(v);
  if (Number.isInteger(n) && n >= 0 && n <= 65_535) return n;
  warnings.push(`${key} ${String(v).slice(0, 40)} not a small whole number`);
  return 0;
}

// --- money -------------------------------------------------------------------------------------

interface Money {
  usage: Usage;
  total: Pico;
  input: Pico;
  output: Pico;
  cacheRead: Pico;
  cacheWrite: Pico;
  reasoning: Pico;
  source: string;
  unpriced: boolean;
  pricingVersion: string;
}

const NO_USAGE: Usage = Object.freeze({ inputTokens: 0, outputTokens: 0 }) as Usage;
const NO_MONEY: Money = Object.freeze({
  usage: NO_USAGE,
  total: 0n,
  input: 0n,
  output: 0n,
  cacheRead: 0n,
  cacheWrite: 0n,
  reasoning: 0n,
  source: '',
  unpriced: false,
  pricingVersion: '',
});

function priceInference(
  attrs: Attributes,
  provider: string,
  requestModel: string,
  responseModel: string,
  endNs: bigint,
  status: string,
  pricer: Pricer,
  warnings: string[],
): Money {
  const reportedUsage = usageFromAttributes(attrs);
  const usage = reportedUsage ?? { ...NO_USAGE };
  for (const k of ['inputTokens', 'outputTokens', 'cacheReadTokens', 'cacheWriteTokens', 'reasoningTokens'] as const) {
    if (usage[k] !== undefined) usage[k] = Math.round(usage[k]!);
  }
  // A cost on the span wins: the provider reported it, or the instrumentation priced it at call time.
  let reported = firstCost(attrs, COST_ATTRIBUTES, warnings);
  const at = Number(endNs / 1_000_000n);
  const source = label(attrs[A.ATTR_GEN_AI_USAGE_COST_SOURCE], warnings, A.ATTR_GEN_AI_USAGE_COST_SOURCE) || A.COST_SOURCE.LOCAL;
  if (reported === 0n && source !== A.COST_SOURCE.PROVIDER && hasTokens(reportedUsage)) {
    // A peer whose own price lookup failed reports 0 for a call with tokens: priced here (or
    // flagged unpriced), never stored as a silent $0. Only the provider's own 0 is believed.
    warnings.push('a cost of 0 for a call with tokens (not from the provider): priced by the exporter');
    reported = undefined;
  }
  if (reported !== undefined) {
    if (COST_PART_ATTRIBUTES.some((k) => attrs[k] !== undefined)) {
      const part = (k: string) => firstCost(attrs, [k], warnings) ?? 0n;
      return {
        usage,
        total: reported,
        input: part(A.ATTR_SPENDTRACE_COST_INPUT),
        output: part(A.ATTR_SPENDTRACE_COST_OUTPUT),
        cacheRead: part(A.ATTR_SPENDTRACE_COST_CACHE_READ),
        cacheWrite: part(A.ATTR_SPENDTRACE_COST_CACHE_WRITE),
        reasoning: part(A.ATTR_SPENDTRACE_COST_REASONING),
        source,
        unpriced: false,
        pricingVersion: label(attrs[A.ATTR_SPENDTRACE_PRICING_VERSION], warnings, A.ATTR_SPENDTRACE_PRICING_VERSION),
      };
    }
    // Only the total on the span (the instrumentation's default for catalogue prices, or a
    // provider's figure): the breakdown is rebuilt from the tokens when the catalogue gives the
    // very same total, to the pico-dollar; otherwise it stays unknown (zero parts).
    const quote = reportedUsage ? listedQuote(attrs, provider, requestModel, responseModel, usage, at, pricer) : undefined;
    const same = quote !== undefined && quote.cost.total === reported;
    return {
      usage,
      total: reported,
      input: same ? quote.cost.input : 0n,
      output: same ? quote.cost.output : 0n,
      cacheRead: same ? quote.cost.cacheRead : 0n,
      cacheWrite: same ? quote.cost.cacheWrite : 0n,
      reasoning: same ? quote.cost.reasoning : 0n,
      source,
      unpriced: false,
      pricingVersion: same ? quote.version : label(attrs[A.ATTR_SPENDTRACE_PRICING_VERSION], warnings, A.ATTR_SPENDTRACE_PRICING_VERSION),
    };
  }
  // No tokens on a failed call: nothing was billed. No tokens on a successful one: unknown, say so.
  if (!reportedUsage) return { ...NO_MONEY, usage, unpriced: status !== 'error' };
  const quote = listedQuote(attrs, provider, requestModel, responseModel, usage, at, pricer);
  if (!quote) return { ...NO_MONEY, usage, unpriced: true };
  if (quote.cost.total > MAX_COST_PICO) {
    warnings.push(`computed cost over ${LIMITS.maxCostUsd} USD for one call: left unpriced`);
    return { ...NO_MONEY, usage, unpriced: true };
  }
  return {
    usage,
    total: quote.cost.total,
    input: quote.cost.input,
    output: quote.cost.output,
    cacheRead: quote.cost.cacheRead,
    cacheWrite: quote.cost.cacheWrite,
    reasoning: quote.cost.reasoning,
    source: 'exporter',
    unpriced: false,
    pricingVersion: quote.version,
  };
}

const MAX_COST_PICO = usdToPico(LIMITS.maxCostUsd);

function hasTokens(u: Usage | undefined): boolean {
  return !!u && (u.inputTokens > 0 || u.outputTokens > 0 || (u.cacheReadTokens ?? 0) > 0 || (u.cacheWriteTokens ?? 0) > 0);
}

const COST_PART_ATTRIBUTES = [
  A.ATTR_SPENDTRACE_COST_INPUT,
  A.ATTR_SPENDTRACE_COST_OUTPUT,
  A.ATTR_SPENDTRACE_COST_CACHE_READ,
  A.ATTR_SPENDTRACE_COST_CACHE_WRITE,
  A.ATTR_SPENDTRACE_COST_REASONING,
] as const;

/** The catalogue (and overrides) quote for the span's tokens: response model first, at the Batch API discount for batch results. */
function listedQuote(
  attrs: Attributes,
  provider: string,
  requestModel: string,
  responseModel: string,
  usage: Usage,
  at: number,
  pricer: Pricer,
): PriceQuote | undefined {
  const listed =
    (responseModel ? pricer.price(provider || undefined, responseModel, { ...usage }, at) : undefined) ??
    (requestModel ? pricer.price(provider || undefined, requestModel, { ...usage }, at) : undefined);
  if (!listed) return undefined;
  return truthy(attrs[A.ATTR_SPENDTRACE_BATCH]) ? batchQuote(listed) : listed;
}

function priceTool(attrs: Attributes, warnings: string[]): Money {
  const total = firstCost(attrs, [A.ATTR_SPENDTRACE_TOOL_COST_AMOUNT, ...COST_ATTRIBUTES], warnings);
  if (total === undefined) return NO_MONEY;
  return { ...NO_MONEY, total, source: label(attrs[A.ATTR_GEN_AI_USAGE_COST_SOURCE], warnings, A.ATTR_GEN_AI_USAGE_COST_SOURCE) || A.COST_SOURCE.LOCAL };
}

/** The first valid USD amount among `names` as pico-USD; invalid ones are dropped with a warning. */
function firstCost(attrs: Attributes, names: readonly string[], warnings: string[]): Pico | undefined {
  for (const k of names) {
    const v = attrs[k];
    if (v === undefined || v === null || v === '') continue;
    const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
    if (!Number.isFinite(n) || n < 0 || n > LIMITS.maxCostUsd) {
      warnings.push(`${k} ${String(v).slice(0, 40)} is not a cost in [0, ${LIMITS.maxCostUsd}] USD: dropped`);
      delete attrs[k];
      continue;
    }
    return usdToPico(n);
  }
  return undefined;
}

// --- normalization -------------------------------------------------------------------------

/** A copy of the attributes without token counts that cannot be real (so usage reads only sane ones). */
function sanitizeNumbers(src: Attributes, warnings: string[]): Attributes {
  let attrs: Attributes | undefined;
  for (const k of TOKEN_ATTRIBUTES) {
    const v = src[k];
    if (v === undefined) continue;
    const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
    if (Number.isFinite(n) && n >= 0 && n <= LIMITS.maxTokens) continue;
    warnings.push(`${k} ${String(v).slice(0, 40)} is not a token count: dropped`);
    attrs ??= { ...src };
    delete attrs[k];
  }
  return attrs ?? { ...src };
}

function providerOf(attrs: Attributes, warnings: string[]): string {
  for (const k of [A.ATTR_GEN_AI_PROVIDER_NAME, A.PEER_GEN_AI_SYSTEM, A.PEER_LLM_PROVIDER, A.PEER_LLM_SYSTEM]) {
    const v = label(attrs[k], warnings, k);
    if (v) return v.toLowerCase();
  }
  // Vercel: "openai.chat", "anthropic.messages" -> the provider is the first segment.
  const vercel = label(attrs[A.PEER_AI_MODEL_PROVIDER], warnings, A.PEER_AI_MODEL_PROVIDER);
  return vercel ? vercel.split('.')[0]!.toLowerCase() : '';
}

function label(v: AttrValue | undefined, warnings: string[], key: string): string {
  if (v === undefined || v === null) return '';
  const s = typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : '';
  if (s.length > LIMITS.maxLabelChars) {
    warnings.push(`${key} longer than ${LIMITS.maxLabelChars} chars: cut`);
    return cut(s, LIMITS.maxLabelChars);
  }
  return wellFormed(s);
}

function truthy(v: AttrValue | undefined): boolean {
  return v === true || v === 'true';
}

/**
 * At most `max` UTF-16 units, cut on a code point boundary, with any lone surrogate (JSON can
 * carry one) replaced by U+FFFD: ClickHouse refuses a lone surrogate, and one refused row used
 * to stop every insert.
 */
export function cut(s: string, max: number): string {
  let t = s;
  if (t.length > max) {
    t = t.slice(0, max);
    const last = t.charCodeAt(t.length - 1);
    if (last >= 0xd800 && last <= 0xdbff) t = t.slice(0, -1);
  }
  return wellFormed(t);
}

const LONE_SURROGATE = /\p{Cs}/u;
const LONE_SURROGATES = /\p{Cs}/gu;

function wellFormed(s: string): string {
  return LONE_SURROGATE.test(s) ? s.replace(LONE_SURROGATES, '\uFFFD') : s;
}

/** Attribute values as strings for the Map column; long values cut, long keys and extras dropped. */
export function attributeMap(
  attrs: Attributes,
  dropMoney: boolean,
  warnings: string[],
  skipColumns = true,
  maxTotalChars: number = LIMITS.maxSpanAttributeChars,
): Record<string, string> {
  const out: Record<string, string> = {};
  let n = 0;
  let total = 0;
  let droppedKeys = 0;
  let cutValues = 0;
  for (const [k, v] of Object.entries(attrs)) {
    if ((skipColumns && COLUMN_ATTRIBUTES.has(k)) || (dropMoney && MONEY_ATTRIBUTES.has(k))) continue;
    if (k.length > LIMITS.maxKeyChars || n >= LIMITS.maxAttributes) {
      droppedKeys++;
      continue;
    }
    let s = valueText(v);
    if (s.length > LIMITS.maxValueChars) {
      s = `${cut(s, LIMITS.maxValueChars)}…[cut ${s.length - LIMITS.maxValueChars} chars]`;
      cutValues++;
    } else {
      s = wellFormed(s);
    }
    if (total + k.length + s.length > maxTotalChars) {
      droppedKeys++;
      continue;
    }
    total += k.length + s.length;
    putAttr(out, wellFormed(k), s);
    n++;
  }
  if (droppedKeys)
    warnings.push(
      `${droppedKeys} attributes dropped (key over ${LIMITS.maxKeyChars} chars, over ${LIMITS.maxAttributes} attributes or over ${maxTotalChars} chars in all)`,
    );
  if (cutValues) warnings.push(`${cutValues} attribute values cut to ${LIMITS.maxValueChars} chars`);
  return out;
}

function valueText(v: AttrValue): string {
  if (v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/** Nanoseconds as "seconds.nanoseconds", which DateTime64(9) parses exactly. */
export function nsText(ns: bigint): string {
  return `${ns / 1_000_000_000n}.${(ns % 1_000_000_000n).toString().padStart(9, '0')}`;
}

/** The service name and attribute map of a resource, computed once for all its spans. */
export function resourceColumns(resource: Attributes): { serviceName: string; resourceAttributes: Record<string, string> } {
  const warnings: string[] = [];
  const service = label(resource[A.ATTR_SERVICE_NAME], warnings, A.ATTR_SERVICE_NAME);
  return { serviceName: service || 'unknown_service', resourceAttributes: attributeMap(resource, false, warnings, false, LIMITS.maxResourceAttributeChars) };
}

export function scopeColumns(scope: { name: string; version: string }): { scopeName: string; scopeVersion: string } {
  return { scopeName: cut(scope.name, LIMITS.maxLabelChars), scopeVersion: cut(scope.version, LIMITS.maxLabelChars) };
}

export type { SpanClass };
