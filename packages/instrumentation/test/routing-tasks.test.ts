// Proves the router through the real openai SDK inside tasks: the decision lands on the task span, the task's outcome and its calls' tokens teach the router, a task keeps one model, a task tracking over budget at its midpoint is downgraded instead of failing, and an unreachable service leaves the router working.
import { createServer } from 'node:net';
import { describe, expect, test } from 'vitest';
import { context, trace } from '@opentelemetry/api';
import * as A from '@spendtrace/semconv';
import { BudgetExceededError, ModelRouter, setTaskOutcome, withTask } from '../src/index.ts';
import { useHarness } from './setup.ts';

const h = useHarness();

const ask = (model: string) => h.client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Classify: my invoice is wrong' }] });
const taskSpan = (name: string) => h.spans().find((s) => s.attributes[A.ATTR_SPENDTRACE_TASK_ROOT] && s.attributes[A.ATTR_SPENDTRACE_TASK_NAME] === name)!;

describe('ModelRouter inside withTask', () => {
  test('the decision goes on the task span; the outcome and the call tokens update the router', async () => {
    const router = new ModelRouter({
      taskType: 'ticket_classification',
      candidates: ['gpt-4o', 'gpt-4o-mini', 'claude-haiku-4-5'],
      maxCostUsd: 0.002,
      expectedTokens: { input: 300, output: 40 },
      seed: 7,
    });
    h.fake.enqueue({ promptTokens: 310, completionTokens: 42 });
    const d = await withTask({ name: 'ticket_classification', agent: 'triage' }, async () => {
      const first = router.choose();
      expect(router.choose()).toBe(first); // one task, one model
      await ask(first.model);
      setTaskOutcome('success');
      return first;
    });
    const span = taskSpan('ticket_classification');
    expect(span.attributes).toMatchObject({
      [A.ATTR_SPENDTRACE_ROUTE_TASK_TYPE]: 'ticket_classification',
      [A.ATTR_SPENDTRACE_ROUTE_MODEL]: d.model,
      [A.ATTR_SPENDTRACE_ROUTE_REASON]: 'lowest_cost_per_success',
      [A.ATTR_SPENDTRACE_ROUTE_CANDIDATES]: ['gpt-4o-mini', 'claude-haiku-4-5', 'gpt-4o'],
      [A.ATTR_SPENDTRACE_ROUTE_MAX_COST]: 0.002,
      [A.ATTR_SPENDTRACE_ROUTE_EXPECTED_SUCCESS]: 0.5,
      [A.ATTR_SPENDTRACE_TASK_OUTCOME]: 'success',
    });
    expect(span.attributes[A.ATTR_SPENDTRACE_ROUTE_EXPECTED_COST]).toBe(d.expectedCostUsd);
    expect(h.chatSpans()[0]!.attributes[A.ATTR_GEN_AI_REQUEST_MODEL]).toBe(d.model);

    const learned = router.stats().find((s) => s.model === d.model)!;
    expect(learned).toMatchObject({ outcomes: 1, successRate: 2 / 3, decisions: 1 });
    // Its expected cost per call is now the observed 310 / 42 tokens at the catalogue price.
    const observed = A.picoToUsd(new A.Pricer().price(undefined, d.model, { inputTokens: 310, outputTokens: 42 })!.cost.total);
    expect(learned.expectedCostUsd).toBe(observed);
  });

  test('a task that throws is a failure for the model it ran on; a task with no outcome teaches nothing', async () => {
    const router = new ModelRouter({ taskType: 'flaky', candidates: ['gpt-4o-mini'], incumbent: 'gpt-4o-mini' });
    h.fake.enqueue({ promptTokens: 100, completionTokens: 10 }, { promptTokens: 100, completionTokens: 10 });
    await expect(
      withTask({ name: 'flaky' }, async () => {
        await ask(router.choose().model);
        throw new Error('the label did not parse');
      }),
    ).rejects.toThrow('did not parse');
    await withTask({ name: 'flaky' }, async () => {
      await ask(router.choose().model);
    });
    expect(router.stats()[0]).toMatchObject({ outcomes: 1, successRate: 1 / 3, decisions: 2 });
  });

  test('an explicit recordOutcome inside the task is counted once', async () => {
    const router = new ModelRouter({ taskType: 'explicit', candidates: ['gpt-4o-mini'], incumbent: 'gpt-4o-mini' });
    h.fake.enqueue({ promptTokens: 100, completionTokens: 10 });
    await withTask({ name: 'explicit' }, async () => {
      const d = router.choose();
      await ask(d.model);
      router.recordOutcome(d, 'success', { quality: 0.5 });
      setTaskOutcome('failure');
    });
    // Quality 0.5: half a success. The later task outcome adds nothing for this router.
    expect(router.stats()[0]).toMatchObject({ outcomes: 1, successRate: 1.5 / 3 });
  });

  test('outside a task the decision is an event on the active span', async () => {
    const router = new ModelRouter({ taskType: 'loose', candidates: ['gpt-4o-mini'], seed: 1 });
    const span = trace.getTracer('test').startSpan('request');
    const d = context.with(trace.setSpan(context.active(), span), () => router.choose());
    span.end();
    const ended = h.spans().find((s) => s.name === 'request')!;
    expect(ended.events.map((e) => [e.name, e.attributes])).toEqual([[A.EVENT_SPENDTRACE_ROUTE_DECISION, d.attributes]]);
  });
});

describe('budgetDowngrade', () => {
  // gpt-4o at 2,000 in / 300 out is $0.008 a call; four calls would be $0.032 against a $0.02 budget.
  const router = () =>
    new ModelRouter({ taskType: 'deep_research', candidates: ['gpt-4o', 'gpt-4o-mini'], incumbent: 'gpt-4o', expectedTokens: { input: 2000, output: 300 } });
  const fourCalls = async (r: ModelRouter) => {
    const models: string[] = [];
    for (let i = 0; i < 4; i++) {
      const { model } = r.choose();
      models.push(model);
      h.fake.enqueue({ promptTokens: 2000, completionTokens: 300 });
      await ask(model);
    }
    setTaskOutcome('success');
    return models;
  };

  test('a task tracking over its budget at its midpoint gets the next cheaper model for the rest of its calls', async () => {
    const r = router();
    const models = await withTask({ name: 'deep_research', budgetUsd: 0.02, budgetDowngrade: { expectedCalls: 4 } }, () => fourCalls(r));
    // After 2 calls ($0.016, projecting $0.032 for 4) the rest go to gpt-4o-mini: $0.0169 in all, within budget.
    expect(models).toEqual(['gpt-4o', 'gpt-4o', 'gpt-4o-mini', 'gpt-4o-mini']);
    const span = taskSpan('deep_research');
    expect(span.attributes).toMatchObject({
      [A.ATTR_SPENDTRACE_ROUTE_MODEL]: 'gpt-4o',
      [A.ATTR_SPENDTRACE_ROUTE_DOWNGRADED_TO]: 'gpt-4o-mini',
      [A.ATTR_SPENDTRACE_TASK_OUTCOME]: 'success',
    });
    expect(span.attributes[A.ATTR_SPENDTRACE_BUDGET_EXCEEDED]).toBeUndefined();
    const event = span.events.find((e) => e.name === A.EVENT_SPENDTRACE_ROUTE_DOWNGRADE)!;
    expect(event.attributes).toMatchObject({
      [A.ATTR_SPENDTRACE_ROUTE_MODEL]: 'gpt-4o-mini',
      [A.ATTR_SPENDTRACE_ROUTE_REASON]: 'budget_downgrade',
      'spendtrace.route.downgraded_from': 'gpt-4o',
      'spendtrace.task.cost_usd': 0.016,
      'spendtrace.route.projected_cost_usd': 0.032,
    });
    // A task that ran on two models judges neither.
    expect(r.stats().map((s) => s.outcomes)).toEqual([0, 0]);
  });

  test('without the option the same task runs into its budget and fails', async () => {
    await expect(withTask({ name: 'deep_research_plain', budgetUsd: 0.02 }, () => fourCalls(router()))).rejects.toBeInstanceOf(BudgetExceededError);
  });

  test('without expectedCalls the midpoint is learned from earlier tasks of the type', async () => {
    const r = router();
    await withTask({ name: 'deep_research_warmup' }, () => fourCalls(r)); // no budget: 4 calls on gpt-4o
    const models = await withTask({ name: 'deep_research_learned', budgetUsd: 0.02, budgetDowngrade: true }, () => fourCalls(r));
    expect(models).toEqual(['gpt-4o', 'gpt-4o', 'gpt-4o-mini', 'gpt-4o-mini']);
  });
});

describe('history from the service', () => {
  test('an unreachable service leaves the router routing and learning on its own observations', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const router = new ModelRouter({
      taskType: 'offline',
      candidates: ['gpt-4o-mini', 'gpt-4o'],
      expectedTokens: { input: 300, output: 40 },
      history: { url: `http://127.0.0.1:${port}` },
      seed: 3,
    });
    await router.ready;
    h.fake.enqueue({ promptTokens: 300, completionTokens: 40 });
    await withTask({ name: 'offline' }, async () => {
      await ask(router.choose().model);
      setTaskOutcome('success');
    });
    expect(router.stats().reduce((n, s) => n + s.outcomes, 0)).toBe(1);
  });
});
