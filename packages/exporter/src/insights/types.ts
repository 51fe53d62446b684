/** What a detector gets and what it returns. Money is an exact decimal string (12 digits), as in reports. */
import type { Pricer } from '@spendtrace/semconv';
import type { QueryableStore, Usd } from '../reports/types.ts';
import type { InsightThresholds } from './thresholds.ts';

export interface InsightOptions {
  /** Window before now: `24h`, `7d`, `all`. @default '7d' */
  since?: string;
  service?: string;
  database?: string;
  /** Prices for the "what it would cost instead" figures. @default the catalogue */
  pricer?: Pricer;
  /** The detectors' thresholds (the config file's `insights`, see thresholds.ts). @default DEFAULT_INSIGHT_THRESHOLDS */
  thresholds?: InsightThresholds;
}

/** Everything a detector needs: the store, bound window parameters, and the monthly scale. */
export interface DetectorContext {
  store: QueryableStore;
  /** quoted database identifier */
  db: string;
  params: { since_s: number; service: string };
  /** SQL condition on spans aliased `s`: in the window and service */
  where: string;
  pricer: Pricer;
  thresholds: InsightThresholds;
  /** window saving (pico) -> a month of it: x days in this month / days in the window */
  monthly(pico: bigint): bigint;
  /** "x 31/7 (the last 7 days as a typical week of December)" */
  scaleText: string;
}

export interface FindingSubject {
  agent?: string;
  taskName?: string;
  model?: string;
  provider?: string;
  tool?: string;
  prompt?: string;
}

export interface Finding {
  /** the detector's id: 'context-bloat', 'wrong-model', ... */
  kind: string;
  title: string;
  subject: FindingSubject;
  /** sentences with the numbers from the store that show it */
  evidence: string[];
  /** the same numbers, for scripts */
  metrics: Record<string, number | string | null>;
  /** what the change would have saved in the window */
  windowSaving: Usd;
  /** windowSaving scaled to a month */
  monthlySaving: Usd;
  /** what the saving assumes */
  assumption: string;
}

export interface Detector {
  id: string;
  /** what it looks for, one line (shown in --help) */
  describe: string;
  detect(ctx: DetectorContext): Promise<Finding[]>;
}

export interface PromptTemplateRow {
  prompt: string;
  version: string;
  calls: number;
  avgInputTokens: number;
  avgOutputTokens: number;
  cost: Usd;
  monthlyCost: Usd;
  unpricedCalls: number;
}

export interface Insights {
  since: string;
  service: string | null;
  /** how window figures become monthly ones */
  scale: string;
  findings: Finding[];
  /** sum of the findings' monthly savings (they may overlap: the same call can show up in two) */
  monthlySavings: Usd;
  /** the 10 most expensive prompt templates (gen_ai.prompt.name / .version) */
  topPrompts: PromptTemplateRow[];
  /** detectors that failed, with why; the others still ran */
  errors: Array<{ detector: string; message: string }>;
}
