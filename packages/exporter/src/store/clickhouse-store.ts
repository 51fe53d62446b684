/**
 * A ClickHouse server (or cluster) through the official `@clickhouse/client`, loaded lazily so the
 * embedded path never needs it (it is an optional dependency).
 */
import {
  StoreError,
  describeSql,
  firstLine,
  logSql,
  scrubQueryText,
  type InsertColumn,
  type InsertOptions,
  type Store,
  type StoreLogOptions,
} from './store.ts';

export interface ClickHouseStoreOptions extends StoreLogOptions {
  /** e.g. http://user:password@localhost:8123 (credentials may be given in the URL). */
  url: string;
  /** Overrides the URL's user. */
  username?: string;
  password?: string;
  /** Per-request timeout. @default 30_000 */
  requestTimeoutMs?: number;
}

// The slice of @clickhouse/client this file uses.
interface Client {
  ping(p?: { select: boolean }): Promise<{ success: boolean; error?: Error }>;
  query(p: { query: string; query_params?: Record<string, unknown>; format: 'JSONEachRow' }): Promise<{ json<T>(): Promise<T[]> }>;
  insert(p: {
    table: string;
    values: readonly object[];
    format: 'JSONEachRow' | 'JSONCompactEachRow';
    columns?: [string, ...string[]];
    clickhouse_settings?: Record<string, unknown>;
  }): Promise<unknown>;
  command(p: { query: string }): Promise<unknown>;
  close(): Promise<void>;
}

export class ClickHouseStore implements Store {
  readonly kind = 'clickhouse' as const;
  private client: Client | undefined;
  private readonly opts: StoreLogOptions;
  /** Operations in flight; close() waits for them. */
  private readonly inflight = new Set<Promise<unknown>>();

  private constructor(client: Client, opts: StoreLogOptions) {
    this.client = client;
    this.opts = opts;
  }

  static async open(options: ClickHouseStoreOptions): Promise<ClickHouseStore> {
    let mod: { createClient(cfg: Record<string, unknown>): Client; ClickHouseLogLevel: { OFF: number } };
    try {
      mod = (await import('@clickhouse/client')) as unknown as typeof mod;
    } catch (cause) {
      throw new StoreError('SPENDTRACE_STORE_DRIVER_MISSING', 'a ClickHouse URL was given but @clickhouse/client is not installed (npm i @clickhouse/client)', {
        cause,
      });
    }
    const client = mod.createClient({
      url: options.url,
      ...(options.username !== undefined ? { username: options.username } : {}),
      ...(options.password !== undefined ? { password: options.password } : {}),
      request_timeout: options.requestTimeoutMs ?? 30_000,
      // Every failure reaches the caller as a StoreError; the client's own console logging would
      // print it a second time, bypassing `log` (and its arguments include the insert settings).
      log: { level: mod.ClickHouseLogLevel.OFF },
      json: { parse: JSON.parse, stringify: (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x)) },
      clickhouse_settings: {
        output_format_json_quote_decimals: 1,
        output_format_json_quote_64bit_integers: 1,
      },
    });
    return new ClickHouseStore(client, options);
  }

  /** Runs `op` on the open client (SPENDTRACE_STORE_CLOSED otherwise, never wrapped), tracked for close(). */
  private run<T>(op: (c: Client) => Promise<T>): Promise<T> {
    const c = this.client;
    if (!c) return Promise.reject(new StoreError('SPENDTRACE_STORE_CLOSED', 'ClickHouse store is closed'));
    const p = op(c);
    const done = p.then(
      () => undefined,
      () => undefined,
    );
    this.inflight.add(done);
    void done.then(() => this.inflight.delete(done));
    return p;
  }

  async ping(): Promise<void> {
    // `select`: a query, not GET /ping, which a server answers without checking credentials.
    const r = await this.run(async (c) => {
      try {
        return await c.ping({ select: true });
      } catch (cause) {
        return { success: false, error: cause as Error };
      }
    });
    if (!r.success) {
      throw new StoreError('SPENDTRACE_STORE_CONNECT', `ClickHouse ping failed: ${scrubQueryText(firstLine(r.error), this.opts)}`, {
        cause: r.error,
        clickhouseCode: clickhouseCode(r.error),
      });
    }
  }

  query<T = Record<string, unknown>>(sql: string, params?: Record<string, unknown>): Promise<T[]> {
    logSql(sql, this.opts);
    return this.run(async (c) => {
      try {
        const rs = await c.query({ query: sql, ...(params ? { query_params: params } : {}), format: 'JSONEachRow' });
        return await rs.json<T>();
      } catch (cause) {
        throw wrap('SPENDTRACE_STORE_QUERY', 'query failed', cause, sql, this.opts);
      }
    });
  }

  insert(table: string, rows: object[], opts?: InsertOptions): Promise<void> {
    // The rows as they are: the client serializes each (bigint as text, see `json` at open). A
    // per-row deep copy here is what made a request's large shared resource crash the process.
    return this.insertAs(table, rows, 'JSONEachRow', undefined, opts);
  }

  /**
   * JSONCompactEachRow: each row an array in column order, so no key is written or parsed per
   * value (the client's insert formats are JSON and text ones; RowBinary is not among them).
   */
  insertColumns(table: string, columns: readonly InsertColumn[], rows: readonly object[], opts?: InsertOptions): Promise<void> {
    const names = columns.map((c) => c.name);
    const values = rows.map((r) => names.map((n) => (r as Record<string, unknown>)[n]));
    return this.insertAs(table, values, 'JSONCompactEachRow', names as [string, ...string[]], opts);
  }

  private insertAs(
    table: string,
    rows: readonly object[],
    format: 'JSONEachRow' | 'JSONCompactEachRow',
    columns: [string, ...string[]] | undefined,
    opts: InsertOptions | undefined,
  ): Promise<void> {
    if (!rows.length) return Promise.resolve();
    return this.run(async (c) => {
      try {
        await c.insert({
          table,
          values: rows,
          format,
          ...(columns ? { columns } : {}),
          clickhouse_settings: {
            ...(opts?.dedupToken
              ? {
                  insert_deduplication_token: opts.dedupToken,
                  deduplicate_blocks_in_dependent_materialized_views: 1,
                  // The token's guarantee is a synchronous insert's: a server (or profile) with
                  // async_insert on deduplicates async inserts only with async_insert_deduplicate
                  // (off by default). The batcher batches already; the server need not.
                  async_insert: 0,
                }
              : {}),
            ...opts?.settings,
          },
        });
      } catch (cause) {
        throw wrap('SPENDTRACE_STORE_INSERT', `insert of ${rows.length} rows into ${table} failed`, cause, '', this.opts);
      }
    });
  }

  command(sql: string): Promise<void> {
    logSql(sql, this.opts);
    return this.run(async (c) => {
      try {
        await c.command({ query: sql });
      } catch (cause) {
        throw wrap('SPENDTRACE_STORE_COMMAND', 'command failed', cause, sql, this.opts);
      }
    });
  }

  /** Waits for the operations in flight, then closes the connections. Later calls fail with SPENDTRACE_STORE_CLOSED. */
  async close(): Promise<void> {
    const c = this.client;
    if (!c) return;
    this.client = undefined;
    while (this.inflight.size) await Promise.all([...this.inflight]);
    await c.close();
  }
}

/** The server's numeric exception code (the client gives it as a string). */
function clickhouseCode(cause: unknown): number | undefined {
  const raw = (cause as { code?: unknown })?.code;
  return typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : undefined;
}

function wrap(code: ConstructorParameters<typeof StoreError>[0], what: string, cause: unknown, sql: string, opts: StoreLogOptions): StoreError {
  const ch = clickhouseCode(cause);
  // Network failures (connection refused, timeouts) carry no ClickHouse code.
  const net = ch === undefined && /ECONNREFUSED|ECONNRESET|ETIMEDOUT|socket|Timeout/i.test(String((cause as Error)?.message ?? cause));
  return new StoreError(
    net ? 'SPENDTRACE_STORE_CONNECT' : code,
    `ClickHouse: ${what}: ${scrubQueryText(firstLine(cause), opts)}${sql ? describeSql(sql, opts) : ''}`,
    { cause, clickhouseCode: ch },
  );
}
