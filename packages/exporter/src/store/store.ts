/**
 * The contract every storage backend fulfils (as clickhouse-js separates `Connection` from its
 * runtimes): embedded chDB and a ClickHouse server behind one interface. SQL is ClickHouse SQL;
 * parameters use server-side binding (`{name:Type}` in the text, values in `params`), so values
 * never enter the query text. Decimal and 64-bit integer results come back as strings, so money
 * read here is exact (parse with `parsePico`).
 */
export interface Store {
  readonly kind: 'chdb' | 'clickhouse';
  /** Resolves when the backend answers a trivial query. */
  ping(): Promise<void>;
  /** Rows of a SELECT, as JSON objects (Decimal / UInt64 / Int64 as strings). */
  query<T = Record<string, unknown>>(sql: string, params?: Record<string, unknown>, opts?: QueryOptions): Promise<T[]>;
  /**
   * Inserts rows (JSONEachRow). With `dedupToken`, the insert carries `insert_deduplication_token`
   * and deduplication reaches the materialized views, so retrying the same batch is a no-op.
   */
  insert(table: string, rows: object[], opts?: InsertOptions): Promise<void>;
  /**
   * Inserts `rows` into the named columns only (the others take their DEFAULT) in the backend's
   * cheapest format: RowBinary on embedded chDB, JSONCompactEachRow on a server. Values as for
   * `insert` (64-bit integers, times and decimals may be exact decimal text).
   */
  insertColumns(table: string, columns: readonly InsertColumn[], rows: readonly object[], opts?: InsertOptions): Promise<void>;
  /** DDL or any statement without a result. */
  command(sql: string): Promise<void>;
  close(): Promise<void>;
}

/** Which queue an operation waits in where the backend has more than one (embedded chDB). */
export type Lane = 'read' | 'write';

export interface QueryOptions {
  /**
   * 'write' for a query that is a step of a write (the span writer's), so it never waits behind
   * reports. @default 'read'
   */
  lane?: Lane;
}

/**
 * The ClickHouse types `insertColumns` writes. LowCardinality(String) columns are given as String
 * (the same in RowBinary); a Map(LowCardinality(String), String) as Map(String, String).
 */
export type ColumnKind = 'String' | 'UInt8' | 'UInt16' | 'UInt64' | 'DateTime64(9)' | 'Decimal(38, 12)' | 'Map(String, String)';

export interface InsertColumn {
  name: string;
  type: ColumnKind;
}

export interface InsertOptions {
  dedupToken?: string;
  /** Extra ClickHouse settings for this insert (e.g. async_insert: 0 where the next statement reads the rows). */
  settings?: Record<string, string | number>;
}

export type StoreErrorCode =
  | 'SPENDTRACE_STORE_CONFIG'
  | 'SPENDTRACE_STORE_DRIVER_MISSING'
  | 'SPENDTRACE_STORE_CONNECT'
  | 'SPENDTRACE_STORE_QUERY'
  | 'SPENDTRACE_STORE_INSERT'
  | 'SPENDTRACE_STORE_COMMAND'
  | 'SPENDTRACE_STORE_CLOSED'
  | 'SPENDTRACE_STORE_BUSY';

/**
 * A failed store operation. `code` is stable for callers to branch on; the backend's own error
 * is kept as `cause`. The SQL text is in the message only when query logging was opted in
 * (`logQueries` / SPENDTRACE_LOG_QUERIES=1): queries can carry user data.
 */
export class StoreError extends Error {
  readonly code: StoreErrorCode;
  /** The backend's numeric error code (ClickHouse exception code) when it gave one. */
  readonly clickhouseCode: number | undefined;
  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown; clickhouseCode?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StoreError';
    this.code = code;
    this.clickhouseCode = options?.clickhouseCode;
  }
}

/** Options shared by both backends. */
export interface StoreLogOptions {
  /**
   * Put query text into error messages and log it through `log`.
   * @default false (env SPENDTRACE_LOG_QUERIES=1 turns it on)
   */
  logQueries?: boolean;
  /** Where query text goes when `logQueries` is on. @default console.error */
  log?: (line: string) => void;
}

export function describeSql(sql: string, opts: StoreLogOptions): string {
  const on = opts.logQueries ?? process.env.SPENDTRACE_LOG_QUERIES === '1';
  if (!on) return '';
  const short = sql.length > 2000 ? `${sql.slice(0, 2000)}…` : sql;
  return ` [sql: ${short.replace(/\s+/g, ' ').trim()}]`;
}

export function logSql(sql: string, opts: StoreLogOptions): void {
  const on = opts.logQueries ?? process.env.SPENDTRACE_LOG_QUERIES === '1';
  if (on) (opts.log ?? console.error)(`spendtrace store: ${sql.replace(/\s+/g, ' ').trim()}`);
}

/** A short first line of a backend error, for messages. */
export function firstLine(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.split('\n')[0]!.slice(0, 500);
}

/** Serializes rows for JSONEachRow: bigint as its decimal text (ClickHouse parses quoted numbers). */
export function toJsonEachRow(rows: object[]): string {
  let out = '';
  for (const r of rows) out += JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)) + '\n';
  return out;
}

/**
 * Server messages can quote the query: "... in scope SELECT ... WHERE x = 'value'" for an unknown
 * identifier, the text after the error position for a syntax error. Without query logging that
 * part is cut (the code and the first clause stay), so values never reach logs by this route.
 */
export function scrubQueryText(message: string, opts: StoreLogOptions): string {
  if (opts.logQueries ?? process.env.SPENDTRACE_LOG_QUERIES === '1') return message;
  return message
    .replace(/ in scope [\s\S]*$/, ' in scope <query hidden>.')
    .replace(/(Syntax error[^:]*: failed at position \d+)[\s\S]*$/, '$1 <query hidden>.');
}
