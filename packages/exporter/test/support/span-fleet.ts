/** Test fleets for reports and insights: spans written straight into a chDB `spans` table (the views roll them up), priced from the catalogue. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Session } from 'chdb';
import { formatPico, Pricer } from '@spendtrace/semconv';
import type { QueryableStore } from '../../src/reports/index.ts';

const SCHEMA_DIR = fileURLToPath(new URL('../../src/schema/', import.meta.url));
const SCHEMA_FILES = ['database.sql', 'spans-table.sql', 'task-costs-table.sql', 'hourly-costs-table.sql', 'task-costs-mv.sql', 'hourly-costs-mv.sql'];
const pricer = new Pricer();

export function openFleetStore(dir: string, db: string): { session: Session; store: QueryableStore } {
  const session = new Session(dir);
  for (const f of SCHEMA_FILES) {
    session.query(
      readFileSync(join(SCHEMA_DIR, f), 'utf8')
        .replaceAll('{{database}}', db)
        .replaceAll('{{engine_args}}', '()')
        .replace(/\{\{\w+\}\}/g, ''),
    );
  }
  const store: QueryableStore = {
    async query<T>(sql: string, params: Record<string, unknown> = {}): Promise<T[]> {
      const text = (await session.queryBindAsync(sql, params, { format: 'JSONEachRow' })).text();
      return text
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as T);
    },
  };
  return { session, store };
}

const chTime = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
let seq = 0;

export interface Call {
  model: string;
  provider?: string;
  input: number;
  output: number;
  cacheRead?: number;
  hash?: string;
  prompt?: string;
  retry?: number;
  repeat?: number;
  error?: boolean;
  at?: number;
  unpriced?: boolean;
}
export interface TaskSpec {
  id: string;
  name: string;
  agent: string;
  service: string;
  user?: string;
  outcome?: 'success' | 'failure';
  tenant?: string;
  charged?: number;
  at: number;
  calls: Call[];
  tools?: Array<{ name: string; cost: string; error?: boolean }>;
}

/** The exact catalogue cost of a call (pico-USD), as the exporter prices it. */
export function callCost(c: Call): bigint {
  if (c.unpriced) return 0n;
  const q = pricer.price(c.provider ?? 'openai', c.model, { inputTokens: c.input, outputTokens: c.output, cacheReadTokens: c.cacheRead ?? 0 });
  if (!q) throw new Error(`no price for ${c.model}`);
  return q.cost.total;
}

export function taskRows(t: TaskSpec): Record<string, unknown>[] {
  const base = { trace_id: t.id, task_id: t.id, service_name: t.service, task_name: t.name, agent_name: t.agent, user_id: t.user ?? '' };
  const rows: Record<string, unknown>[] = [];
  let at = t.at;
  for (const c of t.calls) {
    at = c.at ?? at + 1000;
    const q = c.unpriced
      ? undefined
      : pricer.price(c.provider ?? 'openai', c.model, { inputTokens: c.input, outputTokens: c.output, cacheReadTokens: c.cacheRead ?? 0 });
    rows.push({
      ...base,
      span_id: `c${++seq}`,
      start_time: chTime(at),
      end_time: chTime(at + 500),
      duration_ns: 500_000_000,
      kind: 'inference',
      operation: 'chat',
      provider: c.provider ?? 'openai',
      request_model: c.model,
      response_model: c.model,
      input_tokens: c.input,
      output_tokens: c.output,
      cache_read_tokens: c.cacheRead ?? 0,
      cost: formatPico(q?.cost.total ?? 0n),
      cost_input: formatPico(q?.cost.input ?? 0n),
      cost_output: formatPico(q?.cost.output ?? 0n),
      cost_cache_read: formatPico(q?.cost.cacheRead ?? 0n),
      unpriced: c.unpriced ? 1 : 0,
      status_code: c.error ? 'error' : 'unset',
      retry_attempt: c.retry ?? 0,
      request_repeat: c.repeat ?? 0,
      request_hash: c.hash ?? `h${seq}`,
      attributes: c.prompt ? { 'gen_ai.prompt.name': c.prompt, 'gen_ai.prompt.version': '1' } : {},
    });
  }
  for (const tool of t.tools ?? []) {
    at += 100;
    rows.push({
      ...base,
      span_id: `t${++seq}`,
      start_time: chTime(at),
      end_time: chTime(at + 100),
      duration_ns: 100_000_000,
      kind: 'tool',
      operation: 'execute_tool',
      tool_name: tool.name,
      cost: tool.cost,
      status_code: tool.error ? 'error' : 'unset',
      attributes: {},
    });
  }
  const attributes: Record<string, string> = {};
  if (t.tenant) attributes['spendtrace.tenant.id'] = t.tenant;
  if (t.charged !== undefined) attributes['spendtrace.task.charged_usd'] = String(t.charged);
  rows.push({
    ...base,
    span_id: `r${++seq}`,
    start_time: chTime(t.at),
    end_time: chTime(at + 600),
    duration_ns: (at + 600 - t.at) * 1_000_000,
    kind: 'task',
    operation: 'invoke_agent',
    outcome: t.outcome ?? 'success',
    attributes,
  });
  return rows;
}

export async function insertTasks(session: Session, db: string, tasks: TaskSpec[]): Promise<void> {
  const rows = tasks.flatMap(taskRows);
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const blank = (k: string): unknown => (k === 'attributes' ? {} : /tokens|_ns|unpriced|retry_attempt|request_repeat/.test(k) ? 0 : /^cost/.test(k) ? '0' : '');
  await session.insert({ table: `${db}.spans`, values: rows.map((r) => Object.fromEntries(keys.map((k) => [k, r[k] ?? blank(k)]))) });
}
