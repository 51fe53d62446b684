/** Builds the DetectorContext: the window, and how a window's saving becomes a month's. */
import { Pricer } from '@spendtrace/semconv';
import { resolve, SPANS_WHERE, num } from '../reports/query.ts';
import type { QueryableStore } from '../reports/types.ts';
import { ALL_TIME_SECONDS } from '../reports/window.ts';
import { DEFAULT_INSIGHT_THRESHOLDS } from './thresholds.ts';
import type { DetectorContext, InsightOptions } from './types.ts';

const DAY_S = 86_400;
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
let defaultPricer: Pricer | undefined;

export async function detectorContext(store: QueryableStore, opts: InsightOptions = {}): Promise<DetectorContext & { since: string; service: string | null }> {
  const r = resolve({ since: opts.since, service: opts.service, database: opts.database });
  let windowS = r.params.since_s;
  if (windowS >= ALL_TIME_SECONDS) {
    // "all": the span of the data itself, at least a day.
    const [row] = await store.query<Record<string, unknown>>(`SELECT toUnixTimestamp(now()) - toUnixTimestamp(min(start_time)) AS age FROM ${r.db}.spans`);
    windowS = Math.max(DAY_S, num(row?.age));
  }
  const now = new Date();
  const dim = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 0)).getUTCDate();
  const days = windowS / DAY_S;
  const daysText = Number.isInteger(days) ? String(days) : days.toFixed(2);
  return {
    store,
    db: r.db,
    params: r.params,
    where: SPANS_WHERE,
    pricer: opts.pricer ?? (defaultPricer ??= new Pricer()),
    thresholds: opts.thresholds ?? DEFAULT_INSIGHT_THRESHOLDS,
    monthly: (pico) => (pico * BigInt(dim * DAY_S)) / BigInt(windowS),
    scaleText: `window figures × ${dim}/${daysText}: the last ${daysText} day${days === 1 ? '' : 's'} taken as typical of ${MONTHS[now.getUTCMonth()]} (${dim} days)`,
    since: r.since,
    service: r.service,
  };
}
