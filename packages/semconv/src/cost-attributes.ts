/** The cost attributes an inference span carries (DESIGN.md §3), from a price quote. */
import * as A from './attributes.ts';
import { picoToUsd, type Pico } from './money.ts';
import type { PriceQuote } from './pricing.ts';

export function costAttributes(q: PriceQuote, source: 'local' | 'provider' = 'local'): Record<string, string | number> {
  return writeCostAttributes({}, q, source);
}

/** {@link costAttributes} written into `target` (one attribute object per span, no intermediate one); returns it. */
export function writeCostAttributes<T extends Record<string, unknown>>(target: T, q: PriceQuote, source: 'local' | 'provider' = 'local'): T {
  const t = target as Record<string, unknown>;
  const c = q.cost;
  const total = picoToUsd(c.total);
  t[A.ATTR_GEN_AI_USAGE_COST_AMOUNT] = total;
  t[A.ATTR_GEN_AI_USAGE_COST] = total;
  t[A.ATTR_GEN_AI_USAGE_COST_CURRENCY] = 'USD';
  t[A.ATTR_GEN_AI_USAGE_COST_SOURCE] = source;
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
export function providerCostAttributes(totalPico: Pico): Record<string, string | number> {
  return writeProviderCostAttributes({}, totalPico);
}

/** {@link providerCostAttributes} written into `target`; returns it. */
export function writeProviderCostAttributes<T extends Record<string, unknown>>(target: T, totalPico: Pico): T {
  const t = target as Record<string, unknown>;
  const total = picoToUsd(totalPico);
  t[A.ATTR_GEN_AI_USAGE_COST_AMOUNT] = total;
  t[A.ATTR_GEN_AI_USAGE_COST] = total;
  t[A.ATTR_GEN_AI_USAGE_COST_CURRENCY] = 'USD';
  t[A.ATTR_GEN_AI_USAGE_COST_SOURCE] = 'provider';
  return target;
}

export const UNPRICED_ATTRIBUTES: Readonly<Record<string, boolean>> = Object.freeze({ [A.ATTR_SPENDTRACE_COST_UNPRICED]: true });
