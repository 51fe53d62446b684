/**
 * Bearer-token auth for everything the service answers: OTLP/HTTP, OTLP/gRPC, /api, /metrics, the
 * dashboard and the ClickHouse HTTP interface. Tokens come from an environment variable and/or a
 * file (one per line), several at once so a token can be rotated without a gap: add the new one,
 * move the clients, remove the old one. The file is re-read when it changes, so rotation needs no
 * restart. Comparison is constant-time (SHA-256 of both sides, `timingSafeEqual`, every token
 * checked), and a refusal never says why: a missing token and a wrong one look the same.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';

export interface TokenAuthOptions {
  /** Tokens given directly (e.g. from SPENDTRACE_AUTH_TOKENS, comma- or space-separated). */
  tokens?: readonly string[];
  /** A file of tokens, one per line; blank lines and lines starting with # are ignored. */
  tokensFile?: string;
  /** Where a failed re-read of the tokens file is reported. @default console.error */
  log?: (line: string) => void;
}

export class AuthConfigError extends Error {
  readonly code = 'SPENDTRACE_AUTH_CONFIG' as const;
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** Splits SPENDTRACE_AUTH_TOKENS: commas, spaces or newlines between tokens. */
export function parseTokenList(text: string): string[] {
  return text.split(/[\s,]+/).filter(Boolean);
}

function parseTokensFile(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

export class TokenAuth {
  private readonly direct: Buffer[];
  private readonly file: string | undefined;
  private readonly log: (line: string) => void;
  private fromFile: Buffer[] = [];
  private fileStamp = '';
  private checkedAt = 0;

  constructor(o: TokenAuthOptions) {
    this.direct = (o.tokens ?? []).filter(Boolean).map(digest);
    this.file = o.tokensFile;
    this.log = o.log ?? ((l) => console.error(l));
    if (this.file) {
      // At start a missing or empty file is a config error: silently running open would be worse.
      try {
        this.reload(true);
      } catch (cause) {
        throw new AuthConfigError(`cannot read the auth tokens file ${this.file}: ${(cause as Error).message}`, { cause });
      }
      if (!this.fromFile.length && !this.direct.length) throw new AuthConfigError(`the auth tokens file ${this.file} holds no token (one per line)`);
    }
  }

  /** True when tokens are configured; without any, every request is let through. */
  get enabled(): boolean {
    return this.direct.length > 0 || this.file !== undefined;
  }

  /** Constant-time check of one presented token against every configured one. */
  verify(presented: string | undefined): boolean {
    if (!this.enabled) return true;
    if (!presented) return false;
    this.maybeReload();
    const d = digest(presented);
    let ok = false;
    // No early exit: the time taken does not depend on which token matched.
    for (const t of this.direct) ok = timingSafeEqual(d, t) || ok;
    for (const t of this.fromFile) ok = timingSafeEqual(d, t) || ok;
    return ok;
  }

  /** The credentials an HTTP request carries, in every form spendtrace and ClickHouse clients send. */
  verifyHeaders(headers: IncomingHttpHeaders): boolean {
    if (!this.enabled) return true;
    for (const t of presentedTokens(headers)) if (this.verify(t)) return true;
    return false;
  }

  verifyRequest(req: IncomingMessage): boolean {
    return this.verifyHeaders(req.headers);
  }

  private maybeReload(): void {
    if (!this.file) return;
    const now = Date.now();
    if (now - this.checkedAt < 1000) return;
    this.checkedAt = now;
    try {
      this.reload(false);
    } catch (e) {
      // Keep the tokens we had: a file caught mid-rewrite must not lock everyone out or let everyone in.
      this.log(`spendtrace: cannot re-read the auth tokens file ${this.file}, keeping the previous tokens: ${(e as Error).message}`);
    }
  }

  private reload(force: boolean): void {
    const st = statSync(this.file!);
    const stamp = `${st.mtimeMs}:${st.size}:${st.ino}`;
    if (!force && stamp === this.fileStamp) return;
    const tokens = parseTokensFile(readFileSync(this.file!, 'utf8'));
    if (!tokens.length && !force) throw new Error('it holds no token now');
    this.fromFile = tokens.map(digest);
    this.fileStamp = stamp;
  }
}

/**
 * `Authorization: Bearer T` (OTLP exporters, spendtrace's own CLI), `Authorization: Basic` with
 * the token as password, or as user when the password is empty (browsers on the dashboard,
 * ClickHouse clients), and ClickHouse's `X-ClickHouse-Key` header.
 */
export function presentedTokens(headers: IncomingHttpHeaders): string[] {
  const out: string[] = [];
  const auth = headers.authorization;
  if (typeof auth === 'string') {
    const m = /^\s*(\S+)\s+(.+?)\s*$/.exec(auth);
    const scheme = m?.[1]?.toLowerCase();
    if (scheme === 'bearer') out.push(m![2]!);
    else if (scheme === 'basic') {
      const text = Buffer.from(m![2]!, 'base64').toString('utf8');
      const colon = text.indexOf(':');
      const user = colon < 0 ? text : text.slice(0, colon);
      const password = colon < 0 ? '' : text.slice(colon + 1);
      out.push(password || user);
    }
  }
  const key = headers['x-clickhouse-key'];
  if (typeof key === 'string' && key) out.push(key);
  return out;
}

/**
 * The 401, without detail. Browser pages get a Basic challenge so the browser asks for the token
 * (as the password); everything else a Bearer one, as OTLP clients expect.
 */
export function sendUnauthorized(res: ServerResponse, challenge: 'basic' | 'bearer' = 'bearer'): void {
  const body = JSON.stringify({ error: 'unauthenticated' });
  res.writeHead(401, {
    'www-authenticate': challenge === 'basic' ? 'Basic realm="spendtrace", charset="UTF-8"' : 'Bearer realm="spendtrace"',
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(body);
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost', '[::1]']);

/** The warning `serve` prints when it listens beyond loopback with no token configured. */
export function exposureWarning(host: string, auth: TokenAuth): string | undefined {
  if (auth.enabled || LOOPBACK.has(host) || host.startsWith('127.')) return undefined;
  return (
    `warning: listening on ${host} with no auth token: anyone who reaches these ports can write spans and read spend. ` +
    'Set SPENDTRACE_AUTH_TOKENS or --auth-tokens-file.'
  );
}
