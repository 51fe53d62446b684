/** `spendtrace demo`: a small agent fleet, traced end to end, then its cost report. */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fullReport } from '../../reports/index.ts';
import { parseFlags } from '../context.ts';
import type { Command, Ctx } from '../context.ts';
import { CliError, EXIT, usageError } from '../errors.ts';
import { startService } from '../service.ts';
import { INCIDENTS_FILE } from '../../alerts/index.ts';
import { startDemoAlerts } from './demo-alert.ts';
import { printReport } from './report.ts';
import { insights } from '../../insights/index.ts';
import { renderInsights } from './insights.ts';
import { DEFAULT_DATABASE } from '../../database-name.ts';

const help = `spendtrace demo — run a small fleet of agents and print what it cost

Usage: spendtrace demo [--data DIR] [--json]

Starts local fake OpenAI servers and the spendtrace service (embedded store, free port), then
runs agents through the real \`openai\` SDK instrumented with SpendtraceInstrumentation, exporting
their spans over OTLP/HTTP to the service:
  research-agent    web_search tool calls with a fixed fee, gpt-4.1 + gpt-4o-mini
  triage-agent      many small ticket classifications on gpt-4o-mini
  nightly-summarizer 10 steps whose prompts grow with the context
  flaky-agent       429/5xx and retries; some tasks fail
  plus streaming calls, a task stopped by its budget (BudgetExceededError) and a call on a
  custom model with no known price (shown as unpriced, never $0), and the culprits insights
  find: a ticket router on a frontier model, a sync job retrying in a loop, an FAQ bot asking
  the same question again, the summarizer resending its history.
Everything is deterministic. Then prints the report: summary, cost per successful task, top 3
tasks, and costs by task, tool, model, agent and hour; then the insights with their savings.
Ends with the alert the service sent to a local webhook receiver it started (the unpriced model).

Options:
  --data DIR               keep the data here (then \`spendtrace report --data DIR\`);
                           default: a temporary directory removed afterwards
  --json                   print the report as JSON instead of tables
`;

export interface DemoFleetResult {
  [key: string]: unknown;
}
type RunDemoFleet = (opts: { otlpEndpoint: string; log?: (line: string) => void }) => Promise<DemoFleetResult>;

/**
 * The demo fleet lives in the repository (packages/demo, with the fake providers and the three LLM
 * SDKs): it is not published, so the installed `spendtrace` says so instead of failing obscurely.
 */
async function loadDemo(): Promise<RunDemoFleet> {
  const repoDemo = new URL('../../../../demo/src/index.ts', import.meta.url);
  let cause: unknown;
  if (existsSync(repoDemo)) {
    try {
      const mod = (await import(repoDemo.href)) as { runDemoFleet?: RunDemoFleet };
      if (typeof mod.runDemoFleet === 'function') return mod.runDemoFleet;
    } catch (err) {
      cause = err;
    }
  }
  throw new CliError(
    EXIT.CONFIG,
    '`spendtrace demo` runs only from a checkout of the spendtrace repository; the published package does not ship the demo fleet',
    {
      cause,
      hint: 'in the repository run `./dev demo`; with the installed package, point an instrumented app at `spendtrace serve` instead',
    },
  );
}

export const demo: Command = {
  name: 'demo',
  summary: 'run a small instrumented agent fleet against a local service and print its costs',
  help,
  async run(argv, ctx: Ctx) {
    const v = parseFlags('demo', argv, { data: { type: 'string' }, json: { type: 'boolean' } } as const);
    if (v.help) {
      ctx.out(help);
      return EXIT.OK;
    }
    if (v.data === '') throw usageError('--data needs a directory', 'demo');
    const runDemoFleet = await loadDemo();
    const keep = v.data !== undefined;
    const data = keep ? resolve(ctx.cwd, v.data!) : mkdtempSync(join(tmpdir(), 'spendtrace-demo-'));
    const database = DEFAULT_DATABASE;
    const t0 = performance.now();
    ctx.progress(`demo: starting the spendtrace service (embedded chDB in ${data})…`);
    const demoAlerts = await startDemoAlerts();
    const svc = await startService({
      settings: { data, clickhouseUrl: undefined, database },
      port: 0,
      host: '127.0.0.1',
      prices: undefined,
      log: (line) => ctx.progress(`  service: ${line}`),
      alerts: demoAlerts.config,
      incidentsFile: keep ? join(data, INCIDENTS_FILE) : undefined,
    });
    try {
      ctx.progress(`demo: service listening on ${svc.url}; running the agent fleet through the openai, Anthropic and Google Gen AI SDKs…`);
      await runDemoFleet({ otlpEndpoint: `${svc.url}/v1/traces`, log: (line) => ctx.progress(`  ${line}`) });
      await svc.flush();
      const report = await fullReport(svc.store, { since: '24h', database });
      ctx.progress(`demo: done in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
      const found = await insights(svc.store, { since: '24h', database });
      const alerts = await demoAlerts.deliver(svc.alerts);
      if (v.json) ctx.out(JSON.stringify({ ...report, insights: found }, null, 2) + '\n');
      else {
        printReport(ctx, report, { by: undefined, limit: undefined }, false);
        // The story ends with what to change: the culprits named, with their monthly savings.
        ctx.out(`\n${renderInsights(found)}`);
      }
      if (!v.json) {
        ctx.out(`\nAlert delivered to the local webhook ${demoAlerts.url} (Slack, Discord or any webhook in your config):\n`);
        for (const a of alerts) ctx.out(`  [${a.event.toUpperCase()}] ${a.incident.title}\n    ${a.incident.summary}\n`);
        if (!alerts.length) ctx.out('  none arrived (see the service lines above)\n');
        ctx.out(
          keep
            ? `\nData kept in ${data}: \`spendtrace report --data ${v.data}\` reads it again.\n`
            : '\nThe demo used a temporary store (removed now). `spendtrace demo --data ./.spendtrace-demo` keeps it.\n',
        );
      }
    } finally {
      await svc.close();
      await demoAlerts.close();
      if (!keep) rmSync(data, { recursive: true, force: true });
    }
    return EXIT.OK;
  },
};
