/**
 * The embedded store: chDB (ClickHouse in-process) on a data directory. chDB binds one data
 * directory per process, so this module refuses a second directory while one is open.
 *
 * Two lanes, each its own chDB session (connection) on the directory, each running one operation
 * at a time (chDB is not built for concurrent calls on one connection; the queues also keep
 * close() after everything in flight):
 * - the write lane: inserts, commands, and queries that ask for it (`lane: 'write'`);
 * - the read lane: every other query (reports, /api, the dashboard).
 * chDB runs the two connections in parallel off the event loop, so an insert never waits behind a
 * report (with one queue, reports cut ingest by a third: bench/README.md, "Reads and writes").
 * What a write lane operation committed is visible to every read started after it settled.
 */
import { randomBytes } from 'node:crypto';
import { accessSync, constants, mkdirSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Session, drainPending } from 'chdb';
import { encodeRowBinary } from './row-binary.ts';
import {
  StoreError,
  describeSql,
  firstLine,
  logSql,
  scrubQueryText,
  toJsonEachRow,
  type InsertColumn,
  type InsertOptions,
  type Lane,
  type QueryOptions,
  type Store,
  type StoreLogOptions,
} from './store.ts';

const WRITE_LANE_SETTINGS = 'SET priority = 1';
const READ_LANE_SETTINGS = 'SET priority = 2, max_threads = 1';

export interface ChdbStoreOptions extends StoreLogOptions {
  /** Data directory; created when missing. @default './.spendtrace' */
  dataDir?: string;
}

/** The directory the process's chDB engine is bound to, and how many stores share it. */
let bound: { dir: string; refs: number } | undefined;

// Every read gets exact decimals and 64-bit integers as JSON strings.
const CONNECTION_ARGS = ['--output_format_json_quote_decimals=1', '--output_format_json_quote_64bit_integers=1'];

export class ChdbStore implements Store {
  readonly kind = 'chdb' as const;
  readonly dataDir: string;
  private lanes: Record<Lane, Session> | undefined;
  private readonly tails: Record<Lane, Promise<unknown>> = { write: Promise.resolve(), read: Promise.resolve() };
  private readonly opts: StoreLogOptions;
  /** Where RowBinary payloads wait for INSERT ... FROM INFILE (chosen on first use). */
  private spoolDir: string | undefined;

  private constructor(dataDir: string, lanes: Record<Lane, Session>, opts: StoreLogOptions) {
    this.dataDir = dataDir;
    this.lanes = lanes;
    this.opts = opts;
  }

  static async open(options: ChdbStoreOptions = {}): Promise<ChdbStore> {
    const dir = resolve(options.dataDir ?? './.spendtrace');
    if (bound && bound.dir !== dir) {
      throw new StoreError(
        'SPENDTRACE_STORE_BUSY',
        `chDB is already open on ${bound.dir} in this process; one process owns one data directory (asked for ${dir})`,
      );
    }
    try {
      mkdirSync(dir, { recursive: true });
      if (!bound) await drainPending();
      const write = new Session(dir, { connectionArgs: CONNECTION_ARGS });
      let read: Session;
      try {
        read = new Session(dir, { connectionArgs: CONNECTION_ARGS });
      } catch (e) {
        write.close();
        throw e;
      }
      bound = { dir, refs: (bound?.refs ?? 0) + 1 };
      const store = new ChdbStore(dir, { write, read }, options);
      try {
        // On 2 cores a report at max_threads=2 took the CPU the ingest path needs (bench/README.md);
        // one thread for reads, and ClickHouse's query priority in the writes' favour (only
        // max_threads and priority together were measured).
        await store.run('write', (s) => s.queryAsync(WRITE_LANE_SETTINGS, { format: 'Null' }));
        await store.run('read', (s) => s.queryAsync(READ_LANE_SETTINGS, { format: 'Null' }));
      } catch (e) {
        await store.close();
        throw e;
      }
      return store;
    } catch (cause) {
      throw new StoreError('SPENDTRACE_STORE_CONNECT', `cannot open chDB data directory ${dir}: ${firstLine(cause)}`, { cause });
    }
  }

  /** Runs `op` on `lane`'s session after every earlier operation of that lane settled. */
  private run<T>(lane: Lane, op: (s: Session) => Promise<T>): Promise<T> {
    const next = this.tails[lane].then(() => {
      if (!this.lanes) throw new StoreError('SPENDTRACE_STORE_CLOSED', `chDB store on ${this.dataDir} is closed`);
      return op(this.lanes[lane]);
    });
    this.tails[lane] = next.catch(() => undefined);
    return next;
  }

  /** On the write lane: the store is healthy when it can take writes. */
  async ping(): Promise<void> {
    await this.query('SELECT 1', undefined, { lane: 'write' });
  }

  query<T = Record<string, unknown>>(sql: string, params?: Record<string, unknown>, opts?: QueryOptions): Promise<T[]> {
    logSql(sql, this.opts);
    return this.run(opts?.lane ?? 'read', async (s) => {
      try {
        const r =
          params && Object.keys(params).length
            ? await s.queryBindAsync(sql, params, { format: 'JSONEachRow' })
            : await s.queryAsync(sql, { format: 'JSONEachRow' });
        const text = r.text();
        if (!text) return [];
        return text
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => JSON.parse(l) as T);
      } catch (cause) {
        throw wrap('SPENDTRACE_STORE_QUERY', `query failed`, cause, sql, this.opts);
      }
    });
  }

  insert(table: string, rows: object[], opts?: InsertOptions): Promise<void> {
    if (!rows.length) return Promise.resolve();
    const values = toJsonEachRow(rows);
    const settings = insertSettings(opts);
    return this.run('write', async (s) => {
      try {
        await s.insert({ table, values, format: 'JSONEachRow', settings });
      } catch (cause) {
        throw wrap('SPENDTRACE_STORE_INSERT', `insert of ${rows.length} rows into ${table} failed`, cause, '', this.opts);
      }
    });
  }

  /**
   * RowBinary through a file: chdb 3.4's Buffer insert takes text formats only, and RowBinary costs
   * chDB a third of JSONEachRow's CPU per row (bench/README.md). The file is on tmpfs where there
   * is one, so writing it is a memory copy; the write lane runs one insert at a time, so one file serves.
   */
  insertColumns(table: string, columns: readonly InsertColumn[], rows: readonly object[], opts?: InsertOptions): Promise<void> {
    if (!rows.length) return Promise.resolve();
    let data: Buffer;
    try {
      data = encodeRowBinary(rows, columns);
    } catch (cause) {
      // A value its column cannot hold is the rows' fault, as ClickHouse's own parse error
      // (CANNOT_PARSE_INPUT_ASSERTION_FAILED) would be: the writer bisects and sets it aside.
      return Promise.reject(
        new StoreError('SPENDTRACE_STORE_INSERT', `chDB: insert of ${rows.length} rows into ${table} failed: ${firstLine(cause)}`, {
          cause,
          clickhouseCode: 27,
        }),
      );
    }
    const settings = insertSettings(opts);
    const clause = Object.entries(settings)
      .map(([k, v]) => `${k} = ${typeof v === 'number' ? v : `'${String(v).replace(/[\\']/g, '\\$&')}'`}`)
      .join(', ');
    const cols = columns.map((c) => c.name).join(', ');
    return this.run('write', async (s) => {
      // A new name per insert, created exclusively (never through someone's symlink), removed after:
      // nothing is left behind by a process that exits without closing its store.
      const file = join((this.spoolDir ??= spoolDir()), `spendtrace-insert-${process.pid}-${randomBytes(6).toString('hex')}.rowbinary`);
      try {
        await writeFile(file, data, { flag: 'wx', mode: 0o600 });
        await s.queryAsync(
          `INSERT INTO ${table} (${cols}) FROM INFILE '${file.replace(/[\\']/g, '\\$&')}'${clause ? ` SETTINGS ${clause}` : ''} FORMAT RowBinary`,
          { format: 'Null' },
        );
      } catch (cause) {
        throw wrap('SPENDTRACE_STORE_INSERT', `insert of ${rows.length} rows into ${table} failed`, cause, '', this.opts);
      } finally {
        await rm(file, { force: true });
      }
    });
  }

  command(sql: string): Promise<void> {
    logSql(sql, this.opts);
    return this.run('write', async (s) => {
      try {
        await s.queryAsync(sql, { format: 'Null' });
      } catch (cause) {
        throw wrap('SPENDTRACE_STORE_COMMAND', 'command failed', cause, sql, this.opts);
      }
    });
  }

  async close(): Promise<void> {
    await Promise.all([this.tails.write, this.tails.read]);
    const lanes = this.lanes;
    if (!lanes) return;
    this.lanes = undefined;
    lanes.read.close();
    lanes.write.close();
    if (bound && --bound.refs <= 0) bound = undefined;
    await drainPending();
  }
}

function insertSettings(opts: InsertOptions | undefined): Record<string, string | number> {
  return {
    ...(opts?.dedupToken ? { insert_deduplication_token: opts.dedupToken, deduplicate_blocks_in_dependent_materialized_views: 1 } : {}),
    ...opts?.settings,
  };
}

/** tmpfs (/dev/shm) when writable, else the system's temporary directory. */
function spoolDir(): string {
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return tmpdir();
  }
}

function wrap(code: ConstructorParameters<typeof StoreError>[0], what: string, cause: unknown, sql: string, opts: StoreLogOptions): StoreError {
  const ch = (cause as { clickhouseCode?: unknown })?.clickhouseCode;
  return new StoreError(code, `chDB: ${what}: ${scrubQueryText(firstLine(cause), opts)}${sql ? describeSql(sql, opts) : ''}`, {
    cause,
    clickhouseCode: typeof ch === 'number' ? ch : undefined,
  });
}
