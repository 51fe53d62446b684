/**
 * Cost reports over the rollups. task_costs and hourly_costs are AggregatingMergeTree tables whose
 * parts merge eventually, so every read groups by the key and re-aggregates (sum / min / max /
 * quantilesMerge). Money leaves ClickHouse as `toString(Decimal)` so it never passes through a
 * JSON float, and is added up here as pico-USD bigints.
 */
import { formatPico, parsePico } from '@spendtrace/semconv';
import type { AgentRow, FullReport, HourRow, ModelRow, QueryableStore, ReportOptions, Summary, TaskRow, ToolRow } from './types.ts';
import { iso, latency, num, perUnit, pico, ratio, resolve, SPANS_WHERE, str, tasksCte, tokens, TOKEN_SUMS, usd } from './query.ts';
import { costPerSuccessByDay, projection, ticker } from './trend.ts';
import { costsByTaskName, flagOverMedian, percentiles, PERCENTILES_SQL } from './task-stats.ts';
import { routingReport, type RoutingReport } from './routing.ts';

const HOURLY_WHERE = `hour >= toStartOfHour(now64(0) - toIntervalSecond({since_s:UInt64}))
    AND ({service:String} = '' OR service_name = {service:String})`;

function taskRow(r: Record<string, unknown>): TaskRow {
  return {
    taskId: str(r.task_id),
    taskName: str(r.tname),
    agent: str(r.agent),
    service: str(r.svc),
    userId: str(r.uid),
    outcome: str(r.t_outcome),
    firstSeen: iso(r.first_ms),
    lastSeen: iso(r.last_ms),
    cost: usd(r.cost),
    llmCost: usd(r.llm_cost),
    toolCost: usd(r.tool_cost),
    retryCost: usd(r.retry_cost),
    llmCalls: num(r.t_llm_calls),
    toolCalls: num(r.t_tool_calls),
    errors: num(r.t_errors),
    retries: num(r.t_retries),
    unpricedCalls: num(r.t_unpriced),
    tokens: tokens(r),
    vsMedian: null,
    overMedian: false,
  };
}

/** Tasks in the window, most expensive first. `limit` caps the rows (0 = all). */
export async function costsByTask(store: QueryableStore, opts: ReportOptions & { limit?: number } = {}): Promise<TaskRow[]> {
  const { db, params } = resolve(opts);
  const limit = Math.max(0, Math.floor(opts.limit ?? 0));
  const rows = await store.query<Record<string, unknown>>(
    `${tasksCte(db)}SELECT task_id, tname, agent, svc, uid, t_outcome,
    toUnixTimestamp64Milli(t_first) AS first_ms, toUnixTimestamp64Milli(t_last) AS last_ms,
    toString(t_cost) AS cost, toString(t_llm_cost) AS llm_cost, toString(t_tool_cost) AS tool_cost,
    toString(t_retry_cost) AS retry_cost,
    tok_in, tok_out, tok_cache_read, tok_cache_write, tok_reasoning,
    t_llm_calls, t_tool_calls, t_errors, t_retries, t_unpriced
FROM tasks
ORDER BY t_cost DESC, t_first ASC, task_id ASC
${limit > 0 ? 'LIMIT {limit:UInt32}' : ''}`,
    limit > 0 ? { ...params, limit } : params,
  );
  return flagOverMedian(rows.map(taskRow), await costsByTaskName(store, opts));
}

/** Tools: their own fees and the LLM calls made inside them. */
export async function costsByTool(store: QueryableStore, opts: ReportOptions = {}): Promise<ToolRow[]> {
  const { db, params } = resolve(opts);
  const rows = await store.query<Record<string, unknown>>(
    `SELECT tool_name,
    sumIf(calls, kind = 'tool') AS tool_calls, toString(sumIf(cost, kind = 'tool')) AS tool_cost,
    sumIf(calls, kind = 'inference') AS llm_calls, toString(sumIf(cost, kind = 'inference')) AS llm_cost,
    toString(sum(cost)) AS r_cost, sum(errors) AS r_errors, sum(unpriced_calls) AS r_unpriced,
    quantilesMergeIf(0.5, 0.95, 0.99)(duration_quantiles, kind = 'tool') AS latency
FROM ${db}.hourly_costs
WHERE tool_name != '' AND ${HOURLY_WHERE}
GROUP BY tool_name
ORDER BY sum(cost) DESC, tool_name ASC`,
    params,
  );
  // Outcomes live on the task roots: each tool call is joined to its task's.
  const outcomes = await store.query<Record<string, unknown>>(
    `SELECT s.tool_name AS tool, count() AS n, countIf(s.status_code = 'error') AS errs,
    countIf(t.oc = 'success') AS in_ok, countIf(t.oc IN ('success', 'failure')) AS decided
FROM ${db}.spans AS s
LEFT JOIN (SELECT task_id AS tid, max(outcome) AS oc FROM ${db}.task_costs GROUP BY task_id) AS t ON t.tid = s.task_id
WHERE s.kind = 'tool' AND ${SPANS_WHERE}
GROUP BY s.tool_name`,
    params,
  );
  const byTool = new Map(outcomes.map((o) => [str(o.tool), o]));
  return rows.map((r) => ({
    ...toolRates(byTool.get(str(r.tool_name))),
    tool: str(r.tool_name),
    calls: num(r.tool_calls),
    toolCost: usd(r.tool_cost),
    llmCalls: num(r.llm_calls),
    llmCost: usd(r.llm_cost),
    cost: usd(r.r_cost),
    errors: num(r.r_errors),
    unpricedCalls: num(r.r_unpriced),
    latencyMs: latency(r.latency),
  }));
}

function toolRates(o: Record<string, unknown> | undefined): { errorRate: number | null; successRate: number | null } {
  const n = num(o?.n);
  const decided = num(o?.decided);
  return { errorRate: n ? num(o?.errs) / n : null, successRate: decided ? num(o?.in_ok) / decided : null };
}

/** LLM spend by provider and model (response model, else request model), with its share. */
export async function costsByModel(store: QueryableStore, opts: ReportOptions = {}): Promise<ModelRow[]> {
  const { db, params } = resolve(opts);
  const rows = await store.query<Record<string, unknown>>(
    `SELECT provider, model,
    sum(calls) AS r_calls, sum(errors) AS r_errors, sum(retries) AS r_retries, sum(unpriced_calls) AS r_unpriced,
    ${TOKEN_SUMS},
    toString(sum(cost)) AS r_cost, toString(sum(retry_cost)) AS r_retry_cost,
    quantilesMerge(0.5, 0.95, 0.99)(duration_quantiles) AS latency
FROM ${db}.hourly_costs
WHERE kind = 'inference' AND ${HOURLY_WHERE}
GROUP BY provider, model
ORDER BY sum(cost) DESC, r_calls DESC, provider ASC, model ASC`,
    params,
  );
  const total = rows.reduce((acc, r) => acc + parsePico(str(r.r_cost) || '0'), 0n);
  return rows.map((r) => ({
    provider: str(r.provider),
    model: str(r.model),
    calls: num(r.r_calls),
    errors: num(r.r_errors),
    retries: num(r.r_retries),
    unpricedCalls: num(r.r_unpriced),
    tokens: tokens(r),
    cost: usd(r.r_cost),
    retryCost: usd(r.r_retry_cost),
    share: ratio(parsePico(str(r.r_cost) || '0'), total) ?? 0,
    latencyMs: latency(r.latency),
  }));
}

/** Agents: tasks, outcomes and what each successful task cost them (failures included). */
export async function costsByAgent(store: QueryableStore, opts: ReportOptions = {}): Promise<AgentRow[]> {
  const { db, params } = resolve(opts);
  const rows = await store.query<Record<string, unknown>>(
    `${tasksCte(db)}SELECT agent,
    count() AS tasks, countIf(t_outcome = 'success') AS ok, countIf(t_outcome = 'failure') AS failed,
    toString(sum(t_cost)) AS r_cost, toString(sum(t_llm_cost)) AS llm_cost, toString(sum(t_tool_cost)) AS tool_cost,
    toString(sumIf(t_cost, t_unpriced = 0)) AS priced_cost, countIf(t_outcome = 'success' AND t_unpriced = 0) AS priced_ok,
    sum(t_llm_calls) AS llm_calls, sum(t_tool_calls) AS tool_calls, sum(t_errors) AS r_errors, sum(t_unpriced) AS r_unpriced
FROM tasks
GROUP BY agent
ORDER BY sum(t_cost) DESC, agent ASC`,
    params,
  );
  return rows.map((r) => ({
    agent: str(r.agent),
    tasks: num(r.tasks),
    successfulTasks: num(r.ok),
    failedTasks: num(r.failed),
    cost: usd(r.r_cost),
    llmCost: usd(r.llm_cost),
    toolCost: usd(r.tool_cost),
    costPerSuccessfulTask: perUnit(pico(r.priced_cost), num(r.priced_ok)),
    llmCalls: num(r.llm_calls),
    toolCalls: num(r.tool_calls),
    errors: num(r.r_errors),
    unpricedCalls: num(r.r_unpriced),
  }));
}

/** Spend per hour (UTC hour buckets; the first bucket is the whole hour the window starts in). */
export async function costsByHour(store: QueryableStore, opts: ReportOptions = {}): Promise<HourRow[]> {
  const { db, params } = resolve(opts);
  const rows = await store.query<Record<string, unknown>>(
    `SELECT toUnixTimestamp(hour) * 1000 AS hour_ms,
    toString(sum(cost)) AS r_cost,
    sumIf(calls, kind = 'inference') AS llm_calls, sumIf(calls, kind = 'tool') AS tool_calls,
    sum(errors) AS r_errors, sum(unpriced_calls) AS r_unpriced,
    ${TOKEN_SUMS},
    quantilesMergeIf(0.5, 0.95, 0.99)(duration_quantiles, kind = 'inference') AS latency
FROM ${db}.hourly_costs
WHERE ${HOURLY_WHERE}
GROUP BY hour
ORDER BY hour ASC`,
    params,
  );
  return rows.map((r) => ({
    hour: iso(r.hour_ms),
    cost: usd(r.r_cost),
    llmCalls: num(r.llm_calls),
    toolCalls: num(r.tool_calls),
    errors: num(r.r_errors),
    unpricedCalls: num(r.r_unpriced),
    tokens: tokens(r),
    latencyMs: latency(r.latency),
  }));
}

/** A model over this share of LLM spend is flagged (ReportOptions.concentrationThreshold). */
export const DEFAULT_CONCENTRATION = 0.7;

/**
 * The headline numbers. Cost per successful task divides the cost of ALL tasks (failed attempts
 * included: they were paid for) by the tasks that succeeded. Percentiles are nearest-rank over
 * per-task cost, so each is the exact cost of a real task. Tasks with an unpriced call have an
 * incomplete cost: both figures leave them out (counted in unpricedTasks) rather than read them low.
 */
export async function summary(store: QueryableStore, opts: ReportOptions = {}): Promise<Summary> {
  const r0 = resolve(opts);
  const { db, params } = r0;
  const [agg] = await store.query<Record<string, unknown>>(
    `${tasksCte(db)}SELECT
    count() AS tasks, countIf(t_outcome = 'success') AS ok, countIf(t_outcome = 'failure') AS failed,
    toString(sum(t_cost)) AS cost, toString(sum(t_llm_cost)) AS llm_cost, toString(sum(t_tool_cost)) AS tool_cost,
    toString(sum(t_retry_cost)) AS retry_cost,
    sum(t_llm_calls) AS llm_calls, sum(t_tool_calls) AS tool_calls, sum(t_errors) AS errors,
    sum(t_retries) AS retries, sum(t_unpriced) AS unpriced, countIf(t_unpriced > 0) AS unpriced_tasks,
    toString(sumIf(t_cost, t_unpriced = 0)) AS priced_cost, countIf(t_outcome = 'success' AND t_unpriced = 0) AS priced_ok,
    arraySort(groupArrayIf(t_cost, t_unpriced = 0)) AS sorted, length(sorted) AS priced_n,
    ${PERCENTILES_SQL('sorted')}
FROM tasks`,
    params,
  );
  const a = agg ?? {};
  // Attempts are per span (retry_attempt), which the rollups count only as "calls retried".
  const [att] = await store.query<Record<string, unknown>>(
    `SELECT count() AS calls, sum(s.retry_attempt) AS retry_attempts FROM ${db}.spans AS s WHERE s.kind = 'inference' AND ${SPANS_WHERE}`,
    params,
  );
  const top = await costsByTask(store, { ...opts, limit: 3 });
  const models = await costsByModel(store, opts);
  const names = await costsByTaskName(store, opts);
  const threshold = opts.concentrationThreshold ?? DEFAULT_CONCENTRATION;
  const tasks = num(a.tasks);
  const ok = num(a.ok);
  const failed = num(a.failed);
  const total = parsePico(str(a.cost) || '0');
  const retry = parsePico(str(a.retry_cost) || '0');
  const lead = models[0];
  return {
    since: r0.since,
    service: r0.service,
    totalCost: formatPico(total),
    llmCost: usd(a.llm_cost),
    toolCost: usd(a.tool_cost),
    tasks,
    successfulTasks: ok,
    failedTasks: failed,
    unknownOutcomeTasks: tasks - ok - failed,
    costPerSuccessfulTask: perUnit(pico(a.priced_cost), num(a.priced_ok)),
    successRate: ok + failed > 0 ? ok / (ok + failed) : null,
    costPerTask: percentiles(a, num(a.priced_n)),
    unpricedTasks: num(a.unpriced_tasks),
    overMedianTasks: names.reduce((n, t) => n + t.overMedianTasks, 0),
    topTasks: top,
    llmCalls: num(a.llm_calls),
    toolCalls: num(a.tool_calls),
    errors: num(a.errors),
    retries: num(a.retries),
    attempts: num(att?.calls) + num(att?.retry_attempts),
    unpricedCalls: num(a.unpriced),
    retryCost: formatPico(retry),
    retryOverhead: ratio(retry, total),
    topModel:
      lead && parsePico(lead.cost) > 0n
        ? { provider: lead.provider, model: lead.model, cost: lead.cost, share: lead.share, concentrated: lead.share > threshold, threshold }
        : null,
  };
}

/** Everything `spendtrace report` prints with no --by. */
export async function fullReport(store: QueryableStore, opts: ReportOptions & { taskLimit?: number } = {}): Promise<FullReport & { routing: RoutingReport }> {
  // Sequential: the embedded engine runs one query at a time anyway, and order keeps logs readable.
  const s = await summary(store, opts);
  const byTask = await costsByTask(store, { ...opts, limit: opts.taskLimit ?? 0 });
  const byTool = await costsByTool(store, opts);
  const byModel = await costsByModel(store, opts);
  const byAgent = await costsByAgent(store, opts);
  const byHour = await costsByHour(store, opts);
  const byTaskName = await costsByTaskName(store, opts);
  const dailyTrend = await costPerSuccessByDay(store, opts);
  const proj = await projection(store, opts);
  const tick = await ticker(store, opts);
  const routing = await routingReport(store, opts);
  return { summary: s, byTask, byTool, byModel, byAgent, byHour, byTaskName, dailyTrend, projection: proj, ticker: tick, routing };
}
