/** `spendtrace alerts`: firing and recent incidents; `spendtrace alerts test`: a sample to every sink. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { alertsView, bodyFor, deliver, INCIDENTS_FILE, readIncidents } from '../../alerts/index.ts';
import type { AlertsView, AlertSubject, Incident } from '../../alerts/index.ts';
import { alertsOf, ENV, pick } from '../config.ts';
import { parseFlags } from '../context.ts';
import type { Command, Ctx } from '../context.ts';
import { CliError, EXIT } from '../errors.ts';
import { table, time } from '../format.ts';
import { resolveStore, STORE_FLAGS, STORE_FLAGS_HELP } from '../settings.ts';

const help = `spendtrace alerts — firing and recent alert incidents, and a test message to each sink

Usage: spendtrace alerts [--json] [--server URL] [--data DIR]
       spendtrace alerts test [--sink NAME]

Rules and sinks live under "alerts" in the config file (see the exporter README, "Alerts");
\`spendtrace serve\` evaluates them continuously and keeps incidents in <data>/${INCIDENTS_FILE}.
Each incident sends one "firing" and one "resolved" message to each of its rule's sinks.

  alerts                   lists firing incidents, then those resolved in the last 7 days
                           (read from the data directory, or from a service with --server)
  alerts test              sends a sample incident to each configured sink (Slack, Discord,
                           webhook) and says what each answered; exit 4 if any failed

Options:
  --json                   the incidents as JSON (what GET /api/alerts returns)
  --server URL             read from a running \`spendtrace serve\`   [env SPENDTRACE_SERVER]
  --sink NAME              (test) only this sink

${STORE_FLAGS_HELP}
`;

function sample(): AlertSubject {
  const now = new Date().toISOString();
  return {
    id: 'test',
    key: 'spendtrace-test',
    rule: 'spendtrace-test',
    kind: 'budget',
    severity: 'warning',
    subject: 'agent research-agent',
    title: 'Budget 80 % reached: agent research-agent (today) — test',
    summary: 'agent research-agent has spent $4.120000 of its $5.000000 daily budget (82.4 %).',
    evidence: { spent: '4.120000000000', budget: '5.000000000000', threshold: '80 %', used: '82.4 %' },
    status: 'firing',
    startedAt: now,
    lastSeenAt: now,
    resolvedAt: null,
  };
}

async function sendTest(ctx: Ctx, argv: string[]): Promise<number> {
  const v = parseFlags('alerts', argv, { config: { type: 'string' }, sink: { type: 'string' } } as const);
  if (v.help) {
    ctx.out(help);
    return EXIT.OK;
  }
  const { file } = resolveStore('alerts', v, ctx);
  const config = alertsOf(file, ctx.env);
  const sinks = (config?.sinks ?? []).filter((s) => v.sink === undefined || s.name === v.sink);
  if (!sinks.length) {
    throw new CliError(EXIT.CONFIG, v.sink !== undefined ? `no sink named "${v.sink}" in the config file` : 'no alert sinks are configured', {
      hint: 'add "alerts": {"sinks": [{"name": "ops", "type": "slack", "url": "https://hooks.slack.com/services/…"}]} to spendtrace.config.json',
    });
  }
  let failed = 0;
  const results = await Promise.all(sinks.map(async (s) => ({ s, r: await deliver(s, bodyFor(s, 'test', sample()), config!.delivery) })));
  for (const { s, r } of results) {
    if (r.ok) ctx.out(`  ok      ${s.name} (${s.type}): HTTP ${r.status}${r.attempts > 1 ? ` after ${r.attempts} attempts` : ''}\n`);
    else {
      failed++;
      ctx.out(`  FAILED  ${s.name} (${s.type}): ${r.error} (${r.attempts} attempt(s))\n`);
    }
  }
  ctx.out(`${sinks.length - failed} of ${sinks.length} sink(s) accepted the test message.\n`);
  return failed ? EXIT.STORE : EXIT.OK;
}

async function fromServer(server: string): Promise<AlertsView> {
  const url = new URL('/api/alerts', server);
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  } catch (cause) {
    throw new CliError(EXIT.STORE, `cannot reach the spendtrace service at ${server}: ${(cause as Error).message}`, {
      cause,
      hint: 'is `spendtrace serve` running there?',
    });
  }
  if (!res.ok) throw new CliError(EXIT.STORE, `the service at ${server} answered ${res.status} for /api/alerts`);
  try {
    return (await res.json()) as AlertsView;
  } catch (cause) {
    throw new CliError(EXIT.DATA, `the service at ${server} did not answer JSON (is it a spendtrace service?)`, { cause });
  }
}

function delivery(i: Incident): string {
  return i.notifications.map((n) => `${n.sink}:${n.event}=${n.status}`).join(' ') || '—';
}

function print(ctx: Ctx, view: AlertsView): void {
  const cols = [
    { header: 'since', value: (i: Incident) => time(i.startedAt) },
    { header: 'severity', value: (i: Incident) => i.severity },
    { header: 'rule', value: (i: Incident) => i.rule },
    { header: 'incident', value: (i: Incident) => i.title, max: 80 },
    { header: 'messages', value: delivery },
  ];
  ctx.out(`Firing (${view.firing.length})\n`);
  ctx.out(view.firing.length ? `${table(view.firing, cols)}\n` : '  none\n');
  ctx.out(`\nResolved in the last 7 days (${view.recent.length})\n`);
  ctx.out(
    view.recent.length
      ? `${table(view.recent, [...cols.slice(0, 1), { header: 'resolved', value: (i: Incident) => (i.resolvedAt ? time(i.resolvedAt) : '') }, ...cols.slice(2)])}\n`
      : '  none\n',
  );
  for (const i of view.firing) ctx.out(`\n! ${i.title}\n  ${i.summary}\n`);
}

export const alerts: Command = {
  name: 'alerts',
  summary: 'list firing and recent alert incidents; `alerts test` sends a sample to each sink',
  help,
  async run(argv, ctx) {
    if (argv[0] === 'test') return sendTest(ctx, argv.slice(1));
    const v = parseFlags('alerts', argv, { ...STORE_FLAGS, json: { type: 'boolean' }, server: { type: 'string' } } as const);
    if (v.help) {
      ctx.out(help);
      return EXIT.OK;
    }
    const { store: settings, file } = resolveStore('alerts', v, ctx);
    const server = pick(v.server, ctx.env[ENV.SERVER], undefined, undefined as string | undefined, (s) => s);
    let view: AlertsView;
    if (server) view = await fromServer(server);
    else {
      const path = join(settings.data, INCIDENTS_FILE);
      const config = alertsOf(file, ctx.env);
      let incidents: Incident[] = [];
      try {
        incidents = existsSync(path) ? readIncidents(path) : [];
      } catch (cause) {
        throw new CliError(EXIT.DATA, `cannot read ${path}: ${(cause as Error).message}`, { cause });
      }
      const base = alertsView(undefined);
      view = {
        ...base,
        configured: Boolean(config?.rules.length),
        rules: (config?.rules ?? []).map((r) => ({ name: r.name, kind: r.kind, sinks: r.sinks })),
        sinks: (config?.sinks ?? []).map((s) => ({ name: s.name, type: s.type })),
        firing: incidents.filter((i) => i.status === 'firing'),
        recent: incidents.filter((i) => i.status === 'resolved'),
      };
    }
    if (v.json) ctx.out(`${JSON.stringify(view, null, 2)}\n`);
    else {
      if (!view.configured && !view.firing.length && !view.recent.length)
        ctx.out('No alert rules are configured (add "alerts" to spendtrace.config.json; see `spendtrace alerts --help`).\n\n');
      print(ctx, view);
    }
    return EXIT.OK;
  },
};
