/**
 * The `spendtrace` CLI. `run(argv)` returns the exit code instead of exiting, so tests call it
 * in-process; bin/spendtrace.js is the only place that touches process.exit.
 */
import { readFileSync } from 'node:fs';
import { makeCtx } from './context.ts';
import type { CliIO, Command } from './context.ts';
import { CliError, EXIT, usageError } from './errors.ts';
import { alerts } from './commands/alerts.ts';
import { demo } from './commands/demo.ts';
import { insightsCommand } from './commands/insights.ts';
import { migrate } from './commands/migrate.ts';
import { report } from './commands/report.ts';
import { reprice } from './commands/reprice.ts';
import { serve } from './commands/serve.ts';
import { sql } from './commands/sql.ts';

export const COMMANDS: readonly Command[] = [serve, report, insightsCommand, alerts, sql, demo, migrate, reprice];

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

export const HELP = `spendtrace — trace and control what LLM agents cost

Usage: spendtrace <command> [options]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`).join('\n')}

Run \`spendtrace <command> --help\` for a command's options.

Settings come from, in order: flags, environment variables, a JSON config file
(--config, SPENDTRACE_CONFIG or ./spendtrace.config.json), defaults.
Environment: SPENDTRACE_DATA, SPENDTRACE_CLICKHOUSE_URL, SPENDTRACE_DATABASE, SPENDTRACE_PORT,
SPENDTRACE_HOST, SPENDTRACE_GRPC_PORT, SPENDTRACE_CLICKHOUSE_HTTP_PORT, SPENDTRACE_AUTH_TOKENS,
SPENDTRACE_AUTH_TOKENS_FILE, SPENDTRACE_TOKEN, SPENDTRACE_SERVER, SPENDTRACE_PRICES_FILE, SPENDTRACE_CONFIG.

Exit codes: 0 ok · 1 internal error · 2 usage · 3 config · 4 network/store · 5 data

Quick start:
  spendtrace demo                 see it work on a simulated agent fleet
  spendtrace serve                receive OTLP on http://127.0.0.1:4318/v1/traces
  spendtrace report --since 24h   what it cost
`;

export async function run(argv: readonly string[], io: CliIO = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const ctx = makeCtx(io);
  const [first, ...rest] = argv;
  try {
    if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
      const topic = first === 'help' ? rest[0] : undefined;
      const cmd = topic ? COMMANDS.find((c) => c.name === topic) : undefined;
      if (topic && !cmd) throw usageError(`unknown command "${topic}"`);
      ctx.out(cmd ? cmd.help : HELP);
      // Bare `spendtrace` is a usage slip: help goes to stdout, the exit code says so.
      return first === undefined ? EXIT.USAGE : EXIT.OK;
    }
    if (first === '--version' || first === '-v') {
      ctx.out(`${version()}\n`);
      return EXIT.OK;
    }
    const cmd = COMMANDS.find((c) => c.name === first);
    if (!cmd) {
      const near = COMMANDS.find((c) => c.name.startsWith(first.slice(0, 2)));
      throw usageError(`unknown command "${first}"${near ? ` (did you mean \`${near.name}\`?)` : ''}`);
    }
    return await cmd.run([...rest], ctx);
  } catch (err) {
    if (err instanceof CliError) {
      ctx.err(`spendtrace: ${err.message}\n`);
      if (err.hint) ctx.err(`  ${err.hint}\n`);
      if (ctx.env.SPENDTRACE_DEBUG && err.cause) ctx.err(`${String((err.cause as Error)?.stack ?? err.cause)}\n`);
      return err.exitCode;
    }
    ctx.err(`spendtrace: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    ctx.err('  this is a bug; please report it with the lines above\n');
    return EXIT.INTERNAL;
  }
}
