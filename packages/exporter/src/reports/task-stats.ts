/**
 * Cost per task by task name: nearest-rank p50/p90/p95/p99 and the tasks over 2x their task
 * name's median. Tasks with a call on an unpriced model have an incomplete cost, so they are left
 * out of every percentile and per-success figure (and counted), never read as a cheap task.
 */
import { formatPico } from '@spendtrace/semconv';
import { nearestRank, num, perUnit, pico, resolve, str, tasksCte } from './query.ts';
import type { CostPercentiles, QueryableStore, ReportOptions, TaskNameRow, TaskRow } from './types.ts';

/** A task over this multiple of its task name's median cost is flagged. */
export const OVER_MEDIAN_FACTOR = 2;

export const PERCENTILES_SQL = (sorted: string) => `toString(${nearestRank(sorted, 50)}) AS p50, toString(${nearestRank(sorted, 90)}) AS p90,
    toString(${nearestRank(sorted, 95)}) AS p95, toString(${nearestRank(sorted, 99)}) AS p99`;

export function percentiles(r: Record<string, unknown>, n: number): CostPercentiles | null {
  if (n <= 0) return null;
  const p = (k: string) => formatPico(pico(r[k]));
  return { p50: p('p50'), p90: p('p90'), p95: p('p95'), p99: p('p99') };
}

export async function costsByTaskName(store: QueryableStore, opts: ReportOptions = {}): Promise<TaskNameRow[]> {
  const { db, params } = resolve(opts);
  const rows = await store.query<Record<string, unknown>>(
    `${tasksCte(db)}, named AS (
  SELECT tname, any(agent) AS agent1, count() AS n, countIf(t_outcome = 'success') AS ok, countIf(t_outcome = 'failure') AS failed,
    countIf(t_unpriced > 0) AS unpriced_tasks, sum(t_cost) AS cost_all,
    sumIf(t_cost, t_unpriced = 0) AS priced_cost, countIf(t_outcome = 'success' AND t_unpriced = 0) AS priced_ok,
    arraySort(groupArrayIf(t_cost, t_unpriced = 0)) AS sorted
  FROM tasks GROUP BY tname
)
SELECT tname, agent1, n, ok, failed, unpriced_tasks, toString(cost_all) AS cost, toString(priced_cost) AS priced, priced_ok,
    length(sorted) AS priced_n, ${PERCENTILES_SQL('sorted')},
    arrayCount(x -> x > ${OVER_MEDIAN_FACTOR} * ${nearestRank('sorted', 50)}, sorted) AS over
FROM named
ORDER BY cost_all DESC, tname ASC`,
    params,
  );
  return rows.map((r) => ({
    taskName: str(r.tname),
    agent: str(r.agent1),
    tasks: num(r.n),
    successfulTasks: num(r.ok),
    failedTasks: num(r.failed),
    unpricedTasks: num(r.unpriced_tasks),
    cost: formatPico(pico(r.cost)),
    costPerSuccessfulTask: perUnit(pico(r.priced), num(r.priced_ok)),
    costPerTask: percentiles(r, num(r.priced_n)),
    overMedianTasks: num(r.over),
  }));
}

/** Marks each task with its cost against its task name's median (priced tasks only). */
export function flagOverMedian(tasks: TaskRow[], names: readonly TaskNameRow[]): TaskRow[] {
  const median = new Map(names.map((n) => [n.taskName, n.costPerTask ? pico(n.costPerTask.p50) : 0n]));
  for (const t of tasks) {
    const m = median.get(t.taskName) ?? 0n;
    if (t.unpricedCalls > 0 || m <= 0n) {
      t.vsMedian = null;
      t.overMedian = false;
      continue;
    }
    const c = pico(t.cost);
    t.vsMedian = Number((c * 1000n) / m) / 1000;
    t.overMedian = c > BigInt(OVER_MEDIAN_FACTOR) * m;
  }
  return tasks;
}
