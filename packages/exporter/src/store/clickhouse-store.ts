/**
 * A ClickHouse server (or cluster) through the official `@clickhouse/client`, loaded lazily so the
 * embedded path never needs it (it is an optional dependency).
 */
import { StoreError, describeSql, firstLine, logSql, type Store, type StoreLogOptions } from './store.ts';

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
  ping(): Promise<{ success: boolean; error?: Error }>;
  query(p: { query: string; query_params?: Record<string, unknown>; format: 'JSONEachRow' }): Promise<{ json<T>(): Promise<T[]> }>;
  insert(p: { table: string; values: object[]; format: 'JSONEachRow'; clickhouse_settings?: Record<string, unknown> }): Promise<unknown>;
  command(p: { query: string }): Promise<unknown>;
  close(): Promise<void>;
}

export class ClickHouseStore implements Store {
  readonly kind = 'clickhouse' as const;
  private client: Client | undefined;
  private readonly opts: StoreLogOptions;

  private constructor(client: Client, opts: StoreLogOptions) {
    this.client = client;
    this.opts = opts;
  }

  static async open(options: ClickHouseStoreOptions): Promise<ClickHouseStore> {
    let mod: { createClient(cfg: Record<string, unknown>): Client };
    try {
      mod = (await import('@clickhouse/client')) as unknown as typeof mod;
    } catch (cause) {
      throw new StoreError('SPENDTRACE_STORE_DRIVER_MISSING', 'a ClickHouse URL was given but @clickhouse/client is not installed (npm i @clickhouse/client)', { cause });
    }
    const client = mod.createClient({
      url: options.url,
      ...(options.username !== undefined ? { username: options.username } : {}),
      ...(options.password !== undefined ? { password: options.password } : {}),
      request_timeout: options.requestTimeoutMs ?? 30_000,
      clickhouse_settings: {
        output_format_json_quote_decimals: 1,
        output_format_json_quote_64bit_integers: 1,
      },
    });
    return new ClickHouseStore(client, options);
  }

  private c(): Client {
    if (!this.client) throw new StoreError('SPENDTRACE_STORE_CLOSED', 'ClickHouse store is closed');
    return this.client;
  }

  async ping(): Promise<void> {
    let r: Awaited<ReturnType<Client['ping']>>;
    try {
      r = await this.c().ping();
    } catch (cause) {
      throw new StoreError('SPENDTRACE_STORE_CONNECT', `ClickHouse ping failed: ${firstLine(cause)}`, { cause });
    }
    if (!r.success) throw new StoreError('SPENDTRACE_STORE_CONNECT', `ClickHouse ping failed: ${firstLine(r.error)}`, { cause: r.error });
  }

  async query<T = Record<string, unknown>>(sql: string, params?: Record<string, unknown>): Promise<T[]> {
    logSql(sql, this.opts);
    try {
      const rs = await this.c().query({ query: sql, ...(params ? { query_params: params } : {}), format: 'JSONEachRow' });
      return await rs.json<T>();
    } catch (cause) {
      throw wrap('SPENDTRACE_STORE_QUERY', 'query failed', cause, sql, this.opts);
    }
  }

  async insert(table: string, rows: object[], opts?: { dedupToken?: string }): Promise<void> {
    if (!rows.length) return;
    try {
      await this.c().insert({
        table,
        // The client serializes with JSON.stringify: bigint must already be text.
        values: rows.map((r) => JSON.parse(JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))) as object),
        format: 'JSONEachRow',
        ...(opts?.dedupToken
          ? { clickhouse_settings: { insert_deduplication_token: opts.dedupToken, deduplicate_blocks_in_dependent_materialized_views: 1 } }
          : {}),
      });
    } catch (cause) {
      throw wrap('SPENDTRACE_STORE_INSERT', `insert of ${rows.length} rows into ${table} failed`, cause, '', this.opts);
    }
  }

  async command(sql: string): Promise<void> {
    logSql(sql, this.opts);
    try {
      await this.c().command({ query: sql });
    } catch (cause) {
      throw wrap('SPENDTRACE_STORE_COMMAND', 'command failed', cause, sql, this.opts);
    }
  }

  async close(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    await c?.close();
  }
}

function wrap(code: ConstructorParameters<typeof StoreError>[0], what: string, cause: unknown, sql: string, opts: StoreLogOptions): StoreError {
  const raw = (cause as { code?: unknown })?.code;
  const ch = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : undefined;
  // Network failures (connection refused, timeouts) carry no ClickHouse code.
  const net = ch === undefined && /ECONNREFUSED|ECONNRESET|ETIMEDOUT|socket|Timeout/i.test(String((cause as Error)?.message ?? cause));
  return new StoreError(net ? 'SPENDTRACE_STORE_CONNECT' : code, `ClickHouse: ${what}: ${firstLine(cause)}${sql ? describeSql(sql, opts) : ''}`, { cause, clickhouseCode: ch });
}
