/**
 * Time views: cost per successful task by day, the month projected from the last 7 days, and the
 * ticker (spend in the last hour, running tasks, the day projected). Money stays in pico-USD
 * bigints; only the standard deviation passes through a float (it is a spread, not a sum).
 */
import { formatPico } from '@spendtrace/semconv';
import { num, perUnit, pico, resolve, str, tasksCte } from './query.ts';
import type { DayRow, Projection, QueryableStore, ReportOptions, Ticker } from './types.ts';

const DAY_S = 86_400;

/** Per UTC day (of the task's start): tasks, successes and what each success cost (priced tasks only). */
export async function costPerSuccessByDay(store: QueryableStore, opts: ReportOptions = {}): Promise<DayRow[]> {
  const { db, params } = resolve(opts);
  const rows = await store.query<Record<string, unknown>>(
    `${tasksCte(db)}SELECT toString(toDate(t_first)) AS d, count() AS n, countIf(t_outcome = 'success') AS ok,
    countIf(t_unpriced > 0) AS unpriced_tasks, toString(sumIf(t_cost, t_unpriced = 0)) AS priced_cost,
    countIf(t_outcome = 'success' AND t_unpriced = 0) AS priced_ok
FROM tasks GROUP BY d ORDER BY d ASC`,
    params,
  );
  return rows.map((r) => ({
    day: str(r.d),
    tasks: num(r.n),
    successfulTasks: num(r.ok),
    unpricedTasks: num(r.unpriced_tasks),
    cost: formatPico(pico(r.priced_cost)),
    costPerSuccessfulTask: perUnit(pico(r.priced_cost), num(r.priced_ok)),
  }));
}

const daysIn = (d: Date) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/**
 * The current month's spend, projected: the mean of the daily totals of the last 7 24-hour periods
 * ending now (only the periods since the store's first span, so a young store is not diluted by
 * days it never saw) x the days in this UTC month, with the spread of those days. Independent of
 * `since`; the service filter applies.
 */
export async function projection(store: QueryableStore, opts: ReportOptions = {}): Promise<Projection> {
  const { db, params } = resolve({ ...opts, since: '7d' });
  const rows = await store.query<Record<string, unknown>>(
    `SELECT intDiv(toUnixTimestamp(now()) - toUnixTimestamp(s.start_time), ${DAY_S}) AS ago,
    toString(sum(s.cost)) AS c, countIf(s.unpriced = 1) AS unpriced,
    toUnixTimestamp(now()) AS now_s
FROM ${db}.spans AS s
WHERE s.kind IN ('inference', 'tool') AND s.start_time >= now64(9) - toIntervalSecond(${7 * DAY_S})
  AND ({service:String} = '' OR s.service_name = {service:String})
GROUP BY ago ORDER BY ago ASC`,
    params,
  );
  const [first] = await store.query<Record<string, unknown>>(
    `SELECT toUnixTimestamp(min(s.start_time)) AS first_s, toUnixTimestamp(now()) AS now_s, count() AS n FROM ${db}.spans AS s
WHERE s.kind IN ('inference', 'tool') AND ({service:String} = '' OR s.service_name = {service:String})`,
    params,
  );
  const nowS = num(first?.now_s) || Math.floor(Date.now() / 1000);
  const observed = num(first?.n) ? Math.min(7, Math.max(1, Math.ceil((nowS - num(first?.first_s) + 1) / DAY_S))) : 0;
  const byAgo = new Map(rows.map((r) => [Math.min(6, Math.max(0, num(r.ago))), pico(r.c)]));
  const totals = Array.from({ length: observed }, (_, i) => byAgo.get(i) ?? 0n);
  const sum = totals.reduce((a, b) => a + b, 0n);
  const n = BigInt(Math.max(1, totals.length));
  const mean = totals.length ? (sum + n / 2n) / n : 0n;
  const variance = totals.length ? totals.reduce((a, t) => a + Number(t - mean) ** 2, 0) / totals.length : 0;
  const sd = BigInt(Math.round(Math.sqrt(variance)));
  const now = new Date(nowS * 1000);
  const dim = daysIn(now);
  const month = `${now.getUTCFullYear()}-${String(now.getUTCMonth() + 1).padStart(2, '0')}`;
  const low = mean - sd > 0n ? (mean - sd) * BigInt(dim) : 0n;
  return {
    method: totals.length
      ? `mean of the daily totals of the last ${totals.length} day${totals.length === 1 ? '' : 's'} (24-hour periods ending now${totals.length < 7 ? `; the store has ${totals.length === 1 ? 'one day' : `${totals.length} days`} of data` : ''}) × ${dim} days in ${MONTHS[now.getUTCMonth()]} ${now.getUTCFullYear()}; range = (mean ± standard deviation) × ${dim}`
      : 'no spend in the last 7 days',
    days: totals.map((c, i) => ({ start: new Date((nowS - (i + 1) * DAY_S) * 1000).toISOString(), cost: formatPico(c) })),
    dailyMean: formatPico(mean),
    dailyMin: formatPico(totals.length ? totals.reduce((a, b) => (b < a ? b : a)) : 0n),
    dailyMax: formatPico(totals.length ? totals.reduce((a, b) => (b > a ? b : a)) : 0n),
    dailyStdDev: formatPico(sd),
    month,
    daysInMonth: dim,
    projectedMonth: formatPico(mean * BigInt(dim)),
    range: { low: formatPico(low), high: formatPico((mean + sd) * BigInt(dim)) },
    unpricedCalls: rows.reduce((a, r) => a + num(r.unpriced), 0),
  };
}

/** Spend in the last hour, tasks still running, and the UTC day projected at the last hour's rate. */
export async function ticker(store: QueryableStore, opts: ReportOptions = {}): Promise<Ticker> {
  const { db, params } = resolve(opts);
  const svc = `({service:String} = '' OR s.service_name = {service:String})`;
  const [r] = await store.query<Record<string, unknown>>(
    `SELECT toString(sumIf(s.cost, s.start_time >= now64(9) - toIntervalSecond(3600))) AS hour_cost,
    countIf(s.unpriced = 1 AND s.start_time >= now64(9) - toIntervalSecond(3600)) AS hour_unpriced,
    toString(sumIf(s.cost, s.start_time >= toStartOfDay(now64(9)))) AS today_cost,
    toUnixTimestamp(now()) AS now_s
FROM ${db}.spans AS s
WHERE s.kind IN ('inference', 'tool') AND s.start_time >= least(toStartOfDay(now64(9)), now64(9) - toIntervalSecond(3600)) AND ${svc}`,
    params,
  );
  // A task's root span is exported when it ends: recent spans without one belong to a running task.
  const [a] = await store.query<Record<string, unknown>>(
    `SELECT count() AS n FROM (
  SELECT s.task_id, max(s.end_time) AS last_end, countIf(s.kind = 'task') AS roots
  FROM ${db}.spans AS s WHERE s.end_time >= now64(9) - toIntervalSecond(900) AND ${svc}
  GROUP BY s.task_id HAVING last_end >= now64(9) - toIntervalSecond(300) AND roots = 0)`,
    params,
  );
  const nowS = num(r?.now_s) || Math.floor(Date.now() / 1000);
  const hour = pico(r?.hour_cost);
  const today = pico(r?.today_cost);
  const secondsLeft = BigInt(DAY_S - (nowS % DAY_S));
  return {
    costLastHour: formatPico(hour),
    unpricedCallsLastHour: num(r?.hour_unpriced),
    activeTasks: num(a?.n),
    costToday: formatPico(today),
    projectedDay: formatPico(today + (hour * secondsLeft) / 3600n),
    at: new Date(nowS * 1000).toISOString(),
  };
}
