/**
 * Starts the ClickHouse HTTP gateway (clickhouse-gateway.ts) in a child process on 127.0.0.1 with
 * its own chDB data directory, as a server would own its path: the test process never loads the
 * engine for it, and the gateway dies with the test (it exits when its stdin closes).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface GatewayProcess {
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  /** The engine's version() (chDB's ClickHouse). */
  engineVersion: string;
  pid: number;
  dataDir: string;
  /** Everything the gateway wrote to stderr so far (for failure messages). */
  stderr(): string;
  /** Stops the gateway; `keepData` leaves its directory for a restart on it (the store coming back). */
  stop(opts?: { keepData?: boolean }): Promise<void>;
}

const ENTRY = fileURLToPath(new URL('./clickhouse-gateway.ts', import.meta.url));

export async function startGatewayProcess(
  opts: { users?: Record<string, string>; concurrency?: number; timeoutMs?: number; dataDir?: string; port?: number } = {},
): Promise<GatewayProcess> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'spendtrace-ch-gateway-'));
  const args = [ENTRY, '--data-dir', dataDir, '--port', String(opts.port ?? 0)];
  for (const [u, p] of Object.entries(opts.users ?? {})) args.push('--user', `${u}:${p}`);
  if (opts.concurrency) args.push('--concurrency', String(opts.concurrency));
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (c: Buffer) => {
    err += c.toString();
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const hello = await new Promise<{ url: string; engineVersion: string; pid: number }>((ok, fail) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error(`gateway did not start within ${opts.timeoutMs ?? 30_000} ms: ${err}`)), opts.timeoutMs ?? 30_000);
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        try {
          ok(JSON.parse(out.slice(0, nl)));
        } catch (e) {
          fail(e as Error);
        }
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`gateway exited with ${code} before listening: ${err}`));
    });
  });
  return {
    ...hello,
    dataDir,
    stderr: () => err,
    async stop(o) {
      if (child.exitCode === null && child.signalCode === null) {
        child.stdin!.end();
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
      if (!o?.keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
