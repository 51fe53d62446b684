// Proves the insights section of the config file: the README's example and its table of defaults match the code, values override one by one, and bad input is reported problem by problem (exit 3 from the CLI, before any store is opened).
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../src/cli/index.ts';
import { DEFAULT_INSIGHT_THRESHOLDS, InsightsConfigError, parseInsightsConfig } from '../src/insights/index.ts';

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
