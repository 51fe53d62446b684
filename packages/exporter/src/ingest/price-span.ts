/**
 * The price of one span: a cost the span carries wins (the provider's, or the instrumentation's at
 * call time), else the catalogue's quote for its tokens, else unpriced, never a silent $0. Money is
 * integer pico-USD throughout.
 */
import * as A from '@spendtrace/semconv';
import { batchQuote, usageFromAttributes, usdToPico, type Pico, type PriceQuote, type Pricer, type Usage } from '@spendtrace/semconv';
import type { Attributes } from '../otlp/span.ts';
import { COST_ATTRIBUTES } from './classify.ts';
import { LIMITS } from './limits.ts';
import { label, truthy } from './normalize.ts';

export interface Money {
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
export const NO_MONEY: Money = Object.freeze({
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

export function priceInference(
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

export function priceTool(attrs: Attributes, warnings: string[]): Money {
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
