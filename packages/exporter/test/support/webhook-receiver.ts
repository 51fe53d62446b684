/**
 * A webhook receiver on 127.0.0.1 for the alert tests: records every request, and answers per path
 * as the real services do (Slack incoming webhooks 200 "ok", Discord execute webhook 204 No Content,
 * anything else 200), after a scripted run of failures (500, or 429 with Retry-After / Discord's
 * JSON retry_after).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  path: string;
  at: number;
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** Requests that got a 2xx, per path. */
  accepted(path: string): Received[];
  /** The next answers for `path` before its normal one, e.g. [500, 500] or [429]. */
  failNext(path: string, statuses: number[]): void;
  /** Resolves once `n` requests to `path` were accepted. */
  waitFor(path: string, n: number, timeoutMs: number): Promise<Received[]>;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const failures = new Map<string, number[]>();
  const waiters = new Set<() => void>();
  const server = createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (text += c));
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const planned = failures.get(path)?.shift();
      let status = planned ?? (path.startsWith('/discord') ? 204 : 200);
      let body: any;
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
        status = 400;
      }
      received.push({ path, at: Date.now(), status, headers: req.headers, body });
      if (status === 429 && path.startsWith('/discord')) {
        res
          .writeHead(429, { 'content-type': 'application/json' })
          .end(JSON.stringify({ message: 'You are being rate limited.', retry_after: 0.3, global: false }));
      } else if (status === 429) {
        res.writeHead(429, { 'retry-after': '1' }).end('rate_limited');
      } else if (status === 204) res.writeHead(204).end();
      else res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'error');
      for (const w of waiters) w();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const accepted = (path: string) => received.filter((r) => r.path === path && r.status < 300);
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    accepted,
    failNext: (path, statuses) => failures.set(path, [...(failures.get(path) ?? []), ...statuses]),
    waitFor: (path, n, timeoutMs) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (accepted(path).length >= n) {
            waiters.delete(check);
            clearTimeout(t);
            resolve(accepted(path));
          }
        };
        const t = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${n} accepted requests to ${path} (got ${accepted(path).length})`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
    close: () => new Promise((r) => server.close(() => r())),
  };
}
