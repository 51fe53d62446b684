// Proves the report views of issue 12 on a fleet with known costs: any combination of dimensions (calls, attempts, avg tokens, cost, share) with margin per tenant, p90 and over-2x-median per task name, tool success and error rates, unpriced tasks left out (never $0), the daily trend, the 7-day projection and the ticker.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Session } from 'chdb';
import { formatPico, parsePico } from '@spendtrace/semconv';
import {
  breakdown,
  costPerSuccessByDay,
  costsByTask,
  costsByTaskName,
  costsByTool,
  fullReport,
  parseDimensions,
  projection,
  summary,
  ticker,
} from '../src/reports/index.ts';
import type { QueryableStore } from '../src/reports/index.ts';
import { createReportRoutes } from '../src/reports/index.ts';
import { callRoute } from './support/call-routes.ts';
import { callCost, insertTasks, openFleetStore, type Call, type TaskSpec } from './support/span-fleet.ts';

const DB = 'views';
let dir: string;
let session: Session;
let store: QueryableStore;
const DAY = 86_400_000;
const now = Date.now();
const W = { database: DB, since: '7d' };
// d1 and d2 start over 3 days ago (the projection then sees 4 24-hour periods whatever the test's
// speed) and on one UTC day (the daily trend groups them), even when that day's midnight is near.
const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const old = now - 3 * DAY - 120_000;
const day3 = dayOf(old) === dayOf(old + 60_000) ? old : old - 120_000;

const small: Call = { model: 'gpt-4o-mini', input: 1000, output: 100 };
const big: Call = { model: 'gpt-4.1', input: 2000, output: 500 };
const S = { service: 'svc', agent: 'writer' };
// Five "draft" tasks: four cost one small call, one costs five (over 2x the median); acme is charged for two of them.
const tasks: TaskSpec[] = [
  { ...S, id: 'd1', name: 'draft', user: 'u1', tenant: 'acme', charged: 0.01, at: day3, calls: [small], tools: [{ name: 'search', cost: '0.00001' }] },
  { ...S, id: 'd2', name: 'draft', user: 'u1', tenant: 'acme', charged: 0.02, at: day3 + 60_000, calls: [small] },
  {
    ...S,
    id: 'd3',
    name: 'draft',
    user: 'u2',
    tenant: 'globex',
    at: now - 2 * DAY,
    calls: [small],
    tools: [{ name: 'search', cost: '0.00001', error: true }],
    outcome: 'failure',
  },
  { ...S, id: 'd4', name: 'draft', user: 'u2', tenant: 'globex', at: now - 2 * DAY + 60_000, calls: [small] },
  {
    ...S,
    id: 'd5',
    name: 'draft',
    user: 'u2',
    tenant: 'globex',
    at: now - 30 * 60_000,
    calls: [small, small, small, small, { ...small, retry: 2 }],
    tools: [{ name: 'search', cost: '0.00001' }],
  },
  // A review on gpt-4.1, and one whose second call is on a model nobody priced.
  { ...S, agent: 'reviewer', id: 'r1', name: 'review', user: 'u1', tenant: 'acme', charged: 0.05, at: now - DAY - 60_000, calls: [big] },
  {
    ...S,
    agent: 'reviewer',
    id: 'r2',
    name: 'review',
    user: 'u1',
    tenant: 'acme',
    at: now - 20 * 60_000,
    calls: [big, { model: 'acme-7b', input: 100, output: 10, unpriced: true }],
  },
];
const cost = (id: string) => {
  const t = tasks.find((x) => x.id === id)!;
  return t.calls.reduce((a, c) => a + callCost(c), 0n) + (t.tools ?? []).reduce((a, x) => a + parsePico(x.cost), 0n);
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'spendtrace-views-'));
  ({ session, store } = openFleetStore(dir, DB));
  await insertTasks(session, DB, tasks);
}, 60_000);
afterAll(() => {
  session?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('breakdown by any dimensions', () => {
  it('agent x task x model: calls, attempts, avg tokens, cost and share; tool fees are their own row', async () => {
    const rows = await breakdown(store, parseDimensions('agent,task,model'), W);
    const total = tasks.reduce((a, t) => a + cost(t.id), 0n);
    expect(rows.reduce((a, r) => a + parsePico(r.cost), 0n)).toBe(total);
    const draftSmall = rows.find((r) => r.key.agent === 'writer' && r.key.task === 'draft' && r.key.model === 'gpt-4o-mini')!;
    expect(draftSmall).toMatchObject({
      calls: 9,
      attempts: 11,
      avgInputTokens: 1000,
      avgOutputTokens: 100,
      tasks: 5,
      unpricedCalls: 0,
      cost: formatPico(9n * callCost(small)),
    });
    const fees = rows.find((r) => r.key.task === 'draft' && r.key.model === '')!;
    expect(fees).toMatchObject({ calls: 0, toolCalls: 3, cost: '0.000030000000' });
    const unpriced = rows.find((r) => r.key.model === 'acme-7b')!;
    expect(unpriced).toMatchObject({ calls: 1, unpricedCalls: 1, cost: '0.000000000000', share: 0 });
    expect(Math.abs(rows.reduce((a, r) => a + r.share, 0) - 1)).toBeLessThan(1e-5);
    expect(rows[0]!.key.model).toBe('gpt-4.1'); // dearest first
  });

  it('tenant: cost, what was charged and the margin of the tasks that recorded a charge', async () => {
    const rows = await breakdown(store, ['tenant'], W);
    const acme = rows.find((r) => r.key.tenant === 'acme')!;
    const acmeCost = cost('d1') + cost('d2') + cost('r1') + cost('r2');
    expect(acme.cost).toBe(formatPico(acmeCost));
    expect(acme.chargedTasks).toBe(3);
    expect(acme.charged).toBe('0.080000000000');
    const margin = 80_000_000_000n - (cost('d1') + cost('d2') + cost('r1'));
    expect(acme.margin).toBe(formatPico(margin));
    expect(acme.marginRate).toBe(Number((margin * 1_000_000n) / 80_000_000_000n) / 1e6);
    const globex = rows.find((r) => r.key.tenant === 'globex')!;
    expect(globex).toMatchObject({ chargedTasks: 0, charged: '0.000000000000', margin: null });
  });

  it('user, and a mix with a per-call dimension gets no margin', async () => {
    const users = await breakdown(store, ['user'], W);
    expect(users.map((r) => r.key.user).sort()).toEqual(['u1', 'u2']);
    const byModel = await breakdown(store, ['tenant', 'model'], W);
    expect(byModel.every((r) => r.margin === undefined)).toBe(true);
    expect(() => parseDimensions('agent,colour')).toThrow(/invalid dimension "colour": expected a comma-separated list of agent, task, model/);
  });
});

describe('tasks, task names and tools', () => {
  it('per task name: p50/p90/p95/p99 over priced tasks, the ones over 2x the median, unpriced tasks left out', async () => {
    const names = await costsByTaskName(store, W);
    const draft = names.find((n) => n.taskName === 'draft')!;
    // sorted: d2 = d4 (one call) < d1 (one call + fee) = d3 < d5; ranks ceil(.5*5)=3, ceil(.9*5)=5, ...
    expect(draft.costPerTask).toEqual({ p50: formatPico(cost('d1')), p90: formatPico(cost('d5')), p95: formatPico(cost('d5')), p99: formatPico(cost('d5')) });
    expect(draft.overMedianTasks).toBe(1);
    const review = names.find((n) => n.taskName === 'review')!;
    expect(review).toMatchObject({ tasks: 2, unpricedTasks: 1, costPerTask: { p50: formatPico(cost('r1')) }, costPerSuccessfulTask: formatPico(cost('r1')) });
    const rows = await costsByTask(store, W);
    expect(rows.filter((t) => t.overMedian).map((t) => t.taskId)).toEqual(['d5']);
    expect(rows.find((t) => t.taskId === 'd5')!.vsMedian).toBe(Number((cost('d5') * 1000n) / cost('d1')) / 1000);
    expect(rows.find((t) => t.taskId === 'r2')).toMatchObject({ vsMedian: null, overMedian: false });
  });

  it('summary: p90, unpriced tasks counted, attempts beside calls retried', async () => {
    const s = await summary(store, W);
    expect(s).toMatchObject({ tasks: 7, unpricedTasks: 1, llmCalls: 12, retries: 1, attempts: 14, overMedianTasks: 1 });
    expect(s.costPerTask?.p90).toBe(formatPico(cost('r1')));
  });

  it('tools: the error rate of their own calls and the share of calls in tasks that succeeded', async () => {
    const [search] = await costsByTool(store, W);
    expect(search).toMatchObject({ tool: 'search', calls: 3, errors: 1 });
    expect(search!.errorRate).toBeCloseTo(1 / 3, 10);
    expect(search!.successRate).toBeCloseTo(2 / 3, 10); // d1 and d5 succeeded, d3 failed
  });
});

describe('over time', () => {
  it('daily trend: cost per successful task per UTC day, priced tasks only', async () => {
    const days = await costPerSuccessByDay(store, W);
    const d3 = days.find((d) => d.day === dayOf(day3))!;
    expect(d3).toMatchObject({ tasks: 2, successfulTasks: 2, cost: formatPico(cost('d1') + cost('d2')) });
    expect(d3.costPerSuccessfulTask).toBe(formatPico((cost('d1') + cost('d2')) / 2n));
    expect(days.reduce((a, d) => a + d.unpricedTasks, 0)).toBe(1);
  });

  it('projection: the mean of the days seen x days in the month, with the spread', async () => {
    const p = await projection(store, W);
    // The oldest span is over 3 days old: 4 24-hour periods (0..3 days ago).
    expect(p.days).toHaveLength(4);
    const total = tasks.reduce((a, t) => a + cost(t.id), 0n);
    expect(p.days.reduce((a, d) => a + parsePico(d.cost), 0n)).toBe(total);
    const mean = (total + 2n) / 4n;
    expect(p.dailyMean).toBe(formatPico(mean));
    expect(p.projectedMonth).toBe(formatPico(mean * BigInt(p.daysInMonth)));
    expect(p.method).toMatch(/^mean of the daily totals of the last 4 days .* × \d+ days in \w+ \d{4}; range = \(mean ± standard deviation\) × \d+$/);
    expect(parsePico(p.range.low)).toBeLessThanOrEqual(parsePico(p.projectedMonth));
    expect(parsePico(p.range.high)).toBeGreaterThan(parsePico(p.projectedMonth));
    expect(p.unpricedCalls).toBe(1);
  });

  it('ticker: spend in the last hour and the day projected from it', async () => {
    const t = await ticker(store, W);
    expect(t.costLastHour).toBe(formatPico(cost('d5') + cost('r2')));
    expect(t.unpricedCallsLastHour).toBe(1); // r2's call on acme-7b: flagged, not a $0
    expect(parsePico(t.projectedDay)).toBeGreaterThanOrEqual(parsePico(t.costToday));
    expect(t.activeTasks).toBe(0); // every task's root has arrived
  });

  it('the full report carries every view', async () => {
    const r = await fullReport(store, W);
    expect(r.byTaskName.length).toBe(2);
    expect(r.dailyTrend.length).toBeGreaterThan(0);
    expect(r.projection.days.length).toBe(4);
    expect(r.ticker.at).toMatch(/Z$/);
  });
});

describe('the /api views', () => {
  it('/api/costs?by=DIM,DIM is the breakdown; bad dimensions and thresholds are a 400; /api/report carries the new views', async () => {
    const routes = createReportRoutes({ store, database: DB });
    const r = await callRoute(routes, '/api/costs?by=agent,task,model&since=7d');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ by: 'agent,task,model', dimensions: ['agent', 'task', 'model'], since: '7d' });
    expect(r.body.rows).toEqual(JSON.parse(JSON.stringify(await breakdown(store, ['agent', 'task', 'model'], W))));
    const bad = await callRoute(routes, '/api/costs?by=agent,colour');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/invalid by "agent,colour"/);
    expect((await callRoute(routes, '/api/report?concentration=0')).status).toBe(400);
    const rep = await callRoute(routes, '/api/report?since=7d&concentration=0.99');
    expect(rep.body.summary.topModel.threshold).toBe(0.99);
    expect(rep.body.byTaskName.map((n: any) => n.taskName).sort()).toEqual(['draft', 'review']);
  });

  it('/api/costs?dimensions=agent is the dimension table even for one classic name (by=agent stays the per-agent report)', async () => {
    const routes = createReportRoutes({ store, database: DB });
    const dims = await callRoute(routes, '/api/costs?dimensions=agent&since=7d');
    expect(dims.status).toBe(200);
    expect(dims.body).toMatchObject({ by: 'agent', dimensions: ['agent'] });
    expect(dims.body.rows).toEqual(JSON.parse(JSON.stringify(await breakdown(store, ['agent'], W))));
    const classic = await callRoute(routes, '/api/costs?by=agent&since=7d');
    expect(classic.body).not.toHaveProperty('dimensions');
    expect(classic.body.rows[0]).toHaveProperty('costPerSuccessfulTask');
    const bad = await callRoute(routes, '/api/costs?dimensions=colour');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe(
      'invalid dimensions "colour": expected a comma-separated list of agent, task, model, provider, user, tenant, tool, service, prompt',
    );
  });
});
