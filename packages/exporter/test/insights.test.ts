// Proves each insight detector fires on a fleet built to show it (naming the agent / task name / model, with evidence and a monthly saving from published prices) and stays silent on a fleet doing the same work well.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Session } from 'chdb';
import { formatPico, parsePico } from '@spendtrace/semconv';
import { DEFAULT_INSIGHT_THRESHOLDS, DETECTORS, insights, parseInsightsConfig } from '../src/insights/index.ts';
import type { Detector, Finding } from '../src/insights/index.ts';
import type { QueryableStore } from '../src/reports/index.ts';
import { insightsEndpoint } from '../src/insights/api.ts';
import { createReportRoutes } from '../src/reports/index.ts';
import { callRoute } from './support/call-routes.ts';
import { callCost, insertTasks, openFleetStore, type Call, type TaskSpec } from './support/span-fleet.ts';

const DB = 'ins';
let dir: string;
let session: Session;
let store: QueryableStore;
const HOUR = 3_600_000;
const t0 = Date.now() - 2 * 86_400_000; // two days ago: inside 7d
const dim = (() => {
  const d = new Date();
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
})();
/** What the detectors do to a 7-day window's figure. */
const monthly7d = (pico: bigint) => formatPico((pico * BigInt(dim * 86_400)) / BigInt(7 * 86_400));

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const bad: TaskSpec[] = [];
const good: TaskSpec[] = [];
const B = { service: 'bad' };
const G = { service: 'good' };

// Context bloat (and batch-eligible: nightly, nobody waiting): 3 runs of 8 calls resending a growing history.
for (const run of range(3))
  bad.push({
    ...B,
    id: `sum${run}`,
    name: 'nightly-summary',
    agent: 'summarizer',
    at: t0 + run * HOUR,
    calls: range(8).map((i) => ({ model: 'gpt-4.1-mini', input: 1000 + 1500 * i, output: 300 })),
  });
// The same job done well: a running summary keeps the input flat; users attached (not background).
for (const run of range(3))
  good.push({
    ...G,
    id: `gsum${run}`,
    name: 'nightly-summary',
    agent: 'summarizer',
    user: 'ops',
    at: t0 + run * HOUR,
    calls: range(8).map(() => ({ model: 'gpt-4.1-mini', input: 1000, output: 300 })),
  });

// Context bloat across runs: each weekly account review sends 1,000 more tokens per call than the last.
for (const run of range(4))
  bad.push({
    ...B,
    id: `acct${run}`,
    name: 'account-review',
    agent: 'analyst',
    user: 'cfo',
    at: t0 + run * 6 * HOUR,
    calls: range(2).map(() => ({ model: 'gpt-4.1-mini', input: 2000 + 1000 * run, output: 300 })),
  });
for (const run of range(4))
  good.push({
    ...G,
    id: `gacct${run}`,
    name: 'account-review',
    agent: 'analyst',
    user: 'cfo',
    at: t0 + run * 6 * HOUR,
    calls: range(2).map(() => ({ model: 'gpt-4.1-mini', input: 2000, output: 300 })),
  });

// Wrong model: 30 classifications on gpt-4.1 with 5-token answers; gpt-4.1-nano does the same task name as well.
for (const i of range(30))
  bad.push({
    ...B,
    id: `cls${i}`,
    name: 'classify',
    agent: 'triage',
    user: `u${i % 3}`,
    at: t0 + 4 * HOUR + i * 60_000,
    calls: [{ model: 'gpt-4.1', input: 300, output: 5 }],
  });
for (const i of range(10))
  bad.push({
    ...B,
    id: `ncls${i}`,
    name: 'classify',
    agent: 'triage',
    user: `u${i % 3}`,
    at: t0 + 5 * HOUR + i * 60_000,
    calls: [{ model: 'gpt-4.1-nano', input: 300, output: 5 }],
  });
for (const i of range(30))
  good.push({
    ...G,
    id: `gcls${i}`,
    name: 'classify',
    agent: 'triage',
    user: `u${i % 3}`,
    at: t0 + 4 * HOUR + i * 60_000,
    calls: [{ model: 'gpt-4.1-nano', input: 300, output: 5 }],
  });

// Retry loop: a sync job makes 2 calls, except one run that makes 12 calls with 8 SDK retries.
for (const i of range(5))
  bad.push({
    ...B,
    id: `crm${i}`,
    name: 'crm-update',
    agent: 'crm',
    user: 'sales',
    at: t0 + 6 * HOUR + i * 60_000,
    calls: range(2).map(() => ({ model: 'gpt-4o-mini', input: 800, output: 250 })),
  });
bad.push({
  ...B,
  id: 'crm-loop',
  name: 'crm-update',
  agent: 'crm',
  user: 'sales',
  outcome: 'failure',
  at: t0 + 7 * HOUR,
  calls: range(12).map((i) => ({ model: 'gpt-4o-mini', input: 800, output: 250, retry: i < 8 ? 1 : 0 })),
});
for (const i of range(6))
  good.push({
    ...G,
    id: `gcrm${i}`,
    name: 'crm-update',
    agent: 'crm',
    user: 'sales',
    at: t0 + 6 * HOUR + i * 60_000,
    calls: range(2 + (i % 2)).map(() => ({ model: 'gpt-4o-mini', input: 800, output: 250 })),
  });

// Duplicates: the same FAQ question answered afresh for 6 users within minutes.
const faq: Call = { model: 'gpt-4o', input: 600, output: 150, hash: 'faq-reset-password' };
for (const i of range(6)) bad.push({ ...B, id: `faq${i}`, name: 'faq', agent: 'support', user: `c${i}`, at: t0 + 8 * HOUR + i * 120_000, calls: [faq] });
for (const i of range(6))
  good.push({ ...G, id: `gfaq${i}`, name: 'faq', agent: 'support', user: `c${i}`, at: t0 + 8 * HOUR + i * 120_000, calls: [{ ...faq, hash: `faq-${i}` }] });

// Prompt caching unused: one 3,000-token template, 12 calls, no cache reads; done well, the prefix is read from cache.
for (const i of range(12))
  bad.push({
    ...B,
    id: `ans${i}`,
    name: 'answer',
    agent: 'support',
    user: `c${i}`,
    at: t0 + 9 * HOUR + i * 60_000,
    calls: [{ model: 'gpt-4o', input: 3000 + i * 10, output: 300, prompt: 'support-answer' }],
  });
for (const i of range(12))
  good.push({
    ...G,
    id: `gans${i}`,
    name: 'answer',
    agent: 'support',
    user: `c${i}`,
    at: t0 + 9 * HOUR + i * 60_000,
    calls: [{ model: 'gpt-4o', input: 3000 + i * 10, output: 300, prompt: 'support-answer', cacheRead: i ? 2944 : 0 }],
  });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'spendtrace-insights-'));
  ({ session, store } = openFleetStore(dir, DB));
  await insertTasks(session, DB, bad);
  await insertTasks(session, DB, good);
}, 60_000);
afterAll(() => {
  session?.close();
  rmSync(dir, { recursive: true, force: true });
});

const ofKind = (fs: Finding[], kind: string) => fs.filter((f) => f.kind === kind);

describe('insights on a fleet with every culprit', () => {
  let found: Finding[];
  beforeAll(async () => {
    const r = await insights(store, { database: DB, since: '7d', service: 'bad' });
    expect(r.errors).toEqual([]);
    found = r.findings;
  }, 60_000);

  it('context bloat: the summarizer, with its growth and the input above the first call priced', () => {
    const f = ofKind(found, 'context-bloat').find((x) => x.subject.taskName === 'nightly-summary');
    expect(f?.subject).toEqual({ agent: 'summarizer', taskName: 'nightly-summary', model: 'gpt-4.1-mini' });
    expect(f!.metrics).toMatchObject({ runs: 3, growingRuns: 3, firstCallInputTokens: 1000, lastCallInputTokens: 11500 });
    // Input above 1,000 tokens per call: (0+1500+...+10500) = 42,000 tokens per run x 3 runs at $0.40/M.
    expect(f!.windowSaving).toBe('0.050400000000');
    expect(f!.monthlySaving).toBe(monthly7d(50_400_000_000n));
    expect(f!.assumption).toMatch(/running summary/);
  });

  it('context bloat across runs: the account review grows run over run; the input above the oldest run priced', () => {
    const f = ofKind(found, 'context-bloat').find((x) => x.subject.taskName === 'account-review');
    expect(f?.subject).toEqual({ agent: 'analyst', taskName: 'account-review', model: 'gpt-4.1-mini' });
    expect(f!.metrics).toMatchObject({ runs: 4, oldestRunInputPerCall: 2000, newestRunInputPerCall: 5000, avgInputTokens: 3500 });
    // Input cost 2 x (2,000 + 3,000 + 4,000 + 5,000) tokens at $0.40/M; the share above 2,000 per call: 1 - 2000/3500.
    const inputCost = 28_000n * 400_000n;
    expect(f!.windowSaving).toBe(formatPico((inputCost * BigInt(Math.round((1 - 2000 / 3500) * 1e6))) / 1_000_000n));
  });

  it('wrong model: classify on gpt-4.1, naming gpt-4.1-nano with both success rates', () => {
    const [f] = ofKind(found, 'wrong-model');
    expect(f?.subject).toMatchObject({ taskName: 'classify', model: 'gpt-4.1', agent: 'triage' });
    expect(f!.metrics).toMatchObject({ calls: 30, avgOutputTokens: 5, cheaperModel: 'gpt-4.1-nano', successRate: 1, cheaperModelSuccessRate: 1 });
    expect(f!.evidence.join('\n')).toMatch(/also runs on gpt-4.1-nano: success rate 100.0 % there against 100.0 % on gpt-4.1/);
    const saving = 30n * (callCost({ model: 'gpt-4.1', input: 300, output: 5 }) - callCost({ model: 'gpt-4.1-nano', input: 300, output: 5 }));
    expect(f!.windowSaving).toBe(formatPico(saving));
  });

  it('retry loop: the one crm-update run far above the median, saving its cost above the median task', () => {
    const [f] = ofKind(found, 'retry-loops');
    expect(f?.subject).toMatchObject({ taskName: 'crm-update', agent: 'crm' });
    expect(f!.metrics).toMatchObject({ tasks: 6, loopingTasks: 1, medianAttempts: 2, worstAttempts: 20, sdkRetries: 8 });
    const call = callCost({ model: 'gpt-4o-mini', input: 800, output: 250 });
    expect(f!.windowSaving).toBe(formatPico(12n * call - 2n * call));
  });

  it('duplicates: five repeats of one FAQ request across tasks inside the TTL', () => {
    const [f] = ofKind(found, 'duplicate-requests');
    expect(f?.subject).toMatchObject({ taskName: 'faq', model: 'gpt-4o' });
    expect(f!.metrics).toMatchObject({ repeats: 5, acrossTasks: 5, withinTask: 0, distinctRequests: 1 });
    const c = 5n * callCost(faq);
    expect(f!.windowSaving).toBe(formatPico(c));
    expect(f!.monthlySaving).toBe(monthly7d(c));
  });

  it('prompt caching unused: the support-answer template, priced at the cache-read discount', () => {
    const [f] = ofKind(found, 'prompt-caching-unused');
    expect(f?.subject).toMatchObject({ taskName: 'answer', model: 'gpt-4o', prompt: 'support-answer' });
    // gpt-4o: $2.50 input, $1.25 cached per 1M; the 3,000-token prefix on 11 calls after the first.
    expect(f!.windowSaving).toBe(formatPico((3000n * 11n * (2_500_000_000_000n - 1_250_000_000_000n)) / 1_000_000n));
  });

  it('batch-eligible: the nightly summarizer (no user waiting), at 50 % of its cost', () => {
    const fs = ofKind(found, 'batch-eligible');
    expect(fs.map((f) => f.subject.taskName)).toEqual(['nightly-summary']);
    const cost = bad
      .filter((t) => t.name === 'nightly-summary')
      .flatMap((t) => t.calls)
      .reduce((a, c) => a + callCost(c), 0n);
    expect(fs[0]!.windowSaving).toBe(formatPico(cost / 2n));
  });

  it('lists findings by monthly saving, each with evidence and an assumption', () => {
    expect(found.length).toBe(7);
    for (const f of found) {
      expect(f.evidence.length).toBeGreaterThan(0);
      expect(f.assumption.length).toBeGreaterThan(10);
      expect(parsePico(f.monthlySaving)).toBeGreaterThan(0n);
    }
    const savings = found.map((f) => parsePico(f.monthlySaving));
    expect([...savings].sort((a, b) => (b > a ? 1 : b < a ? -1 : 0))).toEqual(savings);
  });
});

describe('insights on a fleet doing the same work well', () => {
  it('finds nothing', async () => {
    const r = await insights(store, { database: DB, since: '7d', service: 'good' });
    expect(r.errors).toEqual([]);
    expect(r.findings).toEqual([]);
    expect(r.monthlySavings).toBe('0.000000000000');
  });

  it('still ranks its prompt templates by cost', async () => {
    const r = await insights(store, { database: DB, since: '7d', service: 'good' });
    expect(r.topPrompts.map((p) => [p.prompt, p.version, p.calls])).toEqual([['support-answer', '1', 12]]);
  });
});

describe('the registry', () => {
  it('runs every detector, and one that fails is reported while the others still run', async () => {
    expect(DETECTORS.map((d) => d.id)).toEqual([
      'context-bloat',
      'wrong-model',
      'retry-loops',
      'duplicate-requests',
      'prompt-caching-unused',
      'batch-eligible',
      'over-provisioned-model',
    ]);
    const broken: Detector = {
      id: 'broken',
      describe: 'always fails',
      detect: async () => {
        throw new Error('boom');
      },
    };
    const r = await insights(store, { database: DB, since: '7d', service: 'bad' }, [broken, ...DETECTORS]);
    expect(r.errors).toEqual([{ detector: 'broken', message: 'boom' }]);
    expect(r.findings.length).toBe(7);
  });
});

describe('thresholds from the config file', () => {
  const kinds = (fs: Finding[]) => [...new Set(fs.map((f) => f.kind))].sort();
  const all = ['batch-eligible', 'context-bloat', 'duplicate-requests', 'prompt-caching-unused', 'retry-loops', 'wrong-model'];

  it('the defaults are what insights() uses when none are given', async () => {
    const plain = await insights(store, { database: DB, since: '7d', service: 'bad' });
    const given = await insights(store, { database: DB, since: '7d', service: 'bad', thresholds: DEFAULT_INSIGHT_THRESHOLDS });
    expect(given.findings).toEqual(plain.findings);
    expect(kinds(plain.findings)).toEqual(all);
  }, 60_000);

  // Each threshold raised just past the fleet's evidence silences that finding and no other.
  it.each([
    ['context-bloat', { contextBloat: { minInputTokens: 20_000 } }],
    ['wrong-model', { wrongModel: { maxOutputTokens: 5 } }], // classify averages 5 output tokens: not under 5
    ['wrong-model', { wrongModel: { minCalls: 31 } }], // 30 calls
    ['wrong-model', { wrongModel: { priceRatio: 21 } }], // gpt-4.1 input is 20x gpt-4.1-nano's
    ['retry-loops', { retryLoops: { factor: 11 } }], // worst 20 attempts against a median of 2
    ['retry-loops', { retryLoops: { minExtraAttempts: 19 } }],
    ['retry-loops', { retryLoops: { minTasks: 7 } }], // 6 crm-update tasks
    ['duplicate-requests', { duplicateRequests: { minRepeats: 6 } }], // 5 repeats
    ['duplicate-requests', { cacheTtlSeconds: 60 }], // the FAQ tasks are 2 minutes apart
    ['prompt-caching-unused', { promptCaching: { minCalls: 13 } }], // 12 calls
    ['prompt-caching-unused', { promptCaching: { minPrefixTokens: 3001 } }], // the smallest input is 3,000
  ])(
    '%s goes quiet with %j',
    async (kind, raw) => {
      const r = await insights(store, { database: DB, since: '7d', service: 'bad', thresholds: parseInsightsConfig(raw) });
      expect(r.errors).toEqual([]);
      expect(kinds(r.findings)).toEqual(all.filter((k) => k !== kind));
    },
    60_000,
  );

  it('lowered thresholds raise findings on the fleet the defaults find nothing in', async () => {
    // The good fleet reads ~98 % of its prefix from the cache; counting anything under 99 % as unused flags it.
    const r = await insights(store, {
      database: DB,
      since: '7d',
      service: 'good',
      thresholds: parseInsightsConfig({ promptCaching: { maxCachedShare: 0.99 } }),
    });
    expect(r.findings.map((f) => [f.kind, f.subject.taskName, f.subject.prompt])).toEqual([['prompt-caching-unused', 'answer', 'support-answer']]);
  }, 60_000);

  it('/api/insights applies the thresholds the service was started with', async () => {
    const thresholds = parseInsightsConfig({ retryLoops: { factor: 11 } });
    const routes = createReportRoutes({ store, database: DB, more: insightsEndpoint(store, undefined, thresholds) });
    const r = await callRoute(routes, '/api/insights?since=7d&service=bad');
    expect(r.status).toBe(200);
    expect(kinds((r.body as { findings: Finding[] }).findings)).toEqual(all.filter((k) => k !== 'retry-loops'));
  }, 60_000);
});

describe('GET /api/insights', () => {
  it('answers what insights() finds, as JSON; other paths still 404', async () => {
    const routes = createReportRoutes({ store, database: DB, more: insightsEndpoint(store) });
    const r = await callRoute(routes, '/api/insights?since=7d&service=bad');
    expect(r.status).toBe(200);
    expect(r.body).toEqual(JSON.parse(JSON.stringify(await insights(store, { database: DB, since: '7d', service: 'bad' }))));
    expect((await callRoute(routes, '/api/insights?since=soon')).status).toBe(400);
    expect((await callRoute(routes, '/api/nothing')).status).toBe(404);
  }, 60_000);
});
