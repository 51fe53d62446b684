/**
 * The insight detectors' thresholds: one documented type, its defaults in one place, and the
 * `"insights"` section of spendtrace.config.json resolved over them by one function that reports
 * every problem at once (as the alerts section is). The README's "Insights" table repeats the
 * defaults; the detectors read only `ctx.thresholds`.
 */

export interface InsightThresholds {
  /** Identical requests this close together count as cacheable across tasks, seconds. @default 3600 */
  cacheTtlSeconds: number;
  contextBloat: {
    /** A task must make this many calls to count as growing. @default 4 */
    minCalls: number;
    /** ... and its last call's input be this many times its first's. @default 2 */
    growth: number;
    /** Across runs: the newest run's input per call over the oldest's. @default 1.5 */
    runGrowth: number;
    /** ... with at least this many runs of the task name. @default 3 */
    minRuns: number;
    /** Below this many input tokens per call there is nothing worth trimming. @default 1000 */
    minInputTokens: number;
  };
  wrongModel: {
    /** Calls of the model on the task name, at least. @default 20 */
    minCalls: number;
    /** Average output tokens below this count as short. @default 200 */
    maxOutputTokens: number;
    /** The model's input price at least this many times the smaller model's. @default 5 */
    priceRatio: number;
  };
  retryLoops: {
    /** A task loops when its LLM attempts reach this multiple of its task name's median... @default 3 */
    factor: number;
    /** ...and at least this many attempts more than the median. @default 5 */
    minExtraAttempts: number;
    /** The task name needs this many tasks for a median. @default 3 */
    minTasks: number;
  };
  duplicateRequests: {
    /** Repeats of identical requests (beyond the first) a task name / model needs to be reported. @default 2 */
    minRepeats: number;
  };
  promptCaching: {
    /** Calls sharing a prefix, at least. @default 10 */
    minCalls: number;
    /** The smallest input of those calls, tokens: providers cache prefixes from 1024 tokens. @default 1024 */
    minPrefixTokens: number;
    /** Cache reads below this share of input tokens count as "caching unused". @default 0.05 */
    maxCachedShare: number;
  };
}

export const DEFAULT_INSIGHT_THRESHOLDS: InsightThresholds = {
  cacheTtlSeconds: 3600,
  contextBloat: { minCalls: 4, growth: 2, runGrowth: 1.5, minRuns: 3, minInputTokens: 1000 },
  wrongModel: { minCalls: 20, maxOutputTokens: 200, priceRatio: 5 },
  retryLoops: { factor: 3, minExtraAttempts: 5, minTasks: 3 },
  duplicateRequests: { minRepeats: 2 },
  promptCaching: { minCalls: 10, minPrefixTokens: 1024, maxCachedShare: 0.05 },
};

export class InsightsConfigError extends Error {
  override name = 'InsightsConfigError';
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid insights config: ${problems.join('; ')}`);
    this.problems = problems;
  }
}

/** What each number may be: integers are counts (tokens, calls, seconds); the rest ratios. */
type Kind = { integer?: boolean; min: number; max?: number };
const INT1: Kind = { integer: true, min: 1 };
const RATIO: Kind = { min: 1, max: 1000 };
const KINDS: { [S in Exclude<keyof InsightThresholds, 'cacheTtlSeconds'>]: Record<keyof InsightThresholds[S], Kind> } = {
  contextBloat: {
    minCalls: { integer: true, min: 2 },
    growth: RATIO,
    runGrowth: RATIO,
    minRuns: { integer: true, min: 2 },
    minInputTokens: { integer: true, min: 0 },
  },
  wrongModel: { minCalls: INT1, maxOutputTokens: INT1, priceRatio: RATIO },
  retryLoops: { factor: RATIO, minExtraAttempts: { integer: true, min: 0 }, minTasks: INT1 },
  duplicateRequests: { minRepeats: INT1 },
  promptCaching: { minCalls: { integer: true, min: 2 }, minPrefixTokens: { integer: true, min: 0 }, maxCachedShare: { min: 0, max: 1 } },
};

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function checkNumber(v: unknown, k: Kind, at: string, problems: string[]): v is number {
  const ok = typeof v === 'number' && Number.isFinite(v) && v >= k.min && (k.max === undefined || v <= k.max) && (!k.integer || Number.isInteger(v));
  if (!ok)
    problems.push(
      `${at} must be ${k.integer ? 'an integer' : 'a number'} ${k.max === undefined ? `>= ${k.min}` : `in ${k.min}..${k.max}`}, got ${JSON.stringify(v)}`,
    );
  return ok;
}

/** The config file's `insights` object over the defaults; undefined gives the defaults. */
export function parseInsightsConfig(raw: unknown): InsightThresholds {
  const out: InsightThresholds = structuredClone(DEFAULT_INSIGHT_THRESHOLDS);
  if (raw === undefined) return out;
  if (!isObj(raw)) throw new InsightsConfigError([`insights must be an object such as {"retryLoops": {"factor": 4}}, got ${JSON.stringify(raw)}`]);
  const problems: string[] = [];
  const sections = Object.keys(KINDS) as Array<keyof typeof KINDS>;
  for (const [key, value] of Object.entries(raw)) {
    if (key === 'cacheTtlSeconds') {
      if (checkNumber(value, { integer: true, min: 1, max: 30 * 86_400 }, 'insights.cacheTtlSeconds', problems)) out.cacheTtlSeconds = value;
      continue;
    }
    const section = sections.find((s) => s === key);
    if (!section) {
      problems.push(`insights: unknown key "${key}" (expected cacheTtlSeconds, ${sections.join(', ')})`);
      continue;
    }
    if (!isObj(value)) {
      problems.push(`insights.${key} must be an object, got ${JSON.stringify(value)}`);
      continue;
    }
    const kinds = KINDS[section] as Record<string, Kind>;
    const target = out[section] as Record<string, number>;
    for (const [field, v] of Object.entries(value)) {
      const kind = kinds[field];
      if (!kind) problems.push(`insights.${key}: unknown key "${field}" (expected ${Object.keys(kinds).join(', ')})`);
      else if (checkNumber(v, kind, `insights.${key}.${field}`, problems)) target[field] = v;
    }
  }
  if (problems.length) throw new InsightsConfigError(problems);
  return out;
}
