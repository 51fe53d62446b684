/** The cost attributes an inference span carries (DESIGN.md §3), from a price quote. */
import * as A from './attributes.ts';
import { picoToUsd, type Pico } from './money.ts';
import type { PriceQuote } from './pricing.ts';

export function costAttributes(q: PriceQuote, source: 'local' | 'provider' = 'local'): Record<string, string | number> {
  const total = picoToUsd(q.cost.total);
  const attrs: Record<string, string | number> = {
    [A.ATTR_GEN_AI_USAGE_COST_AMOUNT]: total,
    [A.ATTR_GEN_AI_USAGE_COST]: total,
    [A.ATTR_GEN_AI_USAGE_COST_CURRENCY]: 'USD',
    [A.ATTR_GEN_AI_USAGE_COST_SOURCE]: source,
    [A.ATTR_SPENDTRACE_COST_INPUT]: picoToUsd(q.cost.input),
    [A.ATTR_SPENDTRACE_COST_OUTPUT]: picoToUsd(q.cost.output),
    [A.ATTR_SPENDTRACE_PRICING_VERSION]: q.version,
  };
  if (q.cost.cacheRead) attrs[A.ATTR_SPENDTRACE_COST_CACHE_READ] = picoToUsd(q.cost.cacheRead);
  if (q.cost.cacheWrite) attrs[A.ATTR_SPENDTRACE_COST_CACHE_WRITE] = picoToUsd(q.cost.cacheWrite);
  if (q.cost.reasoning) attrs[A.ATTR_SPENDTRACE_COST_REASONING] = picoToUsd(q.cost.reasoning);
  if (q.cost.tool) attrs[A.ATTR_SPENDTRACE_COST_TOOL] = picoToUsd(q.cost.tool);
  return attrs;
}

/** A provider-reported total (e.g. OpenRouter's `usage.cost`): it wins over local pricing. */
export function providerCostAttributes(totalPico: Pico): Record<string, string | number> {
  const total = picoToUsd(totalPico);
  return {
    [A.ATTR_GEN_AI_USAGE_COST_AMOUNT]: total,
    [A.ATTR_GEN_AI_USAGE_COST]: total,
    [A.ATTR_GEN_AI_USAGE_COST_CURRENCY]: 'USD',
    [A.ATTR_GEN_AI_USAGE_COST_SOURCE]: 'provider',
  };
}

export const UNPRICED_ATTRIBUTES: Readonly<Record<string, boolean>> = Object.freeze({ [A.ATTR_SPENDTRACE_COST_UNPRICED]: true });
