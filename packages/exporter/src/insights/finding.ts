/** Shared by the detectors: building a finding, and money as words. */
import { formatPico } from '@spendtrace/semconv';
import type { DetectorContext, Finding } from './types.ts';

/** pico-USD -> "$1,234.567890" (half-up to the micro-dollar; tiny non-zero amounts keep their digits). */
export function usdText(pico: bigint): string {
  const neg = pico < 0n;
  const abs = neg ? -pico : pico;
  const micro = (abs + 500_000n) / 1_000_000n;
  if (micro === 0n && abs > 0n) return `${neg ? '-' : ''}$${formatPico(abs).replace(/0+$/, '')}`;
  const s = micro.toString().padStart(7, '0');
  const int = s.slice(0, -6).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${neg ? '-' : ''}$${int}.${s.slice(-6)}`;
}

export const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
export const tokensText = (n: number) => Math.round(n).toLocaleString('en-US');

export function finding(ctx: DetectorContext, f: Omit<Finding, 'windowSaving' | 'monthlySaving'> & { saving: bigint }): Finding {
  const { saving, ...rest } = f;
  const s = saving > 0n ? saving : 0n;
  return { ...rest, windowSaving: formatPico(s), monthlySaving: formatPico(ctx.monthly(s)) };
}

/** Price per million tokens of one kind, in pico-USD, from the pricer (undefined: unknown model). */
export function ratePerMTok(ctx: DetectorContext, provider: string, model: string, kind: 'input' | 'cacheRead' | 'output'): bigint | undefined {
  const M = 1_000_000;
  const usage =
    kind === 'input'
      ? { inputTokens: M, outputTokens: 0 }
      : kind === 'cacheRead'
        ? { inputTokens: M, outputTokens: 0, cacheReadTokens: M }
        : { inputTokens: 0, outputTokens: M };
  return ctx.pricer.price(provider || undefined, model, usage)?.cost.total;
}
