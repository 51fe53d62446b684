/**
 * The HTTP plumbing the fake provider servers share: reading a request, choosing its scripted
 * reply, writing JSON and SSE, `retry-after` headers, listening and closing. What each API's
 * wire looks like (routes, headers, error envelopes, event shapes) stays in its own module.
 */
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function parseJson(text: string | undefined): any {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The whole request body as text. */
export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

/** How a test scripts a fake server's replies (the `defaults` and `script` options, and `enqueue()`). */
export interface ReplyScript<Reply, Rec> {
  /** Reply for requests nothing more specific scripts. */
  defaults?: Reply;
  /** Chooses the reply per request; return undefined for the defaults. */
  script?: (request: Rec, index: number) => Reply | undefined;
}

/**
 * The reply to one request, most specific first: the `x-fake-behavior` request header (JSON),
 * `fromBody` (what the request body itself asks for, where the API has a place for it), the
 * queue filled by `enqueue()`, the `script` option, then `defaults`.
 */
export function scriptedReply<Reply, Rec extends { headers: IncomingHttpHeaders }>(
  rec: Rec,
  index: number,
  queue: Reply[],
  options: ReplyScript<Reply, Rec>,
  fromBody?: Reply,
): Reply | undefined {
  return parseJson(rec.headers['x-fake-behavior'] as string | undefined) ?? fromBody ?? queue.shift() ?? options.script?.(rec, index) ?? options.defaults;
}

export function writeJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string>): void {
  res.writeHead(status, headers);
  res.end(JSON.stringify(body));
}

/** `retry-after` (seconds) and `retry-after-ms`, for the ones a scripted failure sets. */
export function retryAfterHeaders(f: { retryAfter?: number | undefined; retryAfterMs?: number | undefined }): Record<string, string> {
  const headers: Record<string, string> = {};
  if (f.retryAfter !== undefined) headers['retry-after'] = String(f.retryAfter);
  if (f.retryAfterMs !== undefined) headers['retry-after-ms'] = String(f.retryAfterMs);
  return headers;
}

export interface SseEvent {
  /** Written as an `event:` line when set. */
  event?: string;
  data: string;
}

export interface SseOptions {
  /** Line ending: `\n`, or `\r\n` as Gemini sends it. Default `\n`. */
  eol?: string;
  /** Stop after this many events, as a stream cut short... */
  cutAfter?: number | undefined;
  /** ...either ending the response cleanly (`end`, the default) or dropping the connection (`destroy`, an error mid-stream). */
  cut?: 'end' | 'destroy';
  /** Wait between events (ms). */
  gapMs?: number | undefined;
}

/** Writes an SSE response: `headers`, then the events, then the end (or the cut `options` ask for). */
export async function writeSse(res: ServerResponse, headers: Record<string, string>, events: SseEvent[], options: SseOptions = {}): Promise<void> {
  const eol = options.eol ?? '\n';
  res.writeHead(200, headers);
  for (let i = 0; i < events.length; i++) {
    if (options.cutAfter !== undefined && i >= options.cutAfter) {
      if (options.cut !== 'destroy') break;
      // Let the written events reach the client before the connection drops.
      await sleep(5);
      res.destroy();
      return;
    }
    if (res.destroyed) return;
    const e = events[i]!;
    res.write(`${e.event ? `event: ${e.event}${eol}` : ''}data: ${e.data}${eol}${eol}`);
    if (options.gapMs) await sleep(options.gapMs);
  }
  res.end();
}

/** What every fake server returns: its base URL and the controls tests use. */
export interface FakeServerControls<Reply, Rec> {
  url: string;
  port: number;
  /** Requests received, in order. */
  requests: Rec[];
  enqueue(...replies: Reply[]): void;
  /** Clears recorded requests and the queue. */
  reset(): void;
  close(): Promise<void>;
}

/**
 * Listens on `port` (default: any free one) and `host` (default 127.0.0.1). The base URL is the
 * origin plus `basePath` (what the SDK's `baseURL` expects).
 */
export async function listen<Reply, Rec>(
  server: Server,
  options: { port?: number | undefined; host?: string | undefined },
  basePath: string,
  requests: Rec[],
  queue: Reply[],
): Promise<FakeServerControls<Reply, Rec>> {
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}${basePath}`,
    port,
    requests,
    enqueue: (...replies) => void queue.push(...replies),
    reset: () => {
      requests.length = 0;
      queue.length = 0;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
