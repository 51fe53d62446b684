// Proves the dashboard as a person sees it in headless Chromium over a real `spendtrace serve` (embedded chDB, alert rules evaluated, a webhook receiver on 127.0.0.1): the empty state first, then the demo fleet's spend — total equal to the API's, top tasks, every model with the unpriced one flagged rather than $0, the breakdown by any dimensions with margin per tenant, tool success rates, the daily trend and the projection with its method, the alert the evaluator fired — and that switching the window refetches and redraws.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { parseAlertsConfig } from '../src/alerts/index.ts';
import type { AlertsView } from '../src/alerts/api.ts';
import { money } from '../src/cli/format.ts';
import { startService } from '../src/cli/service.ts';
import type { RunningService } from '../src/cli/service.ts';
import type { BreakdownRow, FullReport } from '../src/reports/index.ts';
import { startReceiver } from './support/webhook-receiver.ts';
import type { Receiver } from './support/webhook-receiver.ts';

const CHROMIUM = '/usr/bin/chromium';
const inCi = Boolean(process.env.CI) && !['0', 'false'].includes(process.env.CI!.toLowerCase());
const skip = !existsSync(CHROMIUM) && !inCi;
if (skip) console.warn(`dashboard.test.ts: SKIPPED: ${CHROMIUM} is missing (run scripts/install-chromium.sh). With CI=true this test runs and fails instead.`);

/** Where the screenshots go; the test prints the paths. */
const SHOTS = process.env.SPENDTRACE_SCREENSHOT_DIR ?? tmpdir();
const SHOT_FULL = join(SHOTS, 'spendtrace-dashboard.png');
const SHOT_EMPTY = join(SHOTS, 'spendtrace-dashboard-empty.png');
const SHOT_WEEK = join(SHOTS, 'spendtrace-dashboard-7d.png');
const SHOT_PANELS = join(SHOTS, 'spendtrace-dashboard-panels.png');
const SHOT_FLAGGED = join(SHOTS, 'spendtrace-dashboard-flagged.png');
const SHOT_VIEWS = join(SHOTS, 'spendtrace-dashboard-views.png');
const SHOT_TENANT = join(SHOTS, 'spendtrace-dashboard-tenant.png');

/** A task three days old: inside 7d, outside 24h, dearer than anything the demo spends. */
const BACKFILL = {
  task: 'quarterly-backfill',
  agent: 'batch-agent',
  tool: 'bulk_export',
  llm: 0.75,
  fee: 1.5,
  cost: '2.250000000000',
  // what the app charged its customer for the task (recordTaskCharge / setTaskTenant): a $0.75 margin
  tenant: 'acme-corp',
  charged: '3.00',
};

function backfillSpans(now: bigint) {
  const attr = (key: string, v: string | number | boolean) => ({
    key,
    value:
      typeof v === 'string'
        ? { stringValue: v }
        : typeof v === 'boolean'
          ? { boolValue: v }
          : Number.isInteger(v)
            ? { intValue: String(v) }
            : { doubleValue: v },
  });
  const t0 = now - 3n * 86_400n * 1_000_000_000n;
  const traceId = '5d1a2b3c4d5e6f708192a3b4c5d6e7f8';
  const common = [attr('spendtrace.task.name', BACKFILL.task), attr('gen_ai.agent.name', BACKFILL.agent)];
  const span = (spanId: string, name: string, startNs: bigint, attributes: unknown[], parentSpanId?: string) => ({
    traceId,
    spanId,
    ...(parentSpanId ? { parentSpanId } : {}),
    name,
    kind: name.startsWith('chat') ? 3 : 1,
    startTimeUnixNano: String(startNs),
    endTimeUnixNano: String(startNs + 2_000_000n),
    attributes: [...common, ...attributes],
  });
  return {
    resourceSpans: [
      {
        resource: { attributes: [attr('service.name', 'batch-svc')] },
        scopeSpans: [
          {
            scope: { name: 'dashboard-test' },
            spans: [
              span('a000000000000001', `invoke_agent ${BACKFILL.agent}`, t0, [
                attr('spendtrace.task.root', true),
                attr('spendtrace.task.outcome', 'success'),
                attr('spendtrace.tenant.id', BACKFILL.tenant),
                attr('spendtrace.task.charged_usd', BACKFILL.charged),
              ]),
              span(
                'a000000000000002',
                'chat gpt-4.1',
                t0 + 1_000n,
                [
                  attr('gen_ai.operation.name', 'chat'),
                  attr('gen_ai.provider.name', 'openai'),
                  attr('gen_ai.request.model', 'gpt-4.1'),
                  attr('gen_ai.usage.input_tokens', 200_000),
                  attr('gen_ai.usage.output_tokens', 40_000),
                  attr('gen_ai.usage.cost.amount', BACKFILL.llm),
                ],
                'a000000000000001',
              ),
              span(
                'a000000000000003',
                `execute_tool ${BACKFILL.tool}`,
                t0 + 5_000n,
                [attr('gen_ai.operation.name', 'execute_tool'), attr('gen_ai.tool.name', BACKFILL.tool), attr('spendtrace.tool.cost.amount', BACKFILL.fee)],
                'a000000000000001',
              ),
            ],
          },
        ],
      },
    ],
  };
}

describe.skipIf(skip)(skip ? `dashboard in headless Chromium (skipped: ${CHROMIUM} missing and CI not set)` : 'dashboard in headless Chromium', () => {
  let dir: string;
  let svc: RunningService;
  let browser: BrowserContext;
  let recv: Receiver;
  let page: Page;
  const problems: string[] = [];
  const reportRequests: string[] = [];
  /** The last /api/report body the page itself received: what it must show, to the digit. */
  let pageReport: FullReport | undefined;
  /** The last /api/alerts body the page received. */
  let pageAlerts: AlertsView | undefined;

  const api = async (since: string): Promise<FullReport> => (await fetch(`${svc.url}/api/report?since=${since}`)).json() as Promise<FullReport>;
  const text = async (selector: string) => ((await page.locator(selector).textContent()) ?? '').trim();
  const settled = (state: 'ready' | 'empty', since: string) => page.waitForSelector(`#app[data-state="${state}"][data-since="${since}"]`, { timeout: 15_000 });

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`CI is set but ${CHROMIUM} is missing: CI must run scripts/install-chromium.sh before the tests`);
    dir = mkdtempSync(join(tmpdir(), 'spendtrace-dashboard-'));
    recv = await startReceiver();
    // A real rule for the real evaluator: every agent that spends today crosses this budget.
    const alerts = parseAlertsConfig({
      evaluateEverySeconds: 1,
      sinks: [{ name: 'hook', type: 'webhook', url: `${recv.url}/hook` }],
      rules: [{ name: 'agent-daily', kind: 'budget', scope: 'agent', period: 'day', budgetUsd: '0.01', thresholds: [100] }],
    });
    svc = await startService({
      alerts,
      settings: { data: join(dir, 'data'), clickhouseUrl: undefined, database: 'spendtrace' },
      port: 0,
      host: '127.0.0.1',
      prices: undefined,
      log: () => {},
    });
    const { chromium } = await import('playwright-core');
    // Debian's chromium, never a downloaded one; a fresh profile so nothing leaks between runs.
    browser = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1280, height: 900 },
      colorScheme: 'light',
      timezoneId: 'UTC',
    });
    page = browser.pages()[0] ?? (await browser.newPage());
    // A CSP violation or a script error shows up here; the page must have none.
    page.on('console', (m) => {
      // The alerts panel asks /api/alerts, which a service without alert rules answers 404 (the panel says so); the browser logs that fetch.
      if (/\/api\/alerts\?/.test(m.location().url) && /status of 404/.test(m.text())) return;
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('request', (r) => {
      if (r.url().includes('/api/report')) reportRequests.push(new URL(r.url()).search);
    });
    page.on('response', async (r) => {
      if (r.url().includes('/api/report') && r.status() === 200) pageReport = (await r.json().catch(() => pageReport)) as FullReport;
      if (r.url().includes('/api/alerts') && r.status() === 200) pageAlerts = (await r.json().catch(() => pageAlerts)) as AlertsView;
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await svc?.close();
    await recv?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('shows a clear empty state, with the endpoint to send spans to, before any span arrives', async () => {
    await page.goto(`${svc.url}/?since=24h`);
    await settled('empty', '24h');
    expect(await page.locator('#empty').isVisible()).toBe(true);
    expect(await page.locator('#content').isVisible()).toBe(false);
    expect(await text('#empty-title')).toBe('No LLM spend in the last 24 hours');
    expect(await text('#empty-endpoint')).toBe(`OTEL_EXPORTER_OTLP_ENDPOINT=${svc.url}`);
    expect(await text('#empty')).toContain('spendtrace demo');
    expect(await page.locator('#since button[data-since="24h"]').getAttribute('aria-pressed')).toBe('true');
    // The alert rules are evaluated already; nothing has crossed them.
    await page.waitForSelector('#alerts [data-alerts="quiet"]', { state: 'attached', timeout: 15_000 });
    expect(pageAlerts).toMatchObject({ configured: true, firing: [], rules: [{ name: 'agent-daily', kind: 'budget' }] });
    await page.screenshot({ path: SHOT_EMPTY, fullPage: true });
    console.log(`dashboard empty-state screenshot: ${SHOT_EMPTY}`);
  });

  it('after the demo fleet runs, shows what the API reports: total, headline numbers, top tasks, models (unpriced flagged, not $0)', async () => {
    const post = await fetch(`${svc.url}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(backfillSpans(BigInt(Date.now()) * 1_000_000n)),
    });
    expect(post.status).toBe(200);
    const demoPath = new URL('../../demo/src/index.ts', import.meta.url).href;
    const { runDemoFleet } = (await import(demoPath)) as typeof import('../../demo/src/index.ts');
    await runDemoFleet({ otlpEndpoint: `${svc.url}/v1/traces`, log: () => {} });
    await svc.flush();

    const before = reportRequests.length;
    await page.click('#refresh');
    await settled('ready', '24h');
    expect(reportRequests.length).toBeGreaterThan(before);
    const r = await api('24h');
    const s = r.summary;
    expect(s.tasks).toBe(98);

    // Headline numbers, formatted exactly as `spendtrace report` prints them.
    expect(await text('[data-kpi="total"] .value')).toBe(money(s.totalCost));
    expect(await page.locator('[data-kpi="total"] .value').getAttribute('title')).toBe(`$${s.totalCost} exactly`);
    expect(await text('[data-kpi="per-success"] .value')).toBe(money(s.costPerSuccessfulTask));
    expect(await text('[data-kpi="success-rate"] .value')).toBe(`${(s.successRate! * 100).toFixed(1)}%`);
    expect(await text('[data-kpi="per-task"]')).toBe(
      `Cost per taskp50${money(s.costPerTask!.p50)}p90${money(s.costPerTask!.p90)}p95${money(s.costPerTask!.p95)}p99${money(s.costPerTask!.p99)}`,
    );
    expect(await text('[data-kpi="retry"] .value')).toBe(`${(s.retryOverhead! * 100).toFixed(1)}%`);
    expect(await text('[data-kpi="unpriced"] .value')).toBe('1');
    expect(await page.locator('[data-kpi="unpriced"]').getAttribute('class')).toContain('bad');
    expect(await page.title()).toContain(money(s.totalCost));

    // The unpriced call is announced loudly, by model.
    expect(await page.locator('#unpriced').isVisible()).toBe(true);
    expect(await text('#unpriced')).toMatch(
      /1 LLM call has no known price\. Their cost is missing from every total on this page\.\s*Unpriced: acme-sentiment-7b \(1 call\)/,
    );

    // Top tasks: the ten dearest, in the API's order, with its costs.
    const rows = page.locator('#tasks tbody tr');
    expect(await rows.count()).toBe(10);
    const names = await page.locator('#tasks tbody tr .tname').allTextContents();
    const costs = await page.locator('#tasks tbody tr td.cost').allTextContents();
    const top = r.byTask.slice(0, 10);
    expect(names).toEqual(top.map((t) => t.taskName));
    expect(costs).toEqual(top.map((t) => (t.unpricedCalls ? `${money(t.cost)} + unpriced` : money(t.cost))));
    expect(names).not.toContain(BACKFILL.task); // three days old: not in 24h
    await page.click('#tasks-more');
    expect(await rows.count()).toBe(98);
    await page.click('#tasks-more');

    // Every model, with its cost; the unpriced one says so and never reads $0.
    const labels = await page.locator('#models .bar-row .label').allTextContents();
    const amounts = await page.locator('#models .bar-row .amount').allTextContents();
    expect(labels.map((l) => l.replace(/ unpriced$/, ''))).toEqual(r.byModel.map((m) => m.model));
    r.byModel.forEach((m, i) => {
      if (!m.unpricedCalls) expect(amounts[i]).toBe(money(m.cost));
    });
    const unpriced = r.byModel.filter((m) => m.unpricedCalls > 0);
    expect(unpriced.map((m) => m.model)).toEqual(['acme-sentiment-7b']);
    const acme = page.locator(`#models .bar-row[data-key="${unpriced[0]!.provider}/acme-sentiment-7b"]`);
    expect(await acme.locator('.amount').textContent()).toBe('unpriced');
    expect(await acme.locator('.label').textContent()).toBe('acme-sentiment-7b unpriced');
    expect(await acme.getAttribute('class')).toContain('is-unpriced');
    expect(await acme.textContent()).not.toContain('$');

    // Agents and tools: the demo's six agents and the web_search tool, with the API's costs.
    expect(await page.locator('#agents .bar-row .label').allTextContents()).toEqual(r.byAgent.map((a) => a.agent));
    expect(await page.locator('#tools .bar-row[data-key="web_search"] .amount').textContent()).toBe(money(r.byTool.find((t) => t.tool === 'web_search')!.cost));

    // Cost by hour: 24 hourly columns (plus the partial current hour) adding up to the total.
    expect(await text('#time-title')).toBe('Cost by hour (UTC)');
    expect(await page.locator('#time .col').count()).toBe(25);
    expect(await page.locator('#time .cols').getAttribute('aria-label')).toBe(`Cost by hour, total ${money(s.totalCost)}`);
    expect(await page.locator('#time .col.has-cost').count()).toBeGreaterThanOrEqual(1);

    await page.evaluate('window.scrollTo(0, 0)'); // the sticky header belongs at the top of the picture
    await page.screenshot({ path: SHOT_FULL, fullPage: true });
    console.log(`dashboard screenshot: ${SHOT_FULL}`);
  });

  it('the ticker, histogram, sortable flagged task table, opportunities and alerts panels show what the API answered', async () => {
    const r = pageReport!;
    expect(r.summary.tasks).toBe(98);
    // Ticker: the numbers of the report this page loaded.
    expect(await text('[data-tick="per-hour"] .value')).toBe(`${money(r.ticker.costLastHour)}/h`);
    expect(await text('[data-tick="active"] .value')).toBe(String(r.ticker.activeTasks));
    expect(await text('[data-tick="day"] .value')).toBe(money(r.ticker.projectedDay));
    expect(await text('[data-tick="month"] .value')).toBe(money(r.projection.projectedMonth));
    expect(await page.locator('[data-tick="month"] .value').getAttribute('title')).toBe(r.projection.method);

    // Histogram: every priced task in a bin, P50 / P90 / P99 lines at the API's values.
    const priced = r.byTask.filter((t) => !t.unpricedCalls);
    const counts = (await page.locator('#hist .hbin').evaluateAll((els: any[]) => els.map((e) => Number(e.dataset.count)))) as number[];
    expect(counts).toHaveLength(20);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(priced.length);
    const p = r.summary.costPerTask!;
    for (const k of ['p50', 'p90', 'p99'] as const) expect(await text(`#hist .pline[data-pct="${k}"] span`)).toBe(`${k.toUpperCase()} ${money(p[k])}`);
    expect(await text('#hist-hint')).toBe(`${priced.length} priced tasks · ${r.summary.unpricedTasks} with an unpriced call left out`);

    // Task table: sortable by any column; tasks over 2x their task name's median flagged.
    await page.click('#tasks-more'); // all 98
    const over = r.byTask
      .filter((t) => t.overMedian)
      .map((t) => t.taskId)
      .sort();
    expect(over.length).toBeGreaterThan(0);
    const flagged = await page.locator('#tasks tbody tr.over-median').evaluateAll((els: any[]) => els.map((e) => String(e.dataset.task)));
    expect(flagged.sort()).toEqual(over);
    expect(await page.locator('#tasks tbody tr.over-median .badge.flag').count()).toBe(over.length);
    const ids = () => page.locator('#tasks tbody tr').evaluateAll((els: any[]) => els.map((e) => String(e.dataset.task)));
    const calls = (id: string) => {
      const t = r.byTask.find((x) => x.taskId === id)!;
      return t.llmCalls + t.toolCalls;
    };
    await page.click('#tasks th[data-sort="calls"] button');
    expect(await page.locator('#tasks th[data-sort="calls"]').getAttribute('aria-sort')).toBe('descending');
    const desc = (await ids()).map(calls);
    expect(desc).toEqual([...desc].sort((a, b) => b - a));
    await page.click('#tasks th[data-sort="calls"] button');
    expect(await page.locator('#tasks th[data-sort="calls"]').getAttribute('aria-sort')).toBe('ascending');
    const asc = (await ids()).map(calls);
    expect(asc).toEqual([...asc].sort((a, b) => a - b));
    await page.click('#tasks th[data-sort="task"] button');
    const names = await page.locator('#tasks tbody tr .tname').allTextContents();
    expect(names).toEqual([...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    await page.click('#tasks th[data-sort="median"] button'); // the flagged ones first
    expect((await ids()).slice(0, over.length).sort()).toEqual(over);
    await page.locator('#tasks').screenshot({ path: SHOT_FLAGGED });
    console.log(`dashboard flagged-tasks screenshot: ${SHOT_FLAGGED}`);
    await page.click('#tasks th[data-sort="cost"] button'); // back to dearest first
    expect(await page.locator('#tasks th[data-sort="cost"]').getAttribute('aria-sort')).toBe('descending');
    await page.click('#tasks-more');

    // Opportunities: the insights the API finds, in its order, with their monthly savings.
    await page.waitForSelector('#app[data-panels="24h"]');
    const ins = (await (await fetch(`${svc.url}/api/insights?since=24h`)).json()) as import('../src/insights/index.ts').Insights;
    expect(ins.findings.length).toBeGreaterThanOrEqual(6);
    expect(await page.locator('#opportunities .opp .otitle').allTextContents()).toEqual(ins.findings.map((f) => f.title));
    expect(await page.locator('#opportunities .opp .saving').allTextContents()).toEqual(ins.findings.map((f) => `~${money(f.monthlySaving)}/mo`));
    expect(await page.locator('#opportunities .opp[data-kind="wrong-model"]').count()).toBe(1);
    expect(await text('#opps-hint')).toBe(`~${money(ins.monthlySavings)}/month in ${ins.findings.length} findings`);

    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: SHOT_PANELS, fullPage: true });
    console.log(`dashboard panels screenshot: ${SHOT_PANELS}`);
  });

  it('lists the alerts the evaluator fired on the demo fleet, the ones it delivered to the webhook on 127.0.0.1', async () => {
    // The evaluator runs every second inside the service; the demo's spend crosses the $0.01 daily budget.
    const [first] = await recv.waitFor('/hook', 1, 30_000);
    expect(first!.body).toMatchObject({ schema: 'spendtrace.alert.v1', event: 'firing', incident: { rule: 'agent-daily', kind: 'budget', status: 'firing' } });
    // Let the evaluation that fired finish delivering, then have the page load what the service says now.
    const view = async () => (await (await fetch(`${svc.url}/api/alerts`)).json()) as AlertsView;
    for (let t0 = Date.now(); ;) {
      const v = await view();
      const sent = new Set(recv.accepted('/hook').map((m) => m.body.incident.id as string));
      if (v.firing.length && v.firing.every((i) => sent.has(i.id))) break;
      if (Date.now() - t0 > 30_000) throw new Error(`firing incidents not all delivered: ${JSON.stringify(v.firing.map((i) => i.id))}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    await page.evaluate('delete document.querySelector("#app").dataset.panels');
    await page.click('#refresh');
    await page.waitForSelector('#app[data-panels="24h"][aria-busy="false"]', { timeout: 15_000 });
    const firing = pageAlerts!.firing;
    expect(firing.length).toBeGreaterThanOrEqual(1);
    expect(firing.map((i) => i.id)).toContain(first!.body.incident.id);
    // Each firing incident is listed, with the evaluator's title and summary, and the count in the head.
    expect(await page.locator('#alerts .alert-row').evaluateAll((els: any[]) => els.map((e) => String(e.dataset.incident)))).toEqual(firing.map((i) => i.id));
    expect(await page.locator('#alerts .alert-row strong').allTextContents()).toEqual(firing.map((i) => i.title));
    const row = page.locator(`#alerts .alert-row[data-incident="${first!.body.incident.id}"]`);
    expect(await row.locator('strong').textContent()).toBe(first!.body.incident.title);
    // the summary the page got (the spend in it grows with each evaluation, so not the first message's)
    const shown = firing.find((i) => i.id === first!.body.incident.id)!;
    expect(await row.locator('.sub').first().textContent()).toBe(shown.summary);
    expect(await row.locator('.badge').textContent()).toBe(shown.severity);
    expect(first!.body.incident.title).toMatch(/^Budget 100 % reached: agent \S+ \(today\)$/);
    expect(await text('#alerts-hint')).toBe(`${firing.length} firing`);
    await page.locator('#alerts-panel').screenshot({ path: join(SHOTS, 'spendtrace-dashboard-alerts.png'), animations: 'disabled' });
  });

  it('shows the report views the CLI and API have: breakdown by any dimensions, tool success rates, daily trend, projection, concentration', async () => {
    await page.waitForSelector('#app[data-breakdown="24h:agent,task,model"]', { timeout: 15_000 });
    const r = pageReport!;
    const costs = async (by: string, since = '24h') =>
      ((await (await fetch(`${svc.url}/api/costs?dimensions=${by}&since=${since}`)).json()) as { dimensions: string[]; rows: BreakdownRow[] }).rows;

    // The weekly table (`report --by agent,task,model`), first rows, the API's numbers.
    const weekly = await costs('agent,task,model');
    expect(weekly.length).toBeGreaterThan(15);
    expect(await page.locator('#breakdown thead th').allTextContents()).toEqual([
      'agent',
      'task',
      'model',
      'Calls',
      'Attempts',
      'Tool calls',
      'Avg in',
      'Avg out',
      'Cost',
      'Share',
    ]);
    const cells = (col: string) => page.locator(`#breakdown tbody td[data-col="${col}"]`).allTextContents();
    const top = weekly.slice(0, 15);
    expect(await page.locator('#breakdown tbody tr').count()).toBe(15);
    expect(await cells('agent')).toEqual(top.map((w) => w.key.agent || '—'));
    expect(await cells('model')).toEqual(top.map((w) => w.key.model || '—'));
    expect(await cells('calls')).toEqual(top.map((w) => w.calls.toLocaleString('en-US')));
    expect(await cells('attempts')).toEqual(top.map((w) => w.attempts.toLocaleString('en-US')));
    expect(await cells('avgIn')).toEqual(top.map((w) => w.avgInputTokens.toLocaleString('en-US')));
    expect(await cells('cost')).toEqual(
      top.map((w) => (w.unpricedCalls ? (BigInt(w.cost.replace('.', '')) ? `${money(w.cost)} + unpriced` : 'unpriced') : money(w.cost))),
    );
    expect(await cells('share')).toEqual(top.map((w) => `${(w.share * 100).toFixed(1)}%`));
    await page.click('#breakdown-more');
    expect(await page.locator('#breakdown tbody tr').count()).toBe(weekly.length);
    await page.click('#breakdown-more');

    // `--by user` (showback): toggle the dimensions off and user on; the URL keeps the choice.
    await page.click('#dims button[data-dim="user"]');
    for (const d of ['agent', 'task', 'model']) await page.click(`#dims button[data-dim="${d}"]`);
    await page.waitForSelector('#app[data-breakdown="24h:user"]');
    expect(new URL(page.url()).searchParams.get('by')).toBe('user');
    expect(await page.locator('#dims button[aria-pressed="true"]').allTextContents()).toEqual(['user']);
    const byUser = await costs('user');
    expect(await cells('user')).toEqual(byUser.map((u) => u.key.user || '—'));
    expect(await cells('cost')).toEqual(byUser.map((u) => (u.unpricedCalls ? `${money(u.cost)} + unpriced` : money(u.cost))));
    expect(byUser.map((u) => u.key.user)).toContain('user-1');
    // per-task dimensions carry margin columns only when some task recorded a charge: none in 24h
    expect(await page.locator('#breakdown thead th').allTextContents()).not.toContain('Margin');

    // Tool success rates: the share of the tool's calls in succeeded tasks, and its own error rate.
    for (const t of r.byTool) {
      const rates = page.locator(`#tools .bar-row[data-key="${t.tool}"] .rates`);
      expect(await rates.locator('.success-rate').textContent()).toBe(
        t.successRate === null ? 'no task outcome' : `${(t.successRate * 100).toFixed(1)}% in successful tasks`,
      );
      expect(await rates.locator('.error-rate').textContent()).toBe(t.errorRate === null ? 'no calls' : `${(t.errorRate * 100).toFixed(1)}% errors`);
    }
    expect(r.byTool.some((t) => t.successRate !== null)).toBe(true);

    // Daily trend of cost per successful task: one column per day, the API's values.
    expect(await page.locator('#trend .tcol').evaluateAll((els: any[]) => els.map((e) => String(e.dataset.day)))).toEqual(r.dailyTrend.map((d) => d.day));
    expect(await page.locator('#trend .tcol .tval').allTextContents()).toEqual(r.dailyTrend.map((d) => money(d.costPerSuccessfulTask)));

    // The month projected, with its method spelled out and the spread it stands on.
    const p = r.projection;
    expect(await text('#projection .proj-value')).toBe(money(p.projectedMonth));
    expect(await text('#projection .proj-range')).toBe(`likely ${money(p.range.low)} – ${money(p.range.high)}`);
    expect(await text('#projection .method')).toBe(`Method: ${p.method}.`);
    expect(p.method).toMatch(/^mean of the daily totals of the last \d days? .* × \d+ days in \w+ \d{4}; range = \(mean ± standard deviation\) × \d+$/);
    expect(await text('#projection [data-stat="mean"] dd')).toBe(money(p.dailyMean));
    expect(await text('#projection [data-stat="sd"] dd')).toBe(money(p.dailyStdDev));
    expect(await page.locator('#projection .pday').count()).toBe(p.days.length);

    // Model concentration: flagged exactly when the API flags it.
    const tm = r.summary.topModel!;
    expect(await page.locator('#concentration').isVisible()).toBe(tm.concentrated);
    expect(await page.locator('#models .badge.flag').count()).toBe(tm.concentrated ? 1 : 0);
    if (tm.concentrated) expect(await text('#concentration')).toContain(`${tm.model} takes ${(tm.share * 100).toFixed(1)}% of LLM spend`);

    await page.locator('#projection-panel').screenshot({ path: join(SHOTS, 'spendtrace-dashboard-projection.png') });
    await page.locator('#tools').screenshot({ path: join(SHOTS, 'spendtrace-dashboard-tools.png') });
    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: SHOT_VIEWS, fullPage: true });
    console.log(`dashboard report-views screenshot: ${SHOT_VIEWS}`);
  });

  it('with a concentration threshold the API flags, the page flags the top model too', async () => {
    const r = pageReport!;
    const tm = r.summary.topModel!;
    // The page asks the API with the page's own query string, so ?concentration= passes through.
    await page.goto(`${svc.url}/?since=24h&concentration=${Math.max(0.01, Math.floor(tm.share * 100) / 100 - 0.01)}`);
    await settled('ready', '24h');
    expect(pageReport!.summary.topModel!.concentrated).toBe(true);
    expect(await page.locator('#concentration').isVisible()).toBe(true);
    expect(await text('#concentration')).toContain(`${tm.model} takes ${(tm.share * 100).toFixed(1)}% of LLM spend`);
    expect(await page.locator(`#models .bar-row[data-key="${tm.provider}/${tm.model}"] .badge.flag`).textContent()).toBe('concentrated');
    await page.locator('#models').screenshot({ path: join(SHOTS, 'spendtrace-dashboard-concentration.png') });
    await page.goto(`${svc.url}/?since=24h`);
    await settled('ready', '24h');
  });

  it('switching the window refetches /api/report and redraws: the three-day-old task is in 7d, not in 24h', async () => {
    const before = reportRequests.length;
    await page.click('#since button[data-since="7d"]');
    await settled('ready', '7d');
    expect(reportRequests.slice(before)).toContain('?since=7d');
    expect(new URL(page.url()).search).toBe('?since=7d');
    expect(await page.locator('#since button[data-since="7d"]').getAttribute('aria-pressed')).toBe('true');
    expect(await page.locator('#since button[data-since="24h"]').getAttribute('aria-pressed')).toBe('false');

    const week = await api('7d');
    const day = await api('24h');
    expect(BigInt(week.summary.totalCost.replace('.', '')) - BigInt(day.summary.totalCost.replace('.', ''))).toBe(BigInt(BACKFILL.cost.replace('.', '')));
    expect(await text('[data-kpi="total"] .value')).toBe(money(week.summary.totalCost));
    expect(await text('#tasks tbody tr:first-child .tname')).toBe(BACKFILL.task);
    expect(await text('#tasks tbody tr:first-child td.cost')).toBe(money(BACKFILL.cost));
    expect(await page.locator('#agents .bar-row[data-key="batch-agent"]').count()).toBe(1);
    expect(await text('#time-title')).toBe('Cost by day (UTC)');
    expect(await text('#scope')).toBe('LLM spend · last 7 days · all services');
    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: SHOT_WEEK, fullPage: true });
    console.log(`dashboard 7d screenshot: ${SHOT_WEEK}`);

    // Tenant with margin: the backfill's customer was charged $3.00 for a $2.25 task.
    await page.waitForSelector('#app[data-breakdown="7d:agent,task,model"]');
    await page.click('#dims button[data-dim="tenant"]');
    for (const d of ['agent', 'task', 'model']) await page.click(`#dims button[data-dim="${d}"]`);
    await page.waitForSelector('#app[data-breakdown="7d:tenant"]');
    const byTenant = ((await (await fetch(`${svc.url}/api/costs?by=tenant&since=7d`)).json()) as { rows: BreakdownRow[] }).rows;
    const acme = byTenant.find((t) => t.key.tenant === BACKFILL.tenant)!;
    expect(acme).toMatchObject({ cost: BACKFILL.cost, charged: '3.000000000000', chargedTasks: 1, margin: '0.750000000000', marginRate: 0.25 });
    expect(await page.locator('#breakdown thead th').allTextContents()).toEqual([
      'tenant',
      'Calls',
      'Attempts',
      'Tool calls',
      'Avg in',
      'Avg out',
      'Cost',
      'Share',
      'Charged',
      'Margin',
    ]);
    const acmeRow = page.locator(`#breakdown tbody tr[data-key="${BACKFILL.tenant}"]`);
    expect(await acmeRow.locator('td[data-col="cost"]').textContent()).toBe(money(BACKFILL.cost));
    expect(await acmeRow.locator('td[data-col="charged"]').textContent()).toBe(money(acme.charged!));
    expect(await acmeRow.locator('td[data-col="margin"]').textContent()).toBe(`${money(acme.margin!)} (25.0%)`);
    // the demo's tasks record no tenant nor charge: one '' row, no margin
    expect(await page.locator('#breakdown tbody tr[data-key=""] td[data-col="margin"]').textContent()).toBe('—');
    expect(await page.locator('#breakdown tbody td[data-col="tenant"]').allTextContents()).toEqual(byTenant.map((t) => t.key.tenant || '—'));
    await page.locator('#breakdown-panel').screenshot({ path: SHOT_TENANT });
    console.log(`dashboard tenant-margin screenshot: ${SHOT_TENANT}`);
    await page.click('#dims button[data-dim="tenant"]'); // the last one stays on: at least one dimension
    expect(await page.locator('#dims button[aria-pressed="true"]').allTextContents()).toEqual(['tenant']);
    for (const d of ['agent', 'task', 'model']) await page.click(`#dims button[data-dim="${d}"]`);
    await page.click('#dims button[data-dim="tenant"]');
    await page.waitForSelector('#app[data-breakdown="7d:agent,task,model"]');
    expect(new URL(page.url()).search).toBe('?since=7d');

    await page.click('#since button[data-since="24h"]');
    await settled('ready', '24h');
    expect(reportRequests.at(-1)).toBe('?since=24h');
    expect(await text('[data-kpi="total"] .value')).toBe(money(day.summary.totalCost));
    expect(await page.locator('#agents .bar-row[data-key="batch-agent"]').count()).toBe(0);

    await page.click('#since button[data-since="all"]');
    await settled('ready', 'all');
    expect(await text('[data-kpi="total"] .value')).toBe(money((await api('all')).summary.totalCost));
    // Reloading keeps the chosen window (it lives in the URL).
    await page.reload();
    await settled('ready', 'all');
    expect(await page.locator('#since button[data-since="all"]').getAttribute('aria-pressed')).toBe('true');
  });

  it('when the API fails, says so and keeps the last numbers on screen; the next good answer clears it', async () => {
    const shown = await text('[data-kpi="total"] .value');
    await page.route('**/api/report?*', (route) =>
      route.fulfill({ status: 500, contentType: 'application/json', body: JSON.stringify({ error: 'query failed: store unavailable' }) }),
    );
    await page.click('#refresh');
    await page.waitForSelector('#app[data-state="error"]', { timeout: 15_000 });
    expect(await text('#error')).toBe('Cannot load the report: query failed: store unavailable. Showing the last data loaded, if any.');
    expect(await text('[data-kpi="total"] .value')).toBe(shown);
    await page.unroute('**/api/report?*');
    await page.click('#refresh');
    await settled('ready', 'all');
    expect(await page.locator('#error').isVisible()).toBe(false);
    problems.splice(0, problems.length, ...problems.filter((p) => !/status of 500/.test(p))); // the browser logs the 500 itself
  });

  it('logged no script error and no Content-Security-Policy violation', () => {
    expect(problems).toEqual([]);
  });
});
