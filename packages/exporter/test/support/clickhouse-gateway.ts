/**
 * A test-support ClickHouse HTTP interface gateway: the subset of clickhouse-server's HTTP protocol
 * that `@clickhouse/client` 1.x speaks, in front of a REAL ClickHouse engine (chDB, ClickHouse
 * in-process). It is a gateway, not a fake: it never interprets SQL. Every statement text reaches
 * the engine as the server would have run it, and every setting and query parameter from the URL is
 * handed to the engine, which validates and applies it (an unknown setting fails with the engine's
 * own UNKNOWN_SETTING, a bad parameter with its own parse error).
 *
 * Per request (POST or GET on `/`):
 *   - credentials: `Authorization: Basic`, `X-ClickHouse-User`/`X-ClickHouse-Key`, or `user`/`password`
 *     URL params, checked against the gateway's user table (default: user `default`, empty password);
 *   - the query text: the `query` URL param, then (POST) `'\n'` and the request body, as the server
 *     concatenates them, so `INSERT INTO t FORMAT JSONEachRow` + rows in the body is one statement
 *     with inline data; `multipart/form-data` bodies carry `query` and `param_*` fields;
 *   - the request body is decoded per `Content-Encoding` (gzip, deflate, br, zstd);
 *   - reserved params (`database`, `default_format`, `query_id`, `session_*`, ...) are HTTP-level;
 *     `param_<name>` become engine query parameters (`SET param_<name> = '<raw text>'`, which the
 *     engine parses exactly like the server parses `param_` URL values); every other param is a
 *     setting (`SET <name> = '<text>'`); GET runs with `readonly = 2`, as on the server;
 *   - the statement runs on its own engine connection (a chDB Session on the gateway's data
 *     directory), so settings, parameters and `USE` never leak between requests; with `session_id`
 *     the connection lives on (`session_timeout`, `session_check`, `close_session`, one request at a
 *     time: SESSION_IS_LOCKED otherwise);
 *   - the reply: the engine's bytes (`default_format`, else TabSeparated, unless the statement has
 *     its own FORMAT), gzip/deflate/br/zstd when `enable_http_compression=1` and `Accept-Encoding`
 *     asks, headers `X-ClickHouse-Query-Id`, `-Format`, `-Timezone`, `-Server-Display-Name`,
 *     `-Summary`; an engine exception becomes `Code: N. DB::Exception: ... (TYPE) (version ...)`
 *     with `X-ClickHouse-Exception-Code: N` and the server's HTTP status for that code.
 * `GET /ping` and `GET /` without a query answer `Ok.\n`.
 *
 * Run it as its own process (one process owns one chDB data directory, as a server owns its path):
 *   node packages/exporter/test/support/clickhouse-gateway.ts --data-dir /tmp/ch --port 8123 [--user u:p]
 * It prints one JSON line `{"url": ...}` when listening and exits when stdin closes or on SIGTERM.
 * Give it a stdin that never carries data (a pipe nobody writes, as gateway-process.ts does; a TTY):
 * like clickhouse-local, the engine treats data waiting on the process's stdin as INSERT data, and
 * an INSERT with inline data then fails ("async inserts with both inlined and external data").
 * /dev/null does not work either: its EOF is read as "the parent is gone" and the gateway exits.
 * See gateway-process.ts for starting it from a test.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { Session, drainPending } from 'chdb';

export interface GatewayOptions {
  dataDir: string;
  /** @default 0 (a free port) */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** name -> password. @default { default: '' } */
  users?: Record<string, string>;
  /** Statements executing on the engine at once; more wait in line. @default 4 */
  maxConcurrentQueries?: number;
  /** Largest request body after decompression. @default 256 MiB */
  maxBodyBytes?: number;
  displayName?: string;
}

export interface RunningGateway {
  url: string;
  engineVersion: string;
  close(): Promise<void>;
}

/** Parameters that belong to the HTTP layer, never settings (the server's reserved names). */
const RESERVED = new Set([
  'query',
  'compress',
  'decompress',
  'user',
  'password',
  'quota_key',
  'query_id',
  'stacktrace',
  'role',
  'buffer_size',
  'wait_end_of_query',
  'session_id',
  'session_timeout',
  'session_check',
  'client_protocol_version',
  'close_session',
  'database',
  'default_format',
]);

/** ClickHouse's exceptionCodeToHTTPStatus, by exception name (src/Server/HTTP/exceptionCodeToHTTPStatus.cpp). */
const STATUS_BY_TYPE: Record<string, number> = {};
const statusFor = (names: string, status: number) => {
  for (const n of names.split(/\s+/)) if (n) STATUS_BY_TYPE[n] = status;
};
statusFor('REQUIRED_PASSWORD', 401);
statusFor('UNKNOWN_USER WRONG_PASSWORD AUTHENTICATION_FAILED SET_NON_GRANTED_ROLE ACCESS_DENIED', 403);
statusFor(
  `BAD_ARGUMENTS CANNOT_COMPILE_REGEXP CANNOT_PARSE_TEXT CANNOT_PARSE_ESCAPE_SEQUENCE CANNOT_PARSE_QUOTED_STRING
  CANNOT_PARSE_DATE CANNOT_PARSE_DATETIME CANNOT_PARSE_NUMBER CANNOT_PARSE_DOMAIN_VALUE_FROM_STRING CANNOT_PARSE_IPV4
  CANNOT_PARSE_IPV6 CANNOT_PARSE_INPUT_ASSERTION_FAILED CANNOT_PARSE_UUID DUPLICATE_COLUMN ILLEGAL_COLUMN
  UNKNOWN_ELEMENT_IN_AST UNKNOWN_TYPE_OF_AST_NODE THERE_IS_NO_COLUMN TOO_DEEP_AST TOO_BIG_AST UNEXPECTED_AST_STRUCTURE
  SYNTAX_ERROR INCORRECT_DATA TYPE_MISMATCH VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE`,
  400,
);
statusFor(
  `UNKNOWN_TABLE UNKNOWN_FUNCTION UNKNOWN_IDENTIFIER UNKNOWN_TYPE UNKNOWN_STORAGE UNKNOWN_DATABASE UNKNOWN_SETTING
  UNKNOWN_DIRECTION_OF_SORTING UNKNOWN_AGGREGATE_FUNCTION UNKNOWN_FORMAT UNKNOWN_DATABASE_ENGINE UNKNOWN_TYPE_OF_QUERY UNKNOWN_ROLE`,
  404,
);
statusFor('QUERY_IS_TOO_LARGE', 413);
statusFor('NOT_IMPLEMENTED', 501);
statusFor('SOCKET_TIMEOUT CANNOT_OPEN_FILE CANNOT_SCHEDULE_TASK', 503);
statusFor('HTTP_LENGTH_REQUIRED', 411);
statusFor('TIMEOUT_EXCEEDED', 408);
statusFor('UNSUPPORTED_MEDIA_TYPE', 415);

/** An exception as ClickHouse reports it. Gateway-side ones use the server's codes for the same case. */
class ChException extends Error {
  readonly code: number;
  readonly type: string;
  constructor(code: number, type: string, message: string) {
    super(message);
    this.code = code;
    this.type = type;
  }
  /** The engine's own text is kept verbatim (`Code: N. DB::Exception: ... (TYPE)`). */
  static fromEngine(e: unknown): ChException {
    // chDB sometimes nests the same prefix twice ("Code: 48. DB::Exception: Code: 48. DB::Exception: ..."); the server does not.
    const msg = (e instanceof Error ? e.message : String(e)).replace(/^(Code: \d+\. DB::Exception: )\1/, '$1');
    const m = /^Code: (\d+)\. DB::Exception: [\s\S]*\(([A-Z0-9_]+)\)\s*$/.exec(msg);
    if (m) {
      const ex = new ChException(Number(m[1]), m[2]!, '');
      ex.raw = msg.trimEnd();
      return ex;
    }
    const code = (e as { clickhouseCode?: unknown })?.clickhouseCode;
    return new ChException(typeof code === 'number' ? code : 1002, 'UNKNOWN_EXCEPTION', msg);
  }
  raw = '';
  text(): string {
    return this.raw || `Code: ${this.code}. DB::Exception: ${this.message}. (${this.type})`;
  }
}

/** A ClickHouse string literal holding exactly `s`. */
function sqlString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const backquote = (s: string) => '`' + s.replace(/\\/g, '\\\\').replace(/`/g, '\\`') + '`';

/** Content types the server sends for the common formats (anything else: text/plain). */
function contentType(format: string): string {
  if (/^(JSONEachRow|JSONStringsEachRow|JSONCompactEachRow|JSONLines|NDJSON)/i.test(format)) return 'application/x-ndjson; charset=UTF-8';
  if (/^JSON/i.test(format)) return 'application/json; charset=UTF-8';
  if (/^(TabSeparated|TSV)/i.test(format)) return 'text/tab-separated-values; charset=UTF-8';
  if (/^CSV/i.test(format)) return 'text/csv; charset=UTF-8; header=absent';
  return 'text/plain; charset=UTF-8';
}

const decoders: Record<string, (b: Buffer) => Promise<Buffer>> = {
  gzip: promisify(zlib.gunzip),
  'x-gzip': promisify(zlib.gunzip),
  deflate: promisify(zlib.inflate),
  br: promisify(zlib.brotliDecompress),
  zstd: promisify(zlib.zstdDecompress),
};
const encoders: Record<string, (b: Buffer) => Promise<Buffer>> = {
  gzip: promisify(zlib.gzip),
  deflate: promisify(zlib.deflate),
  br: promisify(zlib.brotliCompress),
  zstd: promisify(zlib.zstdCompress),
};

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((ok, fail) => {
    const chunks: Buffer[] = [];
    let n = 0;
    req.on('data', (c: Buffer) => {
      n += c.length;
      if (n > limit) {
        fail(new ChException(202, 'QUERY_IS_TOO_LARGE', `request body exceeds ${limit} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => ok(Buffer.concat(chunks)));
    req.on('error', fail);
  });
}

/** multipart/form-data: name -> text (the client sends `query` and `param_*` this way when asked). */
function parseMultipart(body: Buffer, boundary: string): Map<string, string> {
  const out = new Map<string, string>();
  const text = body.toString('utf8');
  for (const part of text.split(`--${boundary}`)) {
    const sep = part.indexOf('\r\n\r\n');
    if (sep < 0) continue;
    const head = part.slice(0, sep);
    const name = /name="([^"]*)"/i.exec(head)?.[1];
    if (name === undefined) continue;
    out.set(name, part.slice(sep + 4).replace(/\r\n$/, ''));
  }
  return out;
}

interface LiveSession {
  s: Session;
  busy: boolean;
  timer: NodeJS.Timeout | undefined;
  timeoutS: number;
}

export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const dataDir = resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const users = options.users ?? { default: '' };
  const maxBody = options.maxBodyBytes ?? 256 * 1024 * 1024;
  const displayName = options.displayName ?? 'spendtrace-clickhouse-gateway';
  // The root connection keeps the engine up for the gateway's life; requests get their own.
  const root = new Session(dataDir);
  const [version, timezone] = (await root.queryAsync('SELECT version(), timezone()', { format: 'TabSeparated' })).text().trim().split('\t') as [string, string];
  const sessions = new Map<string, LiveSession>();

  // At most N statements on the engine at once.
  let running = 0;
  const waiting: Array<() => void> = [];
  const slots = options.maxConcurrentQueries ?? 4;
  async function withSlot<T>(fn: () => Promise<T>): Promise<T> {
    if (running >= slots) await new Promise<void>((r) => waiting.push(r));
    running++;
    try {
      return await fn();
    } finally {
      running--;
      waiting.shift()?.();
    }
  }

  function authenticate(req: IncomingMessage, url: URL): string {
    let user = url.searchParams.get('user') ?? undefined;
    let password = url.searchParams.get('password') ?? undefined;
    const h = req.headers;
    if (h['x-clickhouse-user'] !== undefined) {
      user = String(h['x-clickhouse-user']);
      password = String(h['x-clickhouse-key'] ?? '');
    }
    const auth = h.authorization;
    if (auth?.startsWith('Basic ')) {
      const dec = Buffer.from(auth.slice(6), 'base64').toString('utf8');
      const i = dec.indexOf(':');
      user = i < 0 ? dec : dec.slice(0, i);
      password = i < 0 ? '' : dec.slice(i + 1);
    } else if (auth?.startsWith('Bearer ')) {
      throw new ChException(516, 'AUTHENTICATION_FAILED', 'JWT authentication is not supported by this gateway');
    }
    user ||= 'default';
    if (!(user in users) || users[user] !== (password ?? '')) {
      throw new ChException(516, 'AUTHENTICATION_FAILED', `${user}: Authentication failed: password is incorrect, or there is no user with such name`);
    }
    return user;
  }

  /** SET statements for settings and query parameters (values verbatim, the engine parses them). */
  function setStatements(settings: Array<[string, string]>, params: Array<[string, string]>): string[] {
    const out: string[] = [];
    for (const [k] of settings) if (!NAME.test(k)) throw new ChException(115, 'UNKNOWN_SETTING', `Unknown setting '${k}'`);
    for (const [k] of params) if (!NAME.test(k)) throw new ChException(456, 'UNKNOWN_QUERY_PARAMETER', `Invalid query parameter name '${k}'`);
    if (settings.length) out.push(`SET ${settings.map(([k, v]) => `${k} = ${sqlString(v)}`).join(', ')}`);
    if (params.length) out.push(`SET ${params.map(([k, v]) => `param_${k} = ${sqlString(v)}`).join(', ')}`);
    return out;
  }

  async function handleQuery(req: IncomingMessage, res: ServerResponse, url: URL, _queryId: string): Promise<void> {
    authenticate(req, url);
    const sp = url.searchParams;
    if (sp.get('compress') === '1' || sp.get('decompress') === '1') {
      throw new ChException(48, 'NOT_IMPLEMENTED', 'compress=1 / decompress=1 (ClickHouse native block compression) is not supported by this gateway');
    }
    let body = req.method === 'POST' ? await readBody(req, maxBody) : Buffer.alloc(0);
    const enc = String(req.headers['content-encoding'] ?? '').toLowerCase();
    if (enc && enc !== 'identity' && body.length) {
      const dec = decoders[enc];
      if (!dec) throw new ChException(36, 'BAD_ARGUMENTS', `Unknown HTTP Content-Encoding: ${enc}`);
      try {
        body = await dec(body);
      } catch (e) {
        throw new ChException(432, 'UNKNOWN_CODEC', `cannot decode ${enc} request body: ${(e as Error).message}`);
      }
      if (body.length > maxBody) throw new ChException(202, 'QUERY_IS_TOO_LARGE', `request body exceeds ${maxBody} bytes`);
    }

    // Fields: URL params, then multipart form fields (which win, as on the server).
    const fields: Array<[string, string]> = [...sp.entries()];
    const ctype = String(req.headers['content-type'] ?? '');
    const boundary = /^multipart\/form-data;.*boundary=("?)([^";]+)\1/i.exec(ctype)?.[2];
    let bodyText: string | undefined = body.length ? body.toString('utf8') : undefined;
    if (boundary) {
      for (const [k, v] of parseMultipart(body, boundary)) fields.push([k, v]);
      bodyText = undefined;
    }
    const get = (k: string) => {
      let v: string | undefined;
      for (const [n, x] of fields) if (n === k) v = x;
      return v;
    };
    const queryParam = get('query') ?? '';
    const text = queryParam && bodyText !== undefined ? `${queryParam}\n${bodyText}` : queryParam || bodyText || '';
    if (!text.trim()) {
      if (req.method === 'GET' && !sp.has('query')) {
        reply(res, 200, { 'Content-Type': 'text/html; charset=UTF-8' }, Buffer.from('Ok.\n'));
        return;
      }
      throw new ChException(62, 'SYNTAX_ERROR', 'Empty query');
    }

    const settings: Array<[string, string]> = [];
    const params: Array<[string, string]> = [];
    for (const [k, v] of fields) {
      if (k.startsWith('param_')) params.push([k.slice(6), v]);
      else if (!RESERVED.has(k)) settings.push([k, v]);
    }
    const sessionId = get('session_id');
    if (req.method === 'GET' && !sessionId && !settings.some(([k, v]) => k === 'readonly' && v !== '0')) settings.push(['readonly', '2']);
    const database = get('database');
    const format = get('default_format') || 'TabSeparated';
    const setting = (k: string) => {
      let v: string | undefined;
      for (const [n, x] of settings) if (n === k) v = x;
      return v;
    };
    const compressOut = /^(1|true)$/i.test(setting('enable_http_compression') ?? '');

    const started = process.hrtime.bigint();
    const { bytes, rowsRead, bytesRead } = await withSlot(() =>
      sessionId
        ? runInSession(sessionId, get('session_timeout'), get('session_check') === '1', get('close_session') === '1', database, settings, params, text, format)
        : runFresh(database, settings, params, text, format),
    );
    const elapsed = process.hrtime.bigint() - started;

    const headers: Record<string, string> = {
      'Content-Type': contentType(outputFormat(text, format)),
      'X-ClickHouse-Format': outputFormat(text, format),
      'X-ClickHouse-Summary': JSON.stringify({
        read_rows: String(rowsRead),
        read_bytes: String(bytesRead),
        result_bytes: String(bytes.length),
        elapsed_ns: String(elapsed),
      }),
    };
    if (sessionId) headers['X-ClickHouse-Session-Id'] = sessionId;
    let out: Buffer = Buffer.from(bytes);
    if (compressOut) {
      const accepted = String(req.headers['accept-encoding'] ?? '')
        .split(',')
        .map((s) => s.trim().split(';')[0]!.toLowerCase());
      const codec = accepted.find((a) => encoders[a]);
      if (codec) {
        out = await encoders[codec]!(out);
        headers['Content-Encoding'] = codec;
      }
    }
    reply(res, 200, headers, out);
  }

  /** The output format the reply is in: the statement's trailing FORMAT clause (a header only; the engine decides), else the default. */
  function outputFormat(text: string, fallback: string): string {
    if (/^\s*INSERT\b/i.test(text)) return fallback;
    return /\bFORMAT\s+([A-Za-z][A-Za-z0-9_]*)\s*;?\s*$/i.exec(text)?.[1] ?? fallback;
  }

  async function exec(s: Session, stmts: string[], text: string, format: string) {
    for (const st of stmts) await s.queryAsync(st, { format: 'TabSeparated' });
    const r = await s.queryAsync(text, { format });
    return { bytes: r.bytes(), rowsRead: r.rowsRead, bytesRead: r.bytesRead };
  }

  async function runFresh(database: string | undefined, settings: Array<[string, string]>, params: Array<[string, string]>, text: string, format: string) {
    const stmts = [...(database ? [`USE ${backquote(database)}`] : []), ...setStatements(settings, params)];
    const s = new Session(dataDir);
    try {
      return await exec(s, stmts, text, format);
    } catch (e) {
      throw e instanceof ChException ? e : ChException.fromEngine(e);
    } finally {
      s.close();
    }
  }

  /**
   * A named session keeps its connection (SET, temporary tables, USE persist across requests).
   * URL settings and the database apply to the one request, as on the server: they are restored
   * afterwards. URL query parameters stay set in the session (the engine cannot unset one).
   */
  async function runInSession(
    id: string,
    timeout: string | undefined,
    check: boolean,
    closeAfter: boolean,
    database: string | undefined,
    settings: Array<[string, string]>,
    params: Array<[string, string]>,
    text: string,
    format: string,
  ) {
    let live = sessions.get(id);
    if (!live) {
      if (check) throw new ChException(372, 'SESSION_NOT_FOUND', `Session ${id} not found`);
      live = { s: new Session(dataDir), busy: false, timer: undefined, timeoutS: 60 };
      sessions.set(id, live);
    }
    if (live.busy) throw new ChException(373, 'SESSION_IS_LOCKED', `Session ${id} is locked by a concurrent client`);
    if (timeout !== undefined) {
      const t = Number(timeout);
      if (!Number.isFinite(t) || t < 0) throw new ChException(36, 'BAD_ARGUMENTS', `Invalid session timeout: '${timeout}'`);
      live.timeoutS = t;
    }
    live.busy = true;
    clearTimeout(live.timer);
    const s = live.s;
    try {
      const names = settings.map(([k]) => k).filter((k) => NAME.test(k));
      const prev = (
        await s
          .queryAsync(
            `SELECT currentDatabase(), ${names.length ? `arrayMap(n -> (n, getSetting(n)::String), [${names.map(sqlString).join(', ')}])` : '[]'} FORMAT JSONCompactEachRow`,
            { format: 'JSONCompactEachRow' },
          )
          .catch(() => undefined)
      )?.text();
      const [prevDb, prevSettings] = prev ? (JSON.parse(prev) as [string, Array<[string, string]>]) : ['default', []];
      const stmts = [...(database ? [`USE ${backquote(database)}`] : []), ...setStatements(settings, params)];
      try {
        return await exec(s, stmts, text, format);
      } finally {
        const restore = [
          ...(database ? [`USE ${backquote(prevDb)}`] : []),
          ...(prevSettings.length ? [`SET ${prevSettings.map(([k, v]) => `${k} = ${sqlString(v)}`).join(', ')}`] : []),
        ];
        for (const st of restore) await s.queryAsync(st, { format: 'TabSeparated' }).catch(() => undefined);
      }
    } catch (e) {
      throw e instanceof ChException ? e : ChException.fromEngine(e);
    } finally {
      live.busy = false;
      if (closeAfter) {
        sessions.delete(id);
        s.close();
      } else {
        live.timer = setTimeout(() => {
          if (!live!.busy) {
            sessions.delete(id);
            s.close();
          }
        }, live.timeoutS * 1000);
        live.timer.unref();
      }
    }
  }

  function reply(res: ServerResponse, status: number, headers: Record<string, string>, body: Buffer) {
    res.writeHead(status, {
      ...headers,
      'X-ClickHouse-Server-Display-Name': displayName,
      'X-ClickHouse-Timezone': timezone,
      'Content-Length': String(body.length),
    });
    res.end(body);
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://gateway');
    const queryId = url.searchParams.get('query_id') || randomUUID();
    res.setHeader('X-ClickHouse-Query-Id', queryId);
    const fail = (e: unknown) => {
      const ex = e instanceof ChException ? e : ChException.fromEngine(e);
      const body = Buffer.from(`${ex.text()} (version ${version} (chDB behind spendtrace's test gateway))\n`);
      if (!res.headersSent) {
        reply(res, STATUS_BY_TYPE[ex.type] ?? 500, { 'Content-Type': 'text/plain; charset=UTF-8', 'X-ClickHouse-Exception-Code': String(ex.code) }, body);
      } else res.destroy();
    };
    if (url.pathname === '/ping' && (req.method === 'GET' || req.method === 'HEAD')) {
      req.resume();
      reply(res, 200, { 'Content-Type': 'text/html; charset=UTF-8' }, Buffer.from('Ok.\n'));
      return;
    }
    if (url.pathname !== '/') {
      req.resume();
      reply(
        res,
        404,
        { 'Content-Type': 'text/plain; charset=UTF-8' },
        Buffer.from(`There is no handle ${url.pathname}\n\nUse / or /ping for health checks.\n`),
      );
      return;
    }
    if (req.method !== 'GET' && req.method !== 'POST') {
      req.resume();
      fail(new ChException(1, 'UNSUPPORTED_METHOD', `HTTP method ${req.method} is not supported`));
      return;
    }
    handleQuery(req, res, url, queryId).catch(fail);
  });
  // clickhouse-server's keep_alive_timeout default (10 s); the client reads it from the Keep-Alive header.
  server.keepAliveTimeout = 10_000;
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => ok());
  });
  const addr = server.address() as AddressInfo;
  return {
    url: `http://${addr.address}:${addr.port}`,
    engineVersion: version,
    async close() {
      await new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      });
      while (running > 0) await new Promise((r) => setTimeout(r, 10));
      for (const [id, live] of sessions) {
        clearTimeout(live.timer);
        live.s.close();
        sessions.delete(id);
      }
      root.close();
      await drainPending();
    },
  };
}

// As a process: the way tests (and anyone trying the server path by hand) run it.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      'data-dir': { type: 'string' },
      port: { type: 'string', default: '0' },
      host: { type: 'string', default: '127.0.0.1' },
      user: { type: 'string', multiple: true },
      concurrency: { type: 'string' },
    },
  });
  if (!values['data-dir']) {
    console.error('usage: clickhouse-gateway.ts --data-dir DIR [--port N] [--host H] [--user name:password ...] [--concurrency N]');
    process.exit(2);
  }
  const users = values.user?.length
    ? Object.fromEntries(
        values.user.map((u) => {
          const i = u.indexOf(':');
          return i < 0 ? [u, ''] : [u.slice(0, i), u.slice(i + 1)];
        }),
      )
    : undefined;
  const gw = await startGateway({
    dataDir: values['data-dir'],
    port: Number(values.port),
    host: values.host,
    ...(users ? { users } : {}),
    ...(values.concurrency ? { maxConcurrentQueries: Number(values.concurrency) } : {}),
  });
  process.stdout.write(JSON.stringify({ url: gw.url, engineVersion: gw.engineVersion, pid: process.pid }) + '\n');
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await gw.close().catch((e: unknown) => console.error(e));
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  // The parent holds our stdin: when it goes away (or closes it), so do we.
  process.stdin.on('end', () => void stop());
  process.stdin.on('error', () => void stop());
  process.stdin.resume();
}
