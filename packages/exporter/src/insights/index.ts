/**
 * Insights: what to change, with the money it would save. Each detector (detectors/, listed in
 * registry.ts) reads the store on its own and returns findings that name the agent / task name /
 * model / tool, show the numbers, and estimate a monthly saving with its assumption. One failing
 * detector is reported and the others still run.
 */
import { formatPico } from '@spendtrace/semconv';
import { pico } from '../reports/query.ts';
import type { QueryableStore } from '../reports/types.ts';
import { detectorContext } from './detector-context.ts';
import { topPromptTemplates } from './prompt-templates.ts';
import { DETECTORS } from './registry.ts';
import type { Detector, Finding, InsightOptions, Insights } from './types.ts';

export * from './types.ts';
export { DETECTORS } from './registry.ts';
export { DEFAULT_INSIGHT_THRESHOLDS, InsightsConfigError, parseInsightsConfig } from './thresholds.ts';
export type { InsightThresholds } from './thresholds.ts';

export async function insights(store: QueryableStore, opts: InsightOptions = {}, detectors: readonly Detector[] = DETECTORS): Promise<Insights> {
  const ctx = await detectorContext(store, opts);
  const findings: Finding[] = [];
  const errors: Insights['errors'] = [];
  // One at a time: the embedded engine runs one query at a time anyway.
  for (const d of detectors) {
    try {
      findings.push(...(await d.detect(ctx)));
    } catch (err) {
      errors.push({ detector: d.id, message: err instanceof Error ? err.message.split('\n')[0]!.slice(0, 500) : String(err) });
    }
  }
  findings.sort((a, b) => {
    const d = pico(b.monthlySaving) - pico(a.monthlySaving);
    return d > 0n ? 1 : d < 0n ? -1 : 0;
  });
  let topPrompts: Insights['topPrompts'] = [];
  try {
    topPrompts = await topPromptTemplates(ctx);
  } catch (err) {
    errors.push({ detector: 'top-prompts', message: err instanceof Error ? err.message.split('\n')[0]!.slice(0, 500) : String(err) });
  }
  return {
    since: ctx.since,
    service: ctx.service,
    scale: ctx.scaleText,
    findings,
    monthlySavings: formatPico(findings.reduce((a, f) => a + pico(f.monthlySaving), 0n)),
    topPrompts,
    errors,
  };
}
