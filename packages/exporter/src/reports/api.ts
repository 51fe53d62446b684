/**
 * The JSON query API, mounted on the service through `startServer({ extraRoutes })`:
 *
 *   GET /api/summary?since=7d&service=checkout          -> Summary
 *   GET /api/costs?by=task|tool|model|agent|hour&since=7d&service=&limit=
 *                                                       -> { by, since, service, rows }
 *   GET /api/costs?by=agent,task,model|user|tenant|...  -> { by, dimensions, since, service, rows: BreakdownRow[] }
 *   GET /api/costs?dimensions=agent                     -> the same dimension table, even for one classic name
 *   GET /api/report?since=7d&service=                   -> FullReport (what `spendtrace report` prints)
 *   GET /api/insights?since=7d&service=                 -> Insights (what `spendtrace insights` prints)
 *   GET /api/routing?since=30d&task_type=&service=      -> RoutingReport: the history ModelRouters start
 *                                                          from, experiments and their verdicts, findings
 *
 * Money is an exact decimal string (12 fractional digits). Bad parameters get a 400 naming the
 * accepted values; anything outside /api/ is left to the server (the handler returns false).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { costsByAgent, costsByHour, costsByModel, costsByTask, costsByTool, fullReport, summary } from './costs.ts';
import { breakdown, DIMENSIONS, InvalidDimensionError, parseDimensions } from './breakdown.ts';
import { routingReport } from './routing.ts';
import { GROUP_BYS } from './types.ts';
import type { GroupBy, QueryableStore, ReportOptions } from './types.ts';
import { InvalidWindowError, parseSince } from './window.ts';

export interface ReportRoutesOptions {
  store: QueryableStore;
  /** @default 'spendtrace' */
  database?: string;
  /** Model concentration flag threshold (0..1). @default 0.7 */
  concentrationThreshold?: number;
  /** Extra `/api/...` endpoints (insights), tried before the 404; each returns undefined for a path it does not serve. */
  more?: (path: string, w: ReportOptions) => Promise<unknown | undefined>;
}

export type ExtraRoutes = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean>;

class BadRequest extends Error {}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function windowOf(url: URL, database: string | undefined): ReportOptions {
  const since = url.searchParams.get('since') ?? '7d';
  try {
    parseSince(since);
  } catch (err) {
    throw new BadRequest(err instanceof InvalidWindowError ? err.message.replace('--since', 'since') : String(err));
  }
  const service = url.searchParams.get('service') ?? '';
  return { since, service, database };
}

/** One `--by` / `?by=`: a classic grouping (`task`: one row per task), or any list of dimensions. */
export async function costsByAny(store: QueryableStore, by: string, opts: ReportOptions & { limit?: number }) {
  if (isGroupBy(by)) return { by, since: opts.since ?? '7d', service: opts.service || null, rows: await costsBy(store, by, opts) };
  return costsByDimensions(store, by, opts);
}

/** The dimension table for any list of dimensions, a single classic one (`agent`) included. */
async function costsByDimensions(store: QueryableStore, by: string, opts: ReportOptions & { limit?: number }) {
  const dimensions = parseDimensions(by);
  return { by, dimensions, since: opts.since ?? '7d', service: opts.service || null, rows: await breakdown(store, dimensions, opts) };
}

/** Runs one grouping; shared by the API and the CLI so both return the same rows. */
export function costsBy(store: QueryableStore, by: GroupBy, opts: ReportOptions & { limit?: number }) {
  switch (by) {
    case 'task':
      return costsByTask(store, opts);
    case 'tool':
      return costsByTool(store, opts);
    case 'model':
      return costsByModel(store, opts);
    case 'agent':
      return costsByAgent(store, opts);
    case 'hour':
      return costsByHour(store, opts);
  }
}

export function isGroupBy(v: string): v is GroupBy {
  return (GROUP_BYS as readonly string[]).includes(v);
}

export function createReportRoutes(opts: ReportRoutesOptions): ExtraRoutes {
  const { store, database, concentrationThreshold } = opts;
  return async (req, res, url) => {
    if (url.pathname !== '/api' && !url.pathname.startsWith('/api/')) return false;
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.setHeader('allow', 'GET, HEAD');
        send(res, 405, { error: `method ${req.method} not allowed; the query API is read-only (GET)` });
        return true;
      }
      const cText = url.searchParams.get('concentration');
      const c = cText === null ? concentrationThreshold : Number(cText);
      if (c !== undefined && !(c > 0 && c <= 1)) throw new BadRequest(`invalid concentration "${cText}": expected a share between 0 and 1`);
      const w = { ...windowOf(url, database), concentrationThreshold: c };
      switch (url.pathname) {
        case '/api/summary':
          send(res, 200, await summary(store, w));
          return true;
        case '/api/report':
          send(res, 200, await fullReport(store, w));
          return true;
        case '/api/routing':
          send(res, 200, await routingReport(store, { ...w, taskType: url.searchParams.get('task_type') ?? '' }));
          return true;
        case '/api/costs': {
          // `dimensions=` always asks for the dimension table: `by=agent` alone answers the per-agent report.
          const dimensions = url.searchParams.get('dimensions');
          const by = dimensions ?? url.searchParams.get('by') ?? 'task';
          const limitText = url.searchParams.get('limit');
          const limit = limitText === null ? 0 : Number(limitText);
          if (!Number.isInteger(limit) || limit < 0) throw new BadRequest(`invalid limit "${limitText}": expected a non-negative integer`);
          try {
            send(res, 200, dimensions !== null ? await costsByDimensions(store, dimensions, { ...w, limit }) : await costsByAny(store, by, { ...w, limit }));
          } catch (err) {
            if (err instanceof InvalidDimensionError)
              throw new BadRequest(
                dimensions !== null
                  ? `invalid dimensions "${by}": expected a comma-separated list of ${DIMENSIONS.join(', ')}`
                  : `invalid by "${by}": expected one of ${GROUP_BYS.join(', ')}, or a comma-separated list of ${DIMENSIONS.join(', ')}`,
              );
            throw err;
          }
          return true;
        }
        default: {
          const body = opts.more ? await opts.more(url.pathname, w) : undefined;
          if (body !== undefined) {
            send(res, 200, body);
            return true;
          }
          send(res, 404, {
            error: `no such endpoint ${url.pathname}; try /api/summary, /api/costs?by=${GROUP_BYS.join('|')}, /api/report, /api/insights, /api/routing`,
          });
          return true;
        }
      }
    } catch (err) {
      if (err instanceof BadRequest) send(res, 400, { error: err.message });
      else send(res, 500, { error: `query failed: ${err instanceof Error ? err.message : String(err)}` });
      return true;
    }
  };
}
