/** `GET /api/insights?since=7d&service=`: plugged into the report routes (reports/api.ts `more`). */
import type { Pricer } from '@spendtrace/semconv';
import type { QueryableStore, ReportOptions } from '../reports/types.ts';
import { insights } from './index.ts';
import type { InsightThresholds } from './thresholds.ts';

export function insightsEndpoint(store: QueryableStore, pricer?: Pricer, thresholds?: InsightThresholds) {
  return async (path: string, w: ReportOptions): Promise<unknown | undefined> =>
    path === '/api/insights'
      ? insights(store, { since: w.since, service: w.service, database: w.database, ...(pricer ? { pricer } : {}), ...(thresholds ? { thresholds } : {}) })
      : undefined;
}
