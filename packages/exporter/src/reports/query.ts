/** What every report query shares: the resolved window and database, and reading ClickHouse values. */
import { formatPico, parsePico } from '@spendtrace/semconv';
import type { LatencyMs, ReportOptions, TokenCounts, Usd } from './types.ts';
import { parseSince } from './window.ts';
import { IDENTIFIER, DEFAULT_DATABASE } from '../database-name.ts';

export interface Resolved {
  db: string;
  params: { since_s: number; service: string };
  since: string;
  service: string | null;
}

export function resolve(opts: ReportOptions = {}): Resolved {
  const database = opts.database ?? DEFAULT_DATABASE;
  // Identifiers cannot be bound as values; this is the one thing interpolated, so it is checked.
  if (!IDENTIFIER.test(database)) throw new RangeError(`invalid database name "${database}": expected letters, digits and _`);
  const since = opts.since ?? '7d';
  return {
    db: `\`${database}\``,
    params: { since_s: parseSince(since), service: opts.service ?? '' },
    since,
    service: opts.service || null,
  };
}

export const num = (v: unknown): number => (v === null || v === undefined || v === '' ? 0 : Number(v));
export const str = (v: unknown): string => (v === null || v === undefined ? '' : String(v));
/** ClickHouse Decimal text -> the canonical 12-digit decimal string. */
export const usd = (v: unknown): Usd => formatPico(parsePico(str(v) || '0'));
export const iso = (ms: unknown): string => new Date(num(ms)).toISOString();

export function latency(v: unknown): LatencyMs {
  const a = Array.isArray(v) ? v.map(num) : [];
  // Quantile states hold nanoseconds; NaN appears when a group had no samples.
  const ms = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? 0 : Math.round(x / 1e4) / 100);
  return { p50: ms(a[0]), p95: ms(a[1]), p99: ms(a[2]) };
}

export function tokens(r: Record<string, unknown>): TokenCounts {
  return {
    input: num(r.tok_in),
    output: num(r.tok_out),
    cacheRead: num(r.tok_cache_read),
    cacheWrite: num(r.tok_cache_write),
    reasoning: num(r.tok_reasoning),
  };
}

/** pico / n rounded half-up to the pico, as a decimal string. */
export function perUnit(total: bigint, n: number): Usd | null {
  if (n <= 0) return null;
  const d = BigInt(n);
  const q = total / d;
  return formatPico((total % d) * 2n >= d ? q + 1n : q);
}

/** a / b as a number in 0..1 with 6 significant fractional digits, exact integer math until then. */
export function ratio(a: bigint, b: bigint): number | null {
  if (b === 0n) return null;
  return Number((a * 1_000_000n) / b) / 1_000_000;
}

/** ClickHouse Decimal text -> pico-USD. */
export const pico = (v: unknown): bigint => parsePico(str(v) || '0');

/** Spans (alias `s`) in the window and service of `{since_s}` / `{service}`. */
export const SPANS_WHERE = `s.start_time >= now64(9) - toIntervalSecond({since_s:UInt64})
    AND ({service:String} = '' OR s.service_name = {service:String})`;

/** Nearest-rank percentile `q` (0..100) of a sorted ClickHouse array `arr`: the cost of a real task. */
export const nearestRank = (arr: string, q: number) => `${arr}[greatest(1, intDiv(${q} * length(${arr}) + 99, 100))]`;

// Aliases never reuse a column name: ClickHouse's analyzer would resolve later references to them.
export const TOKEN_SUMS = `
    sum(input_tokens) AS tok_in, sum(output_tokens) AS tok_out,
    sum(cache_read_tokens) AS tok_cache_read, sum(cache_write_tokens) AS tok_cache_write,
    sum(reasoning_tokens) AS tok_reasoning`;

/** task_costs merged per task, then windowed and filtered (first_seen is only final after the merge). */
export function tasksCte(db: string): string {
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
