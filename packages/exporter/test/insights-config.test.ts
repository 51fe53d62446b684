// Proves the insights section of the config file: the README's example and its table of defaults match the code, values override one by one, bad input is reported problem by problem (exit 3 from the CLI, before any store is opened), and `spendtrace serve` and `spendtrace insights` apply it to real OTLP traffic.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../src/cli/index.ts';
import { DEFAULT_INSIGHT_THRESHOLDS, InsightsConfigError, parseInsightsConfig } from '../src/insights/index.ts';
import type { Insights } from '../src/insights/index.ts';
import { send, times } from './support/alert-fleet.ts';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const section = readme.slice(readme.indexOf('## Insights'));

describe('insights config', () => {
  it('documents every threshold with the default the code uses', () => {
    const rows = [...section.matchAll(/^\| `([\w.]+)` \| ([\d.]+) \|/gm)].map((m) => [m[1]!, Number(m[2])] as const);
    const flat = Object.entries(DEFAULT_INSIGHT_THRESHOLDS).flatMap(([k, v]) =>
      typeof v === 'number' ? [[k, v] as const] : Object.entries(v as Record<string, number>).map(([f, n]) => [`${k}.${f}`, n] as const),
    );
    expect(rows).toEqual(flat);
  });

  it('parses the README example over the defaults; nothing given is the defaults', () => {
    const block = /```json\n([\s\S]*?)```/.exec(section);
    const t = parseInsightsConfig((JSON.parse(block![1]!) as { insights: unknown }).insights);
    expect(t).toEqual({
      ...DEFAULT_INSIGHT_THRESHOLDS,
      cacheTtlSeconds: 600,
      retryLoops: { factor: 4, minExtraAttempts: 10, minTasks: 3 },
      wrongModel: { minCalls: 20, maxOutputTokens: 100, priceRatio: 5 },
    });
    expect(parseInsightsConfig(undefined)).toEqual(DEFAULT_INSIGHT_THRESHOLDS);
    expect(parseInsightsConfig({})).toEqual(DEFAULT_INSIGHT_THRESHOLDS);
    // the defaults object itself is never changed by a parse
    expect(DEFAULT_INSIGHT_THRESHOLDS.retryLoops.factor).toBe(3);
  });

  it('reports every problem at once, naming the key and what it expected', () => {
    let err: unknown;
    try {
      parseInsightsConfig({
        cacheTtlSeconds: -1,
        retryLoops: { factor: 0.5, minTasks: 2.5, cap: 3 },
        promptCaching: { maxCachedShare: 2 },
        wrongModel: 'fast',
        speling: {},
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InsightsConfigError);
    expect((err as InsightsConfigError).problems).toEqual([
      'insights.cacheTtlSeconds must be an integer in 1..2592000, got -1',
      'insights.retryLoops.factor must be a number in 1..1000, got 0.5',
      'insights.retryLoops.minTasks must be an integer >= 1, got 2.5',
      'insights.retryLoops: unknown key "cap" (expected factor, minExtraAttempts, minTasks)',
      'insights.promptCaching.maxCachedShare must be a number in 0..1, got 2',
      'insights.wrongModel must be an object, got "fast"',
      'insights: unknown key "speling" (expected cacheTtlSeconds, contextBloat, wrongModel, retryLoops, duplicateRequests, promptCaching)',
    ]);
    expect(() => parseInsightsConfig([1])).toThrow(/insights must be an object/);
  });

  it('`spendtrace insights` refuses a bad insights section with exit 3, listing the problems', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spendtrace-insights-config-'));
    try {
      const config = join(dir, 'spendtrace.config.json');
      writeFileSync(config, JSON.stringify({ insights: { retryLoops: { factor: 'high' }, duplicateRequests: { minRepeats: 0 } } }));
      let out = '';
      let errText = '';
      const code = await run(['insights', '--config', config, '--data', join(dir, 'data')], {
        stdout: { write: (s: string) => (out += s) },
        stderr: { write: (s: string) => (errText += s) },
        env: {},
        cwd: dir,
      });
      expect(code).toBe(3);
      expect(out).toBe('');
      expect(errText).toContain('insights.retryLoops.factor must be a number in 1..1000, got "high"');
      expect(errText).toContain('insights.duplicateRequests.minRepeats must be an integer >= 1, got 0');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

async function cli(argv: string[], cwd: string, signal?: AbortSignal) {
  let out = '';
  let err = '';
  const code = run(argv, {
    stdout: { write: (t: string) => (out += t) },
    stderr: { write: (t: string) => (err += t) },
    env: { SPENDTRACE_GRPC_PORT: '0', SPENDTRACE_CLICKHOUSE_HTTP_PORT: 'off' },
    cwd,
    ...(signal ? { signal } : {}),
  });
  return { code, out: () => out, err: () => err };
}

describe('serve and insights apply the config file', () => {
  it('a retry loop too small for the default minExtraAttempts (5) is found with minExtraAttempts 2, by serve and by insights', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spendtrace-insights-serve-'));
    const data = join(dir, 'data');
    // not ./spendtrace.config.json, which every command in this cwd would read without --config
    const config = join(dir, 'tuned.json');
    writeFileSync(config, JSON.stringify({ insights: { retryLoops: { minExtraAttempts: 2 } } }));
    try {
      const ac = new AbortController();
      const serve = await cli(['serve', '--port', '0', '--data', data, '--config', config], dir, ac.signal);
      const t0 = Date.now();
      while (!/listening on (\S+)/.test(serve.out())) {
        if (Date.now() - t0 > 60_000) throw new Error(`serve did not start: ${serve.err()}`);
        await new Promise((r) => setTimeout(r, 25));
      }
      const url = /listening on (\S+)/.exec(serve.out())![1]!;
      // Three checkouts of one call; a fourth whose call the SDK retried 3 times: 4 attempts against a median of 1.
      const now = Date.now() - 60_000;
      await send(url, { 'service.name': 'shop' }, [
        ...times(3, (k) => ({ agent: 'cart-bot', taskName: 'checkout', user: 'u1', at: now - (k + 2) * 60_000, calls: [{ cost: 0.001 }] })),
        { agent: 'cart-bot', taskName: 'checkout', user: 'u1', at: now, calls: [{ cost: 0.001, retries: 3 }] },
      ]);
      let found: Insights | undefined;
      for (const t1 = Date.now(); Date.now() - t1 < 20_000; await new Promise((r) => setTimeout(r, 200))) {
        found = (await (await fetch(`${url}/api/insights?since=24h`)).json()) as Insights;
        if (found.findings.length) break;
      }
      const loops = found!.findings.filter((f) => f.kind === 'retry-loops');
      expect(loops.map((f) => f.subject.taskName)).toEqual(['checkout']);
      expect(loops[0]!.metrics).toMatchObject({ tasks: 4, loopingTasks: 1, medianAttempts: 1, worstAttempts: 4, sdkRetries: 3 });
      ac.abort();
      expect(await serve.code).toBe(0);

      // The same store read by `spendtrace insights` (serve stopped): with the config the loop is found, with the defaults not.
      const withConfig = await cli(['insights', '--data', data, '--since', '24h', '--json', '--config', config], dir);
      expect(await withConfig.code).toBe(0);
      expect((JSON.parse(withConfig.out()) as Insights).findings.map((f) => f.kind)).toEqual(['retry-loops']);
      const defaults = await cli(['insights', '--data', data, '--since', '24h', '--json'], dir);
      expect(await defaults.code).toBe(0);
      expect((JSON.parse(defaults.out()) as Insights).findings).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
