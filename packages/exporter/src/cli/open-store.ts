/**
 * Opening the store from the CLI, with errors people can act on. chDB lets one process own a data
 * directory; a running `spendtrace serve` records itself in `<data>/serve.json` so `report` can
 * read through its HTTP API instead of failing on the lock.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createStore, StoreError } from '../store/index.ts';
import type { Store } from '../store/index.ts';
import { CliError, EXIT } from './errors.ts';

export interface StoreSettings {
  /** chDB data directory (ignored with clickhouseUrl). */
  data: string;
  clickhouseUrl: string | undefined;
  database: string;
}

export const SERVE_FILE = 'serve.json';

export interface ServeRecord {
  pid: number;
  url: string;
  startedAt: string;
  /** The ClickHouse HTTP interface on this store, when it runs (for `spendtrace sql`). */
  clickhouseHttpUrl?: string;
}

export function describeStore(s: StoreSettings): string {
  return s.clickhouseUrl ? `ClickHouse ${redact(s.clickhouseUrl)}, database ${s.database}` : `embedded chDB in ${s.data}, database ${s.database}`;
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

export async function openStore(s: StoreSettings): Promise<Store> {
  try {
    return await createStore(s.clickhouseUrl ? { clickhouseUrl: s.clickhouseUrl } : { dataDir: s.data });
  } catch (err) {
    throw storeFailure(err, s);
  }
}

/** Turns a store failure into a CliError with the right exit code and a next step. */
export function storeFailure(err: unknown, s: StoreSettings): CliError {
  if (err instanceof CliError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  // chDB reports a locked directory as a lock error or, from the addon, as a failed connection.
  if (!s.clickhouseUrl && /Cannot lock file|Another server instance|Failed to create connection/i.test(msg)) {
    return new CliError(
      EXIT.STORE,
      `cannot open the data directory ${s.data}: another process probably owns it (is \`spendtrace serve\` running on it?) [${msg}]`,
      {
        cause: err,
        hint: 'query the running service with --server http://127.0.0.1:4318, or stop it first',
      },
    );
  }
  if (err instanceof StoreError) {
    if (err.code === 'SPENDTRACE_STORE_CONFIG' || err.code === 'SPENDTRACE_STORE_DRIVER_MISSING') return new CliError(EXIT.CONFIG, msg, { cause: err });
    if (err.clickhouseCode === 60 || err.clickhouseCode === 81) {
      return new CliError(EXIT.DATA, `the spendtrace tables are missing in ${describeStore(s)}: ${msg}`, {
        cause: err,
        hint: 'run `spendtrace migrate` with the same --clickhouse-url/--database',
      });
    }
    return new CliError(EXIT.STORE, msg, { cause: err });
  }
  return new CliError(EXIT.STORE, `store error (${describeStore(s)}): ${msg}`, { cause: err });
}

export function writeServeRecord(dataDir: string, rec: ServeRecord): () => void {
  const file = join(resolve(dataDir), SERVE_FILE);
  writeFileSync(file, JSON.stringify(rec, null, 2) + '\n');
  return () => {
    try {
      const cur = JSON.parse(readFileSync(file, 'utf8')) as ServeRecord;
      if (cur.pid === rec.pid) rmSync(file, { force: true });
    } catch {
      // already gone
    }
  };
}

/** The running `serve` that owns `dataDir`, if any (a stale record of a dead process is ignored). */
export function findRunningServe(dataDir: string): ServeRecord | undefined {
  const file = join(resolve(dataDir), SERVE_FILE);
  if (!existsSync(file)) return undefined;
  try {
    const rec = JSON.parse(readFileSync(file, 'utf8')) as ServeRecord;
    if (!Number.isInteger(rec.pid) || typeof rec.url !== 'string') return undefined;
    if (rec.pid === process.pid) return undefined;
    process.kill(rec.pid, 0);
    return rec;
  } catch {
    return undefined;
  }
}
