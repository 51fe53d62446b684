// Proves the task API attributes LLM and tool spans to tasks (in process and via baggage), sums their running cost exactly, and enforces budgets before any request is made.
import { describe, expect, test } from 'vitest';
import { context, propagation, SpanKind, trace } from '@opentelemetry/api';
import * as A from '@spendtrace/semconv';
import { fakePromptTokens } from '@spendtrace/fake-providers';
import { BudgetExceededError, currentTask, recordToolCost, setTaskOutcome, withTask, withTool, type BudgetExceededInfo } from '../src/index.ts';
import { usd, useHarness } from './setup.ts';
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';

const h = useHarness();

const ask = (content: string, model = 'gpt-4o-mini') => h.client.chat.completions.create({ model, messages: [{ role: 'user', content }] });
const pico = (tokens: number, perMillion: number) => A.usdToPico(usd(tokens, perMillion));
const spanNamed = (name: string) => h.spans().find((s) => s.name === name)!;

describe('attribution', () => {
  test('withTask + withTool + recordToolCost + setTaskOutcome: spans, attributes, baggage and running cost', async () => {
    h.fake.enqueue({ promptTokens: 1000, completionTokens: 200 }, { promptTokens: 3000, completionTokens: 100 });
    const carrier: Record<string, string> = {};
    const result = await withTask({ name: 'research', agent: 'research-agent', userId: 'u-42' }, async (task) => {
      expect(currentTask()).toBe(task);
      await ask('plan the research');
      await withTool('web_search', async () => {
        recordToolCost(0.005);
        recordToolCost(0.002);
        await ask('summarise the search results');
      });
      propagation.inject(context.active(), carrier);
      setTaskOutcome('success', { reason: 'answered', quality: 0.9 });
      return { id: task.id, cost: task.costUsd, remaining: task.remainingUsd };
    });

    const root = spanNamed('invoke_agent research-agent');
    const tool = spanNamed('execute_tool web_search');
    const [plan, summary] = h.chatSpans();
    const taskId = root.spanContext().traceId;
    expect(result.id).toBe(taskId);
    expect(root.parentSpanContext).toBeUndefined();
    expect(root.kind).toBe(SpanKind.INTERNAL);
    expect(root.attributes).toEqual({
      [A.ATTR_SPENDTRACE_TASK_ROOT]: true,
      [A.ATTR_SPENDTRACE_TASK_ID]: taskId,
      [A.ATTR_SPENDTRACE_TASK_NAME]: 'research',
      [A.ATTR_GEN_AI_OPERATION_NAME]: 'invoke_agent',
      [A.ATTR_GEN_AI_AGENT_NAME]: 'research-agent',
      [A.ATTR_USER_ID]: 'u-42',
      [A.ATTR_SPENDTRACE_TASK_OUTCOME]: 'success',
      [A.ATTR_SPENDTRACE_TASK_OUTCOME_REASON]: 'answered',
      [A.ATTR_SPENDTRACE_TASK_QUALITY]: 0.9,
    });
    // The task is the trace (trace id = task id): spans inside it do not repeat the id.
    const attribution = {
      [A.ATTR_SPENDTRACE_TASK_NAME]: 'research',
      [A.ATTR_GEN_AI_AGENT_NAME]: 'research-agent',
      [A.ATTR_USER_ID]: 'u-42',
    };
    expect(tool.attributes).toEqual({
      [A.ATTR_GEN_AI_OPERATION_NAME]: 'execute_tool',
      [A.ATTR_GEN_AI_TOOL_NAME]: 'web_search',
      ...attribution,
      [A.ATTR_SPENDTRACE_TOOL_COST_AMOUNT]: 0.007,
      [A.ATTR_GEN_AI_USAGE_COST_AMOUNT]: 0.007,
      [A.ATTR_GEN_AI_USAGE_COST]: 0.007,
      [A.ATTR_GEN_AI_USAGE_COST_CURRENCY]: 'USD',
    });
    expect(plan!.attributes).toMatchObject(attribution);
    expect(plan!.attributes).not.toHaveProperty(A.ATTR_SPENDTRACE_TOOL_NAME);
    expect(summary!.attributes).toMatchObject({ ...attribution, [A.ATTR_SPENDTRACE_TOOL_NAME]: 'web_search' });
    // Nesting: task root > chat, task root > tool > chat.
    expect(plan!.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
    expect(tool.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
    expect(summary!.parentSpanContext?.spanId).toBe(tool.spanContext().spanId);
    // The task root carries no money of its own.
    expect(root.attributes).not.toHaveProperty(A.ATTR_GEN_AI_USAGE_COST_AMOUNT);

    const expected = pico(1000, 0.15) + pico(200, 0.6) + pico(3000, 0.15) + pico(100, 0.6) + A.usdToPico(0.007);
    expect(result.cost).toBe(A.picoToUsd(expected));
    expect(result.remaining).toBe(Infinity);

    const baggage = decodeURIComponent(carrier.baggage ?? '');
    expect(baggage).toContain(`${A.BAGGAGE_TASK_ID}=${taskId}`);
    expect(baggage).toContain(`${A.BAGGAGE_TASK_NAME}=research`);
    expect(baggage).toContain(`${A.BAGGAGE_AGENT_NAME}=research-agent`);
    expect(baggage).toContain(`${A.BAGGAGE_USER_ID}=u-42`);
  });

  test('another service: LLM calls under extracted baggage carry the task attribution', async () => {
    const carrier: Record<string, string> = {};
    await withTask({ name: 'triage', userId: 'u-1' }, async () => propagation.inject(context.active(), carrier));
    h.exporter.reset();
    const remote = propagation.extract(context.active(), carrier);
    await context.with(remote, () => ask('classify this ticket'));
    const a = h.chatSpans()[0]!.attributes;
    expect(a[A.ATTR_SPENDTRACE_TASK_NAME]).toBe('triage');
    expect(a[A.ATTR_USER_ID]).toBe('u-1');
    expect(a[A.ATTR_SPENDTRACE_TASK_ID]).toMatch(/^[0-9a-f]{32}$/);
  });

  test('a task without an agent is `task {name}`; an explicit id overrides the trace id; a throw marks failure', async () => {
    await expect(
      withTask({ name: 'nightly', id: 'batch-2024-11-21' }, async () => {
        await ask('summarise');
        throw new RangeError('boom');
      }),
    ).rejects.toThrow('boom');
    const root = spanNamed('task nightly');
    expect(root.attributes[A.ATTR_SPENDTRACE_TASK_ID]).toBe('batch-2024-11-21');
    expect(root.attributes[A.ATTR_SPENDTRACE_TASK_OUTCOME]).toBe('failure');
    expect(root.attributes[A.ATTR_ERROR_TYPE]).toBe('RangeError');
    expect(h.chatSpans()[0]!.attributes[A.ATTR_SPENDTRACE_TASK_ID]).toBe('batch-2024-11-21');
  });

  test('recordToolCost outside withTool records a tool span of its own; bad input is ignored, never thrown', async () => {
    const cost = await withTask({ name: 'misc' }, async (task) => {
      recordToolCost(0.01, { tool: 'sms' });
      recordToolCost(Number.NaN);
      recordToolCost(-1);
      return task.costUsd;
    });
    expect(cost).toBe(0.01);
    expect(spanNamed('execute_tool sms').attributes[A.ATTR_SPENDTRACE_TOOL_COST_AMOUNT]).toBe(0.01);
    expect(() => setTaskOutcome('success')).not.toThrow();
    expect(currentTask()).toBeUndefined();
  });

  test('a 10-step agent whose context grows: per-step input tokens and the task total are exact', async () => {
    const history: Array<{ role: 'user' | 'assistant'; content: string }> = [];
    const expectedInput: number[] = [];
    let expectedTotal = 0n;
    const total = await withTask({ name: 'summarize', agent: 'nightly-summarizer' }, async (task) => {
      for (let step = 1; step <= 10; step++) {
        history.push({ role: 'user', content: `Step ${step}: add these notes to the summary. ${'lorem ipsum '.repeat(step * 10)}` });
        const tokens = fakePromptTokens(history);
        expectedInput.push(tokens);
        const r = await h.client.chat.completions.create({ model: 'gpt-4o-mini', messages: history });
        history.push({ role: 'assistant', content: r.choices[0]!.message.content ?? '' });
        expectedTotal += pico(tokens, 0.15) + pico(r.usage!.completion_tokens, 0.6);
      }
      return task.costUsd;
    });
    const steps = h.chatSpans();
    expect(steps).toHaveLength(10);
    expect(steps.map((s) => s.attributes[A.ATTR_GEN_AI_USAGE_INPUT_TOKENS])).toEqual(expectedInput);
    expect(expectedInput.every((n, i) => i === 0 || n > expectedInput[i - 1]!)).toBe(true);
    const sum = steps.reduce((acc, s) => acc + A.usdToPico(s.attributes[A.ATTR_GEN_AI_USAGE_COST_AMOUNT] as number), 0n);
    expect(sum).toBe(expectedTotal);
    expect(total).toBe(A.picoToUsd(expectedTotal));
    const taskId = spanNamed('invoke_agent nightly-summarizer').spanContext().traceId;
    expect(steps.every((s) => s.attributes[A.ATTR_SPENDTRACE_TASK_ID] === undefined && s.spanContext().traceId === taskId)).toBe(true);
  });
});

describe('budgets', () => {
  // 10,000 input + 1,000 output tokens of gpt-4o-mini = $0.0021.
  const expensive = { promptTokens: 10_000, completionTokens: 1_000 };

  test('over budget: the next call fails fast with BudgetExceededError and no HTTP request', async () => {
    h.fake.enqueue(expensive);
    const out = await withTask({ name: 'capped', budgetUsd: 0.002 }, async (task) => {
      await ask('first');
      expect(task.costUsd).toBe(0.0021);
      expect(task.remainingUsd).toBeCloseTo(-0.0001, 12);
      const before = h.fake.requests.length;
      const err = await ask('second').catch((e: unknown) => e);
      const err2 = await h.client.chat.completions
        .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] })
        .withResponse()
        .catch((e: unknown) => e);
      return { err, err2, requests: h.fake.requests.length - before };
    });
    expect(out.err).toBeInstanceOf(BudgetExceededError);
    expect(out.err2).toBeInstanceOf(BudgetExceededError);
    expect((out.err as BudgetExceededError).code).toBe('SPENDTRACE_BUDGET_EXCEEDED');
    expect((out.err as BudgetExceededError).costUsd).toBe(0.0021);
    expect(out.requests).toBe(0);
    const root = spanNamed('task capped');
    expect(root.attributes[A.ATTR_SPENDTRACE_BUDGET_EXCEEDED]).toBe(true);
    expect(root.attributes[A.ATTR_SPENDTRACE_TASK_BUDGET]).toBe(0.002);
    expect(h.chatSpans()).toHaveLength(1);
  });

  test("onBudgetExceeded: 'warn' lets calls through", async () => {
    h.fake.enqueue(expensive);
    await withTask({ name: 'warned', budgetUsd: 0.001, onBudgetExceeded: 'warn' }, async () => {
      await ask('first');
      await ask('second');
    });
    expect(h.chatSpans()).toHaveLength(2);
    expect(spanNamed('task warned').attributes[A.ATTR_SPENDTRACE_BUDGET_EXCEEDED]).toBe(true);
  });

  test('onBudgetExceeded callback gets the details and decides', async () => {
    h.fake.enqueue(expensive);
    const seen: BudgetExceededInfo[] = [];
    await withTask({ name: 'custom', budgetUsd: 0.001, onBudgetExceeded: (info) => void seen.push(info) }, async () => {
      await ask('first');
      await ask('second', 'gpt-4.1-nano');
    });
    expect(seen).toEqual([{ taskId: expect.any(String), taskName: 'custom', budgetUsd: 0.001, costUsd: 0.0021, model: 'gpt-4.1-nano', reason: 'spent' }]);
    expect(h.chatSpans()).toHaveLength(2);
  });

  test('tool fees count toward the budget; a nested task spends from its parent too', async () => {
    const err = await withTask({ name: 'outer', budgetUsd: 0.01 }, async () => {
      await withTask({ name: 'inner' }, async (inner) => {
        expect(currentTask()).toBe(inner);
        recordToolCost(0.02, { tool: 'crawler' });
      });
      return ask('after the crawl').catch((e: unknown) => e);
    });
    expect(err).toBeInstanceOf(BudgetExceededError);
    const outer = spanNamed('task outer');
    const inner = spanNamed('task inner');
    expect(inner.spanContext().traceId).toBe(outer.spanContext().traceId);
    expect(inner.attributes[A.ATTR_SPENDTRACE_TASK_ID]).not.toBe(outer.attributes[A.ATTR_SPENDTRACE_TASK_ID]);
  });
});

describe('budgets before the money is spent (openai)', () => {
  const messages = [{ role: 'user' as const, content: 'Write the full report.' }];

  test('a call whose worst case (prompt counted locally + max_tokens x n) would cross the budget is refused, with the estimate', async () => {
    const out = await withTask({ name: 'capped', budgetUsd: 0.01 }, async () =>
      h.client.chat.completions.create({ model: 'gpt-4o-mini', messages, max_completion_tokens: 10_000, n: 2 }).catch((e: unknown) => e),
    );
    expect(h.fake.requests).toHaveLength(0);
    const err = out as BudgetExceededError;
    expect(err).toBeInstanceOf(BudgetExceededError);
    expect(err.reason).toBe('worst-case');
    // OpenAI's recipe: the text's tokens + 3 per message + 3 for the reply; 20,000 output tokens.
    const input = countTokens('Write the full report.') + 3 + 3;
    expect(A.usdToPico(err.estimateUsd!)).toBe(pico(input, 0.15) + pico(20_000, 0.6));
    const root = spanNamed('task capped');
    expect(root.attributes).toMatchObject({ [A.ATTR_SPENDTRACE_BUDGET_REFUSALS]: 1, [A.ATTR_SPENDTRACE_TASK_COST]: 0 });
    expect(h.chatSpans()).toHaveLength(0);
  });

  test("the same call with onBudgetExceeded: 'warn' is sent, and the task span carries its running cost", async () => {
    h.fake.enqueue({ promptTokens: 10, completionTokens: 100 });
    await withTask({ name: 'warned', budgetUsd: 0.01, onBudgetExceeded: 'warn' }, () =>
      h.client.chat.completions.create({ model: 'gpt-4o-mini', messages, max_completion_tokens: 10_000, n: 2 }),
    );
    expect(h.fake.requests).toHaveLength(1);
    expect(spanNamed('task warned').attributes).toMatchObject({
      [A.ATTR_SPENDTRACE_TASK_COST]: A.picoToUsd(pico(10, 0.15) + pico(100, 0.6)),
      [A.ATTR_SPENDTRACE_BUDGET_REFUSALS]: 0,
      [A.ATTR_SPENDTRACE_BUDGET_CHECK]: 'worst-case',
    });
  });

  test('the Responses API: max_output_tokens is the cap; a call that fits is sent', async () => {
    const refused = await withTask({ name: 'r', budgetUsd: 0.001 }, () =>
      h.client.responses.create({ model: 'gpt-4o-mini', input: 'Write the full report.', max_output_tokens: 5000 }).catch((e: unknown) => e),
    );
    expect((refused as BudgetExceededError).reason).toBe('worst-case');
    expect(h.fake.requests).toHaveLength(0);
  });
});

describe('without an SDK', () => {
  test('the task API works on the no-op tracer: ids, running cost, budgets', async () => {
    const noop = trace.getTracerProvider();
    trace.disable();
    try {
      const out = await withTask({ name: 'bare', budgetUsd: 0.001 }, async (task) => {
        recordToolCost(0.002, { tool: 'api' });
        setTaskOutcome('failure');
        return { id: task.id, cost: task.costUsd, err: await ask('x').catch((e: unknown) => e) };
      });
      expect(out.id).toMatch(/^[0-9a-f]{32}$/);
      expect(out.cost).toBe(0.002);
      expect(out.err).toBeInstanceOf(BudgetExceededError);
    } finally {
      trace.setGlobalTracerProvider(noop);
    }
  });
});
