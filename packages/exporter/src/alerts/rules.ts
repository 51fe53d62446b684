/**
 * The `alerts` section of spendtrace.config.json: sinks (where messages go) and rules (what to
 * watch), resolved with their defaults by one function that reports every problem at once.
 * Money is given in USD as a decimal string or number and held as exact pico-USD.
 */
import { parsePico } from '@spendtrace/semconv';
import type { Pico } from '@spendtrace/semconv';

export const SINK_TYPES = ['slack', 'discord', 'webhook'] as const;
export type SinkType = (typeof SINK_TYPES)[number];

export const RULE_KINDS = ['budget', 'spend_spike', 'call_rate', 'p90_drift', 'deployment_regression', 'unpriced_model'] as const;
export type RuleKind = (typeof RULE_KINDS)[number];

export interface SinkConfig {
  name: string;
  type: SinkType;
  /** The webhook URL (Slack incoming webhook, Discord webhook, any JSON endpoint). */
  url: string;
  /** Extra request headers (generic webhooks: an Authorization header, say). */
  headers: Record<string, string>;
}

interface RuleBase {
  name: string;
  /** Sinks this rule notifies. @default every sink */
  sinks: string[];
}

export interface BudgetRule extends RuleBase {
  kind: 'budget';
  scope: 'agent' | 'task' | 'user';
  /** One agent / task name / user; absent: every one of them has this budget. */
  match: string | undefined;
  /** Calendar day or month, UTC. */
  period: 'day' | 'month';
  budget: Pico;
  /** Percent of the budget at which an incident opens. @default [80, 100] */
  thresholds: number[];
}

export interface SpendSpikeRule extends RuleBase {
  kind: 'spend_spike';
  agent: string | undefined;
  /** Fires when the window's spend is over `factor` × the baseline's mean per window. @default 3 */
  factor: number;
  /** @default 60 */
  windowMinutes: number;
  /** Trailing baseline before the window. @default 24 */
  baselineHours: number;
  /** Windows spending less never fire. @default $0.01 */
  minSpend: Pico;
}

export interface CallRateRule extends RuleBase {
  kind: 'call_rate';
  agent: string | undefined;
  /** Fires when LLM call attempts (SDK retries included) exceed `factor` × the expected rate. @default 2 */
  factor: number;
  /** @default 60 */
  windowMinutes: number;
  /** @default 24 */
  baselineHours: number;
  /** Windows with fewer attempts never fire. @default 20 */
  minCalls: number;
}

export interface P90DriftRule extends RuleBase {
  kind: 'p90_drift';
  taskName: string | undefined;
  /** Fires when the recent P90 cost per task is over the baseline P90 by more than this. @default 50 */
  percent: number;
  /** Tasks started in the last `windowHours` are "recent". @default 6 */
  windowHours: number;
  /** @default 168 (7 days) */
  baselineHours: number;
  /** Both sides need at least this many tasks. @default 10 */
  minTasks: number;
}

export interface DeploymentRegressionRule extends RuleBase {
  kind: 'deployment_regression';
  service: string | undefined;
  /** Fires when cost per task of the newest service.version is over the previous one's by more than this. @default 15 */
  percent: number;
  /** @default 168 */
  lookbackHours: number;
  /** Both versions need at least this many tasks of the task name. @default 10 */
  minTasks: number;
}

export interface UnpricedModelRule extends RuleBase {
  kind: 'unpriced_model';
  /** A model with unpriced calls in this window fires (once) until it is priced. @default 24 */
  lookbackHours: number;
}

export type Rule = BudgetRule | SpendSpikeRule | CallRateRule | P90DriftRule | DeploymentRegressionRule | UnpricedModelRule;

export interface AlertsConfig {
  /** Seconds between evaluations; with 200 ms ingest batches this bounds span-to-webhook latency. @default 15 */
  evaluateEverySeconds: number;
  /** Evaluations a condition must be absent before its incident resolves (damps flapping). @default 2 */
  resolveAfterEvaluations: number;
  delivery: {
    /** Attempts per message within one evaluation; a message still undelivered is tried again next evaluation. @default 5 */
    attempts: number;
    /** First backoff; doubles each attempt, unless the sink sends Retry-After. @default 1000 */
    initialBackoffMs: number;
    /** @default 30000 */
    maxBackoffMs: number;
    /** Per request. @default 10000 */
    timeoutMs: number;
  };
  sinks: SinkConfig[];
  rules: Rule[];
}

export class AlertsConfigError extends Error {
  override name = 'AlertsConfigError';
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid alerts config: ${problems.join('; ')}`);
    this.problems = problems;
  }
}

type Env = Record<string, string | undefined>;
type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads fields of one object, collecting problems instead of throwing, and flags unknown keys. */
class Fields {
  readonly used = new Set<string>();
  readonly o: Obj;
  readonly at: string;
  readonly problems: string[];
  constructor(o: Obj, at: string, problems: string[]) {
    this.o = o;
    this.at = at;
    this.problems = problems;
  }

  private take(k: string): unknown {
    this.used.add(k);
    return this.o[k];
  }
  str(k: string, required: true): string;
  str(k: string, required?: false): string | undefined;
  str(k: string, required = false): string | undefined {
    const v = this.take(k);
    if (v === undefined) {
      if (required) this.problems.push(`${this.at}.${k} is required`);
      return undefined;
    }
    if (typeof v !== 'string' || v === '') {
      this.problems.push(`${this.at}.${k} must be a non-empty string, got ${JSON.stringify(v)}`);
      return undefined;
    }
    return v;
  }
  oneOf<T extends string>(k: string, allowed: readonly T[], fallback?: T): T | undefined {
    const v = this.take(k);
    if (v === undefined && fallback !== undefined) return fallback;
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
      this.problems.push(`${this.at}.${k} must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
      return undefined;
    }
    return v as T;
  }
  num(k: string, fallback: number, opts: { min: number; max?: number; integer?: boolean }): number {
    const v = this.take(k);
    if (v === undefined) return fallback;
    const bad =
      typeof v !== 'number' || !Number.isFinite(v) || v < opts.min || (opts.max !== undefined && v > opts.max) || (opts.integer && !Number.isInteger(v));
    if (bad) {
      this.problems.push(
        `${this.at}.${k} must be ${opts.integer ? 'an integer' : 'a number'} ${opts.max === undefined ? `>= ${opts.min}` : `in ${opts.min}..${opts.max}`}, got ${JSON.stringify(v)}`,
      );
      return fallback;
    }
    return v;
  }
  usd(k: string, fallback: Pico | undefined): Pico | undefined {
    const v = this.take(k);
    if (v === undefined) {
      if (fallback === undefined) this.problems.push(`${this.at}.${k} is required (USD, e.g. "5.00")`);
      return fallback;
    }
    if ((typeof v === 'number' && Number.isFinite(v)) || typeof v === 'string') {
      try {
        const p = parsePico(String(v));
        if (p > 0n) return p;
      } catch {
        // reported below
      }
    }
    this.problems.push(`${this.at}.${k} must be a positive USD amount such as "5.00" (at most 12 decimals), got ${JSON.stringify(v)}`);
    return fallback;
  }
  any(k: string): unknown {
    return this.take(k);
  }
  unknownKeys(): void {
    for (const k of Object.keys(this.o))
      if (!this.used.has(k)) this.problems.push(`${this.at}: unknown key "${k}" (expected one of ${[...this.used].join(', ')})`);
  }
}

const RULE_FIELDS: Record<RuleKind, string[]> = {
  budget: ['scope', 'match', 'period', 'budgetUsd', 'thresholds'],
  spend_spike: ['agent', 'factor', 'windowMinutes', 'baselineHours', 'minUsd'],
  call_rate: ['agent', 'factor', 'windowMinutes', 'baselineHours', 'minCalls'],
  p90_drift: ['taskName', 'percent', 'windowHours', 'baselineHours', 'minTasks'],
  deployment_regression: ['service', 'percent', 'lookbackHours', 'minTasks'],
  unpriced_model: ['lookbackHours'],
};

function parseSink(raw: unknown, at: string, env: Env, problems: string[]): SinkConfig | undefined {
  if (!isObj(raw)) {
    problems.push(`${at} must be an object such as {"name": "ops", "type": "slack", "url": "https://hooks.slack.com/services/…"}`);
    return undefined;
  }
  const f = new Fields(raw, at, problems);
  const name = f.str('name', true);
  const type = f.oneOf('type', SINK_TYPES);
  const direct = f.str('url');
  const envName = f.str('urlEnv');
  let url = direct;
  if (direct !== undefined && envName !== undefined) problems.push(`${at}: give "url" or "urlEnv", not both`);
  else if (envName !== undefined) {
    url = env[envName];
    if (!url) problems.push(`${at}.urlEnv: environment variable ${envName} is not set`);
  } else if (direct === undefined) problems.push(`${at}: "url" (or "urlEnv", the name of an environment variable holding it) is required`);
  if (url !== undefined) {
    try {
      const u = new URL(url);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('protocol');
    } catch {
      problems.push(`${at}: the URL must be http(s)://…${envName ? ` (from ${envName})` : `, got ${JSON.stringify(url)}`}`);
      url = undefined;
    }
  }
  const headersRaw = f.any('headers');
  const headers: Record<string, string> = {};
  if (headersRaw !== undefined) {
    if (!isObj(headersRaw) || Object.values(headersRaw).some((v) => typeof v !== 'string')) problems.push(`${at}.headers must be an object of strings`);
    else Object.assign(headers, headersRaw);
  }
  f.unknownKeys();
  if (!name || !type || !url) return undefined;
  return { name, type, url, headers };
}

function parseRule(raw: unknown, at: string, sinkNames: Set<string>, problems: string[]): Rule | undefined {
  if (!isObj(raw)) {
    problems.push(`${at} must be an object such as {"name": "daily", "kind": "budget", "scope": "agent", "period": "day", "budgetUsd": "5"}`);
    return undefined;
  }
  const f = new Fields(raw, at, problems);
  const name = f.str('name', true);
  const kind = f.oneOf('kind', RULE_KINDS);
  const sinksRaw = f.any('sinks');
  let sinks = [...sinkNames];
  if (sinksRaw !== undefined) {
    if (!Array.isArray(sinksRaw) || sinksRaw.some((s) => typeof s !== 'string')) problems.push(`${at}.sinks must be a list of sink names`);
    else {
      for (const s of sinksRaw as string[])
        if (!sinkNames.has(s)) problems.push(`${at}.sinks: no sink named "${s}" (sinks: ${[...sinkNames].join(', ') || 'none'})`);
      sinks = sinksRaw as string[];
    }
  }
  if (!kind) {
    // Without a kind the other keys cannot be judged; mark them read so only the kind is reported.
    for (const k of Object.keys(raw)) f.used.add(k);
    return undefined;
  }
  const base = { name: name ?? '', sinks };
  let rule: Rule | undefined;
  switch (kind) {
    case 'budget': {
      const scope = f.oneOf('scope', ['agent', 'task', 'user'] as const);
      const period = f.oneOf('period', ['day', 'month'] as const);
      const budget = f.usd('budgetUsd', undefined);
      const tRaw = f.any('thresholds');
      let thresholds = [80, 100];
      if (tRaw !== undefined) {
        if (!Array.isArray(tRaw) || tRaw.length === 0 || tRaw.some((t) => typeof t !== 'number' || !Number.isInteger(t) || t < 1 || t > 1000)) {
          problems.push(`${at}.thresholds must be a list of whole percents 1..1000 such as [80, 100], got ${JSON.stringify(tRaw)}`);
        } else thresholds = [...new Set(tRaw as number[])].sort((a, b) => a - b);
      }
      if (scope && period && budget !== undefined) rule = { ...base, kind, scope, match: f.str('match'), period, budget, thresholds };
      else f.str('match');
      break;
    }
    case 'spend_spike':
      rule = {
        ...base,
        kind,
        agent: f.str('agent'),
        factor: f.num('factor', 3, { min: 1 }),
        windowMinutes: f.num('windowMinutes', 60, { min: 1, max: 1440, integer: true }),
        baselineHours: f.num('baselineHours', 24, { min: 1, max: 24 * 90, integer: true }),
        minSpend: f.usd('minUsd', 10_000_000_000n)!,
      };
      break;
    case 'call_rate':
      rule = {
        ...base,
        kind,
        agent: f.str('agent'),
        factor: f.num('factor', 2, { min: 1 }),
        windowMinutes: f.num('windowMinutes', 60, { min: 1, max: 1440, integer: true }),
        baselineHours: f.num('baselineHours', 24, { min: 1, max: 24 * 90, integer: true }),
        minCalls: f.num('minCalls', 20, { min: 1, integer: true }),
      };
      break;
    case 'p90_drift':
      rule = {
        ...base,
        kind,
        taskName: f.str('taskName'),
        percent: f.num('percent', 50, { min: 1, max: 10_000, integer: true }),
        windowHours: f.num('windowHours', 6, { min: 1, max: 24 * 30, integer: true }),
        baselineHours: f.num('baselineHours', 168, { min: 1, max: 24 * 90, integer: true }),
        minTasks: f.num('minTasks', 10, { min: 1, integer: true }),
      };
      break;
    case 'deployment_regression':
      rule = {
        ...base,
        kind,
        service: f.str('service'),
        percent: f.num('percent', 15, { min: 1, max: 10_000, integer: true }),
        lookbackHours: f.num('lookbackHours', 168, { min: 1, max: 24 * 90, integer: true }),
        minTasks: f.num('minTasks', 10, { min: 1, integer: true }),
      };
      break;
    case 'unpriced_model':
      rule = { ...base, kind, lookbackHours: f.num('lookbackHours', 24, { min: 1, max: 24 * 90, integer: true }) };
      break;
  }
  for (const k of Object.keys(raw)) {
    if (!f.used.has(k)) problems.push(`${at}: unknown key "${k}" for kind ${kind} (expected name, kind, sinks, ${RULE_FIELDS[kind].join(', ')})`);
  }
  return name ? rule : undefined;
}

/**
 * The `alerts` value of the config file -> AlertsConfig with defaults, or AlertsConfigError listing
 * every problem. `env` resolves `urlEnv` (webhook URLs are secrets; keep them out of the file).
 */
export function parseAlertsConfig(raw: unknown, env: Env = process.env): AlertsConfig {
  const problems: string[] = [];
  if (!isObj(raw)) throw new AlertsConfigError(['alerts must be an object such as {"sinks": [...], "rules": [...]}']);
  const f = new Fields(raw, 'alerts', problems);
  const evaluateEverySeconds = f.num('evaluateEverySeconds', 15, { min: 0.1, max: 3600 });
  const resolveAfterEvaluations = f.num('resolveAfterEvaluations', 2, { min: 1, max: 100, integer: true });
  const dRaw = f.any('delivery');
  let delivery: AlertsConfig['delivery'] = { attempts: 5, initialBackoffMs: 1000, maxBackoffMs: 30_000, timeoutMs: 10_000 };
  if (dRaw !== undefined) {
    if (!isObj(dRaw)) problems.push('alerts.delivery must be an object');
    else {
      const d = new Fields(dRaw, 'alerts.delivery', problems);
      delivery = {
        attempts: d.num('attempts', 5, { min: 1, max: 20, integer: true }),
        initialBackoffMs: d.num('initialBackoffMs', 1000, { min: 0, max: 600_000, integer: true }),
        maxBackoffMs: d.num('maxBackoffMs', 30_000, { min: 0, max: 600_000, integer: true }),
        timeoutMs: d.num('timeoutMs', 10_000, { min: 100, max: 120_000, integer: true }),
      };
      d.unknownKeys();
    }
  }
  const sinksRaw = f.any('sinks') ?? [];
  const rulesRaw = f.any('rules') ?? [];
  f.unknownKeys();
  const sinks: SinkConfig[] = [];
  if (!Array.isArray(sinksRaw)) problems.push('alerts.sinks must be a list');
  else
    sinksRaw.forEach((s, i) => {
      const sink = parseSink(s, `alerts.sinks[${i}]`, env, problems);
      if (sink && sinks.some((x) => x.name === sink.name)) problems.push(`alerts.sinks[${i}]: a second sink named "${sink.name}"`);
      else if (sink) sinks.push(sink);
    });
  const sinkNames = new Set<string>();
  if (Array.isArray(sinksRaw)) for (const s of sinksRaw) if (isObj(s) && typeof s.name === 'string') sinkNames.add(s.name);
  const rules: Rule[] = [];
  if (!Array.isArray(rulesRaw)) problems.push('alerts.rules must be a list');
  else
    rulesRaw.forEach((r, i) => {
      const rule = parseRule(r, `alerts.rules[${i}]`, sinkNames, problems);
      if (rule && rules.some((x) => x.name === rule.name)) problems.push(`alerts.rules[${i}]: a second rule named "${rule.name}"`);
      else if (rule) rules.push(rule);
    });
  if (Array.isArray(rulesRaw) && rulesRaw.length > 0 && sinkNames.size === 0)
    problems.push('alerts: rules are configured but no sinks; add one to alerts.sinks');
  if (problems.length) throw new AlertsConfigError(problems);
  return { evaluateEverySeconds, resolveAfterEvaluations, delivery, sinks, rules };
}
