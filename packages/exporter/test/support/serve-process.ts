/**
 * The real `spendtrace serve` in a child process, as an operator runs it, for the fault harness:
 * started on a data directory (or a ClickHouse URL), killed with any signal, started again on the
 * same directory. `query` reads the chDB directory from a separate child process (one process
 * owns one chDB directory, and the test process may own another).
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const BIN = fileURLToPath(new URL('../../bin/spendtrace.js', import.meta.url));
const QUERY = fileURLToPath(new URL('./chdb-query.ts', import.meta.url));

export interface ServeProcess {
  url: string;
  pid: number;
  /** Everything written to stderr so far. */
  stderr(): string;
  kill(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export async function startServe(args: string[], env: Record<string, string> = {}, timeoutMs = 60_000): Promise<ServeProcess> {
  const child: ChildProcess = spawn(process.execPath, [BIN, 'serve', '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let err = '';
  child.stderr!.on('data', (c: Buffer) => {
    err += c.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
  const url = await new Promise<string>((ok, fail) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error(`serve did not listen within ${timeoutMs} ms: ${err}`)), timeoutMs);
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        ok(m[1]!);
      }
    });
    void exited.then((e) => {
      clearTimeout(timer);
      fail(new Error(`serve exited (${e.code ?? e.signal}) before listening: ${err}`));
    });
  });
  return {
    url,
    pid: child.pid!,
    stderr: () => err,
    exited,
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Rows of a query on a chDB directory no process holds, read in a child process. */
export async function queryChdb<T = Record<string, string>>(dataDir: string, sql: string): Promise<T[]> {
  const { stdout } = await promisify(execFile)(process.execPath, [QUERY, dataDir, sql], { maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(stdout) as T[];
}

/** Polls /healthz until `pred` holds. */
export async function waitHealth(url: string, pred: (h: Record<string, unknown>) => boolean, timeoutMs: number): Promise<Record<string, unknown>> {
  const until = Date.now() + timeoutMs;
  let last: Record<string, unknown> = {};
  while (Date.now() < until) {
    try {
      last = (await (await fetch(`${url}/healthz`)).json()) as Record<string, unknown>;
      if (pred(last)) return last;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`health condition not reached within ${timeoutMs} ms; last: ${JSON.stringify(last)}`);
}
