/**
 * The JSON query API, mounted on the service through `startServer({ extraRoutes })`:
 *
 *   GET /api/summary?since=7d&service=checkout          -> Summary
 *   GET /api/costs?by=task|tool|model|agent|hour&since=7d&service=&limit=
 *                                                       -> { by, since, service, rows }
 *   GET /api/report?since=7d&service=                   -> FullReport (what `spendtrace report` prints)
 *   GET /api/routing?since=30d&task_type=&service=      -> RoutingReport: the history ModelRouters start
 *                                                          from, experiments and their verdicts, findings
 *
 * Money is an exact decimal string (12 fractional digits). Bad parameters get a 400 naming the
 * accepted values; anything outside /api/ is left to the server (the handler returns false).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { costsByAgent, costsByHour, costsByModel, costsByTask, costsByTool, fullReport, summary } from './costs.ts';
import { routingReport } from './routing.ts';
import { GROUP_BYS } from './types.ts';
import type { GroupBy, QueryableStore, ReportOptions } from './types.ts';
import { InvalidWindowError, parseSince } from './window.ts';

export interface ReportRoutesOptions {
  store: QueryableStore;
  /** @default 'spendtrace' */
  database?: string;
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

/** Runs one grouping; shared by the API and the CLI so both return the same rows. */
export function costsBy(store: QueryableStore, by: GroupBy, opts: ReportOptions & { limit?: number }) {
  switch (by) {
    case 'task': return costsByTask(store, opts);
    case 'tool': return costsByTool(store, opts);
    case 'model': return costsByModel(store, opts);
    case 'agent': return costsByAgent(store, opts);
    case 'hour': return costsByHour(store, opts);
  }
}

export function isGroupBy(v: string): v is GroupBy {
  return (GROUP_BYS as readonly string[]).includes(v);
}

export function createReportRoutes(opts: ReportRoutesOptions): ExtraRoutes {
  const { store, database } = opts;
  return async (req, res, url) => {
    if (url.pathname !== '/api' && !url.pathname.startsWith('/api/')) return false;
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.setHeader('allow', 'GET, HEAD');
        send(res, 405, { error: `method ${req.method} not allowed; the query API is read-only (GET)` });
        return true;
      }
      const w = windowOf(url, database);
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
          const by = url.searchParams.get('by') ?? 'task';
          if (!isGroupBy(by)) throw new BadRequest(`invalid by "${by}": expected one of ${GROUP_BYS.join(', ')}`);
          const limitText = url.searchParams.get('limit');
          const limit = limitText === null ? 0 : Number(limitText);
          if (!Number.isInteger(limit) || limit < 0) throw new BadRequest(`invalid limit "${limitText}": expected a non-negative integer`);
          const rows = await costsBy(store, by, { ...w, limit });
          send(res, 200, { by, since: w.since, service: w.service || null, rows });
          return true;
        }
        default:
          send(res, 404, { error: `no such endpoint ${url.pathname}; try /api/summary, /api/costs?by=${GROUP_BYS.join('|')}, /api/report, /api/routing` });
          return true;
      }
    } catch (err) {
      if (err instanceof BadRequest) send(res, 400, { error: err.message });
      else send(res, 500, { error: `query failed: ${err instanceof Error ? err.message : String(err)}` });
      return true;
    }
  };
}
