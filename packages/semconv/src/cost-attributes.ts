/** The cost attributes an inference span carries (DESIGN.md §3), from a price quote. */
import * as A from './attributes.ts';
import { picoToUsd, type Pico } from './money.ts';
import type { PriceQuote } from './pricing.ts';

/**
 * How much cost detail an inference span carries.
 * - `total` (default): the amount, currency and source (`gen_ai.usage.cost.*`, the shape of the
 *   open semantic-convention proposal). The breakdown by token kind and the pricing version are
 *   added only when the price came from the user's overrides, because nothing downstream can
 *   rebuild them then; the spendtrace exporter rebuilds them from the tokens for catalogue prices.
 * - `full`: also the breakdown (`spendtrace.cost.*`), `spendtrace.pricing.version` and
 *   `gen_ai.usage.cost` (the same amount, the name OpenLIT and Langfuse read) on every span.
 *
 * Why `total` is the default: an OTel JS span with 20 or more attributes keeps them in a
 * dictionary-mode object, and every attribute past 19 then costs several microseconds of CPU
 * (bench/README.md). A priced plain chat call fits in 19 with `total`, not with `full`.
 */
export type CostDetail = 'total' | 'full';
export const COST_DETAILS: readonly CostDetail[] = ['total', 'full'];

export function costAttributes(q: PriceQuote, source: 'local' | 'provider' = 'local', detail: CostDetail = 'total'): Record<string, string | number> {
  return writeCostAttributes({}, q, source, detail);
}

/** {@link costAttributes} written into `target` (one attribute object per span, no intermediate one); returns it. */
export function writeCostAttributes<T extends Record<string, unknown>>(
  target: T,
  q: PriceQuote,
  source: 'local' | 'provider' = 'local',
  detail: CostDetail = 'total',
): T {
  const t = target as Record<string, unknown>;
  const c = q.cost;
  const total = picoToUsd(c.total);
  t[A.ATTR_GEN_AI_USAGE_COST_AMOUNT] = total;
  t[A.ATTR_GEN_AI_USAGE_COST_CURRENCY] = 'USD';
  t[A.ATTR_GEN_AI_USAGE_COST_SOURCE] = source;
  if (detail === 'full') t[A.ATTR_GEN_AI_USAGE_COST] = total;
  else if (q.source !== 'override') return target;
  t[A.ATTR_SPENDTRACE_COST_INPUT] = picoToUsd(c.input);
  t[A.ATTR_SPENDTRACE_COST_OUTPUT] = picoToUsd(c.output);
  t[A.ATTR_SPENDTRACE_PRICING_VERSION] = q.version;
  if (c.cacheRead) t[A.ATTR_SPENDTRACE_COST_CACHE_READ] = picoToUsd(c.cacheRead);
  if (c.cacheWrite) t[A.ATTR_SPENDTRACE_COST_CACHE_WRITE] = picoToUsd(c.cacheWrite);
  if (c.reasoning) t[A.ATTR_SPENDTRACE_COST_REASONING] = picoToUsd(c.reasoning);
  if (c.tool) t[A.ATTR_SPENDTRACE_COST_TOOL] = picoToUsd(c.tool);
  return target;
}

/** A provider-reported total (e.g. OpenRouter's `usage.cost`): it wins over local pricing. */
export function providerCostAttributes(totalPico: Pico, detail: CostDetail = 'total'): Record<string, string | number> {
  return writeProviderCostAttributes({}, totalPico, detail);
}

/** {@link providerCostAttributes} written into `target`; returns it. */
export function writeProviderCostAttributes<T extends Record<string, unknown>>(target: T, totalPico: Pico, detail: CostDetail = 'total'): T {
  const t = target as Record<string, unknown>;
  const total = picoToUsd(totalPico);
  t[A.ATTR_GEN_AI_USAGE_COST_AMOUNT] = total;
  t[A.ATTR_GEN_AI_USAGE_COST_CURRENCY] = 'USD';
  t[A.ATTR_GEN_AI_USAGE_COST_SOURCE] = 'provider';
  if (detail === 'full') t[A.ATTR_GEN_AI_USAGE_COST] = total;
  return target;
}

export const UNPRICED_ATTRIBUTES: Readonly<Record<string, boolean>> = Object.freeze({ [A.ATTR_SPENDTRACE_COST_UNPRICED]: true });
