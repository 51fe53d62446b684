// Proves the dashboard as a person sees it in headless Chromium over a real `spendtrace serve` (embedded chDB): the empty state first, then the demo fleet's spend — total equal to the API's, top tasks, every model with the unpriced one flagged rather than $0 — and that switching the window refetches and redraws.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { money } from '../src/cli/format.ts';
import { startService } from '../src/cli/service.ts';
import type { RunningService } from '../src/cli/service.ts';
import type { FullReport } from '../src/reports/index.ts';

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

/** A task three days old: inside 7d, outside 24h, dearer than anything the demo spends. */
const BACKFILL = { task: 'quarterly-backfill', agent: 'batch-agent', tool: 'bulk_export', llm: 0.75, fee: 1.5, cost: '2.250000000000' };

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
              span('a000000000000001', `invoke_agent ${BACKFILL.agent}`, t0, [attr('spendtrace.task.root', true), attr('spendtrace.task.outcome', 'success')]),
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
  let page: Page;
  const problems: string[] = [];
  const reportRequests: string[] = [];
  /** The last /api/report body the page itself received: what it must show, to the digit. */
  let pageReport: FullReport | undefined;

  const api = async (since: string): Promise<FullReport> => (await fetch(`${svc.url}/api/report?since=${since}`)).json() as Promise<FullReport>;
  const text = async (selector: string) => ((await page.locator(selector).textContent()) ?? '').trim();
  const settled = (state: 'ready' | 'empty', since: string) => page.waitForSelector(`#app[data-state="${state}"][data-since="${since}"]`, { timeout: 15_000 });

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`CI is set but ${CHROMIUM} is missing: CI must run scripts/install-chromium.sh before the tests`);
    dir = mkdtempSync(join(tmpdir(), 'spendtrace-dashboard-'));
    svc = await startService({
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
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await svc?.close();
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

    // Firing alerts: this service has no alert rules, so the panel says none are configured.
    const alerts = await fetch(`${svc.url}/api/alerts`);
    expect(alerts.status).toBe(200);
    expect(await alerts.json()).toMatchObject({ configured: false, firing: [] });
    expect(await text('#alerts')).toBe('No alerts configured.');

    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: SHOT_PANELS, fullPage: true });
    console.log(`dashboard panels screenshot: ${SHOT_PANELS}`);
  });

  it('firing alerts from /api/alerts are listed when the service serves them', async () => {
    await page.route('**/api/alerts?*', (route) =>
      route.fulfill({
        status: 200,
        contentType: 'application/json',
        body: JSON.stringify({ firing: [{ rule: 'daily budget triage-agent', message: '92 % of $5.00 spent', since: '2026-12-04T10:00:00Z' }] }),
      }),
    );
    await page.click('#refresh');
    await page.waitForSelector('#alerts .alert-row', { timeout: 15_000 });
    expect(await text('#alerts .alert-row strong')).toBe('daily budget triage-agent');
    expect(await text('#alerts-hint')).toBe('1 firing');
    await page.unroute('**/api/alerts?*');
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
