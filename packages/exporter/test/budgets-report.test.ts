// Proves the budget report reads each budgeted task's budget, check mode and refusals from its root span and its cost exactly from task_costs.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Session } from 'chdb';
import { budgetsByTask, type QueryableStore } from '../src/reports/index.ts';

const DB = 'bud';
const SCHEMA_DIR = fileURLToPath(new URL('../src/schema/', import.meta.url));
const SCHEMA_FILES = ['database.sql', 'spans-table.sql', 'task-costs-table.sql', 'hourly-costs-table.sql', 'task-costs-mv.sql', 'hourly-costs-mv.sql'];
let dir: string;
let session: Session;
let store: QueryableStore;
const chTime = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
let seq = 0;

function span(
  task: string,
  kind: 'task' | 'inference',
  extra: { cost?: string; attributes?: Record<string, string>; taskName?: string } = {},
): Record<string, unknown> {
  const at = Date.now() - 60_000;
  return {
    trace_id: task,
    span_id: `s${++seq}`,
    start_time: chTime(at),
    end_time: chTime(at + 100),
    duration_ns: 100_000_000,
    service_name: 'svc',
    kind,
    task_id: task,
    task_name: extra.taskName ?? 'research',
    agent_name: '',
    tool_name: '',
    operation: kind === 'inference' ? 'chat' : 'invoke_agent',
    provider: kind === 'inference' ? 'anthropic' : '',
    request_model: '',
    response_model: '',
    cost: extra.cost ?? '0',
    status_code: 'unset',
    attributes: extra.attributes ?? {},
  };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'spendtrace-budgets-'));
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
      // Refused twice before sending, spent 0.004 of 0.01.
      span('T1', 'task', {
        attributes: {
          'spendtrace.task.budget_usd': '0.01',
          'spendtrace.budget.refusals': '2',
          'spendtrace.budget.check': 'worst-case',
          'spendtrace.task.cost_usd': '0.004',
        },
      }),
      span('T1', 'inference', { cost: '0.001500000001' }),
      span('T1', 'inference', { cost: '0.0025' }),
      // A soft budget passed by the call it let through.
      span('T2', 'task', {
        taskName: 'triage',
        attributes: {
          'spendtrace.task.budget_usd': '0.002',
          'spendtrace.budget.refusals': '0',
          'spendtrace.budget.check': 'spent',
          'spendtrace.budget.exceeded': 'true',
        },
      }),
      span('T2', 'inference', { cost: '0.0031' }),
      // No budget: not in the report.
      span('T3', 'task'),
      span('T3', 'inference', { cost: '0.5' }),
    ],
  });
});

afterAll(() => {
  session?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

it('lists budgeted tasks, refusals first, with the exact cost and what is left', async () => {
  const rows = await budgetsByTask(store, { database: DB, since: '1h' });
  expect(rows).toEqual([
    {
      taskId: 'T1',
      taskName: 'research',
      agent: '',
      service: 'svc',
      budget: '0.010000000000',
      cost: '0.004000000001',
      remaining: '0.005999999999',
      refusals: 2,
      exceeded: false,
      check: 'worst-case',
    },
    {
      taskId: 'T2',
      taskName: 'triage',
      agent: '',
      service: 'svc',
      budget: '0.002000000000',
      cost: '0.003100000000',
      remaining: '-0.001100000000',
      refusals: 0,
      exceeded: true,
      check: 'spent',
    },
  ]);
  expect(await budgetsByTask(store, { database: DB, since: '1h', service: 'other' })).toEqual([]);
});
