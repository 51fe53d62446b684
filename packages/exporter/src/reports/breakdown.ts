/**
 * Spend by any combination of dimensions (`--by agent,task,model`, `--by user`, `--by tenant`):
 * the weekly table teams run, read from the spans themselves so every pairing exists. Rows hold
 * LLM calls and tool fees (a tool fee has no model, so `--by model` shows it as its own row and the
 * shares add up to 100 %). When every dimension is one a task has a single value of (agent, task
 * name, user, tenant, service), rows also carry what the app charged for those tasks
 * (`recordTaskCharge`) and the margin.
 */
import * as A from '@spendtrace/semconv';
import { formatPico } from '@spendtrace/semconv';
import { num, pico, ratio, resolve, SPANS_WHERE, str } from './query.ts';
import type { QueryableStore, ReportOptions, Usd } from './types.ts';

export const DIMENSIONS = ['agent', 'task', 'model', 'provider', 'user', 'tenant', 'tool', 'service', 'prompt'] as const;
export type Dimension = (typeof DIMENSIONS)[number];

const PROMPT_NAME = `s.attributes['${A.ATTR_GEN_AI_PROMPT_NAME}']`;
const PROMPT_VERSION = `s.attributes['${A.ATTR_GEN_AI_PROMPT_VERSION}']`;

/** Each dimension's expression over a span (`s`, with the task's metadata as `m`). */
const SPAN_EXPR: Record<Dimension, string> = {
  agent: 's.agent_name',
  task: 's.task_name',
  model: "if(s.response_model != '', s.response_model, s.request_model)",
  provider: 's.provider',
  user: 's.user_id',
  tenant: 'm.tenant',
  tool: 's.tool_name',
  service: 's.service_name',
  prompt: `if(${PROMPT_VERSION} != '', concat(${PROMPT_NAME}, '@', ${PROMPT_VERSION}), ${PROMPT_NAME})`,
};

/** Dimensions with one value per task, and their column in the per-task rows. */
const TASK_EXPR: Partial<Record<Dimension, string>> = { agent: 'agent', task: 'tname', user: 'uid', tenant: 'tenant', service: 'svc' };

export interface BreakdownRow {
  /** the row's value of each requested dimension ('' when the span has none) */
  key: Partial<Record<Dimension, string>>;
  /** LLM calls */
  calls: number;
  /** HTTP attempts the SDKs made for those calls (calls + retries) */
  attempts: number;
  toolCalls: number;
  tasks: number;
  avgInputTokens: number;
  avgOutputTokens: number;
  /** LLM + tool cost; calls on unpriced models add nothing and are counted */
  cost: Usd;
  /** share of the priced cost of all rows, 0..1 */
  share: number;
  unpricedCalls: number;
  /** only when every dimension is per task: what the app charged for the tasks that recorded a charge */
  charged?: Usd;
  chargedTasks?: number;
  /** charged - the cost of those tasks; null when one of them has an unpriced call (cost incomplete) */
  margin?: Usd | null;
  marginRate?: number | null;
}

export class InvalidDimensionError extends Error {
  override name = 'InvalidDimensionError';
}

/** `"agent,task,model"` -> the dimensions, or an error naming the accepted ones. */
export function parseDimensions(text: string): Dimension[] {
  const dims = text
    .split(',')
    .map((d) => d.trim().toLowerCase())
    .filter(Boolean);
  const bad = dims.filter((d) => !(DIMENSIONS as readonly string[]).includes(d));
  if (!dims.length || bad.length)
    throw new InvalidDimensionError(
      `invalid dimension${bad.length > 1 ? 's' : ''} "${bad.join(',') || text}": expected a comma-separated list of ${DIMENSIONS.join(', ')}`,
    );
  return [...new Set(dims)] as Dimension[];
}

const metaCte = (db: string) => `meta AS (
  SELECT task_id AS mid, max(attributes['${A.ATTR_SPENDTRACE_TENANT_ID}']) AS tenant
  FROM ${db}.spans WHERE kind = 'task' GROUP BY task_id
)`;

export async function breakdown(store: QueryableStore, dims: readonly Dimension[], opts: ReportOptions & { limit?: number } = {}): Promise<BreakdownRow[]> {
  if (!dims.length) throw new InvalidDimensionError('no dimension given');
  const { db, params } = resolve(opts);
  const cols = dims.map((d, i) => `${SPAN_EXPR[d]} AS d${i}`).join(', ');
  const group = dims.map((_, i) => `d${i}`).join(', ');
  const rows = await store.query<Record<string, unknown>>(
    `WITH ${metaCte(db)}
SELECT ${cols},
    countIf(s.kind = 'inference') AS calls, sumIf(s.retry_attempt, s.kind = 'inference') AS retry_attempts,
    countIf(s.kind = 'tool') AS tool_calls, uniqExact(s.task_id) AS n_tasks,
    sumIf(s.input_tokens, s.kind = 'inference') AS tin, sumIf(s.output_tokens, s.kind = 'inference') AS tout,
    countIf(s.unpriced = 1) AS unpriced, toString(sum(s.cost)) AS c
FROM ${db}.spans AS s LEFT JOIN meta AS m ON m.mid = s.task_id
WHERE s.kind IN ('inference', 'tool') AND ${SPANS_WHERE}
GROUP BY ${group}
ORDER BY sum(s.cost) DESC, calls DESC, ${group}`,
    params,
  );
  const total = rows.reduce((a, r) => a + pico(r.c), 0n);
  const keyOf = (r: Record<string, unknown>) => Object.fromEntries(dims.map((d, i) => [d, str(r[`d${i}`])])) as Partial<Record<Dimension, string>>;
  const out: BreakdownRow[] = rows.map((r) => {
    const calls = num(r.calls);
    return {
      key: keyOf(r),
      calls,
      attempts: calls + num(r.retry_attempts),
      toolCalls: num(r.tool_calls),
      tasks: num(r.n_tasks),
      avgInputTokens: calls ? Math.round(num(r.tin) / calls) : 0,
      avgOutputTokens: calls ? Math.round(num(r.tout) / calls) : 0,
      cost: formatPico(pico(r.c)),
      share: ratio(pico(r.c), total) ?? 0,
      unpricedCalls: num(r.unpriced),
    };
  });
  if (dims.every((d) => TASK_EXPR[d])) await addMargins(store, db, params, dims, out);
  const limit = Math.max(0, Math.floor(opts.limit ?? 0));
  return limit > 0 ? out.slice(0, limit) : out;
}

async function addMargins(store: QueryableStore, db: string, params: Record<string, unknown>, dims: readonly Dimension[], out: BreakdownRow[]): Promise<void> {
  const charged = `s.kind = 'task' AND mapContains(s.attributes, '${A.ATTR_SPENDTRACE_TASK_CHARGED}')`;
  const rows = await store.query<Record<string, unknown>>(
    `WITH per_task AS (
  SELECT s.task_id AS tid, max(s.agent_name) AS agent, max(s.task_name) AS tname, max(s.user_id) AS uid, max(s.service_name) AS svc,
    maxIf(s.attributes['${A.ATTR_SPENDTRACE_TENANT_ID}'], s.kind = 'task') AS tenant,
    sumIf(toDecimal128OrZero(s.attributes['${A.ATTR_SPENDTRACE_TASK_CHARGED}'], 12), ${charged}) AS t_charged,
    countIf(${charged}) AS has_charge, sum(s.cost) AS t_cost, countIf(s.unpriced = 1) AS t_unpriced
  FROM ${db}.spans AS s WHERE ${SPANS_WHERE}
  GROUP BY s.task_id
)
SELECT ${dims.map((d, i) => `${TASK_EXPR[d]} AS d${i}`).join(', ')},
    toString(sumIf(t_charged, has_charge > 0)) AS charged, countIf(has_charge > 0) AS charged_tasks,
    toString(sumIf(t_cost, has_charge > 0)) AS charged_cost, countIf(has_charge > 0 AND t_unpriced > 0) AS charged_unpriced
FROM per_task
GROUP BY ${dims.map((_, i) => `d${i}`).join(', ')}`,
    params,
  );
  const key = (k: Partial<Record<Dimension, string>>) => JSON.stringify(dims.map((d) => k[d] ?? ''));
  const byKey = new Map(rows.map((r) => [JSON.stringify(dims.map((_, i) => str(r[`d${i}`]))), r]));
  for (const row of out) {
    const m = byKey.get(key(row.key));
    const n = num(m?.charged_tasks);
    row.chargedTasks = n;
    row.charged = formatPico(pico(m?.charged));
    if (!n || num(m?.charged_unpriced) > 0) {
      row.margin = null;
      row.marginRate = null;
      continue;
    }
    const margin = pico(m?.charged) - pico(m?.charged_cost);
    row.margin = formatPico(margin);
    row.marginRate = ratio(margin, pico(m?.charged));
  }
}
