/**
 * One check per rule kind: a ClickHouse query over the stored tables, then exact comparisons in
 * pico-USD bigints. Each returns the conditions that hold now as findings; a finding's `key` is its
 * identity, so the same condition seen again is the same incident.
 */
import { formatPico, parsePico } from '@spendtrace/semconv';
import type { Pico } from '@spendtrace/semconv';
import { money } from '../cli/format.ts';
import type { QueryableStore } from '../reports/types.ts';
import type { BudgetRule, CallRateRule, DeploymentRegressionRule, P90DriftRule, Rule, RuleKind, SpendSpikeRule, UnpricedModelRule } from './rules.ts';
import { IDENTIFIER } from '../database-name.ts';

export interface Finding {
  key: string;
  rule: string;
  kind: RuleKind;
  severity: 'warning' | 'critical';
  subject: string;
  title: string;
  summary: string;
  /** The numbers from the store that raised it (money as exact decimal strings). */
  evidence: Record<string, string | number>;
}

const pico = (v: unknown): Pico => parsePico(v === null || v === undefined || v === '' ? '0' : String(v));
const num = (v: unknown): number => (v === null || v === undefined || v === '' ? 0 : Number(v));
const usd = (p: Pico) => money(formatPico(p));
/** a / b as a percent with one decimal, exact integer math. */
const pct = (a: Pico, b: Pico): string => (b === 0n ? '∞' : `${(Number((a * 1000n) / b) / 10).toFixed(1)} %`);
/** A factor such as 2.5 as an integer per 1000, so comparisons stay in integers. */
const milli = (x: number) => BigInt(Math.round(x * 1000));

/** `now` as a ClickHouse DateTime64(3) expression over a bound parameter. */
const NOW = 'fromUnixTimestamp64Milli({now_ms:Int64})';

export async function checkRule(store: QueryableStore, database: string, rule: Rule, nowMs: number): Promise<Finding[]> {
  if (!IDENTIFIER.test(database)) throw new RangeError(`invalid database name "${database}"`);
  const db = `\`${database}\``;
  switch (rule.kind) {
    case 'budget':
      return checkBudget(store, db, rule, nowMs);
    case 'spend_spike':
      return checkSpendSpike(store, db, rule, nowMs);
    case 'call_rate':
      return checkCallRate(store, db, rule, nowMs);
    case 'p90_drift':
      return checkP90Drift(store, db, rule, nowMs);
    case 'deployment_regression':
      return checkDeploymentRegression(store, db, rule, nowMs);
    case 'unpriced_model':
      return checkUnpricedModel(store, db, rule, nowMs);
  }
}

const SCOPE_LABEL = { agent: 'agent', task: 'task name', user: 'user' } as const;

async function checkBudget(store: QueryableStore, db: string, r: BudgetRule, nowMs: number): Promise<Finding[]> {
  const start = r.period === 'day' ? `toStartOfDay(${NOW}, 'UTC')` : `toStartOfMonth(${NOW}, 'UTC')`;
  // Users are not a rollup dimension, so their spend is summed from the spans themselves.
  const sql =
    r.scope === 'user'
      ? `SELECT user_id AS subject, toString(sum(cost)) AS spent, countIf(unpriced = 1) AS unpriced_n
       FROM ${db}.spans
       WHERE kind IN ('inference', 'tool') AND start_time >= ${start} AND start_time <= ${NOW}
         AND user_id != '' AND ({match:String} = '' OR user_id = {match:String})
       GROUP BY subject`
      : `SELECT ${r.scope === 'agent' ? 'agent_name' : 'task_name'} AS subject, toString(sum(cost)) AS spent, sum(unpriced_calls) AS unpriced_n
       FROM ${db}.hourly_costs
       WHERE hour >= ${start} AND hour <= ${NOW}
         AND subject != '' AND ({match:String} = '' OR subject = {match:String})
       GROUP BY subject`;
  const rows = await store.query(sql, { now_ms: nowMs, match: r.match ?? '' });
  const periodStart = new Date(nowMs);
  const periodKey = r.period === 'day' ? periodStart.toISOString().slice(0, 10) : periodStart.toISOString().slice(0, 7);
  const out: Finding[] = [];
  for (const row of rows) {
    const spent = pico(row.spent);
    const subject = String(row.subject);
    const label = `${SCOPE_LABEL[r.scope]} ${subject}`;
    const unpriced = num(row.unpriced_n);
    // Each threshold crossed is its own incident (80 % stays firing when 100 % opens); all resolve
    // when the period ends.
    for (const t of r.thresholds) {
      if (spent * 100n < r.budget * BigInt(t)) continue;
      out.push({
        key: `${r.name}|${subject}|${periodKey}|${t}`,
        rule: r.name,
        kind: r.kind,
        severity: t >= 100 ? 'critical' : 'warning',
        subject: label,
        title: `Budget ${t} % reached: ${label} (${r.period === 'day' ? 'today' : 'this month'})`,
        summary:
          `${label} has spent ${usd(spent)} of its ${usd(r.budget)} ${r.period === 'day' ? 'daily' : 'monthly'} budget (${pct(spent, r.budget)}, UTC ${r.period} ${periodKey}).` +
          (unpriced ? ` ${unpriced} unpriced call(s) are not in this figure.` : ''),
        evidence: {
          spent: formatPico(spent),
          budget: formatPico(r.budget),
          threshold: `${t} %`,
          used: pct(spent, r.budget),
          period: periodKey,
          unpricedCalls: unpriced,
        },
      });
    }
  }
  return out;
}

async function checkSpendSpike(store: QueryableStore, db: string, r: SpendSpikeRule, nowMs: number): Promise<Finding[]> {
  const rows = await store.query(
    `SELECT agent_name AS subject,
       toString(sumIf(cost, start_time >= ${NOW} - toIntervalMinute({win:UInt32}))) AS recent,
       toString(sumIf(cost, start_time < ${NOW} - toIntervalMinute({win:UInt32}))) AS base
     FROM ${db}.spans
     WHERE kind IN ('inference', 'tool') AND agent_name != '' AND ({match:String} = '' OR agent_name = {match:String})
       AND start_time >= ${NOW} - toIntervalMinute({win:UInt32}) - toIntervalHour({base_h:UInt32}) AND start_time <= ${NOW}
     GROUP BY subject`,
    { now_ms: nowMs, win: r.windowMinutes, base_h: r.baselineHours, match: r.agent ?? '' },
  );
  const baseMinutes = BigInt(r.baselineHours * 60);
  const win = BigInt(r.windowMinutes);
  const out: Finding[] = [];
  for (const row of rows) {
    const recent = pico(row.recent);
    const base = pico(row.base);
    // No baseline, no spike: a new agent is a budget question, not an anomaly.
    if (base <= 0n || recent < r.minSpend) continue;
    // recent / (base × win / baseMinutes) > factor, in integers.
    if (recent * baseMinutes * 1000n <= milli(r.factor) * base * win) continue;
    const expected = (base * win) / baseMinutes;
    const subject = String(row.subject);
    out.push({
      key: `${r.name}|${subject}`,
      rule: r.name,
      kind: r.kind,
      severity: 'warning',
      subject: `agent ${subject}`,
      title: `Spend spike: agent ${subject}`,
      summary: `agent ${subject} spent ${usd(recent)} in the last ${r.windowMinutes} min, ${(Number((recent * 100n) / (expected || 1n)) / 100).toFixed(2)}× its trailing ${r.baselineHours} h mean of ${usd(expected)} per ${r.windowMinutes} min (threshold ${r.factor}×).`,
      evidence: {
        recentSpend: formatPico(recent),
        expectedSpend: formatPico(expected),
        baselineSpend: formatPico(base),
        windowMinutes: r.windowMinutes,
        baselineHours: r.baselineHours,
        factor: r.factor,
      },
    });
  }
  return out;
}

async function checkCallRate(store: QueryableStore, db: string, r: CallRateRule, nowMs: number): Promise<Finding[]> {
  // Attempts, not calls: an SDK's silent retries are the loop this rule exists to catch.
  const rows = await store.query(
    `SELECT agent_name AS subject,
       countIf(start_time >= ${NOW} - toIntervalMinute({win:UInt32})) + sumIf(retry_attempt, start_time >= ${NOW} - toIntervalMinute({win:UInt32})) AS recent,
       countIf(start_time < ${NOW} - toIntervalMinute({win:UInt32})) + sumIf(retry_attempt, start_time < ${NOW} - toIntervalMinute({win:UInt32})) AS base
     FROM ${db}.spans
     WHERE kind = 'inference' AND agent_name != '' AND ({match:String} = '' OR agent_name = {match:String})
       AND start_time >= ${NOW} - toIntervalMinute({win:UInt32}) - toIntervalHour({base_h:UInt32}) AND start_time <= ${NOW}
     GROUP BY subject`,
    { now_ms: nowMs, win: r.windowMinutes, base_h: r.baselineHours, match: r.agent ?? '' },
  );
  const baseMinutes = r.baselineHours * 60;
  const out: Finding[] = [];
  for (const row of rows) {
    const recent = num(row.recent);
    const base = num(row.base);
    if (base <= 0 || recent < r.minCalls) continue;
    if (recent * baseMinutes * 1000 <= Math.round(r.factor * 1000) * base * r.windowMinutes) continue;
    const expected = (base * r.windowMinutes) / baseMinutes;
    const subject = String(row.subject);
    out.push({
      key: `${r.name}|${subject}`,
      rule: r.name,
      kind: r.kind,
      severity: 'warning',
      subject: `agent ${subject}`,
      title: `Call rate ${(recent / expected).toFixed(1)}× expected: agent ${subject}`,
      summary: `agent ${subject} made ${recent} LLM call attempts (SDK retries included) in the last ${r.windowMinutes} min; its trailing ${r.baselineHours} h rate is ${expected.toFixed(1)} per ${r.windowMinutes} min (threshold ${r.factor}×). A silent retry loop looks like this.`,
      evidence: {
        recentAttempts: recent,
        expectedAttempts: Number(expected.toFixed(2)),
        baselineAttempts: base,
        windowMinutes: r.windowMinutes,
        baselineHours: r.baselineHours,
        factor: r.factor,
      },
    });
  }
  return out;
}

async function checkP90Drift(store: QueryableStore, db: string, r: P90DriftRule, nowMs: number): Promise<Finding[]> {
  // task_costs rows merge eventually: re-aggregate per task, then window on the merged first_seen.
  const rows = await store.query(
    `WITH tasks AS (
       SELECT task_id, max(task_name) AS tname, min(first_seen) AS t_first, sum(cost) AS t_cost
       FROM ${db}.task_costs
       GROUP BY task_id
       HAVING t_first >= ${NOW} - toIntervalHour({win_h:UInt32}) - toIntervalHour({base_h:UInt32}) AND t_first <= ${NOW}
          AND tname != '' AND ({match:String} = '' OR tname = {match:String})
     )
     SELECT tname AS subject,
       countIf(t_first >= ${NOW} - toIntervalHour({win_h:UInt32})) AS recent_n,
       countIf(t_first < ${NOW} - toIntervalHour({win_h:UInt32})) AS base_n,
       toString(quantileExactIf(0.9)(t_cost, t_first >= ${NOW} - toIntervalHour({win_h:UInt32}))) AS recent_p90,
       toString(quantileExactIf(0.9)(t_cost, t_first < ${NOW} - toIntervalHour({win_h:UInt32}))) AS base_p90
     FROM tasks
     GROUP BY subject`,
    { now_ms: nowMs, win_h: r.windowHours, base_h: r.baselineHours, match: r.taskName ?? '' },
  );
  const out: Finding[] = [];
  for (const row of rows) {
    const recentN = num(row.recent_n);
    const baseN = num(row.base_n);
    if (recentN < r.minTasks || baseN < r.minTasks) continue;
    const recent = pico(row.recent_p90);
    const base = pico(row.base_p90);
    if (base <= 0n || recent * 100n <= base * BigInt(100 + r.percent)) continue;
    const subject = String(row.subject);
    out.push({
      key: `${r.name}|${subject}`,
      rule: r.name,
      kind: r.kind,
      severity: 'warning',
      subject: `task name ${subject}`,
      title: `P90 cost per task up ${pct(recent - base, base)}: ${subject}`,
      summary: `P90 cost of a "${subject}" task is ${usd(recent)} over the last ${r.windowHours} h (${recentN} tasks) against ${usd(base)} over the ${r.baselineHours} h before (${baseN} tasks): +${pct(recent - base, base)} (threshold +${r.percent} %).`,
      evidence: {
        recentP90: formatPico(recent),
        baselineP90: formatPico(base),
        recentTasks: recentN,
        baselineTasks: baseN,
        windowHours: r.windowHours,
        baselineHours: r.baselineHours,
      },
    });
  }
  return out;
}

async function checkDeploymentRegression(store: QueryableStore, db: string, r: DeploymentRegressionRule, nowMs: number): Promise<Finding[]> {
  // service.version is a resource attribute, kept in spans.resource_attributes; tasks are counted
  // per (service, task name, version) so a change in the task mix is not read as a regression.
  const rows = await store.query(
    `SELECT service_name AS svc, task_name AS tname, resource_attributes['service.version'] AS ver,
       uniqExact(task_id) AS n, toString(sum(cost)) AS total, toUnixTimestamp64Milli(min(start_time)) AS first_ms
     FROM ${db}.spans
     WHERE kind IN ('inference', 'tool') AND start_time >= ${NOW} - toIntervalHour({look_h:UInt32}) AND start_time <= ${NOW}
       AND ver != '' AND tname != '' AND ({match:String} = '' OR svc = {match:String})
     GROUP BY svc, tname, ver`,
    { now_ms: nowMs, look_h: r.lookbackHours, match: r.service ?? '' },
  );
  const groups = new Map<string, Array<{ ver: string; n: number; total: Pico; first: number }>>();
  for (const row of rows) {
    const g = `${row.svc}\u0000${row.tname}`;
    if (!groups.has(g)) groups.set(g, []);
    groups.get(g)!.push({ ver: String(row.ver), n: num(row.n), total: pico(row.total), first: num(row.first_ms) });
  }
  const out: Finding[] = [];
  for (const [g, versions] of groups) {
    if (versions.length < 2) continue;
    versions.sort((a, b) => a.first - b.first || a.ver.localeCompare(b.ver));
    const cur = versions.at(-1)!;
    const prev = versions.at(-2)!;
    if (cur.n < r.minTasks || prev.n < r.minTasks || prev.total <= 0n) continue;
    // cur.total/cur.n > prev.total/prev.n × (1 + percent/100), cross-multiplied.
    if (cur.total * BigInt(prev.n) * 100n <= prev.total * BigInt(cur.n) * BigInt(100 + r.percent)) continue;
    const [svc, tname] = g.split('\u0000') as [string, string];
    const curPer = cur.total / BigInt(cur.n);
    const prevPer = prev.total / BigInt(prev.n);
    out.push({
      key: `${r.name}|${svc}|${tname}|${prev.ver}->${cur.ver}`,
      rule: r.name,
      kind: r.kind,
      severity: 'warning',
      subject: `service ${svc} · task ${tname}`,
      title: `Deployment regression: ${svc} ${cur.ver} costs ${pct(cur.total * BigInt(prev.n) - prev.total * BigInt(cur.n), prev.total * BigInt(cur.n))} more per "${tname}" task`,
      summary: `${svc} ${cur.ver}: ${usd(curPer)} per "${tname}" task (${cur.n} tasks) against ${usd(prevPer)} on ${prev.ver} (${prev.n} tasks); threshold +${r.percent} %.`,
      evidence: {
        service: svc,
        taskName: tname,
        version: cur.ver,
        previousVersion: prev.ver,
        costPerTask: formatPico(curPer),
        previousCostPerTask: formatPico(prevPer),
        tasks: cur.n,
        previousTasks: prev.n,
      },
    });
  }
  return out;
}

async function checkUnpricedModel(store: QueryableStore, db: string, r: UnpricedModelRule, nowMs: number): Promise<Finding[]> {
  const rows = await store.query(
    `SELECT provider AS prov, model AS mdl, sum(unpriced_calls) AS n, toUnixTimestamp(min(hour)) AS first_s
     FROM ${db}.hourly_costs
     WHERE kind = 'inference' AND hour >= toStartOfHour(${NOW} - toIntervalHour({look_h:UInt32})) AND hour <= ${NOW}
     GROUP BY prov, mdl
     HAVING n > 0`,
    { now_ms: nowMs, look_h: r.lookbackHours },
  );
  return rows.map((row) => {
    const model = `${row.prov ? `${row.prov}/` : ''}${row.mdl}`;
    const n = num(row.n);
    return {
      key: `${r.name}|${row.prov}|${row.mdl}`,
      rule: r.name,
      kind: r.kind,
      severity: 'warning' as const,
      subject: `model ${model}`,
      title: `Unpriced model: ${model}`,
      summary: `${n} call(s) to ${model} in the last ${r.lookbackHours} h have no known price, so their spend is not in any total. Add its price to a --prices file, then run \`spendtrace reprice\`.`,
      evidence: { provider: String(row.prov), model: String(row.mdl), unpricedCalls: n, since: new Date(num(row.first_s) * 1000).toISOString() },
    };
  });
}
