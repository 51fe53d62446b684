/** What every command gets: where to write, the environment, and a way to be stopped. */
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import { parseSince } from '../reports/index.ts';
import { usageError } from './errors.ts';
import type { Env } from './config.ts';

export interface CliIO {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
  env?: Env;
  cwd?: string;
  /** Stops long-running commands (serve) as SIGINT would; tests use it. */
  signal?: AbortSignal;
}

export interface Ctx {
  out(s: string): void;
  err(s: string): void;
  env: Env;
  cwd: string;
  signal: AbortSignal | undefined;
  /** Progress lines: stderr, so stdout stays clean for --json. */
  progress(s: string): void;
}

export function makeCtx(io: CliIO): Ctx {
  return {
    out: (s) => void io.stdout.write(s),
    err: (s) => void io.stderr.write(s),
    env: io.env ?? process.env,
    cwd: io.cwd ?? process.cwd(),
    signal: io.signal,
    progress: (s) => void io.stderr.write(`${s}\n`),
  };
}

export interface Command {
  name: string;
  summary: string;
  help: string;
  run(argv: string[], ctx: Ctx): Promise<number>;
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** Strict flag parsing: unknown flags and stray arguments are usage errors naming the command. */
export function parseFlags<O extends Options>(command: string, argv: string[], options: O) {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: true,
    });
    if (positionals.length) throw usageError(`unexpected argument "${positionals[0]}" for \`spendtrace ${command}\``, command);
    return values as { [K in keyof O]?: O[K] extends { type: 'boolean' } ? boolean : string } & { help?: boolean };
  } catch (err) {
    if (err instanceof Error && 'code' in err && typeof err.code === 'string' && err.code.startsWith('ERR_PARSE_ARGS')) {
      throw usageError(err.message.replace(/\. To specify a positional argument.*$/s, ''), command);
    }
    throw err;
  }
}

/** --port etc. given as flags: check the value is there and numeric. */
export function flagInt(value: string | undefined, flag: string, command: string, min = 0, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max)
    throw usageError(`invalid ${flag} "${value}": expected an integer ${min}-${max === Number.MAX_SAFE_INTEGER ? '…' : max}`, command);
  return n;
}

/** --since (from a flag or the config file): a window `parseSince` understands, else a usage error. */
export function checkSince(since: string, command: string): string {
  try {
    parseSince(since);
  } catch (err) {
    throw usageError((err as Error).message, command);
  }
  return since;
}
