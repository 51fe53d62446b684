/**
 * GET /api/alerts -> { configured, rules, sinks, lastEvaluation, firing, recent }: firing incidents
 * and those resolved in the last 7 days, newest first, each with its delivery status per sink.
 * Mounted before the report routes (which answer 404 for any other /api path).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AlertEvaluator } from './evaluator.ts';
import type { Incident } from './incidents.ts';

export interface AlertsView {
  configured: boolean;
  rules: Array<{ name: string; kind: string; sinks: string[] }>;
  sinks: Array<{ name: string; type: string }>;
  lastEvaluation: AlertEvaluator['lastEvaluation'] | null;
  firing: Incident[];
  recent: Incident[];
}

export function alertsView(evaluator: AlertEvaluator | undefined): AlertsView {
  if (!evaluator) return { configured: false, rules: [], sinks: [], lastEvaluation: null, firing: [], recent: [] };
  const all = evaluator.incidents.all();
  const c = evaluator.config;
  return {
    configured: true,
    rules: c.rules.map((r) => ({ name: r.name, kind: r.kind, sinks: r.sinks })),
    // Sink URLs are secrets (a Slack webhook URL is its own credential): names and types only.
    sinks: c.sinks.map((s) => ({ name: s.name, type: s.type })),
    lastEvaluation: evaluator.lastEvaluation ?? null,
    firing: all.filter((i) => i.status === 'firing'),
    recent: all.filter((i) => i.status === 'resolved'),
  };
}

export function createAlertsRoute(evaluator: AlertEvaluator | undefined) {
  return (req: IncomingMessage, res: ServerResponse, url: URL): boolean => {
    if (url.pathname !== '/api/alerts') return false;
    const status = req.method === 'GET' || req.method === 'HEAD' ? 200 : 405;
    const text = JSON.stringify(status === 200 ? alertsView(evaluator) : { error: `method ${req.method} not allowed; /api/alerts is read-only (GET)` });
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
      'content-length': Buffer.byteLength(text),
      ...(status === 405 ? { allow: 'GET, HEAD' } : {}),
    });
    res.end(req.method === 'HEAD' ? undefined : text);
    return true;
  };
}
