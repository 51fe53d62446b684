// Proves the cost reports read the rollups exactly: totals, cost per successful task (failures in the numerator), nearest-rank percentiles, top 3, unpriced counts, windows and service filters.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Session } from 'chdb';
import { costsByAgent, costsByHour, costsByModel, costsByTask, costsByTool, fullReport, summary } from '../src/reports/index.ts';
import type { QueryableStore } from '../src/reports/index.ts';
import { createReportRoutes } from '../src/reports/api.ts';

const DB = 'rpt';
const SCHEMA_DIR = fileURLToPath(new URL('../src/schema/', import.meta.url));
const SCHEMA_FILES = ['database.sql', 'spans-table.sql', 'task-costs-table.sql', 'hourly-costs-table.sql', 'task-costs-mv.sql', 'hourly-costs-mv.sql'];

let dir: string;
let session: Session;
let store: QueryableStore;

/** A store over a chDB session with the schema applied as plain (non-replicated) DDL. */
function openStore(): QueryableStore {
  session = new Session(dir);
  for (const f of SCHEMA_FILES) {
    const sql = readFileSync(join(SCHEMA_DIR, f), 'utf8')
      .replaceAll('{{database}}', DB)
      .replaceAll('{{engine_args}}', '()')
      .replace(/\{\{\w+\}\}/g, '');
    session.query(sql);
  }
  return {
    async query<T>(sql: string, params: Record<string, unknown> = {}): Promise<T[]> {
      const text = (await session.queryBindAsync(sql, params, { format: 'JSONEachRow' })).text();
      return text
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as T);
    },
  };
}

// All 7d spans sit 10 minutes into the hour two hours ago, so they share one hourly bucket.
const HOUR = 3_600_000;
const base = Math.floor(Date.now() / HOUR) * HOUR - 2 * HOUR + 10 * 60_000;
const chTime = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
let seq = 0;

interface SpanSpec {
  task: string;
  kind: 'inference' | 'tool' | 'task';
  service?: string;
  agent?: string;
  taskName?: string;
  model?: string;
  cost?: string;
  tool?: string;
  outcome?: string;
  retry?: number;
  repeat?: number;
  error?: boolean;
  unpriced?: boolean;
  input?: number;
  output?: number;
  at?: number;
  durMs?: number;
}
function span(s: SpanSpec): Record<string, unknown> {
  const at = s.at ?? base;
  const dur = s.durMs ?? 100;
  return {
    trace_id: s.task,
    span_id: `s${++seq}`,
    start_time: chTime(at),
    end_time: chTime(at + dur),
    duration_ns: dur * 1_000_000,
    service_name: s.service ?? 'svc-a',
    kind: s.kind,
    task_id: s.task,
    task_name: s.taskName ?? '',
    agent_name: s.agent ?? '',
    tool_name: s.tool ?? '',
    operation: s.kind === 'inference' ? 'chat' : s.kind === 'tool' ? 'execute_tool' : 'invoke_agent',
    provider: s.kind === 'inference' ? 'openai' : '',
    request_model: s.model ?? '',
    response_model: s.model ?? '',
    input_tokens: s.input ?? 0,
    output_tokens: s.output ?? 0,
    cost: s.cost ?? '0',
    unpriced: s.unpriced ? 1 : 0,
    status_code: s.error ? 'error' : 'unset',
    outcome: s.outcome ?? '',
    retry_attempt: s.retry ?? 0,
    request_repeat: s.repeat ?? 0,
  };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'spendtrace-reports-'));
  store = openStore();
  const research = { service: 'svc-a', agent: 'research-agent', taskName: 'research' };
  const triage = { service: 'svc-a', agent: 'triage-agent', taskName: 'triage' };
  // Two inserts, so task_costs and hourly_costs hold unmerged parts that reads must re-aggregate.
  await session.insert({
    table: `${DB}.spans`,
    values: [
      span({ task: 'T1', kind: 'task', ...research, outcome: 'success' }),
      span({ task: 'T1', kind: 'inference', ...research, model: 'gpt-4.1', cost: '0.00435', input: 1000, output: 300 }),
      span({ task: 'T1', kind: 'inference', ...research, model: 'gpt-4o-mini', cost: '0.000123', input: 500, output: 80 }),
      span({ task: 'T2', kind: 'task', ...research, outcome: 'failure' }),
      span({ task: 'T2', kind: 'inference', ...research, model: 'gpt-4.1', cost: '0.002', error: true }),
      span({ task: 'T2', kind: 'inference', ...research, model: 'gpt-4.1', cost: '0.002', retry: 1 }),
      span({ task: 'T3', kind: 'task', ...triage, outcome: 'success' }),
      span({ task: 'T3', kind: 'inference', ...triage, model: 'gpt-4o-mini', cost: '0.000045' }),
      span({ task: 'T6', kind: 'inference', ...research, model: 'gpt-4.1', cost: '1', at: Date.now() - 10 * 86_400_000 }),
    ],
  });
  await session.insert({
    table: `${DB}.spans`,
    values: [
      span({ task: 'T1', kind: 'tool', ...research, tool: 'web_search', cost: '0.005', durMs: 250 }),
      span({ task: 'T1', kind: 'inference', ...research, tool: 'web_search', model: 'gpt-4o-mini', cost: '0.0002' }),
      span({ task: 'T4', kind: 'task', ...triage, outcome: 'success' }),
      span({ task: 'T4', kind: 'inference', ...triage, model: 'my-finetune', unpriced: true, input: 100, output: 10 }),
      span({ task: 'T4', kind: 'inference', ...triage, model: 'gpt-4o-mini', cost: '0.000055' }),
      span({ task: 'T5', kind: 'task', service: 'svc-b', agent: 'summarizer', taskName: 'nightly', outcome: 'success' }),
      span({ task: 'T5', kind: 'inference', service: 'svc-b', agent: 'summarizer', model: 'gpt-4o-mini', cost: '0.001' }),
    ],
  });
});

afterAll(() => {
  session?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('summary', () => {
  it('totals, cost per successful task with the failed task in the numerator, percentiles, top 3', async () => {
    const s = await summary(store, { database: DB, since: '7d' });
    // 0.009673 (T1) + 0.004 (T2, failed) + 0.000045 + 0.000055 + 0.001
    expect(s.totalCost).toBe('0.014773000000');
    expect(s.llmCost).toBe('0.009773000000');
    expect(s.toolCost).toBe('0.005000000000');
    expect(s).toMatchObject({ tasks: 5, successfulTasks: 4, failedTasks: 1, unknownOutcomeTasks: 0, successRate: 0.8 });
    // T4 made a call on an unpriced model: its cost is incomplete, so it is left out (and counted)
    // rather than read as a cheap task. (0.009673 + 0.004 + 0.000045 + 0.001) / 3 priced successes
    expect(s.unpricedTasks).toBe(1);
    expect(s.costPerSuccessfulTask).toBe('0.004906000000');
    // priced, sorted: 0.000045, 0.001, 0.004, 0.009673 -> ranks ceil(.5*4)=2, ceil(.9*4)=4, ceil(.95*4)=4, ceil(.99*4)=4
    expect(s.costPerTask).toEqual({ p50: '0.001000000000', p90: '0.009673000000', p95: '0.009673000000', p99: '0.009673000000' });
    expect(s.topTasks.map((t) => [t.taskId, t.cost])).toEqual([
      ['T1', '0.009673000000'],
      ['T2', '0.004000000000'],
      ['T5', '0.001000000000'],
    ]);
    expect(s.unpricedCalls).toBe(1);
    expect(s).toMatchObject({ llmCalls: 9, toolCalls: 1, errors: 1, retries: 1, retryCost: '0.002000000000' });
    expect(s.attempts).toBe(10); // 9 calls, one of them retried once by the SDK
    // Overhead is the failed-but-billed call (0.002); the SDK-retried call that succeeded is not overhead.
    expect(s.retryOverhead).toBe(0.135382); // 0.002 / 0.014773, truncated to 6 digits
    // gpt-4.1 0.00835 of 0.009773 LLM spend
    expect(s.topModel).toEqual({ provider: 'openai', model: 'gpt-4.1', cost: '0.008350000000', share: 0.854394, concentrated: true, threshold: 0.7 });
    expect((await summary(store, { database: DB, since: '7d', concentrationThreshold: 0.9 })).topModel?.concentrated).toBe(false);
  });

  it('filters by service and widens with since=all', async () => {
    const a = await summary(store, { database: DB, since: '7d', service: 'svc-a' });
    // (0.009673 + 0.004 + 0.000045) / 2 priced successes; T4 (unpriced call) left out
    expect(a).toMatchObject({ totalCost: '0.013773000000', tasks: 4, successfulTasks: 3, costPerSuccessfulTask: '0.006859000000', unpricedTasks: 1 });
    const all = await summary(store, { database: DB, since: 'all' });
    expect(all.totalCost).toBe('1.014773000000');
    expect(all.tasks).toBe(6);
    expect(all.unknownOutcomeTasks).toBe(1);
    expect(all.topTasks[0]?.taskId).toBe('T6');
  });

  it('an empty window is zeros and nulls, never NaN', async () => {
    const s = await summary(store, { database: DB, since: '1m' });
    expect(s).toMatchObject({
      totalCost: '0.000000000000',
      tasks: 0,
      costPerSuccessfulTask: null,
      successRate: null,
      costPerTask: null,
      topTasks: [],
      retryOverhead: null,
      topModel: null,
      unpricedCalls: 0,
    });
  });
});

describe('groupings', () => {
  it('by task: merged rows with calls, tokens and outcome', async () => {
    const rows = await costsByTask(store, { database: DB, since: '7d' });
    expect(rows.map((r) => r.taskId)).toEqual(['T1', 'T2', 'T5', 'T4', 'T3']);
    expect(rows[0]).toMatchObject({
      taskName: 'research',
      agent: 'research-agent',
      service: 'svc-a',
      outcome: 'success',
      cost: '0.009673000000',
      llmCost: '0.004673000000',
      toolCost: '0.005000000000',
      llmCalls: 3,
      toolCalls: 1,
      errors: 0,
      unpricedCalls: 0,
      tokens: { input: 1500, output: 380 },
    });
    expect(rows[0]!.firstSeen).toBe(new Date(base).toISOString());
    expect(rows.find((r) => r.taskId === 'T4')).toMatchObject({ unpricedCalls: 1, cost: '0.000055000000' });
    expect(await costsByTask(store, { database: DB, since: '7d', limit: 2 })).toHaveLength(2);
  });

  it('by tool: the fee and the LLM calls made inside the tool', async () => {
    expect(await costsByTool(store, { database: DB })).toEqual([
      {
        tool: 'web_search',
        calls: 1,
        toolCost: '0.005000000000',
        llmCalls: 1,
        llmCost: '0.000200000000',
        cost: '0.005200000000',
        errors: 0,
        unpricedCalls: 0,
        latencyMs: { p50: 250, p95: 250, p99: 250 },
        errorRate: 0,
        successRate: 1,
      },
    ]);
  });

  it('by model: spend, share and the unpriced model shown as unpriced', async () => {
    const rows = await costsByModel(store, { database: DB });
    expect(rows.map((r) => [r.model, r.calls, r.cost, r.unpricedCalls])).toEqual([
      ['gpt-4.1', 3, '0.008350000000', 0],
      ['gpt-4o-mini', 5, '0.001423000000', 0],
      ['my-finetune', 1, '0.000000000000', 1],
    ]);
    expect(rows[0]).toMatchObject({ provider: 'openai', errors: 1, retries: 1, retryCost: '0.002000000000', share: 0.854394 });
  });

  it('by agent: cost per successful task per agent', async () => {
    const rows = await costsByAgent(store, { database: DB });
    expect(rows.map((r) => [r.agent, r.tasks, r.successfulTasks, r.failedTasks, r.cost, r.costPerSuccessfulTask])).toEqual([
      ['research-agent', 2, 1, 1, '0.013673000000', '0.013673000000'],
      ['summarizer', 1, 1, 0, '0.001000000000', '0.001000000000'],
      ['triage-agent', 2, 2, 0, '0.000100000000', '0.000045000000'], // T4's unpriced call leaves it out of the per-success cost
    ]);
  });

  it('by hour: one bucket with everything in it', async () => {
    const rows = await costsByHour(store, { database: DB });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      hour: new Date(Math.floor(base / HOUR) * HOUR).toISOString(),
      cost: '0.014773000000',
      llmCalls: 9,
      toolCalls: 1,
      errors: 1,
      unpricedCalls: 1,
    });
    expect(rows[0]!.latencyMs.p50).toBe(100);
  });

  it('the full report agrees with itself: sum of task costs = total', async () => {
    const r = await fullReport(store, { database: DB });
    const sum = r.byTask.reduce((a, t) => a + BigInt(t.cost.replace('.', '')), 0n);
    expect(sum).toBe(BigInt(r.summary.totalCost.replace('.', '')));
    expect(r.byHour[0]?.cost).toBe(r.summary.totalCost);
  });

  it('rejects a bad window or database name before querying', async () => {
    await expect(summary(store, { database: DB, since: 'yesterday' })).rejects.toThrow(/invalid --since/);
    await expect(summary(store, { database: 'x; DROP', since: '7d' })).rejects.toThrow(/invalid database/);
  });
});

describe('HTTP API routes', () => {
  async function call(path: string): Promise<{ status: number; body: any; handled: boolean }> {
    const routes = createReportRoutes({ store, database: DB });
    let status = 0;
    let text = '';
    const res = {
      writeHead(s: number) {
        status = s;
        return res;
      },
      setHeader() {
        return res;
      },
      end(b?: string) {
        text = b ?? '';
      },
    };
    const url = new URL(path, 'http://127.0.0.1');
    const handled = await routes({ method: 'GET', url: path } as any, res as any, url);
    return { status, body: text ? JSON.parse(text) : undefined, handled };
  }

  it('serves the summary and each grouping as JSON with decimal-string money', async () => {
    const s = await call('/api/summary?since=7d');
    expect(s.status).toBe(200);
    expect(s.body.totalCost).toBe('0.014773000000');
    const m = await call('/api/costs?by=model&since=7d');
    expect(m.body.by).toBe('model');
    expect(m.body.rows[0].cost).toBe('0.008350000000');
    const t = await call('/api/costs?by=task&service=svc-b');
    expect(t.body.rows.map((r: any) => r.taskId)).toEqual(['T5']);
  });

  it('400 on a bad parameter; other paths are left to the server', async () => {
    expect((await call('/api/costs?by=planet')).status).toBe(400);
    expect((await call('/api/summary?since=soon')).status).toBe(400);
    expect((await call('/v1/traces')).handled).toBe(false);
  });
});
