/**
 * The dashboard at `/`: one static page that reads `/api/report` and draws the same numbers as
 * `spendtrace report`. No build step and no external assets, so it works offline and behind
 * strict proxies. Money arrives as exact decimal strings and is only rounded for display.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

const PAGE = /* html */ `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>spendtrace</title>
<style>
 body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#1d2330;background:#fafbfc}
 h1{font-size:20px;margin:0 0 4px} h2{font-size:15px;margin:28px 0 8px}
 .cards{display:flex;flex-wrap:wrap;gap:12px;margin-top:16px}
 .card{background:#fff;border:1px solid #e3e6eb;border-radius:8px;padding:10px 14px;min-width:150px}
 .card b{display:block;font-size:20px} .card span{color:#6a7383;font-size:12px}
 .warn{background:#fff4e5;border-color:#f5c07a}
 table{border-collapse:collapse;background:#fff;border:1px solid #e3e6eb;font-variant-numeric:tabular-nums}
 th,td{padding:4px 10px;border-bottom:1px solid #eef0f3;text-align:left;white-space:nowrap}
 th{font-size:12px;color:#6a7383;font-weight:600} td.n{text-align:right}
 select{font:inherit} #err{color:#b42318}
</style></head><body>
<h1>spendtrace</h1>
<div>Window <select id="since"><option>1h</option><option>24h</option><option selected>7d</option><option>30d</option><option>all</option></select>
 <span id="err"></span></div>
<div class="cards" id="cards"></div>
<div id="tables"></div>
<script>
const $ = (s) => document.querySelector(s);
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c]));
function money(d) {
  if (d === null || d === undefined) return '—';
  const [i, f = ''] = String(d).split('.');
  const frac = (f + '000000000000').slice(0, 12);
  let six = BigInt(i.replace('-', '') + frac.slice(0, 6)) + (Number(frac[6]) >= 5 ? 1n : 0n);
  const s = six.toString().padStart(7, '0');
  return (i.startsWith('-') ? '-' : '') + '$' + s.slice(0, -6) + '.' + s.slice(-6);
}
const pct = (x) => (x === null || x === undefined ? '—' : (x * 100).toFixed(1) + '%');
const cost = (c, u) => (u > 0 && /^0\\.0+$/.test(c) ? 'unpriced' : money(c) + (u > 0 ? ' +unpriced' : ''));
function table(title, rows, cols) {
  if (!rows.length) return '<h2>' + title + '</h2><p>(none in this window)</p>';
  return '<h2>' + title + '</h2><table><tr>' + cols.map((c) => '<th>' + c[0] + '</th>').join('') + '</tr>' +
    rows.map((r) => '<tr>' + cols.map((c) => '<td class="' + (c[2] || '') + '">' + esc(c[1](r)) + '</td>').join('') + '</tr>').join('') + '</table>';
}
async function load() {
  $('#err').textContent = '';
  let r;
  try { const res = await fetch('/api/report?since=' + $('#since').value); r = await res.json(); if (!res.ok) throw new Error(r.error); }
  catch (e) { $('#err').textContent = 'cannot load the report: ' + e.message; return; }
  const s = r.summary;
  const card = (label, value, cls) => '<div class="card ' + (cls || '') + '"><b>' + esc(value) + '</b><span>' + label + '</span></div>';
  $('#cards').innerHTML = card('total cost', money(s.totalCost)) + card('cost per successful task', money(s.costPerSuccessfulTask)) +
    card('tasks (' + s.successfulTasks + ' ok, ' + s.failedTasks + ' failed)', s.tasks) + card('success rate', pct(s.successRate)) +
    card('p50 / p95 cost per task', s.costPerTask ? money(s.costPerTask.p50) + ' / ' + money(s.costPerTask.p95) : '—') +
    card('retry overhead', pct(s.retryOverhead)) + card('top model share', s.topModel ? s.topModel.model + ' ' + pct(s.topModel.share) : '—') +
    (s.unpricedCalls ? card('unpriced calls: NOT in the totals', s.unpricedCalls, 'warn') : '');
  const n = 'n';
  $('#tables').innerHTML =
    table('Top 3 tasks', s.topTasks, [['task', (t) => t.taskName], ['agent', (t) => t.agent], ['outcome', (t) => t.outcome], ['cost', (t) => cost(t.cost, t.unpricedCalls), n]]) +
    table('By task', r.byTask.slice(0, 50), [['task', (t) => t.taskName], ['agent', (t) => t.agent], ['outcome', (t) => t.outcome], ['cost', (t) => cost(t.cost, t.unpricedCalls), n], ['LLM', (t) => money(t.llmCost), n], ['tools', (t) => money(t.toolCost), n], ['calls', (t) => t.llmCalls + '+' + t.toolCalls, n], ['started', (t) => t.firstSeen.slice(0, 19).replace('T', ' ')]]) +
    table('By tool', r.byTool, [['tool', (t) => t.tool], ['calls', (t) => t.calls, n], ['fees', (t) => money(t.toolCost), n], ['LLM cost', (t) => money(t.llmCost), n], ['total', (t) => money(t.cost), n]]) +
    table('By model', r.byModel, [['provider', (m) => m.provider], ['model', (m) => m.model], ['calls', (m) => m.calls, n], ['tokens in', (m) => m.tokens.input, n], ['cached', (m) => m.tokens.cacheRead, n], ['tokens out', (m) => m.tokens.output, n], ['cost', (m) => cost(m.cost, m.unpricedCalls), n], ['share', (m) => pct(m.share), n]]) +
    table('By agent', r.byAgent, [['agent', (a) => a.agent], ['tasks', (a) => a.tasks, n], ['ok', (a) => a.successfulTasks, n], ['failed', (a) => a.failedTasks, n], ['cost', (a) => cost(a.cost, a.unpricedCalls), n], ['per success', (a) => money(a.costPerSuccessfulTask), n]]) +
    table('By hour (UTC)', r.byHour, [['hour', (h) => h.hour.slice(0, 16).replace('T', ' ')], ['cost', (h) => cost(h.cost, h.unpricedCalls), n], ['LLM calls', (h) => h.llmCalls, n], ['tool calls', (h) => h.toolCalls, n], ['errors', (h) => h.errors, n]]);
}
$('#since').onchange = load;
load();
</script></body></html>
`;

/** Serves the page at `/` (and `/dashboard`); everything else is left to the next route. */
export function createDashboardRoute() {
  return (req: IncomingMessage, res: ServerResponse, url: URL): boolean => {
    if (url.pathname !== '/' && url.pathname !== '/dashboard') return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy': "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'",
    });
    res.end(req.method === 'HEAD' ? undefined : PAGE);
    return true;
  };
}
