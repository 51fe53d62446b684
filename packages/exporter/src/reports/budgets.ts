/**
 * Budgets per task: what each budgeted task was allowed, what it spent and how many LLM calls its
 * budget refused before any request was sent. The budget, the check mode and the refusals come
 * from the task's root span (the instrumentation sets `spendtrace.task.budget_usd` at its start,
 * `spendtrace.budget.refusals` / `.check` / `.exceeded` at its end); the money spent is the
 * exporter's own exact sum from task_costs, not the span's float.
 */
import { formatPico, parsePico } from '@spendtrace/semconv';
import type { QueryableStore, ReportOptions, Usd } from './types.ts';
import { parseSince } from './window.ts';
import { IDENTIFIER, DEFAULT_DATABASE } from '../database-name.ts';

export interface BudgetRow {
  taskId: string;
  taskName: string;
  agent: string;
  service: string;
  budget: Usd;
  /** LLM + tool cost of the task (task_costs). */
  cost: Usd;
  /** `budget - cost`; negative when a call let through (`spent` mode, `warn`) crossed it. */
  remaining: Usd;
  /** LLM calls the budget refused before sending them. */
  refusals: number;
  /** The running cost passed the budget. */
  exceeded: boolean;
  /** `worst-case` | `spent` ('' from instrumentations before the check modes). */
  check: string;
}

const str = (v: unknown): string => (v === null || v === undefined ? '' : String(v));

/** Budgeted tasks in the window: those with refusals first, then the most expensive. */
export async function budgetsByTask(store: QueryableStore, opts: ReportOptions & { limit?: number } = {}): Promise<BudgetRow[]> {
  const database = opts.database ?? DEFAULT_DATABASE;
  if (!IDENTIFIER.test(database)) throw new RangeError(`invalid database name "${database}": expected letters, digits and _`);
  const db = `\`${database}\``;
  const limit = Math.max(0, Math.floor(opts.limit ?? 0));
  const params: Record<string, unknown> = { since_s: parseSince(opts.since ?? '7d'), service: opts.service ?? '' };
  if (limit > 0) params.limit = limit;
  const rows = await store.query<Record<string, unknown>>(
    `WITH roots AS (
  SELECT task_id, max(task_name) AS tname, max(agent_name) AS agent, max(service_name) AS svc,
    max(toDecimal128OrZero(attributes['spendtrace.task.budget_usd'], 12)) AS b_budget,
    sum(toUInt64OrZero(attributes['spendtrace.budget.refusals'])) AS b_refusals,
    max(attributes['spendtrace.budget.exceeded'] = 'true') AS b_exceeded,
    max(attributes['spendtrace.budget.check']) AS b_check
  FROM ${db}.spans
  WHERE kind = 'task' AND attributes['spendtrace.task.budget_usd'] != ''
    AND start_time >= now64(9) - toIntervalSecond({since_s:UInt64})
    AND ({service:String} = '' OR service_name = {service:String})
  GROUP BY task_id
), costs AS (
  SELECT task_id, sum(cost) AS t_cost FROM ${db}.task_costs WHERE task_id IN (SELECT task_id FROM roots) GROUP BY task_id
)
SELECT r.task_id AS task_id, tname, agent, svc, toString(b_budget) AS budget, toString(ifNull(c.t_cost, toDecimal128(0, 12))) AS cost,
  b_refusals, b_exceeded, b_check
FROM roots AS r LEFT JOIN costs AS c ON c.task_id = r.task_id
ORDER BY b_refusals DESC, ifNull(c.t_cost, toDecimal128(0, 12)) DESC, r.task_id ASC
${limit > 0 ? 'LIMIT {limit:UInt32}' : ''}
SETTINGS join_use_nulls = 1`,
    params,
  );
  return rows.map((r) => {
    const budget = parsePico(str(r.budget) || '0');
    const cost = parsePico(str(r.cost) || '0');
    return {
      taskId: str(r.task_id),
      taskName: str(r.tname),
      agent: str(r.agent),
      service: str(r.svc),
      budget: formatPico(budget),
      cost: formatPico(cost),
      remaining: formatPico(budget - cost),
      refusals: Number(r.b_refusals ?? 0),
      exceeded: Number(r.b_exceeded ?? 0) === 1 || r.b_exceeded === true,
      check: str(r.b_check),
    };
  });
}
