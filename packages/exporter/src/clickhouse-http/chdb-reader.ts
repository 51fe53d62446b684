/**
 * Read-only SQL on the embedded store, for the ClickHouse HTTP interface and `spendtrace sql`.
 * A second chDB connection on the service's data directory, opened with `readonly=1`: the engine
 * itself refuses writes, DDL, SET, per-query SETTINGS and table functions that reach files or
 * the network (file(), url(), s3() need rights readonly=1 does not have), so the guard is
 * ClickHouse's, not a text filter. It is its own connection, so its session state (USE) never
 * touches the store's, and queries on it run one at a time.
 */
import { Session } from 'chdb';

export interface ReadResult {
  body: Uint8Array;
  rowsRead: number;
  bytesRead: number;
  elapsedSeconds: number;
}

/** A query the engine refused or failed: ClickHouse's code and its `Code: N. DB::Exception: …` text. */
export class SqlError extends Error {
  readonly clickhouseCode: number;
  constructor(clickhouseCode: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.clickhouseCode = clickhouseCode;
  }
}

export interface SqlReader {
  /** Runs one statement. `format` applies unless the query names its own. */
  run(sql: string, o: { format: string; params?: Record<string, string>; database: string }): Promise<ReadResult>;
  /** The engine's time zone (X-ClickHouse-Timezone). */
  timezone(): Promise<string>;
  close(): Promise<void>;
}

const quoteIdent = (name: string) => `\`${name.replace(/\\/g, '\\\\').replace(/`/g, '\\`')}\``;

export function openChdbReader(dataDir: string): SqlReader {
  let session: Session | undefined = new Session(dataDir, { connectionArgs: ['--readonly=1'] });
  let tail: Promise<unknown> = Promise.resolve();
  let tz: string | undefined;
  const serial = <T>(op: (s: Session) => Promise<T>): Promise<T> => {
    const next = tail.then(() => {
      if (!session) throw new SqlError(1002, 'Code: 1002. DB::Exception: the store is closing. (UNKNOWN_EXCEPTION)');
      return op(session);
    });
    tail = next.catch(() => undefined);
    return next;
  };
  const wrap = (e: unknown): SqlError => {
    const code = (e as { clickhouseCode?: unknown })?.clickhouseCode;
    const msg = e instanceof Error ? e.message : String(e);
    return new SqlError(typeof code === 'number' ? code : 1002, /^Code: \d+\./.test(msg) ? msg : `Code: 1002. DB::Exception: ${msg}. (UNKNOWN_EXCEPTION)`, {
      cause: e,
    });
  };
  return {
    run: (sql, o) =>
      serial(async (s) => {
        try {
          await s.queryAsync(`USE ${quoteIdent(o.database)}`, { format: 'Null' });
          const r =
            o.params && Object.keys(o.params).length
              ? await s.queryBindAsync(sql, o.params, { format: o.format })
              : await s.queryAsync(sql, { format: o.format });
          return { body: r.bytes(), rowsRead: r.rowsRead, bytesRead: r.bytesRead, elapsedSeconds: r.elapsed };
        } catch (e) {
          throw wrap(e);
        }
      }),
    timezone: async () => (tz ??= await serial(async (s) => (await s.queryAsync('SELECT timezone()', { format: 'TabSeparated' })).text().trim())),
    close: async () => {
      await tail;
      session?.close();
      session = undefined;
    },
  };
}
