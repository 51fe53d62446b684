// Types for format.js, the dashboard's browser-side formatter (plain JavaScript, no build step),
// so tests can import it under the workspace's TypeScript settings.
export interface HourLike {
  hour: string;
  cost: string;
  llmCalls: number;
  toolCalls: number;
  errors: number;
  unpricedCalls: number;
}
export interface TimeBucket {
  start: number;
  step: number;
  pico: bigint;
  llmCalls: number;
  toolCalls: number;
  errors: number;
  unpricedCalls: number;
}
export function parsePico(usd: string | null | undefined): bigint;
export function moneyPico(pico: bigint, digits?: number): string;
export function money(usd: string | null | undefined, digits?: number): string;
export function costText(usd: string, unpricedCalls: number): string;
export function percent(x: number | null | undefined, digits?: number): string;
export function count(n: number | null | undefined): string;
export function fraction(pico: bigint, max: bigint): number;
export function windowSeconds(since: string): number | null;
export function timeBuckets(rows: readonly HourLike[], since: string, nowMs: number): TimeBucket[];
export function utc(isoOrMs: string | number, withTime?: boolean): string;
export interface HistogramBin {
  lo: bigint;
  hi: bigint;
  count: number;
}
export function costHistogram(costs: readonly bigint[], n?: number): { max: bigint; bins: HistogramBin[] };
export interface TaskLike {
  taskId: string;
  taskName: string;
  agent: string;
  outcome: string;
  firstSeen: string;
  llmCalls: number;
  toolCalls: number;
  cost: string;
  vsMedian: number | null;
}
export function compareTasks(a: TaskLike, b: TaskLike, key: string, dir: 1 | -1): number;
