/** `spendtrace report`: the cost report, as an aligned table or JSON. */
import { migrate } from '../../schema/index.ts';
import type { Store } from '../../store/index.ts';
import { costsByAny, DIMENSIONS, fullReport, GROUP_BYS, InvalidDimensionError, isGroupBy, parseDimensions } from '../../reports/index.ts';
import type { BreakdownRow, FullReport } from '../../reports/index.ts';
import { ENV, pick } from '../config.ts';
import { checkSince, flagInt, parseFlags } from '../context.ts';
import type { Command, Ctx } from '../context.ts';
import { CliError, EXIT, usageError } from '../errors.ts';
import { findRunningServe, openStore, storeFailure } from '../open-store.ts';
import type { StoreSettings } from '../open-store.ts';
import { renderBreakdown, renderFull, renderRows } from '../render.ts';
import { resolveStore, STORE_FLAGS, STORE_FLAGS_HELP } from '../settings.ts';

export const EMPTY_HINT = 'Send OTLP traces to `spendtrace serve` (POST http://127.0.0.1:4318/v1/traces) or try `spendtrace demo`.';

const help = `spendtrace report — what your LLM calls and tools cost, from the ClickHouse rollups

Usage: spendtrace report [--since 7d] [--by task|tool|model|agent|hour|DIM,DIM,...] [--json] [options]

With no --by it prints the summary (total cost, cost per successful task, p50/p90/p95/p99 cost
per task, tasks over 2x their task name's median, top 3 tasks, retry overhead, attempts, top model
flagged when concentrated, unpriced calls), every grouping, cost per task by task name, cost per
successful task by day, and the month projected from the last 7 days.
--by with a list of dimensions (${DIMENSIONS.join(', ')}) gives one row per combination:
calls, attempts, avg input and output tokens, cost, share; per agent/task/user/tenant/service it
also shows what the app charged (recordTaskCharge) and the margin.
Cost per successful task = cost of ALL tasks, failed attempts included / successful tasks.
Calls on models without a known price are counted and flagged, never shown as $0.

Options:
  --since DURATION         window before now: 30m, 24h, 7d, 2w, or all  [default 7d]
  --by GROUP               one grouping only: ${GROUP_BYS.join(', ')}
                           or dimensions: agent,task,model · user · tenant · ...
  --concentration SHARE    flag a model above this share of LLM spend     [default 0.7]
  --service NAME           only spans from this service.name
  --limit N                rows per grouping in the table (0 = all)      [default 20 for tasks]
  --json                   JSON for scripts (money as exact decimal strings, 12 fractional digits)
  --server URL             read through a running \`spendtrace serve\` API [env SPENDTRACE_SERVER;
                           its token from SPENDTRACE_TOKEN]
                           (automatic when a serve owns the --data directory)

${STORE_FLAGS_HELP}

Examples:
  spendtrace report
  spendtrace report --since 24h --by model
  spendtrace report --by agent,task,model
  spendtrace report --by tenant
  spendtrace report --by task --json | jq '.rows[0]'
  spendtrace report --server http://127.0.0.1:4318
`;

const FLAGS = {
  ...STORE_FLAGS,
  since: { type: 'string' },
  by: { type: 'string' },
  service: { type: 'string' },
  limit: { type: 'string' },
  concentration: { type: 'string' },
  json: { type: 'boolean' },
  server: { type: 'string' },
} as const;

interface Query {
  since: string;
  service: string;
  by: string | undefined;
  limit: number | undefined;
  concentration: number | undefined;
}

async function fromStore(settings: StoreSettings, q: Query, store: Store): Promise<unknown> {
  const opts = { since: q.since, service: q.service, database: settings.database, concentrationThreshold: q.concentration };
  if (q.by) return costsByAny(store, q.by, { ...opts, limit: 0 });
  return fullReport(store, opts);
}

async function fromServer(server: string, q: Query, token: string | undefined): Promise<unknown> {
  const url = new URL(q.by ? '/api/costs' : '/api/report', server);
  url.searchParams.set('since', q.since);
  if (q.service) url.searchParams.set('service', q.service);
  if (q.by) url.searchParams.set('by', q.by);
  if (q.concentration !== undefined) url.searchParams.set('concentration', String(q.concentration));
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(30_000), headers: token ? { authorization: `Bearer ${token}` } : {} });
  } catch (cause) {
    throw new CliError(EXIT.STORE, `cannot reach the spendtrace service at ${server}: ${(cause as Error).message}`, {
      cause,
      hint: 'is `spendtrace serve` running there?',
    });
  }
  const text = await res.text();
  if (!res.ok) {
    let detail = text.slice(0, 300);
    try {
      detail = (JSON.parse(text) as { error?: string }).error ?? detail;
    } catch {
      /* not JSON */
    }
    if (res.status === 401) throw new CliError(EXIT.CONFIG, `the service at ${server} requires a token`, { hint: `set ${ENV.TOKEN} to one of its tokens` });
    throw new CliError(res.status === 400 ? EXIT.USAGE : EXIT.STORE, `the service at ${server} answered ${res.status}: ${detail}`);
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new CliError(EXIT.DATA, `the service at ${server} did not answer JSON (is it a spendtrace service?)`, { cause });
  }
}

/** Prints a report object (from the store or the API) as the user asked. */
export function printReport(ctx: Ctx, data: unknown, q: Pick<Query, 'by' | 'limit'>, json: boolean): void {
  if (json) {
    ctx.out(JSON.stringify(data, null, 2) + '\n');
    return;
  }
  if (q.by) {
    const { rows } = data as { rows: unknown[] };
    ctx.out(
      (isGroupBy(q.by)
        ? renderRows(q.by, rows, { limit: q.limit ?? (q.by === 'task' ? 20 : 0) })
        : renderBreakdown(parseDimensions(q.by), rows as BreakdownRow[], { limit: q.limit ?? 0 })) + '\n',
    );
    if (rows.length === 0) ctx.out(`\n${EMPTY_HINT}\n`);
    return;
  }
  ctx.out(renderFull(data as FullReport, { taskLimit: q.limit ?? 20, emptyHint: EMPTY_HINT }));
}

export const report: Command = {
  name: 'report',
  summary: 'print costs by task, tool, model, agent and hour (table or --json)',
  help,
  async run(argv, ctx) {
    const v = parseFlags('report', argv, FLAGS);
    if (v.help) {
      ctx.out(help);
      return EXIT.OK;
    }
    const { store: settings, file } = resolveStore('report', v, ctx);
    const since = checkSince(
      pick(v.since, undefined, file.since, '7d', (s) => s),
      'report',
    );
    if (v.by !== undefined && !isGroupBy(v.by)) {
      try {
        parseDimensions(v.by);
      } catch (err) {
        if (err instanceof InvalidDimensionError)
          throw usageError(`invalid --by "${v.by}": expected one of ${GROUP_BYS.join(', ')}, or a comma-separated list of ${DIMENSIONS.join(', ')}`, 'report');
        throw err;
      }
    }
    const concentration = v.concentration === undefined ? undefined : Number(v.concentration);
    if (concentration !== undefined && !(concentration > 0 && concentration <= 1))
      throw usageError(`invalid --concentration "${v.concentration}": expected a share between 0 and 1, e.g. 0.7`, 'report');
    const q: Query = {
      since,
      service: pick(v.service, undefined, file.service, '', (s) => s),
      by: v.by,
      limit: flagInt(v.limit, '--limit', 'report'),
      concentration,
    };

    let server = pick(v.server, ctx.env[ENV.SERVER], undefined, undefined as string | undefined, (s) => s);
    if (!server && !settings.clickhouseUrl) {
      const running = findRunningServe(settings.data);
      if (running) {
        ctx.err(`note: spendtrace serve (pid ${running.pid}) owns ${settings.data}; reading through its API at ${running.url}\n`);
        server = running.url;
      }
    }
    if (server) {
      printReport(ctx, await fromServer(server, q, ctx.env[ENV.TOKEN] || undefined), q, Boolean(v.json));
      return EXIT.OK;
    }

    const store = await openStore(settings);
    try {
      // The embedded store belongs to this process: creating missing tables is safe and makes a
      // fresh directory report "nothing yet" instead of failing. A server's DDL is its operator's.
      if (store.kind === 'chdb') await migrate(store, { database: settings.database });
      printReport(ctx, await fromStore(settings, q, store), q, Boolean(v.json));
    } catch (err) {
      throw storeFailure(err, settings);
    } finally {
      await store.close();
    }
    return EXIT.OK;
  },
};
