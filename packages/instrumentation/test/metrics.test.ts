// Proves the GenAI metrics (token usage, operation duration, with the conventions' buckets) and the spendtrace.cost counter are recorded once per call for every SDK, Anthropic native spans included, with the conventions' attributes.
import * as A from '@spendtrace/semconv';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { OPERATION_DURATION_BUCKETS, TOKEN_USAGE_BUCKETS } from '../src/metrics.ts';
import { recordToolCost, withTask, withTool } from '../src/index.ts';
import { nano, PRICES, providersHarness, usd, type CollectedMetric, type ProvidersHarness } from './fixtures/providers-harness.ts';

let h: ProvidersHarness;
const user = [{ role: 'user' as const, content: 'What is 2+2?' }];

beforeAll(async () => {
  h = await providersHarness();
  vi.spyOn(console, 'warn').mockImplementation(() => {});
});
beforeEach(async () => {
  h.reset();
  await h.metrics(); // cumulative: tests compare against what they add
});
afterAll(() => h.close());

const metric = (all: CollectedMetric[], name: string) => all.find((m) => m.name === name);
const sumOf = (m: CollectedMetric | undefined, match: Record<string, unknown>) =>
  (m?.points ?? []).filter((p) => Object.entries(match).every(([k, v]) => p.attributes[k] === v)).reduce((a, p) => a + p.value, 0);
const countOf = (m: CollectedMetric | undefined, match: Record<string, unknown>) =>
  (m?.points ?? []).filter((p) => Object.entries(match).every(([k, v]) => p.attributes[k] === v)).reduce((a, p) => a + (p.count ?? 0), 0);

describe('metrics', () => {
  it('records token usage, duration and cost once per call for openai, anthropic (native and own span) and gemini', async () => {
    await withTask({ name: 'metrics-task', agent: 'metrics-agent' }, async () => {
      await h.openai().chat.completions.create({ model: 'gpt-4o-mini', messages: user });
      await h.anthropic(true).messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: user });
      await h.anthropic(false).messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: user });
      await h.gemini().models.generateContent({ model: 'gemini-2.5-flash', contents: 'hi' });
    });
    const all = await h.metrics();
    const tokens = metric(all, 'gen_ai.client.token.usage')!;
    const duration = metric(all, 'gen_ai.client.operation.duration')!;
    const cost = metric(all, 'spendtrace.cost')!;
    expect([tokens.unit, duration.unit, cost.unit]).toEqual(['{token}', 's', 'USD']);
    expect(tokens.points[0]!.boundaries).toEqual(TOKEN_USAGE_BUCKETS);
    expect(duration.points[0]!.boundaries).toEqual(OPERATION_DURATION_BUCKETS);

    // One duration per call: the native Anthropic span is measured once, never also as a spendtrace span.
    expect(countOf(duration, {})).toBe(4);
    expect(countOf(duration, { [A.ATTR_GEN_AI_PROVIDER_NAME]: 'anthropic' })).toBe(2);
    expect(countOf(tokens, { [A.ATTR_GEN_AI_TOKEN_TYPE]: 'input' })).toBe(4);
    expect(sumOf(tokens, { [A.ATTR_GEN_AI_TOKEN_TYPE]: 'input', [A.ATTR_GEN_AI_PROVIDER_NAME]: 'anthropic' })).toBe(2000);
    expect(sumOf(tokens, { [A.ATTR_GEN_AI_TOKEN_TYPE]: 'output', [A.ATTR_GEN_AI_PROVIDER_NAME]: 'gcp.gemini' })).toBe(100);

    const openaiPoint = tokens.points.find(
      (p) => p.attributes[A.ATTR_GEN_AI_PROVIDER_NAME] === 'openai' && p.attributes[A.ATTR_GEN_AI_TOKEN_TYPE] === 'input',
    )!;
    expect(openaiPoint.attributes).toEqual({
      [A.ATTR_GEN_AI_OPERATION_NAME]: 'chat',
      [A.ATTR_GEN_AI_PROVIDER_NAME]: 'openai',
      [A.ATTR_GEN_AI_REQUEST_MODEL]: 'gpt-4o-mini',
      [A.ATTR_GEN_AI_RESPONSE_MODEL]: 'gpt-4o-mini-2024-07-18',
      [A.ATTR_SERVER_ADDRESS]: '127.0.0.1',
      [A.ATTR_SERVER_PORT]: h.openaiFake.port,
      [A.ATTR_GEN_AI_TOKEN_TYPE]: 'input',
    });

    const perCall = (m: keyof typeof PRICES) => usd(1000, PRICES[m].input) + usd(100, PRICES[m].output);
    expect(nano(sumOf(cost, {}))).toBe(nano(perCall('gpt-4o-mini') + 2 * perCall('claude-sonnet-4-5') + perCall('gemini-2.5-flash')));
    const geminiCost = cost.points.find((p) => p.attributes[A.ATTR_GEN_AI_PROVIDER_NAME] === 'gcp.gemini')!;
    expect(geminiCost.attributes).toEqual({
      [A.ATTR_GEN_AI_OPERATION_NAME]: 'generate_content',
      [A.ATTR_GEN_AI_PROVIDER_NAME]: 'gcp.gemini',
      [A.ATTR_GEN_AI_REQUEST_MODEL]: 'gemini-2.5-flash',
      [A.ATTR_GEN_AI_RESPONSE_MODEL]: 'gemini-2.5-flash',
      [A.ATTR_GEN_AI_AGENT_NAME]: 'metrics-agent',
      [A.ATTR_SPENDTRACE_TASK_NAME]: 'metrics-task',
      [A.ATTR_GEN_AI_USAGE_COST_SOURCE]: 'local',
    });
  });

  it('records a failed call as a duration with error.type, and no tokens or cost', async () => {
    h.anthropicFake.enqueue({ error: { status: 400, type: 'invalid_request_error' } });
    h.geminiFake.enqueue({ error: { status: 400, rpcStatus: 'INVALID_ARGUMENT' } });
    await expect(h.anthropic(false).messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: user })).rejects.toThrow();
    await expect(h.gemini().models.generateContent({ model: 'gemini-2.5-flash', contents: 'hi' })).rejects.toThrow();
    const all = await h.metrics();
    expect(countOf(metric(all, 'gen_ai.client.operation.duration'), { [A.ATTR_ERROR_TYPE]: 'invalid_request_error' })).toBe(1);
    expect(countOf(metric(all, 'gen_ai.client.operation.duration'), { [A.ATTR_ERROR_TYPE]: 'INVALID_ARGUMENT' })).toBe(1);
    expect(countOf(metric(all, 'gen_ai.client.token.usage'), { [A.ATTR_ERROR_TYPE]: 'invalid_request_error' })).toBe(0);
    expect(sumOf(metric(all, 'spendtrace.cost'), { [A.ATTR_ERROR_TYPE]: 'invalid_request_error' })).toBe(0);
  });

  it('counts paid tool fees and LLM calls made inside a tool under the tool name', async () => {
    await withTask({ name: 'research', agent: 'researcher' }, async () => {
      await withTool('web_search', async () => {
        recordToolCost(0.005);
        await h.gemini().models.generateContent({ model: 'gemini-2.5-flash', contents: 'summarise' });
      });
    });
    const cost = metric(await h.metrics(), 'spendtrace.cost')!;
    const toolFee = cost.points.filter((p) => p.attributes[A.ATTR_GEN_AI_OPERATION_NAME] === 'execute_tool');
    expect(toolFee.map((p) => [p.attributes, p.value])).toEqual([
      [
        {
          [A.ATTR_GEN_AI_OPERATION_NAME]: 'execute_tool',
          [A.ATTR_GEN_AI_AGENT_NAME]: 'researcher',
          [A.ATTR_SPENDTRACE_TASK_NAME]: 'research',
          [A.ATTR_SPENDTRACE_TOOL_NAME]: 'web_search',
        },
        0.005,
      ],
    ]);
    expect(nano(sumOf(cost, { [A.ATTR_SPENDTRACE_TOOL_NAME]: 'web_search', [A.ATTR_GEN_AI_PROVIDER_NAME]: 'gcp.gemini' }))).toBe(
      nano(usd(1000, PRICES['gemini-2.5-flash'].input) + usd(100, PRICES['gemini-2.5-flash'].output)),
    );
  });
});
