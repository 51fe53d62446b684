/** `spendtrace sql`: ClickHouse SQL on the rollups, through the running service or on the store directly. */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ENV, pick } from '../config.ts';
import type { Command, Ctx } from '../context.ts';
import { CliError, EXIT, usageError } from '../errors.ts';
import { findRunningServe } from '../open-store.ts';
import { resolveStore, STORE_FLAGS, STORE_FLAGS_HELP } from '../settings.ts';

const help = `spendtrace sql — run ClickHouse SQL on the spans and rollups

Usage: spendtrace sql "SELECT …" [--format TSV] [--url URL] [options]

Where it runs, in order:
  --url URL               a ClickHouse HTTP interface (the service's :8123, or a ClickHouse server)
  --clickhouse-url URL    the ClickHouse server spendtrace writes to
  a running \`spendtrace serve\` on --data: through its ClickHouse HTTP interface
  otherwise               on the embedded store in --data directly (read-only)
The database is spendtrace's (tables spans, task_costs, hourly_costs; see the schema README).
Queries are read-only. A token for the service comes from SPENDTRACE_TOKEN.

Options:
  --format FORMAT          any ClickHouse output format: TSV, TSVWithNames, CSV, JSON,
                           JSONEachRow, PrettyCompact, Markdown, … (a FORMAT clause wins) [default TSV]
  --url URL                ClickHouse HTTP interface to send the query to

${STORE_FLAGS_HELP}

Examples:
  spendtrace sql "SELECT task_name, sum(cost) AS cost FROM task_costs GROUP BY task_name ORDER BY cost DESC" --format PrettyCompact
  spendtrace sql "SELECT model, sum(calls) FROM hourly_costs GROUP BY model" --format JSONEachRow
`;

const FLAGS = { ...STORE_FLAGS, format: { type: 'string' }, url: { type: 'string' } } as const;

async function viaHttp(ctx: Ctx, target: string, sql: string, format: string, database: string, token: string | undefined): Promise<number> {
  const u = new URL(target);
  const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8' };
  if (u.username || u.password)
    headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(u.username || 'default')}:${decodeURIComponent(u.password)}`).toString('base64')}`;
  else if (token) headers.authorization = `Bearer ${token}`;
  u.username = '';
  u.password = '';
  u.searchParams.set('default_format', format);
  u.searchParams.set('database', database);
  let res: Response;
  try {
    res = await fetch(u, { method: 'POST', headers, body: sql, signal: AbortSignal.timeout(300_000) });
  } catch (cause) {
    throw new CliError(EXIT.STORE, `cannot reach the ClickHouse HTTP interface at ${u.origin}: ${(cause as Error).message}`, { cause });
  }
  const text = await res.text();
  if (res.ok) {
    ctx.out(text);
    return EXIT.OK;
  }
  const msg = text.trim() || `HTTP ${res.status}`;
  if (res.status === 401)
    throw new CliError(EXIT.CONFIG, `${u.origin} refused the credentials: ${msg}`, { hint: `set ${ENV.TOKEN} to one of the service's tokens` });
  throw new CliError(res.status >= 500 ? EXIT.STORE : EXIT.USAGE, msg);
}

export const sql: Command = {
  name: 'sql',
  summary: 'run ClickHouse SQL on the rollups (through the running service, or on the store)',
  help,
  async run(argv, ctx) {
    let parsed;
    try {
      parsed = parseArgs({ args: argv, options: { ...FLAGS, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: true });
    } catch (err) {
      throw usageError((err as Error).message.replace(/\. To specify a positional argument.*$/s, ''), 'sql');
    }
    const v = parsed.values as { [K in keyof typeof FLAGS]?: string } & { help?: boolean };
    if (v.help) {
      ctx.out(help);
      return EXIT.OK;
    }
    if (parsed.positionals.length !== 1 || !parsed.positionals[0]!.trim()) throw usageError('give one query, quoted: spendtrace sql "SELECT …"', 'sql');
    const query = parsed.positionals[0]!;
    const format = v.format ?? 'TSV';
    if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(format))
      throw usageError(`invalid --format "${format}": expected a ClickHouse format name such as TSV, CSV, JSON, PrettyCompact`, 'sql');
    const { store: settings } = resolveStore('sql', v, ctx);
    const token = pick(undefined, ctx.env[ENV.TOKEN], undefined, undefined as string | undefined, (s) => s);

    if (v.url) return viaHttp(ctx, v.url, query, format, settings.database, token);
    if (settings.clickhouseUrl) return viaHttp(ctx, settings.clickhouseUrl, query, format, settings.database, token);
    const running = findRunningServe(settings.data);
    if (running) {
      if (!running.clickhouseHttpUrl) {
        throw new CliError(EXIT.STORE, `spendtrace serve (pid ${running.pid}) owns ${settings.data} with its ClickHouse HTTP interface off`, {
          hint: 'restart it without --clickhouse-http-port off, or stop it to query the store directly',
        });
      }
      return viaHttp(ctx, running.clickhouseHttpUrl, query, format, settings.database, token);
    }
    if (!existsSync(settings.data))
      throw new CliError(EXIT.STORE, `no store at ${settings.data}`, { hint: 'give --data DIR, or start `spendtrace serve` first' });
    const { openChdbReader, SqlError } = await import('../../clickhouse-http/index.ts');
    const reader = openChdbReader(settings.data);
    try {
      const r = await reader.run(query, { format, database: settings.database });
      ctx.out(Buffer.from(r.body).toString('utf8'));
      return EXIT.OK;
    } catch (err) {
      if (err instanceof SqlError) throw new CliError(err.clickhouseCode === 1002 ? EXIT.STORE : EXIT.USAGE, err.message.trim(), { cause: err });
      throw err;
    } finally {
      await reader.close();
    }
  },
};
