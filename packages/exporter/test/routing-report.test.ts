// Proves the routing report reads routed task spans exactly: quality-weighted rewards, downgraded tasks judging neither model, the whole task spend (tools and other models) beside the routed model's, experiment arms and their verdict, filters, and no finding without enough evidence.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Session } from 'chdb';
import * as A from '@spendtrace/semconv';
import { routingReport, type QueryableStore } from '../src/reports/index.ts';

const DB = 'rt';
const SCHEMA_DIR = fileURLToPath(new URL('../src/schema/', import.meta.url));
const SCHEMA_FILES = ['database.sql', 'spans-table.sql', 'task-costs-table.sql', 'hourly-costs-table.sql', 'task-costs-mv.sql', 'hourly-costs-mv.sql'];
let dir: string;
let session: Session;
let store: QueryableStore;

const at = Date.now() - 3_600_000;
const chTime = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
let seq = 0;

function row(
  task: string,
  kind: 'task' | 'inference' | 'tool',
  o: { model?: string; cost?: string; input?: number; output?: number; outcome?: string; attrs?: Record<string, string>; service?: string } = {},
) {
  return {
    trace_id: task,
    span_id: `s${++seq}`,
    start_time: chTime(at + seq),
    end_time: chTime(at + seq + 100),
    duration_ns: 100_000_000,
    service_name: o.service ?? 'svc',
    kind,
    task_id: task,
    task_name: 'cls',
    request_model: o.model ?? '',
    response_model: o.model ?? '',
    provider: kind === 'inference' ? 'openai' : '',
    input_tokens: o.input ?? 0,
    output_tokens: o.output ?? 0,
    cost: o.cost ?? '0',
    outcome: o.outcome ?? '',
    attributes: o.attrs ?? {},
  };
}

const routed = (model: string, extra: Record<string, string> = {}) => ({
  [A.ATTR_SPENDTRACE_ROUTE_TASK_TYPE]: 'cls',
  [A.ATTR_SPENDTRACE_ROUTE_MODEL]: model,
  [A.ATTR_SPENDTRACE_ROUTE_REASON]: 'lowest_cost_per_success',
  ...extra,
});
const arm = (a: 'incumbent' | 'challenger') => ({
  [A.ATTR_SPENDTRACE_ROUTE_EXPERIMENT]: 'gpt-4o->gpt-4o-mini',
  [A.ATTR_SPENDTRACE_ROUTE_EXPERIMENT_ARM]: a,
  [A.ATTR_SPENDTRACE_ROUTE_EXPERIMENT_MARGIN]: '0.05',
  [A.ATTR_SPENDTRACE_ROUTE_EXPERIMENT_CONFIDENCE]: '0.9',
});

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'spendtrace-routing-report-'));
  session = new Session(dir);
  for (const f of SCHEMA_FILES) {
    session.query(
      readFileSync(join(SCHEMA_DIR, f), 'utf8')
        .replaceAll('{{database}}', DB)
        .replaceAll('{{engine_args}}', '()')
        .replace(/\{\{\w+\}\}/g, ''),
    );
  }
  store = {
    async query<T>(sql: string, params: Record<string, unknown> = {}): Promise<T[]> {
      const text = (await session.queryBindAsync(sql, params, { format: 'JSONEachRow' })).text();
      return text
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as T);
    },
  };
  await session.insert({
    table: `${DB}.spans`,
    values: [
      // R1: gpt-4o, success at quality 0.5, a web search and a planning call on another model.
      row('R1', 'task', { outcome: 'success', attrs: { ...routed('gpt-4o', arm('incumbent')), [A.ATTR_SPENDTRACE_TASK_QUALITY]: '0.5' } }),
      row('R1', 'inference', { model: 'gpt-4o', cost: '0.00115', input: 300, output: 40 }),
      row('R1', 'inference', { model: 'gpt-4.1', cost: '0.004' }),
      row('R1', 'tool', { cost: '0.005' }),
      // R2: gpt-4o, failure, two calls on it.
      row('R2', 'task', { outcome: 'failure', attrs: routed('gpt-4o', arm('incumbent')) }),
      row('R2', 'inference', { model: 'gpt-4o', cost: '0.001', input: 250, output: 30 }),
      row('R2', 'inference', { model: 'gpt-4o', cost: '0.001', input: 250, output: 30 }),
      // R3: gpt-4o-mini, success (no quality: a whole success).
      row('R3', 'task', { outcome: 'success', attrs: routed('gpt-4o-mini', arm('challenger')) }),
      row('R3', 'inference', { model: 'gpt-4o-mini', cost: '0.000069', input: 300, output: 40 }),
      // R4: started on gpt-4o, downgraded: counted as a task with its calls, judging neither model.
      row('R4', 'task', { outcome: 'success', attrs: { ...routed('gpt-4o'), [A.ATTR_SPENDTRACE_ROUTE_DOWNGRADED_TO]: 'gpt-4o-mini' } }),
      row('R4', 'inference', { model: 'gpt-4o', cost: '0.002', input: 600, output: 80 }),
      row('R4', 'inference', { model: 'gpt-4o-mini', cost: '0.0001', input: 600, output: 80 }),
      // An unrouted task and a routed one of another service.
      row('U1', 'task', { outcome: 'success' }),
      row('U1', 'inference', { model: 'gpt-4o', cost: '0.5' }),
      row('S1', 'task', { outcome: 'success', service: 'other', attrs: routed('gpt-4o-mini') }),
      row('S1', 'inference', { model: 'gpt-4o-mini', cost: '0.0001', service: 'other' }),
    ],
  });
});

afterAll(() => {
  session?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('routingReport', () => {
  it('per model: tasks, quality-weighted outcomes, routed calls and the whole spend, exactly', async () => {
    const r = await routingReport(store, { database: DB, since: '1d', service: 'svc' });
    expect(r.taskTypes).toHaveLength(1);
    const [big, small] = r.taskTypes[0]!.models;
    expect(big).toMatchObject({
      model: 'gpt-4o',
      provider: 'openai',
      tasks: 3,
      successes: 1,
      failures: 1,
      outcomes: 2,
      reward: 0.5,
      successRate: 0.25,
      calls: 4,
      inputTokens: 1400,
      outputTokens: 180,
      taskCalls: 6,
      cost: '0.014250000000',
      modelCost: '0.005150000000',
      costPerSuccess: '0.014250000000',
      costPerTask: '0.004750000000',
      share: 0.75,
    });
    expect(small).toMatchObject({ model: 'gpt-4o-mini', tasks: 1, successes: 1, outcomes: 1, reward: 1, calls: 1, cost: '0.000069000000' });
    expect(r.taskTypes[0]!.saving).toEqual({
      baseline: 'gpt-4o',
      cost: '0.014319000000',
      baselineCost: '0.019000000000',
      saved: '0.004681000000',
      share: 0.246368,
    });
    expect(r.findings).toEqual([]); // 2 and 1 outcomes: far from enough to call them equivalent
  });

  it('experiment arms carry only their tasks, with the margin and confidence from the spans', async () => {
    const r = await routingReport(store, { database: DB, since: '1d', service: 'svc' });
    const e = r.taskTypes[0]!.experiments[0]!;
    expect(e).toMatchObject({ id: 'gpt-4o->gpt-4o-mini', margin: 0.05, confidence: 0.9 });
    expect([e.incumbent.tasks, e.incumbent.outcomes, e.challenger.tasks, e.challenger.outcomes]).toEqual([2, 2, 1, 1]);
    expect(e.verdict).toMatchObject({ verdict: 'running', successRate: { incumbent: 0.25, challenger: 1 } });
    expect(e.verdict.why).toMatch(/needs 100 outcomes per arm/);
  });

  it('filters by service and task type', async () => {
    const all = await routingReport(store, { database: DB, since: '1d' });
    expect(all.taskTypes[0]!.models.find((m) => m.model === 'gpt-4o-mini')!.tasks).toBe(2);
    expect((await routingReport(store, { database: DB, since: '1d', taskType: 'nope' })).taskTypes).toEqual([]);
  });
});
