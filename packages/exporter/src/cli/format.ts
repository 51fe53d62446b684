/** Text output for people: money, percentages, counts and aligned tables. */
import { parsePico } from '@spendtrace/semconv';

/**
 * `"0.004350000000"` -> `$0.004350`. Exact: rounds the decimal string half-up, never via a float.
 * A non-zero amount too small for `digits` keeps every digit it has rather than showing $0.
 */
export function money(usd: string | null | undefined, digits = 6): string {
  if (usd === null || usd === undefined) return '—';
  const pico = parsePico(usd);
  const neg = pico < 0n;
  const abs = neg ? -pico : pico;
  const unit = 10n ** BigInt(12 - digits);
  let rounded = (abs + unit / 2n) / unit;
  let scale = digits;
  if (rounded === 0n && abs !== 0n) {
    rounded = abs;
    scale = 12;
    while (scale > digits && rounded % 10n === 0n) {
      rounded /= 10n;
      scale--;
    }
  }
  const s = rounded.toString().padStart(scale + 1, '0');
  const int = s.slice(0, s.length - scale).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${neg ? '-' : ''}$${int}.${s.slice(s.length - scale)}`;
}

export function percent(x: number | null | undefined, digits = 1): string {
  return x === null || x === undefined ? '—' : `${(x * 100).toFixed(digits)}%`;
}

export function count(n: number): string {
  return n.toLocaleString('en-US');
}

export function ms(n: number): string {
  return n >= 1000 ? `${(n / 1000).toFixed(2)} s` : `${n.toFixed(n < 10 ? 2 : 0)} ms`;
}

/** `2026-11-22T05:00:00.000Z` -> `2026-11-22 05:00` (UTC). */
export function hour(isoText: string): string {
  return isoText.slice(0, 16).replace('T', ' ');
}

export function time(isoText: string): string {
  return isoText.slice(0, 19).replace('T', ' ');
}

export interface Column<R> {
  header: string;
  value: (row: R) => string;
  align?: 'left' | 'right';
  /** Truncate longer cells with an ellipsis. */
  max?: number;
}

/** An aligned table with a header and a rule, each line prefixed by `indent`. */
export function table<R>(rows: readonly R[], columns: readonly Column<R>[], indent = '  '): string {
  const cells = rows.map((r) =>
    columns.map((c) => {
      const v = c.value(r);
      return c.max && v.length > c.max ? `${v.slice(0, c.max - 1)}…` : v;
    }),
  );
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((row) => row[i]!.length)));
  const line = (vals: string[]) =>
    indent +
    vals
      .map((v, i) => (columns[i]!.align === 'right' ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), indent + widths.map((w) => '─'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}
