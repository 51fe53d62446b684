/** Helpers for comparing query rows with results computed in the test: exact money, counts as numbers, grouping. */
import { formatPico, parsePico } from '@spendtrace/semconv';

export type Row = Record<string, unknown>;

/** ClickHouse Decimal text -> the canonical 12-digit string. */
export const usd = (v: unknown) => formatPico(parsePico(String(v)));
export const pico = (p: bigint) => formatPico(p);
export const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;
export const sum = (xs: bigint[]) => xs.reduce((a, b) => a + b, 0n);
export const byBigDesc = (a: bigint, b: bigint) => (a === b ? 0 : a > b ? -1 : 1);

export function groupBy<T>(xs: T[], key: (x: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const x of xs) m.set(key(x), [...(m.get(key(x)) ?? []), x]);
  return m;
}

/** Money columns as 12-digit strings and numeric strings (UInt64 etc.) as numbers, so rows compare exactly. */
export function normalize(rows: Row[], money: string[]): Row[] {
  return rows.map((r) =>
    Object.fromEntries(
      Object.entries(r).map(([k, v]) => [
        k,
        v === null ? null : money.includes(k) ? usd(v) : typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v,
      ]),
    ),
  );
}
