/** The assertions both spine variants (OTLP protobuf and JSON) make against ClickHouse. */
import { expect } from 'vitest';
import { trace } from '@opentelemetry/api';
import type { SpanExporter } from '@opentelemetry/sdk-trace';
import { parsePico } from '@spendtrace/semconv';
import { failedTriageTask, FEE_PICO, growingContextTask, researchTask, startSpine, type Spine } from './spine-scenario.ts';

interface TaskRow {
  task_id: string;
  cost: string;
  llm_cost: string;
  tool_cost: string;
  llm_calls: string;
  tool_calls: string;
  errors: string;
  outcome: string;
  agent_name: string;
  task_name: string;
  input_tokens: string;
  unpriced_calls: string;
}

async function taskRows(s: Spine): Promise<Map<string, TaskRow>> {
  const rows = await s.store.query<TaskRow>(`
    SELECT task_id, toString(sum(cost)) AS cost, toString(sum(llm_cost)) AS llm_cost, toString(sum(tool_cost)) AS tool_cost,
           sum(llm_calls) AS llm_calls, sum(tool_calls) AS tool_calls, sum(errors) AS errors, max(outcome) AS outcome,
           max(agent_name) AS agent_name, max(task_name) AS task_name, sum(input_tokens) AS input_tokens, sum(unpriced_calls) AS unpriced_calls
    FROM spendtrace.task_costs GROUP BY task_id`);
  return new Map(rows.map((r) => [r.task_id, r]));
}

async function hourlyByModel(s: Spine): Promise<Record<string, bigint>> {
  const rows = await s.store.query<{ model: string; kind: string; cost: string }>(`
    SELECT model, kind, toString(sum(cost)) AS cost FROM spendtrace.hourly_costs GROUP BY model, kind ORDER BY model, kind`);
  return Object.fromEntries(rows.map((r) => [`${r.kind}:${r.model}`, parsePico(r.cost)]));
}

export async function runSpine(makeExporter: (url: string) => SpanExporter): Promise<void> {
  const s = await startSpine(makeExporter);
  try {
    const research = await researchTask(s.client);
    const triage = await failedTriageTask(s.client, s.fake);
    const growing = await growingContextTask(s.client);
    const produced = [...s.memory.getFinishedSpans()]; // shutdown clears the in-memory copy
    await s.sdk.shutdown().catch(() => {}); // flushes the BatchSpanProcessor through the OTLP exporter
    await s.server.flush();

    const tasks = await taskRows(s);
    const r = tasks.get(research.taskId)!;
    expect(r, 'research task row').toBeDefined();
    // The rolled-up cost equals the hand-computed figure from published prices, to the pico-dollar.
    expect(parsePico(r.cost)).toBe(research.pico);
    expect(parsePico(r.llm_cost)).toBe(research.llmPico);
    expect(parsePico(r.tool_cost)).toBe(2n * FEE_PICO);
    expect(r).toMatchObject({
      llm_calls: '5',
      tool_calls: '2',
      errors: '0',
      outcome: 'success',
      agent_name: 'research-agent',
      task_name: 'research',
      unpriced_calls: '0',
    });

    const t = tasks.get(triage.taskId)!;
    expect(parsePico(t.cost)).toBe(triage.pico);
    expect(t).toMatchObject({ outcome: 'failure', agent_name: 'triage-agent', llm_calls: '1' });

    const g = tasks.get(growing.taskId)!;
    expect(parsePico(g.cost)).toBe(growing.pico);
    expect(g.input_tokens).toBe(String(growing.prompts.reduce((a, b) => a + b, 0)));
    const steps = await s.store.query<{ input_tokens: string }>(
      `SELECT input_tokens FROM spendtrace.spans WHERE task_id = {task:String} AND kind = 'inference' ORDER BY start_time`,
      { task: growing.taskId },
    );
    expect(steps.map((x) => Number(x.input_tokens))).toEqual(growing.prompts);

    // hourly_costs agrees with task_costs: every dollar lands in exactly one model or tool bucket.
    const hourly = await hourlyByModel(s);
    const hourlyTotal = Object.values(hourly).reduce((a, b) => a + b, 0n);
    expect(hourlyTotal).toBe(research.pico + triage.pico + growing.pico);
    expect(hourly['tool:']).toBe(2n * FEE_PICO);

    // A Collector retrying the same spans (same ids, new request) changes no rollup.
    const before = { tasks: await taskRows(s), hourly, spans: await s.store.query('SELECT count() AS n FROM spendtrace.spans') };
    const replay = makeExporter(`${s.server.url}/v1/traces`);
    const spans = produced;
    expect(spans.length).toBeGreaterThan(20);
    await new Promise<void>((resolve, reject) => replay.export(spans, (res) => (res.code === 0 ? resolve() : reject(res.error))));
    await replay.shutdown();
    await s.server.flush();
    expect(await taskRows(s)).toEqual(before.tasks);
    expect(await hourlyByModel(s)).toEqual(before.hourly);
    expect(await s.store.query('SELECT count() AS n FROM spendtrace.spans')).toEqual(before.spans);
    expect(trace.getActiveSpan()).toBeUndefined();
  } finally {
    await s.close();
  }
}
