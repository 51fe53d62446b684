// Proves token auth on its own: every accepted credential form, several tokens at once, a tokens file re-read on change (rotation without restart) and kept when it breaks, config errors at start, and the warning for an open non-loopback bind.
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AuthConfigError, exposureWarning, parseTokenList, TokenAuth } from '../src/auth.ts';

const dir = mkdtempSync(join(tmpdir(), 'spendtrace-auth-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

describe('TokenAuth', () => {
  it('lets everything through when no token is configured', () => {
    const a = new TokenAuth({});
    expect(a.enabled).toBe(false);
    expect(a.verifyHeaders({})).toBe(true);
  });

  it('accepts Bearer, basic password, basic user with empty password and X-ClickHouse-Key, for any configured token', () => {
    const a = new TokenAuth({ tokens: parseTokenList('first-token, second-token') });
    for (const t of ['first-token', 'second-token']) {
      expect(a.verifyHeaders({ authorization: `Bearer ${t}` })).toBe(true);
      expect(a.verifyHeaders({ authorization: `bearer  ${t} ` })).toBe(true);
      expect(a.verifyHeaders({ authorization: basic('default', t) })).toBe(true);
      expect(a.verifyHeaders({ authorization: basic(t, '') })).toBe(true);
      expect(a.verifyHeaders({ 'x-clickhouse-user': 'grafana', 'x-clickhouse-key': t })).toBe(true);
    }
    for (const h of [
      {},
      { authorization: 'Bearer first-tokenX' },
      { authorization: 'Bearer first' },
      { authorization: basic('first-token', 'wrong') },
      { authorization: 'Token first-token' },
      { 'x-clickhouse-key': '' },
    ]) {
      expect(a.verifyHeaders(h)).toBe(false);
    }
  });

  it('re-reads the tokens file when it changes, and keeps the old tokens if it becomes empty', () => {
    const file = join(dir, 'tokens');
    writeFileSync(file, '# rotated monthly\nold-token\n\n');
    const logs: string[] = [];
    const a = new TokenAuth({ tokensFile: file, log: (l) => logs.push(l) });
    expect(a.verify('old-token')).toBe(true);
    expect(a.verify('# rotated monthly')).toBe(false);
    writeFileSync(file, 'old-token\nnew-token\n');
    utimesSync(file, new Date(), new Date(Date.now() + 5000));
    (a as unknown as { checkedAt: number }).checkedAt = 0; // skip the 1 s re-check interval
    expect(a.verify('new-token')).toBe(true);
    writeFileSync(file, 'new-token\n');
    utimesSync(file, new Date(), new Date(Date.now() + 10_000));
    (a as unknown as { checkedAt: number }).checkedAt = 0;
    expect(a.verify('old-token')).toBe(false);
    writeFileSync(file, '');
    utimesSync(file, new Date(), new Date(Date.now() + 15_000));
    (a as unknown as { checkedAt: number }).checkedAt = 0;
    expect(a.verify('new-token')).toBe(true);
    expect(logs.join('\n')).toMatch(/keeping the previous tokens/);
  });

  it('refuses to start on a missing or empty tokens file', () => {
    expect(() => new TokenAuth({ tokensFile: join(dir, 'missing') })).toThrow(AuthConfigError);
    writeFileSync(join(dir, 'empty'), '# nothing\n');
    expect(() => new TokenAuth({ tokensFile: join(dir, 'empty') })).toThrow(/holds no token/);
  });
});

describe('exposureWarning', () => {
  it('warns for a non-loopback bind without tokens only', () => {
    expect(exposureWarning('0.0.0.0', new TokenAuth({}))).toMatch(/no auth token/);
    expect(exposureWarning('10.1.2.3', new TokenAuth({}))).toMatch(/no auth token/);
    expect(exposureWarning('0.0.0.0', new TokenAuth({ tokens: ['t-123'] }))).toBeUndefined();
    for (const h of ['127.0.0.1', '::1', 'localhost']) expect(exposureWarning(h, new TokenAuth({}))).toBeUndefined();
  });
});
