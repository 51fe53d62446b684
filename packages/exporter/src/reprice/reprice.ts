/**
 * `spendtrace reprice`: recompute the cost of stored inference spans from their token columns
 * with today's prices (a new override, a newer catalogue), and correct the rollups exactly.
 *
 * The rollups (task_costs, hourly_costs) are filled by materialized views at insert time, so an
 * ALTER UPDATE on `spans` never reaches them. Instead, per batch of spans:
 *
 *   1. price every span again (Pricer at the span's end time, from the stored tokens), sum the
 *      change per rollup key — cost, llm_cost, retry_cost (same conditions as the views),
 *      unpriced_calls -1 where a span became priced — and record that plan (delta rows + new span
 *      costs) in the journal `reprice_log` as step 'planned';
 *   2. INSERT the delta rows straight into task_costs and hourly_costs, each insert with an
 *      insert_deduplication_token derived from the run, the repriced span ids and their old and
 *      new costs; journal step 'rollups';
 *   3. THEN rewrite the spans rows (ALTER TABLE spans UPDATE ... WHERE span_id IN ...,
 *      mutations_sync = 2, so the next batch and the next run read the new values); step 'done'.
 *
 * Why this order is crash-safe: the rollups are corrected before the spans, and the spans are what
 * decides whether a span still needs repricing — had the spans been rewritten first, a crash before
 * the deltas would leave nothing to do on the next run and the rollups wrong for good. A run first
 * finishes every journal entry without 'done', from the recorded plan (same token, same values),
 * before selecting anything: a crash after step 1 redoes step 2 — ClickHouse drops the deltas as
 * duplicates if they had landed (the tables keep a deduplication window, see the schema README) —
 * and step 3; a crash after 'rollups' redoes only step 3, which sets fixed values and is
 * idempotent. Replaying the plan rather than recomputing matters: a rerun with other prices or
 * flags, or after new spans arrived, would form different batches and different tokens, and
 * correct the interrupted batch twice.
 *
 * Delta rows are ordinary rows of the AggregatingMergeTree tables: reads already use
 * sum/min/max + GROUP BY, and merges fold them in. Their min/max columns (names, first/last
 * seen, outcome) carry values of the spans they correct, so they never move a min or a max.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { batchQuote, formatPico, parsePico, type Pico, type Pricer, type Usage } from '@spendtrace/semconv';
import type { Store } from '../store/store.ts';
import { parseSince } from '../reports/window.ts';
import { renderSql, schemaVariables } from '../schema/render.ts';
import { DEFAULT_DATABASE } from '../database-name.ts';

export interface RepriceOptions {
  pricer: Pricer;
  /** @default 'spendtrace' */
  database?: string;
  /** Window before now on span start time: 30d, 24h, all. @default '30d' */
  since?: string;
  /** Only spans of this service.name. @default '' (all) */
  service?: string;
  /** Also reprice spans spendtrace priced itself (cost_source exporter or local); never provider. @default false */
  all?: boolean;
  /** Compute and report, write nothing. @default false */
  dryRun?: boolean;
  /** Spans per batch. @default 10000 */
  batchSize?: number;
  /** Called after each batch. */
  onProgress?: (p: RepriceProgress) => void;
}

export interface RepriceProgress {
  batches: number;
  scanned: number;
  repriced: number;
}

export interface RepriceResult extends RepriceProgress {
  /** Spans that were unpriced and still have no price (unknown model, or no token counts). */
  stillUnpriced: number;
  /** Unpriced spans that became priced. */
  newlyPriced: number;
  /** Spans priced before whose model has no price now: kept as they were. */
  keptWithoutPrice: number;
  /** Sum of (new cost - old cost) over repriced spans, pico-USD. */
  delta: Pico;
  dryRun: boolean;
  /** Batches a crashed earlier run left unfinished, completed from their recorded plan first. */
  recovered: number;
}

/** A candidate span as read back from `spans`. */
interface SpanIn {
  span_id: string;
  /** 1 when the span is a Batch API result (attribute spendtrace.batch). */
  batch: number | string;
  task_id: string;
  service_name: string;
  agent_name: string;
  task_name: string;
  user_id: string;
  tool_name: string;
  provider: string;
  request_model: string;
  response_model: string;
  operation: string;
  kind: string;
  status_code: string;
  request_repeat: number | string;
  start_ns: string;
  end_ns: string;
  hour_ts: number | string;
  input_tokens: string;
  output_tokens: string;
  cache_read_tokens: string;
  cache_write_tokens: string;
  reasoning_tokens: string;
  cost: string;
  unpriced: number | string;
}

interface Repriced {
  span: SpanIn;
  old: Pico;
  total: Pico;
  parts: [input: Pico, output: Pico, cacheRead: Pico, cacheWrite: Pico, reasoning: Pico];
  becamePriced: boolean;
}

/** Cost sources reprice may overwrite; `provider` (the API's own bill) is never touched. */
export const REPRICEABLE_SOURCES = ['exporter', 'local'] as const;

/** Spans per ALTER UPDATE: the statement carries their ids and costs as literals and must stay under max_query_size (256 KiB). */
const MUTATION_CHUNK = 400;

export async function reprice(store: Store, opts: RepriceOptions): Promise<RepriceResult> {
  const db = opts.database ?? DEFAULT_DATABASE;
  const sinceSeconds = parseSince(opts.since ?? '30d');
  const batchSize = opts.batchSize ?? 10_000;
  const res: RepriceResult = {
    batches: 0,
    scanned: 0,
    repriced: 0,
    stillUnpriced: 0,
    newlyPriced: 0,
    keptWithoutPrice: 0,
    delta: 0n,
    dryRun: Boolean(opts.dryRun),
    recovered: 0,
  };
  if (!opts.dryRun) {
    await ensureSignedCounts(store, db);
    await ensureJournal(store, db);
    res.recovered = await recover(store, db);
  }

  const sourceFilter = opts.all ? `unpriced = 1 OR cost_source IN ('${REPRICEABLE_SOURCES.join("', '")}')` : 'unpriced = 1';
  const select = `SELECT span_id, task_id, service_name, agent_name, task_name, user_id, tool_name, provider,
      request_model, response_model, operation, kind, status_code, request_repeat,
      toString(toUnixTimestamp64Nano(start_time)) AS start_ns, toString(toUnixTimestamp64Nano(end_time)) AS end_ns,
      toUnixTimestamp(toStartOfHour(start_time)) AS hour_ts,
      input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens,
      toString(cost) AS cost, unpriced, attributes['spendtrace.batch'] IN ('true', '1') AS batch
    FROM ${db}.spans
    WHERE kind = 'inference' AND cost_source != 'provider' AND (${sourceFilter})
      AND start_time >= now64(9) - toIntervalSecond({since_s:UInt64})
      AND ({service:String} = '' OR service_name = {service:String})
      AND span_id > {after:String}
    ORDER BY span_id
    LIMIT {limit:UInt32}`;

  const runId = randomUUID();
  let after = '';
  for (;;) {
    const rows = await store.query<SpanIn>(select, { since_s: sinceSeconds, service: opts.service ?? '', after, limit: batchSize });
    if (!rows.length) break;
    after = rows[rows.length - 1]!.span_id;
    res.batches++;
    res.scanned += rows.length;

    const changed: Repriced[] = [];
    for (const span of rows) {
      const wasUnpriced = Number(span.unpriced) === 1;
      const quote = priceSpan(opts.pricer, span);
      if (!quote) {
        if (wasUnpriced) res.stillUnpriced++;
        else res.keptWithoutPrice++;
        continue;
      }
      const old = parsePico(span.cost);
      if (!wasUnpriced && quote.total === old) continue;
      changed.push({ span, old, total: quote.total, parts: quote.parts, becamePriced: wasUnpriced });
    }
    for (const c of changed) {
      res.delta += c.total - c.old;
      if (c.becamePriced) res.newlyPriced++;
    }
    res.repriced += changed.length;
    if (changed.length && !opts.dryRun) await applyBatch(store, db, changed, opts.pricer.version, runId);
    opts.onProgress?.({ batches: res.batches, scanned: res.scanned, repriced: res.repriced });
    if (rows.length < batchSize) break;
  }
  return res;
}

/** The span's new price, as the ingest path prices it (price-span.ts priceInference): response model first, then request model. */
function priceSpan(pricer: Pricer, s: SpanIn): { total: Pico; parts: Repriced['parts'] } | undefined {
  const tokens = [s.input_tokens, s.output_tokens, s.cache_read_tokens, s.cache_write_tokens, s.reasoning_tokens].map(Number);
  // No token counts at all: the span reported no usage (a stream without a usage block); ingest
  // stores such spans with zeros, and there is nothing to price.
  if (tokens.every((t) => t === 0)) return undefined;
  const usage: Usage = {
    inputTokens: tokens[0]!,
    outputTokens: tokens[1]!,
    cacheReadTokens: tokens[2]!,
    cacheWriteTokens: tokens[3]!,
    reasoningTokens: tokens[4]!,
  };
  const at = Number(BigInt(s.end_ns) / 1_000_000n);
  const provider = s.provider || undefined;
  const quote =
    (s.response_model ? pricer.price(provider, s.response_model, { ...usage }, at) : undefined) ??
    (s.request_model ? pricer.price(provider, s.request_model, { ...usage }, at) : undefined);
  if (!quote) return undefined;
  // Batch API results keep their batch discount (as ingest prices them).
  const c = (Number(s.batch) === 1 ? batchQuote(quote) : quote).cost;
  return { total: c.total, parts: [c.input, c.output, c.cacheRead, c.cacheWrite, c.reasoning] };
}

/** The views count a call's cost as retry overhead on the same condition (task-costs-mv.sql, hourly-costs-mv.sql). */
function isRetryCost(s: SpanIn): boolean {
  return s.kind === 'inference' && (s.status_code === 'error' || Number(s.request_repeat) > 0);
}

/** Delta rows for task_costs, one per task. */
export function taskDeltas(changed: Repriced[]): object[] {
  const by = new Map<string, { row: Record<string, unknown>; cost: Pico; retry: Pico; unpriced: number; first: bigint; last: bigint }>();
  for (const c of changed) {
    const s = c.span;
    let d = by.get(s.task_id);
    if (!d) {
      d = {
        row: { task_id: s.task_id, service_name: s.service_name, agent_name: s.agent_name, task_name: s.task_name, user_id: s.user_id },
        cost: 0n,
        retry: 0n,
        unpriced: 0,
        first: BigInt(s.start_ns),
        last: BigInt(s.end_ns),
      };
      by.set(s.task_id, d);
    }
    // max() columns: the largest value among the spans corrected is still <= the task's max.
    for (const k of ['service_name', 'agent_name', 'task_name', 'user_id'] as const) if (s[k] > String(d.row[k])) d.row[k] = s[k];
    const delta = c.total - c.old;
    d.cost += delta;
    if (isRetryCost(s)) d.retry += delta;
    if (c.becamePriced) d.unpriced--;
    if (BigInt(s.start_ns) < d.first) d.first = BigInt(s.start_ns);
    if (BigInt(s.end_ns) > d.last) d.last = BigInt(s.end_ns);
  }
  return [...by.values()].map((d) => ({
    ...d.row,
    first_seen: nsText(d.first),
    last_seen: nsText(d.last),
    cost: formatPico(d.cost),
    llm_cost: formatPico(d.cost), // only inference spans are repriced
    tool_cost: formatPico(0n),
    retry_cost: formatPico(d.retry),
    unpriced_calls: d.unpriced,
    outcome: '', // the smallest value: never moves max(outcome)
  }));
}

/** Delta rows for hourly_costs, one per rollup key (the view's GROUP BY). */
export function hourlyDeltas(changed: Repriced[]): object[] {
  const by = new Map<string, { row: Record<string, unknown>; cost: Pico; retry: Pico; unpriced: number }>();
  for (const c of changed) {
    const s = c.span;
    const model = s.response_model !== '' ? s.response_model : s.request_model;
    const keyRow = {
      hour: Number(s.hour_ts),
      service_name: s.service_name,
      agent_name: s.agent_name,
      task_name: s.task_name,
      tool_name: s.tool_name,
      provider: s.provider,
      model,
      operation: s.operation,
      kind: s.kind,
    };
    const key = JSON.stringify(Object.values(keyRow));
    let d = by.get(key);
    if (!d) by.set(key, (d = { row: keyRow, cost: 0n, retry: 0n, unpriced: 0 }));
    const delta = c.total - c.old;
    d.cost += delta;
    if (isRetryCost(s)) d.retry += delta;
    if (c.becamePriced) d.unpriced--;
  }
  // Counts and tokens are omitted (default 0); duration_quantiles gets the empty state.
  return [...by.values()].map((d) => ({ ...d.row, cost: formatPico(d.cost), retry_cost: formatPico(d.retry), unpriced_calls: d.unpriced }));
}

/**
 * The batch's identity: this run's id, then the repriced span ids with their old and new costs in
 * span_id order. The run id matters: prices changed A -> B -> A -> B give the same spans the same
 * old and new costs twice, and without it the second correction would be dropped as a duplicate
 * of the first. A crashed batch is finished from its journal entry under its original token.
 */
export function batchToken(changed: Repriced[], runId: string): string {
  const h = createHash('sha256').update(`spendtrace-reprice-v1\n${runId}`);
  for (const c of [...changed].sort((a, b) => (a.span.span_id < b.span.span_id ? -1 : 1))) {
    h.update(`\n${c.span.span_id}:${c.old}:${c.total}:${c.parts.join(',')}`);
  }
  return h.digest('hex');
}

/** What a batch writes, recorded in reprice_log before anything else so a crashed batch can be finished as planned. */
interface Plan {
  token: string;
  version: string;
  tasks: object[];
  hourly: object[];
  spans: Array<{ id: string; total: string; parts: string[] }>;
}

function planOf(changed: Repriced[], pricingVersion: string, runId: string): Plan {
  return {
    token: batchToken(changed, runId),
    version: pricingVersion,
    tasks: taskDeltas(changed),
    hourly: hourlyDeltas(changed),
    spans: changed.map((c) => ({ id: c.span.span_id, total: formatPico(c.total), parts: c.parts.map(formatPico) })),
  };
}

async function applyBatch(store: Store, db: string, changed: Repriced[], pricingVersion: string, runId: string): Promise<void> {
  const plan = planOf(changed, pricingVersion, runId);
  await store.insert(`${db}.reprice_log`, [{ token: plan.token, step: 'planned', plan: JSON.stringify(plan) }], { dedupToken: `reprice-plan-${plan.token}` });
  await executePlan(store, db, plan, false);
}

/** Steps 2 and 3 of the header, each recorded in the journal when it completes. */
async function executePlan(store: Store, db: string, plan: Plan, rollupsDone: boolean): Promise<void> {
  const log = (step: string) => store.insert(`${db}.reprice_log`, [{ token: plan.token, step, plan: '' }], { dedupToken: `reprice-${step}-${plan.token}` });
  if (!rollupsDone) {
    // Step 2: the rollup corrections, each deduplicated by the batch's token (see the header).
    await store.insert(`${db}.task_costs`, plan.tasks, { dedupToken: `reprice-task-${plan.token}` });
    await store.insert(`${db}.hourly_costs`, plan.hourly, { dedupToken: `reprice-hourly-${plan.token}` });
    await log('rollups');
  }
  // Step 3: the spans themselves, only after the rollups are corrected. Setting fixed values is
  // idempotent, so finishing a batch whose mutation half ran is safe.
  for (let i = 0; i < plan.spans.length; i += MUTATION_CHUNK) {
    await store.command(updateSpansSql(db, plan.spans.slice(i, i + MUTATION_CHUNK), plan.version));
  }
  await log('done');
}

/** Finishes batches a crashed run planned but did not complete; returns how many. */
async function recover(store: Store, db: string): Promise<number> {
  const open = await store.query<{ token: string; plan: string; steps: string[] }>(
    `SELECT token, argMax(plan, length(plan)) AS plan, groupUniqArray(step) AS steps
     FROM ${db}.reprice_log GROUP BY token HAVING NOT has(steps, 'done') ORDER BY min(created_at)`,
  );
  for (const row of open) {
    if (!row.plan) continue;
    await executePlan(store, db, JSON.parse(row.plan) as Plan, row.steps.includes('rollups'));
  }
  return open.length;
}

async function ensureJournal(store: Store, db: string): Promise<void> {
  const template = readFileSync(fileURLToPath(new URL('../schema/reprice-log-table.sql', import.meta.url)), 'utf8');
  await store.command(renderSql(template, schemaVariables({ database: db })).trim());
}

const COST_COLUMNS = ['cost_input', 'cost_output', 'cost_cache_read', 'cost_cache_write', 'cost_reasoning'] as const;

/**
 * One mutation for a chunk of spans. Values are literals (the Store's command has no parameter
 * binding): span ids are checked hex, money is formatPico text, the version is quoted. transform()
 * does not take Decimal, so each cost goes through its exact decimal text.
 */
export function updateSpansSql(db: string, chunk: Plan['spans'], pricingVersion: string): string {
  for (const c of chunk) if (!/^[0-9a-f]{16}$/.test(c.id)) throw new Error(`unexpected span id ${JSON.stringify(c.id)}`);
  for (const c of chunk) for (const v of [c.total, ...c.parts]) if (!/^-?\d+\.\d{12}$/.test(v)) throw new Error(`unexpected amount ${JSON.stringify(v)}`);
  const ids = `[${chunk.map((c) => `'${c.id}'`).join(',')}]`;
  const set = (column: string, values: string[]) =>
    `${column} = toDecimal128(transform(span_id, ${ids}, [${values.map((v) => `'${v}'`).join(',')}], toString(${column})), 12)`;
  const assignments = [
    set(
      'cost',
      chunk.map((c) => c.total),
    ),
    ...COST_COLUMNS.map((col, i) =>
      set(
        col,
        chunk.map((c) => c.parts[i]!),
      ),
    ),
    `cost_source = 'exporter'`,
    `unpriced = 0`,
    `pricing_version = ${quote(pricingVersion)}`,
  ];
  return `ALTER TABLE ${db}.spans UPDATE ${assignments.join(', ')}
    WHERE span_id IN ${ids} AND kind = 'inference' AND cost_source != 'provider'
    SETTINGS mutations_sync = 2`;
}

function quote(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function nsText(ns: bigint): string {
  return `${ns / 1_000_000_000n}.${(ns % 1_000_000_000n).toString().padStart(9, '0')}`;
}

/**
 * unpriced_calls takes negative deltas, so it must be a signed sum. Stores created before this
 * change have SimpleAggregateFunction(sum, UInt64): convert them once (a metadata change plus a
 * rewrite of that one column; values are small counts, so nothing changes meaning).
 */
export async function ensureSignedCounts(store: Store, db: string): Promise<string[]> {
  const rows = await store.query<{ table: string; type: string }>(
    `SELECT table, type FROM system.columns WHERE database = {db:String} AND table IN ('task_costs', 'hourly_costs') AND name = 'unpriced_calls'`,
    { db },
  );
  const altered: string[] = [];
  for (const r of rows) {
    if (r.type.includes('Int64') && !r.type.includes('UInt64')) continue;
    await store.command(`ALTER TABLE ${db}.${r.table} MODIFY COLUMN unpriced_calls SimpleAggregateFunction(sum, Int64) SETTINGS mutations_sync = 2`);
    altered.push(r.table);
  }
  return altered;
}
