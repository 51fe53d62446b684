// Proves `spendtrace demo` end to end (real openai SDK → fake OpenAI → SpendtraceInstrumentation → OTLP/protobuf → serve → chDB → report): every agent, tool and model shows up, and the exact total equals the sum of the task costs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parsePico } from '@spendtrace/semconv';
import { run } from '../src/cli/index.ts';

let dir: string;

async function cli(argv: string[]) {
  let out = '';
  let err = '';
  const code = await run(argv, { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) }, env: {}, cwd: dir });
  return { code, out, err };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'spendtrace-demo-test-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('spendtrace demo', () => {
  let table: { code: number; out: string; err: string };

  beforeAll(async () => {
    table = await cli(['demo', '--data', join(dir, 'data')]);
  }, 120_000);

  it('prints the whole report for people', () => {
    expect(table.err).not.toMatch(/internal error/);
    expect(table.code).toBe(0);
    const out = table.out;
    for (const s of ['Summary (last 24h', 'Cost per successful task', 'Top 3 most expensive tasks', 'By task', 'By tool', 'By model', 'By agent', 'By hour']) expect(out).toContain(s);
    for (const agent of ['research-agent', 'triage-agent', 'nightly-summarizer', 'support-agent']) expect(out).toContain(agent);
    for (const model of ['gpt-4.1', 'gpt-4o-mini', 'gpt-4.1-mini', 'gpt-4o']) expect(out).toContain(model);
    expect(out).toMatch(/acme-sentiment-7b .*unpriced/);
    expect(out).toMatch(/! Unpriced calls\s+1 LLM call/);
    expect(out).toContain('web_search');
    expect(out).toMatch(/Total cost\s+\$0\.\d{6}/);
    expect(table.err).toContain('BudgetExceededError');
  });

  it('stores exact costs: total = sum of tasks = sum of hours; tool fees exact; failures counted', async () => {
    const r = await cli(['report', '--json', '--since', '24h', '--data', join(dir, 'data')]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    const s = j.summary;
    const total = parsePico(s.totalCost);
    expect(total).toBeGreaterThan(0n);
    const sum = (rows: Array<{ cost: string }>) => rows.reduce((a, t) => a + parsePico(t.cost), 0n);
    expect(sum(j.byTask)).toBe(total);
    expect(sum(j.byHour)).toBe(total);
    expect(sum(j.byAgent)).toBe(total);
    expect(parsePico(s.llmCost) + parsePico(s.toolCost)).toBe(total);

    expect(j.byAgent.map((a: any) => a.agent).sort()).toEqual(['nightly-summarizer', 'research-agent', 'support-agent', 'triage-agent']);
    const search = j.byTool.find((t: any) => t.tool === 'web_search');
    expect(search.calls).toBeGreaterThanOrEqual(6);
    expect(parsePico(search.toolCost)).toBe(BigInt(search.calls) * 5_000_000_000n); // $0.005 each, exactly
    expect(parsePico(s.toolCost)).toBe(parsePico(search.toolCost));

    const models = j.byModel.map((m: any) => m.model);
    for (const m of [/^gpt-4\.1-\d/, /^gpt-4o-mini/, /^gpt-4\.1-mini/, /^gpt-4o-\d/]) expect(models.some((x: string) => m.test(x))).toBe(true);
    expect(j.byModel.find((m: any) => m.model === 'acme-sentiment-7b')).toMatchObject({ unpricedCalls: 1, cost: '0.000000000000' });
    expect(s.unpricedCalls).toBe(1);

    // 3 research + 12 triage + 1 summary + 5 support replies + 1 budgeted = 22; 2 replies and the budgeted task fail.
    expect(s).toMatchObject({ tasks: 22, successfulTasks: 19, failedTasks: 3 });
    const perSuccess = parsePico(s.costPerSuccessfulTask);
    expect(perSuccess * 19n - total).toBeLessThan(19n); // total / 19, rounded to the pico
    expect(s.topTasks).toHaveLength(3);
    expect(s.retries).toBeGreaterThan(0);
    expect(parsePico(s.retryCost)).toBeGreaterThan(0n);
    const summary = j.byTask.find((t: any) => t.taskName === 'nightly-summary');
    expect(summary).toMatchObject({ llmCalls: 10, outcome: 'success' });
    expect(summary.tokens.cacheRead).toBeGreaterThan(0);
    expect(j.byTask.find((t: any) => t.taskName === 'deep-research')).toMatchObject({ outcome: 'failure', llmCalls: 2 });
  });
});
