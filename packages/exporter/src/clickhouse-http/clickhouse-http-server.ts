/**
 * ClickHouse's HTTP interface on the embedded store, so @clickhouse/client, curl, clickhouse-client
 * and Grafana's ClickHouse datasource query the live rollups while `spendtrace serve` owns the
 * data directory. It speaks the parts of the protocol those clients use: GET/POST `/?query=` with
 * the body appended, `database`, `default_format`, `X-ClickHouse-Format`, `param_*` (server-side
 * binding), gzip request bodies and responses (`enable_http_compression=1`), `/ping`, and the
 * X-ClickHouse-* response headers; errors as `Code: N. DB::Exception: …` with
 * X-ClickHouse-Exception-Code and ClickHouse's HTTP status for the code.
 *
 * Read-only, as a `readonly=1` ClickHouse user is: the engine refuses writes and settings (see
 * chdb-reader.ts); a setting sent as a URL parameter is refused the same way, except a few that
 * only shape the HTTP exchange. Writes belong to the OTLP path, which prices and deduplicates.
 * Auth is the service's: a token as HTTP basic password (or user), X-ClickHouse-Key, `password`
 * parameter or Bearer.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import type { TokenAuth } from '../auth.ts';
import { shapeOf } from './query-text.ts';
import { SqlError, type SqlReader } from './chdb-reader.ts';

const gunzipAsync = promisify(gunzip) as (b: Buffer, o: { maxOutputLength: number }) => Promise<Buffer>;
const gzipAsync = promisify(gzip);

export interface ClickHouseHttpOptions {
  reader: SqlReader;
  /** The database used when a request names none (the service's). */
  database: string;
  /** @default 8123, ClickHouse's own HTTP port, so clients work with their defaults */
  port?: number;
  host?: string;
  auth?: TokenAuth;
  /** Largest query (URL + body), compressed or not. @default 16 MiB */
  maxQueryBytes?: number;
}

export interface ClickHouseHttpServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** URL parameters that are the protocol's, not settings. */
const PROTOCOL_PARAMS = new Set([
  'query',
  'database',
  'default_format',
  'query_id',
  'user',
  'password',
  'session_id',
  'session_timeout',
  'session_check',
  'enable_http_compression',
  'compress',
  'decompress',
]);
/**
 * Settings clients send by habit that only shape the HTTP exchange here (results are sent whole,
 * after the query ends) and so are accepted without effect. Any other setting is refused as by a
 * readonly=1 server, rather than ignored.
 */
const HARMLESS_SETTINGS = new Set([
  'wait_end_of_query',
  'send_progress_in_http_headers',
  'http_headers_progress_interval_ms',
  'http_response_buffer_size',
  'buffer_size',
  'log_comment',
  'cancel_http_readonly_queries_on_client_close',
  'max_execution_time',
  'output_format_json_quote_64bit_integers_as_strings',
]);

const CODE_NAMES: Record<number, string> = {
  62: 'SYNTAX_ERROR',
  164: 'READONLY',
  115: 'UNKNOWN_SETTING',
  516: 'AUTHENTICATION_FAILED',
  1002: 'UNKNOWN_EXCEPTION',
  307: 'TOO_MANY_BYTES',
};

/** ClickHouse's HTTP status for an exception code (HTTPHandler's mapping, the codes met here). */
export function httpStatusOf(code: number): number {
  if (code === 516 || code === 194 || code === 192) return 401;
  if (code === 164 || code === 497 || code === 291) return 403;
  if ([60, 81, 16, 46, 47, 73, 83].includes(code)) return 404;
  if ([6, 25, 26, 27, 32, 33, 34, 35, 36, 38, 41, 42, 43, 44, 53, 62, 70, 72, 115, 117, 456, 457, 1001].includes(code)) return 400;
  if (code === 307) return 413;
  return 500;
}

const CONTENT_TYPES: Array<[RegExp, string]> = [
  [/^JSON(Compact)?(Strings)?(EachRow|Columns|Lines)?/i, 'application/json; charset=UTF-8'],
  [/^(TabSeparated|TSV)/i, 'text/tab-separated-values; charset=UTF-8'],
  [/^CSV/i, 'text/csv; charset=UTF-8; header=absent'],
  [/^(Parquet|Arrow|ArrowStream|ORC|Native|RowBinary\w*|Avro|Protobuf\w*|MsgPack)$/i, 'application/octet-stream'],
];
const contentTypeOf = (format: string) => CONTENT_TYPES.find(([re]) => re.test(format))?.[1] ?? 'text/plain; charset=UTF-8';

class RequestError extends Error {
  readonly code: number;
  constructor(code: number, message: string) {
    super(`Code: ${code}. DB::Exception: ${message}. (${CODE_NAMES[code] ?? 'UNKNOWN_EXCEPTION'})`);
    this.code = code;
  }
}

function urlCredentials(url: URL): string | undefined {
  return url.searchParams.get('password') || url.searchParams.get('user') || undefined;
}

async function readQueryBody(req: IncomingMessage, max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > max) throw new RequestError(307, `query of more than ${max} bytes`);
    chunks.push(c);
  }
  let body: Buffer = Buffer.concat(chunks);
  if ((req.headers['content-encoding'] ?? '').toLowerCase() === 'gzip') {
    try {
      body = await gunzipAsync(body, { maxOutputLength: max });
    } catch (e) {
      throw new RequestError(e instanceof RangeError ? 307 : 1001, `cannot decompress the request body: ${(e as Error).message}`);
    }
  }
  return body.toString('utf8');
}

export async function startClickHouseHttp(o: ClickHouseHttpOptions): Promise<ClickHouseHttpServer> {
  const max = o.maxQueryBytes ?? 16 * 1024 * 1024;
  const timezone = await o.reader.timezone();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const queryId = url.searchParams.get('query_id') || randomUUID();
    res.setHeader('X-ClickHouse-Server-Display-Name', 'spendtrace');
    res.setHeader('X-ClickHouse-Query-Id', queryId);
    res.setHeader('X-ClickHouse-Timezone', timezone);
    if (url.pathname === '/ping' || url.pathname === '/replicas_status') return plain(res, 200, 'Ok.\n');
    if (url.pathname !== '/') {
      req.resume();
      return plain(res, 404, `There is no handle ${url.pathname}\n\nUse / or /ping for health checks.\n`);
    }
    if (req.method !== 'GET' && req.method !== 'POST' && req.method !== 'HEAD') {
      req.resume();
      return plain(res, 405, `Code: 1001. DB::Exception: method ${req.method} not allowed. (UNKNOWN_EXCEPTION)\n`);
    }
    if (o.auth?.enabled && !o.auth.verifyHeaders(req.headers) && !o.auth.verify(urlCredentials(url))) {
      req.resume();
      return error(res, new RequestError(516, 'Authentication failed'), 'TabSeparated');
    }
    let format = req.headers['x-clickhouse-format']?.toString() || url.searchParams.get('default_format') || 'TabSeparated';
    try {
      const body = req.method === 'POST' ? await readQueryBody(req, max) : (req.resume(), '');
      const fromUrl = url.searchParams.get('query') ?? '';
      const sql = fromUrl && body ? `${fromUrl}\n${body}` : fromUrl || body;
      // A GET of / with no query is ClickHouse's health check too.
      if (!sql.trim() && req.method !== 'POST') return plain(res, 200, 'Ok.\n');
      const shape = shapeOf(sql);
      if (shape.empty) throw new RequestError(62, 'Empty query');
      if (shape.multiStatement) throw new RequestError(62, 'Multi-statements are not allowed');
      if (shape.intoOutfile) throw new RequestError(164, 'INTO OUTFILE is not allowed on this read-only interface');
      format = shape.format ?? format;
      const params: Record<string, string> = {};
      for (const [k, v] of url.searchParams) {
        if (k.startsWith('param_')) params[k.slice(6)] = v;
        else if (!PROTOCOL_PARAMS.has(k) && !HARMLESS_SETTINGS.has(k)) {
          if (k === 'readonly' && (v === '1' || v === '2')) continue;
          throw new RequestError(164, `Cannot modify '${k}' setting in readonly mode`);
        }
      }
      const r = await o.reader.run(sql, {
        format,
        params,
        database: url.searchParams.get('database') || req.headers['x-clickhouse-database']?.toString() || o.database,
      });
      const summary = {
        read_rows: String(r.rowsRead),
        read_bytes: String(r.bytesRead),
        written_rows: '0',
        written_bytes: '0',
        total_rows_to_read: String(r.rowsRead),
        result_rows: '0',
        result_bytes: String(r.body.byteLength),
        elapsed_ns: String(Math.round(r.elapsedSeconds * 1e9)),
      };
      res.setHeader('X-ClickHouse-Format', format);
      res.setHeader('X-ClickHouse-Summary', JSON.stringify(summary));
      res.setHeader('Content-Type', contentTypeOf(format));
      let out: Uint8Array = r.body;
      if (url.searchParams.get('enable_http_compression') === '1' && /\bgzip\b/.test(req.headers['accept-encoding'] ?? '')) {
        out = await gzipAsync(r.body);
        res.setHeader('Content-Encoding', 'gzip');
      }
      res.setHeader('Content-Length', out.byteLength);
      res.statusCode = 200;
      res.end(req.method === 'HEAD' ? undefined : out);
    } catch (e) {
      if (e instanceof RequestError || e instanceof SqlError) return error(res, e, format);
      throw e;
    }
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (res.headersSent) return void res.destroy();
      error(res, new RequestError(1002, (e as Error)?.message ?? String(e)), 'TabSeparated');
    });
  });
  server.requestTimeout = 300_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 8123, o.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${addr.port}`,
    port: addr.port,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      })),
  };
}

function plain(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=UTF-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function error(res: ServerResponse, e: RequestError | SqlError, format: string): void {
  const code = e instanceof RequestError ? e.code : e.clickhouseCode;
  const text = `${e.message.trimEnd()}\n`;
  res.writeHead(httpStatusOf(code), {
    'content-type': 'text/plain; charset=UTF-8',
    'content-length': Buffer.byteLength(text),
    'x-clickhouse-exception-code': String(code),
    'x-clickhouse-format': format,
  });
  res.end(text);
}
