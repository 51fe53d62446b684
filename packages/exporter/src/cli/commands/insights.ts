/** `spendtrace insights`: what to change, with the monthly saving and what it assumes. */
import { migrate } from '../../schema/index.ts';
import { DETECTORS, insights } from '../../insights/index.ts';
import type { Insights } from '../../insights/index.ts';
import { ENV, insightsOf, pick } from '../config.ts';
import { checkSince, parseFlags } from '../context.ts';
import type { Command, Ctx } from '../context.ts';
import { CliError, EXIT } from '../errors.ts';
import { money } from '../format.ts';
import { findRunningServe, openStore, storeFailure } from '../open-store.ts';
import { resolveStore, STORE_FLAGS, STORE_FLAGS_HELP } from '../settings.ts';

const help = `spendtrace insights — what to change in your agents, and what it would save per month

Usage: spendtrace insights [--since 7d] [--json] [options]

Each finding names the agent, task name, model or tool, shows its evidence from the store and
estimates the monthly saving in USD, with the assumption stated. Detectors:
${DETECTORS.map((d) => `  ${d.id.padEnd(22)} ${d.describe}`).join('\n')}
Also lists the 10 most expensive prompt templates (gen_ai.prompt.name / .version; withPrompt()).

Options:
  --since DURATION         window before now: 24h, 7d, 30d, or all   [default 7d]
  --service NAME           only spans from this service.name
  --json                   JSON for scripts (money as exact decimal strings)
  --server URL             read through a running \`spendtrace serve\` API [env SPENDTRACE_SERVER]

${STORE_FLAGS_HELP}
`;

const FLAGS = { ...STORE_FLAGS, since: { type: 'string' }, service: { type: 'string' }, json: { type: 'boolean' }, server: { type: 'string' } } as const;

export function renderInsights(r: Insights): string {
  const lines = [`Insights (${r.since === 'all' ? 'all time' : `last ${r.since}`}${r.service ? `, service ${r.service}` : ''})`];
  if (!r.findings.length) lines.push('  Nothing to change found in this window.');
  r.findings.forEach((f, i) => {
    const who = Object.entries(f.subject)
      .filter(([, v]) => v)
      .map(([k, v]) => `${k} ${v}`)
      .join(' · ');
    lines.push('', `${i + 1}. [${f.kind}] ${f.title}: save ~${money(f.monthlySaving)}/month`, `   ${who}`);
    for (const e of f.evidence) lines.push(`   - ${e}`);
    lines.push(`   assumes: ${f.assumption}`);
  });
  if (r.findings.length) lines.push('', `Total: ~${money(r.monthlySavings)}/month (findings may overlap). Monthly = ${r.scale}.`);
  if (r.topPrompts.length) {
    lines.push('', 'Most expensive prompt templates');
    for (const p of r.topPrompts)
      lines.push(
        `  ${`${p.prompt}${p.version ? `@${p.version}` : ''}`.padEnd(32)} ${String(p.calls).padStart(6)} calls  ${money(p.cost).padStart(14)}  ~${money(p.monthlyCost)}/month${p.unpricedCalls ? `  +${p.unpricedCalls} unpriced` : ''}`,
      );
  }
  for (const e of r.errors) lines.push(`! detector ${e.detector} failed: ${e.message}`);
  return lines.join('\n') + '\n';
}

async function fromServer(server: string, since: string, service: string): Promise<Insights> {
  const url = new URL('/api/insights', server);
  url.searchParams.set('since', since);
  if (service) url.searchParams.set('service', service);
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(60_000) });
  } catch (cause) {
    throw new CliError(EXIT.STORE, `cannot reach the spendtrace service at ${server}: ${(cause as Error).message}`, { cause });
  }
  const text = await res.text();
  if (!res.ok) throw new CliError(res.status === 400 ? EXIT.USAGE : EXIT.STORE, `the service at ${server} answered ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as Insights;
}

export function printInsights(ctx: Ctx, r: Insights, json: boolean): void {
  ctx.out(json ? JSON.stringify(r, null, 2) + '\n' : renderInsights(r));
}

export const insightsCommand: Command = {
  name: 'insights',
  summary: 'what to change, with the monthly saving of each finding (table or --json)',
  help,
  async run(argv, ctx) {
    const v = parseFlags('insights', argv, FLAGS);
    if (v.help) {
      ctx.out(help);
      return EXIT.OK;
    }
    const { store: settings, file } = resolveStore('insights', v, ctx);
    const thresholds = insightsOf(file);
    const since = checkSince(
      pick(v.since, undefined, file.since, '7d', (s) => s),
      'insights',
    );
    const service = pick(v.service, undefined, file.service, '', (s) => s);
    let server = pick(v.server, ctx.env[ENV.SERVER], undefined, undefined as string | undefined, (s) => s);
    if (!server && !settings.clickhouseUrl) server = findRunningServe(settings.data)?.url;
    if (server) {
      printInsights(ctx, await fromServer(server, since, service), Boolean(v.json));
      return EXIT.OK;
    }
    const store = await openStore(settings);
    try {
      if (store.kind === 'chdb') await migrate(store, { database: settings.database });
      printInsights(ctx, await insights(store, { since, service, database: settings.database, thresholds }), Boolean(v.json));
    } catch (err) {
      throw storeFailure(err, settings);
    } finally {
      await store.close();
    }
    return EXIT.OK;
  },
};
