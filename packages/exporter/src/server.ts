/**
 * The OTLP/HTTP receiver. One request reads top to bottom: check route and content type ->
 * read the body within its limit -> gunzip -> decode -> ingest (rows, replay filter, batcher) ->
 * reply in the request's encoding. Every failure is a reply, never a crash: 400 malformed,
 * 413 too large, 415 wrong type, 429/503 with Retry-After when the buffer is full.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { Pricer } from '@spendtrace/semconv';
import type { Store } from './store/store.ts';
import { Ingester, type IngesterOptions } from './ingest/ingester.ts';
import { exportTraces } from './ingest/export-traces.ts';
import { sendUnauthorized, type TokenAuth } from './auth.ts';
import type { ServiceMetrics } from './metrics.ts';
import { startGrpcReceiver, type GrpcReceiver } from './otlp-grpc-receiver.ts';
import { decodeJsonRequest } from './otlp/decode-json.ts';
import { decodeProtobufRequest } from './otlp/decode-protobuf.ts';
import { CONTENT_TYPE, encodeExportResponse, encodeStatus, RPC_CODE, type OtlpEncoding } from './otlp/encode-response.ts';
import { OtlpDecodeError } from './otlp/errors.ts';
import { DEFAULT_DATABASE } from './database-name.ts';

const gunzipAsync = promisify(gunzip) as (buf: Buffer, opts: { maxOutputLength: number }) => Promise<Buffer>;

export interface ServerOptions {
  /** @default 4318 (the OTLP/HTTP port); 0 picks a free one */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  store: Store;
  /** @default new Pricer() (SPENDTRACE_PRICES_FILE applies) */
  pricer?: Pricer;
  /** @default 'spendtrace' */
  database?: string;
  /** Largest request body, compressed or not. @default 16 MiB */
  maxBodyBytes?: number;
  /** Routes besides /v1/traces and /healthz (query API, dashboard). Return true when handled. */
  extraRoutes?: (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean> | boolean;
  /** Batching, replay window, write-ahead log and dead-letter settings. */
  ingest?: Omit<IngesterOptions, 'store' | 'pricer' | 'database'>;
  /** Operational messages (insert failures, preload problems). @default console.error */
  log?: (line: string) => void;
  /** Bearer tokens required on every route but /healthz (and on gRPC). @default none: open */
  auth?: TokenAuth;
  /** Counts what both OTLP protocols receive, accept and refuse. */
  metrics?: ServiceMetrics;
  /** Also receive OTLP/gRPC on this port (4317 is OTLP's), same host. @default off */
  grpcPort?: number;
}

export interface RunningServer {
  url: string;
  port: number;
  /** Resolves when every span accepted so far is inserted. */
  flush(): Promise<void>;
  /** Stops accepting, stops listening, flushes for up to `flushTimeoutMs` (default 10 s); the rest stays in the log. */
  close(flushTimeoutMs?: number): Promise<void>;
  readonly ingester: Ingester;
  /** host:port of the OTLP/gRPC receiver, when one runs. */
  readonly grpcAddress: string | undefined;
}

class HttpError extends Error {
  readonly status: number;
  readonly rpcCode: number;
  constructor(status: number, message: string, rpcCode: number = RPC_CODE.INVALID_ARGUMENT) {
    super(message);
    this.status = status;
    this.rpcCode = rpcCode;
  }
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const log = options.log ?? ((line: string) => console.error(line));
  const maxBodyBytes = options.maxBodyBytes ?? 16 * 1024 * 1024;
  const ingester = new Ingester({
    ...options.ingest,
    store: options.store,
    pricer: options.pricer ?? new Pricer(),
    database: options.database ?? DEFAULT_DATABASE,
    batch: {
      ...options.ingest?.batch,
      onError:
        options.ingest?.batch?.onError ??
        ((e, i) => log(`spendtrace: insert of ${i.rows} spans failed (attempt ${i.attempt}, retry in ${i.retryInMs} ms): ${(e as Error)?.message ?? e}`)),
    },
  });
  // Opens the log and drains what it holds in the background: the store may be down at start.
  const unstored = await ingester.start();
  if (unstored) log(`spendtrace: ${unstored} logged requests not yet in the store; inserting them`);

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      log(`spendtrace: unexpected error on ${req.method} ${req.url}: ${(e as Error)?.stack ?? e}`);
      if (!res.headersSent) reply(res, 500, 'application/json', Buffer.from(JSON.stringify({ code: RPC_CODE.INTERNAL, message: 'internal error' })));
      else res.destroy();
    });
  });
  // Slow or stuck clients must not hold the receiver.
  server.requestTimeout = 60_000;
  server.headersTimeout = 30_000;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (options.auth && url.pathname !== '/healthz' && !options.auth.verifyRequest(req)) {
      req.resume();
      if (url.pathname === '/v1/traces') options.metrics?.requestsRejected.inc({ protocol: 'http', reason: 'unauthenticated' });
      // Browsers on the dashboard get a Basic challenge, so they ask for the token.
      return sendUnauthorized(res, url.pathname.startsWith('/api/') || url.pathname === '/v1/traces' || url.pathname === '/metrics' ? 'bearer' : 'basic');
    }
    if (url.pathname === '/v1/traces') return traces(req, res);
    if (url.pathname === '/healthz' && (req.method === 'GET' || req.method === 'HEAD')) {
      const st = ingester.stats();
      const degraded = !st.storeHealthy || st.spansDeadLettered > 0;
      const body = { status: degraded ? 'degraded' : 'ok', store: options.store.kind, ...st };
      return reply(res, 200, 'application/json', Buffer.from(JSON.stringify(body)));
    }
    if (options.extraRoutes && (await options.extraRoutes(req, res, url))) return;
    req.resume();
    reply(res, 404, 'application/json', Buffer.from(JSON.stringify({ error: `no route for ${req.method} ${url.pathname}` })));
  }

  async function traces(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const encoding = encodingOf(req.headers['content-type']);
    const errorEncoding: OtlpEncoding = encoding ?? 'json';
    try {
      if (req.method !== 'POST') throw new HttpError(405, `use POST for /v1/traces, not ${req.method}`);
      if (!encoding) {
        throw new HttpError(
          415,
          `unsupported content type ${JSON.stringify(req.headers['content-type'] ?? '')}: send application/x-protobuf or application/json`,
        );
      }
      const contentEncoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase().trim();
      if (contentEncoding !== 'gzip' && contentEncoding !== 'identity')
        throw new HttpError(415, `unsupported content encoding ${contentEncoding}: send gzip or none`);
      let body = await readBody(req, maxBodyBytes);
      if (contentEncoding === 'gzip') body = await gunzipWithin(body, maxBodyBytes);

      let request;
      try {
        request = encoding === 'protobuf' ? decodeProtobufRequest(body) : decodeJsonRequest(body);
      } catch (e) {
        if (e instanceof OtlpDecodeError) throw new HttpError(400, e.message);
        throw e;
      }
      const outcome = await exportTraces(ingester, request, 'http', options.metrics);
      if (outcome.kind === 'ok') return reply(res, 200, CONTENT_TYPE[encoding], encodeExportResponse(encoding, outcome.rejected, outcome.message));
      res.setHeader('Retry-After', String(outcome.retryAfterSeconds));
      const unavailable = outcome.kind === 'unavailable';
      reply(
        res,
        unavailable ? 503 : 429,
        CONTENT_TYPE[encoding],
        encodeStatus(encoding, unavailable ? RPC_CODE.UNAVAILABLE : RPC_CODE.RESOURCE_EXHAUSTED, outcome.message),
      );
    } catch (e) {
      req.resume();
      if (e instanceof HttpError) {
        options.metrics?.requestsRejected.inc({
          protocol: 'http',
          reason: e.status === 413 ? 'too_large' : e.status === 415 || e.status === 405 ? 'unsupported' : 'malformed',
        });
        if (e.status === 413) res.setHeader('Connection', 'close');
        return reply(res, e.status, CONTENT_TYPE[errorEncoding], encodeStatus(errorEncoding, e.rpcCode, e.message));
      }
      throw e;
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 4318, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  let grpc: GrpcReceiver | undefined;
  if (options.grpcPort !== undefined) {
    try {
      grpc = await startGrpcReceiver({
        ingester,
        port: options.grpcPort,
        host: options.host ?? '127.0.0.1',
        maxMessageBytes: maxBodyBytes,
        auth: options.auth,
        metrics: options.metrics,
        log,
      });
    } catch (e) {
      server.close();
      throw e;
    }
  }
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${addr.port}`,
    port: addr.port,
    ingester,
    grpcAddress: grpc?.address,
    flush: () => ingester.flush(),
    close: (flushTimeoutMs = 10_000) => {
      closing ??= (async () => {
        // Stop accepting first: requests still arriving get 503 and are retried by their sender.
        const listening = Promise.all([
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeIdleConnections();
          }),
          grpc?.close(),
        ]);
        const left = await ingester.close(flushTimeoutMs);
        server.closeAllConnections();
        await listening;
        if (left) log(`spendtrace: stopped with ${left} logged requests not yet in the store; they are inserted at the next start`);
      })();
      return closing;
    },
  };
}

function encodingOf(contentType: string | undefined): OtlpEncoding | undefined {
  const t = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (t === 'application/x-protobuf' || t === 'application/protobuf') return 'protobuf';
  if (t === 'application/json') return 'json';
  return undefined;
}

function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > max)
    return Promise.reject(new HttpError(413, `body of ${declared} bytes exceeds the limit of ${max}`, RPC_CODE.RESOURCE_EXHAUSTED));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      if (over) return;
      size += c.length;
      if (size > max) {
        over = true;
        chunks.length = 0;
        reject(new HttpError(413, `body exceeds the limit of ${max} bytes`, RPC_CODE.RESOURCE_EXHAUSTED));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (!over) resolve(Buffer.concat(chunks, size));
    });
    req.on('error', (e) => reject(new HttpError(400, `reading the body failed: ${e.message}`)));
  });
}

async function gunzipWithin(body: Buffer, max: number): Promise<Buffer> {
  try {
    return await gunzipAsync(body, { maxOutputLength: max });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) {
      throw new HttpError(413, `decompressed body exceeds the limit of ${max} bytes`, RPC_CODE.RESOURCE_EXHAUSTED);
    }
    throw new HttpError(400, `invalid gzip body: ${(e as Error).message}`);
  }
}

function reply(res: ServerResponse, status: number, contentType: string, body: Uint8Array): void {
  res.statusCode = status;
  res.setHeader('Content-Type', contentType);
  res.setHeader('Content-Length', body.byteLength);
  res.end(body);
}
