/**
 * Cost reports over the rollups. task_costs and hourly_costs are AggregatingMergeTree tables whose
 * parts merge eventually, so every read groups by the key and re-aggregates (sum / min / max /
 * quantilesMerge). Money leaves ClickHouse as `toString(Decimal)` so it never passes through a
 * JSON float, and is added up here as pico-USD bigints.
 */
import { formatPico, parsePico } from '@spendtrace/semconv';
import type {
  AgentRow, FullReport, HourRow, LatencyMs, ModelRow, QueryableStore, ReportOptions, Summary, TaskRow,
  TokenCounts, ToolRow, Usd,
} from './types.ts';
import { routingReport, type RoutingReport } from './routing.ts';
import { parseSince } from './window.ts';

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

interface Resolved {
  db: string;
  params: { since_s: number; service: string };
  since: string;
  service: string | null;
}

function resolve(opts: ReportOptions = {}): Resolved {
  const database = opts.database ?? 'spendtrace';
  // Identifiers cannot be bound as values; this is the one thing interpolated, so it is checked.
  if (!IDENT.test(database)) throw new RangeError(`invalid database name "${database}": expected letters, digits and _`);
  const since = opts.since ?? '7d';
  return {
    db: `\`${database}\``,
    params: { since_s: parseSince(since), service: opts.service ?? '' },
    since,
    service: opts.service || null,
  };
}

const num = (v: unknown): number => (v === null || v === undefined || v === '' ? 0 : Number(v));
const str = (v: unknown): string => (v === null || v === undefined ? '' : String(v));
/** ClickHouse Decimal text -> the canonical 12-digit decimal string. */
const usd = (v: unknown): Usd => formatPico(parsePico(str(v) || '0'));
const iso = (ms: unknown): string => new Date(num(ms)).toISOString();

function latency(v: unknown): LatencyMs {
  const a = Array.isArray(v) ? v.map(num) : [];
  // Quantile states hold nanoseconds; NaN appears when a group had no samples.
  const ms = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? 0 : Math.round(x / 1e4) / 100);
  return { p50: ms(a[0]), p95: ms(a[1]), p99: ms(a[2]) };
}

function tokens(r: Record<string, unknown>): TokenCounts {
  return {
    input: num(r.tok_in),
    output: num(r.tok_out),
    cacheRead: num(r.tok_cache_read),
    cacheWrite: num(r.tok_cache_write),
    reasoning: num(r.tok_reasoning),
  };
}

/** pico / n rounded half-up to the pico, as a decimal string. */
function perUnit(total: bigint, n: number): Usd | null {
  if (n <= 0) return null;
  const d = BigInt(n);
  const q = total / d;
  return formatPico((total % d) * 2n >= d ? q + 1n : q);
}

/** a / b as a number in 0..1 with 6 significant fractional digits, exact integer math until then. */
function ratio(a: bigint, b: bigint): number | null {
  if (b === 0n) return null;
  return Number((a * 1_000_000n) / b) / 1_000_000;
}

// Aliases never reuse a column name: ClickHouse's analyzer would resolve later references to them.
const TOKEN_SUMS = `
    sum(input_tokens) AS tok_in, sum(output_tokens) AS tok_out,
    sum(cache_read_tokens) AS tok_cache_read, sum(cache_write_tokens) AS tok_cache_write,
    sum(reasoning_tokens) AS tok_reasoning`;

/** task_costs merged per task, then windowed and filtered (first_seen is only final after the merge). */
function tasksCte(db: string): string {
  return `WITH tasks AS (
  SELECT
    task_id,
    max(service_name) AS svc, max(agent_name) AS agent, max(task_name) AS tname, max(user_id) AS uid,
    min(first_seen) AS t_first, max(last_seen) AS t_last,
    sum(cost) AS t_cost, sum(llm_cost) AS t_llm_cost, sum(tool_cost) AS t_tool_cost, sum(retry_cost) AS t_retry_cost,
    ${TOKEN_SUMS},
    sum(llm_calls) AS t_llm_calls, sum(tool_calls) AS t_tool_calls, sum(errors) AS t_errors,
    sum(retries) AS t_retries, sum(unpriced_calls) AS t_unpriced, max(outcome) AS t_outcome
  FROM ${db}.task_costs
  GROUP BY task_id
  HAVING t_first >= now64(9) - toIntervalSecond({since_s:UInt64})
     AND ({service:String} = '' OR svc = {service:String})
)
`;
}

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
  return rows.map(taskRow);
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
  return rows.map((r) => ({
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
    costPerSuccessfulTask: perUnit(parsePico(str(r.r_cost) || '0'), num(r.ok)),
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

/**
 * The headline numbers. Cost per successful task divides the cost of ALL tasks (failed attempts
 * included: they were paid for) by the tasks that succeeded. Percentiles are nearest-rank over
 * per-task cost, so each is the exact cost of a real task.
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
    sum(t_retries) AS retries, sum(t_unpriced) AS unpriced,
    arraySort(groupArray(t_cost)) AS sorted,
    toString(sorted[intDiv(length(sorted) + 1, 2)]) AS p50,
    toString(sorted[intDiv(95 * length(sorted) + 99, 100)]) AS p95,
    toString(sorted[intDiv(99 * length(sorted) + 99, 100)]) AS p99
FROM tasks`,
    params,
  );
  const a = agg ?? {};
  const [top, models] = await Promise.all([costsByTask(store, { ...opts, limit: 3 }), costsByModel(store, opts)]);
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
    costPerSuccessfulTask: perUnit(total, ok),
    successRate: ok + failed > 0 ? ok / (ok + failed) : null,
    costPerTask: tasks > 0 ? { p50: usd(a.p50), p95: usd(a.p95), p99: usd(a.p99) } : null,
    topTasks: top,
    llmCalls: num(a.llm_calls),
    toolCalls: num(a.tool_calls),
    errors: num(a.errors),
    retries: num(a.retries),
    unpricedCalls: num(a.unpriced),
    retryCost: formatPico(retry),
    retryOverhead: ratio(retry, total),
    topModel: lead && parsePico(lead.cost) > 0n
      ? { provider: lead.provider, model: lead.model, cost: lead.cost, share: lead.share }
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
  const routing = await routingReport(store, opts);
  return { summary: s, byTask, byTool, byModel, byAgent, byHour, routing };
}
