// Proves that every @anthropic-ai/sdk call becomes exactly one priced, attributed GenAI span: the SDK's native span when its tracing is on, spendtrace's own when it is off.
import Anthropic from '@anthropic-ai/sdk';
import * as anthropicModule from '@anthropic-ai/sdk';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import * as A from '@spendtrace/semconv';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { startFakeAnthropic } from '../../fake-providers/src/anthropic.ts';
import { patchAnthropic, unpatchAnthropic } from '../src/anthropic/index.ts';
import { BudgetExceededError } from '../src/budget.ts';
import { countTokens } from 'gpt-tokenizer/encoding/cl100k_base';
import { promptText } from '../src/budget-gate.ts';
import { withPrompt } from '../src/prompt-template.ts';
import { withTask } from '../src/task-context.ts';
import { genAIHarness, nano, providerSuite, usd } from './genai-harness.ts';

// Published prices, https://www.anthropic.com/pricing#api (Claude Sonnet 4.5, prompts <= 200K
// tokens), USD per million tokens — what @pydantic/genai-prices 0.1.8 carries for claude-sonnet-4-5.
const SONNET_45 = { input: 3, output: 15, cacheRead: 0.3, cacheWrite5m: 3.75, cacheWrite1h: 6 };
const MODEL = 'claude-sonnet-4-5';

const h = genAIHarness({ costDetail: 'full' });
const { host, spans } = h;

const user = [{ role: 'user' as const, content: 'What is 2+2?' }];
const nativeOff = () => new Anthropic({ apiKey: 'sk-ant-test', baseURL: suite.fake.url, openTelemetry: false, maxRetries: 0 });
const nativeOn = (maxRetries = 0) => new Anthropic({ apiKey: 'sk-ant-test', baseURL: suite.fake.url, maxRetries });

// Cache reads, both cache-write durations and thinking, each priced at its own rate.
const CACHED_USAGE = {
  input_tokens: 1000,
  output_tokens: 500,
  cache_read_input_tokens: 2000,
  cache_creation_input_tokens: 3000,
  cache_creation: { ephemeral_5m_input_tokens: 1000, ephemeral_1h_input_tokens: 2000 },
  output_tokens_details: { thinking_tokens: 200 },
};
const CACHED_COST = {
  input: usd(1000, SONNET_45.input),
  cacheRead: usd(2000, SONNET_45.cacheRead),
  cacheWrite: usd(1000, SONNET_45.cacheWrite5m) + usd(2000, SONNET_45.cacheWrite1h),
  output: usd(300, SONNET_45.output),
  reasoning: usd(200, SONNET_45.output),
};
const CACHED_TOTAL = Object.values(CACHED_COST).reduce((a, b) => a + b, 0);

const suite = providerSuite(h, {
  patch: () => patchAnthropic(anthropicModule, host),
  unpatch: () => unpatchAnthropic(anthropicModule, host.wrapper),
  startFake: () => startFakeAnthropic(),
});
// The SDK warns on every call to a model it lists as deprecated; not what these tests look at.
beforeAll(() => void vi.spyOn(console, 'warn').mockImplementation(() => {}));

describe('native tracing off (spendtrace span)', () => {
  it('prices messages.create with cache reads, 5m and 1h cache writes and thinking to the nano-dollar', async () => {
    suite.fake.enqueue({
      message: {
        content: [
          { type: 'thinking', thinking: 'add them', signature: 'sig' },
          { type: 'text', text: '4' },
        ],
        usage: CACHED_USAGE,
      },
    });
    const msg = await nativeOff().messages.create({ model: MODEL, max_tokens: 1024, stop_sequences: ['END'], messages: user });
    expect(msg.content.at(-1)).toEqual({ type: 'text', text: '4' });

    const [span, ...rest] = await spans();
    expect(rest).toHaveLength(0);
    expect(span!.name).toBe(`chat ${MODEL}`);
    expect(span!.kind).toBe(SpanKind.CLIENT);
    expect(span!.status.code).toBe(SpanStatusCode.UNSET); // the conventions leave a successful call's status unset
    const { [A.ATTR_SERVER_PORT]: port, [A.ATTR_GEN_AI_RESPONSE_ID]: id, ...attrs } = span!.attributes;
    expect(port).toBe(suite.fake.port);
    expect(id).toBe(msg.id);
    expect(attrs).toEqual({
      [A.ATTR_SPENDTRACE_REQUEST_HASH]: expect.stringMatching(/^[0-9a-f]{16}$/),
      [A.ATTR_GEN_AI_OPERATION_NAME]: 'chat',
      [A.ATTR_GEN_AI_PROVIDER_NAME]: 'anthropic',
      [A.ATTR_SERVER_ADDRESS]: '127.0.0.1',
      [A.ATTR_GEN_AI_REQUEST_MODEL]: MODEL,
      [A.ATTR_GEN_AI_REQUEST_MAX_TOKENS]: 1024,
      [A.ATTR_GEN_AI_REQUEST_STOP_SEQUENCES]: ['END'],
      [A.ATTR_GEN_AI_RESPONSE_MODEL]: MODEL,
      [A.ATTR_GEN_AI_RESPONSE_FINISH_REASONS]: ['end_turn'],
      [A.ATTR_GEN_AI_USAGE_INPUT_TOKENS]: 6000,
      [A.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: 500,
      [A.ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS]: 2000,
      [A.ATTR_GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS]: 3000,
      [A.ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS]: 200,
      [A.ATTR_GEN_AI_USAGE_COST_AMOUNT]: expect.any(Number),
      [A.ATTR_GEN_AI_USAGE_COST]: expect.any(Number),
      [A.ATTR_GEN_AI_USAGE_COST_CURRENCY]: 'USD',
      [A.ATTR_GEN_AI_USAGE_COST_SOURCE]: 'local',
      [A.ATTR_SPENDTRACE_COST_INPUT]: expect.any(Number),
      [A.ATTR_SPENDTRACE_COST_OUTPUT]: expect.any(Number),
      [A.ATTR_SPENDTRACE_COST_CACHE_READ]: expect.any(Number),
      [A.ATTR_SPENDTRACE_COST_CACHE_WRITE]: expect.any(Number),
      [A.ATTR_SPENDTRACE_COST_REASONING]: expect.any(Number),
      [A.ATTR_SPENDTRACE_PRICING_VERSION]: expect.any(String),
    });
    expect(nano(attrs[A.ATTR_GEN_AI_USAGE_COST_AMOUNT])).toBe(nano(CACHED_TOTAL));
    expect(nano(attrs[A.ATTR_GEN_AI_USAGE_COST])).toBe(nano(CACHED_TOTAL));
    expect(nano(attrs[A.ATTR_SPENDTRACE_COST_INPUT])).toBe(nano(CACHED_COST.input));
    expect(nano(attrs[A.ATTR_SPENDTRACE_COST_CACHE_READ])).toBe(nano(CACHED_COST.cacheRead));
    expect(nano(attrs[A.ATTR_SPENDTRACE_COST_CACHE_WRITE])).toBe(nano(CACHED_COST.cacheWrite));
    expect(nano(attrs[A.ATTR_SPENDTRACE_COST_OUTPUT])).toBe(nano(CACHED_COST.output));
    expect(nano(attrs[A.ATTR_SPENDTRACE_COST_REASONING])).toBe(nano(CACHED_COST.reasoning));
  });

  it('prices the web search server tool per search ($10 per 1,000, https://docs.anthropic.com/en/docs/agents-and-tools/tool-use/web-search-tool) on top of tokens, plain and streamed', async () => {
    const usage = { input_tokens: 500, output_tokens: 100, server_tool_use: { web_search_requests: 3 } };
    suite.fake.enqueue({ message: { usage } }, { message: { usage } });
    const client = nativeOff();
    await client.messages.create({ model: MODEL, max_tokens: 256, messages: user });
    const stream = await client.messages.create({ model: MODEL, max_tokens: 256, stream: true, messages: user });
    for await (const _ of stream) void _;
    const llm = (await spans()).filter((s) => s.kind === SpanKind.CLIENT);
    expect(llm).toHaveLength(2);
    const expected = usd(500, SONNET_45.input) + usd(100, SONNET_45.output) + (3 * 10) / 1000;
    for (const span of llm) {
      expect(span.attributes[A.ATTR_SPENDTRACE_USAGE_WEB_SEARCHES]).toBe(3);
      expect(nano(span.attributes[A.ATTR_GEN_AI_USAGE_COST_AMOUNT])).toBe(nano(expected));
    }
  });

  it('prices a stream: true call from message_start and message_delta usage, with tool_use blocks', async () => {
    suite.fake.enqueue({
      message: {
        content: [
          { type: 'text', text: 'Let me look that up.' },
          { type: 'tool_use', id: 'toolu_01', name: 'get_weather', input: { city: 'Paris' } },
        ],
        usage: { input_tokens: 400, output_tokens: 120, cache_read_input_tokens: 1600 },
      },
    });
    const stream = await nativeOff().messages.create({ model: MODEL, max_tokens: 256, stream: true, messages: user });
    const types: string[] = [];
    for await (const e of stream) types.push(e.type);
    expect(types).toContain('message_delta');

    const [span, ...rest] = await spans();
    expect(rest).toHaveLength(0);
    expect(span!.name).toBe(`chat ${MODEL}`);
    expect(span!.status.code).toBe(SpanStatusCode.UNSET); // the conventions leave a successful call's status unset
    expect(span!.attributes).toMatchObject({
      [A.ATTR_GEN_AI_REQUEST_STREAM]: true,
      [A.ATTR_GEN_AI_RESPONSE_FINISH_REASONS]: ['tool_use'],
      [A.ATTR_GEN_AI_USAGE_INPUT_TOKENS]: 2000,
      [A.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: 120,
      [A.ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS]: 1600,
    });
    expect(span!.attributes[A.ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK]).toBeGreaterThan(0);
    expect(span!.attributes[A.ATTR_SPENDTRACE_USAGE_ESTIMATED]).toBeUndefined();
    const expected = usd(400, SONNET_45.input) + usd(1600, SONNET_45.cacheRead) + usd(120, SONNET_45.output);
    expect(nano(span!.attributes[A.ATTR_GEN_AI_USAGE_COST_AMOUNT])).toBe(nano(expected));
  });

  it('prices the messages.stream() helper once', async () => {
    suite.fake.enqueue({ message: { usage: { input_tokens: 50, output_tokens: 10 } } });
    const final = await nativeOff().messages.stream({ model: MODEL, max_tokens: 64, messages: user }).finalMessage();
    expect(final.usage.output_tokens).toBe(10);
    const all = await spans();
    expect(all).toHaveLength(1);
    expect(nano(all[0]!.attributes[A.ATTR_GEN_AI_USAGE_COST_AMOUNT])).toBe(nano(usd(50, SONNET_45.input) + usd(10, SONNET_45.output)));
  });

  it('records a 429 as a failed span with error.type from the error envelope and no cost', async () => {
    suite.fake.enqueue({
      error: { status: 429, type: 'rate_limit_error', message: 'Number of request tokens has exceeded your per-minute rate limit', retryAfter: 7 },
    });
    await expect(nativeOff().messages.create({ model: MODEL, max_tokens: 64, messages: user })).rejects.toBeInstanceOf(Anthropic.RateLimitError);
    const [span, ...rest] = await spans();
    expect(rest).toHaveLength(0);
    expect(span!.name).toBe(`chat ${MODEL}`);
    expect(span!.status.code).toBe(SpanStatusCode.ERROR);
    expect(span!.attributes[A.ATTR_ERROR_TYPE]).toBe('rate_limit_error');
    expect(span!.attributes[A.ATTR_GEN_AI_USAGE_COST_AMOUNT]).toBeUndefined();
    expect(suite.fake.requests.at(-1)!.path).toBe('/v1/messages');
  });

  it('marks a stream cut before message_delta as estimated, priced from what arrived', async () => {
    suite.fake.enqueue({
      message: { content: [{ type: 'text', text: 'A partial answer that never finishes' }], usage: { input_tokens: 30, output_tokens: 99 }, cutAfterEvents: 5 },
    });
    const stream = await nativeOff().messages.create({ model: MODEL, max_tokens: 64, stream: true, messages: user });
    await expect(
      (async () => {
        for await (const _ of stream) void _;
      })(),
    ).resolves.toBeUndefined();
    await new Promise((r) => setTimeout(r, 50));
    const [span] = await spans();
    expect(span!.attributes[A.ATTR_SPENDTRACE_USAGE_ESTIMATED]).toBe(true);
    expect(span!.attributes[A.ATTR_GEN_AI_USAGE_INPUT_TOKENS]).toBe(30);
    expect(span!.attributes[A.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]).toBeGreaterThan(0);
    expect(span!.attributes[A.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]).toBeLessThan(99);
  });

  it('keeps the promise helpers: .withResponse() gives the SDK Message and Response, .asResponse() leaves the body unread and the call is still priced', async () => {
    suite.fake.enqueue({ message: { usage: { input_tokens: 10, output_tokens: 5 } } }, { message: { usage: { input_tokens: 20, output_tokens: 7 } } });
    const client = nativeOff();
    const { data, response } = await client.messages.create({ model: MODEL, max_tokens: 64, messages: user }).withResponse();
    expect(data.usage.output_tokens).toBe(5);
    expect(response.status).toBe(200);
    const raw = await client.messages.create({ model: MODEL, max_tokens: 64, messages: user }).asResponse();
    expect(raw.bodyUsed).toBe(false);
    expect(((await raw.json()) as { usage: { output_tokens: number } }).usage.output_tokens).toBe(7);
    await new Promise((r) => setTimeout(r, 20));
    const llm = (await spans()).filter((s) => s.kind === SpanKind.CLIENT);
    expect(llm).toHaveLength(2);
    expect(nano(llm[0]!.attributes[A.ATTR_GEN_AI_USAGE_COST_AMOUNT])).toBe(nano(usd(10, SONNET_45.input) + usd(5, SONNET_45.output)));
    expect(nano(llm[1]!.attributes[A.ATTR_GEN_AI_USAGE_COST_AMOUNT])).toBe(nano(usd(20, SONNET_45.input) + usd(7, SONNET_45.output)));
  });

  it('a stream the app stops reading ends its span, its output counted from the text that arrived', async () => {
    suite.fake.enqueue({
      message: {
        content: [{ type: 'text', text: 'A long answer the app stops reading part of the way through' }],
        usage: { input_tokens: 40, output_tokens: 90 },
      },
    });
    const stream = await nativeOff().messages.create({ model: MODEL, max_tokens: 256, stream: true, messages: user });
    let deltas = 0;
    for await (const event of stream) if (event.type === 'content_block_delta' && ++deltas === 2) break;
    await new Promise((r) => setTimeout(r, 50));
    const [span, ...rest] = await spans();
    expect(rest).toHaveLength(0);
    expect(span!.status.code).toBe(SpanStatusCode.UNSET);
    expect(span!.attributes[A.ATTR_SPENDTRACE_USAGE_ESTIMATED]).toBe(true);
    expect(span!.attributes[A.ATTR_GEN_AI_USAGE_INPUT_TOKENS]).toBe(40);
    const out = span!.attributes[A.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS] as number;
    expect(out).toBeGreaterThan(0);
    expect(out).toBeLessThan(90);
  });
});

describe('native tracing on (the SDK span is priced; spendtrace adds none)', () => {
  it('prices and attributes the native span of messages.create, and the task sees the cost', async () => {
    suite.fake.enqueue({ message: { usage: CACHED_USAGE } });
    let costUsd = 0;
    await withTask({ name: 'answer', agent: 'math-agent', userId: 'u-42' }, async (task) => {
      await nativeOn().messages.create({ model: MODEL, max_tokens: 1024, messages: user });
      costUsd = task.costUsd;
    });
    const all = await spans();
    const llm = all.filter((s) => s.kind === SpanKind.CLIENT);
    expect(llm).toHaveLength(1);
    const [span] = llm;
    expect(span!.name).toBe('anthropic.messages.create');
    expect(span!.instrumentationScope.name).toBe('com.anthropic.sdk.typescript');
    const root = all.find((s) => s.attributes[A.ATTR_SPENDTRACE_TASK_ROOT])!;
    expect(span!.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
    expect(span!.attributes).toMatchObject({
      [A.ATTR_GEN_AI_OPERATION_NAME]: 'chat',
      [A.ATTR_GEN_AI_PROVIDER_NAME]: 'anthropic',
      [A.ATTR_GEN_AI_REQUEST_MODEL]: MODEL,
      [A.ATTR_GEN_AI_USAGE_INPUT_TOKENS]: 6000,
      [A.ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS]: 2000,
      [A.ATTR_GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS]: 3000,
      [A.ATTR_GEN_AI_RESPONSE_FINISH_REASONS]: ['end_turn'],
      [A.ATTR_GEN_AI_USAGE_COST_CURRENCY]: 'USD',
      [A.ATTR_GEN_AI_USAGE_COST_SOURCE]: 'local',
      [A.ATTR_SPENDTRACE_TASK_NAME]: 'answer',
      [A.ATTR_GEN_AI_AGENT_NAME]: 'math-agent',
      [A.ATTR_USER_ID]: 'u-42',
    });
    // The task is the trace: its id is not repeated on the spans inside it.
    expect(span!.attributes).not.toHaveProperty(A.ATTR_SPENDTRACE_TASK_ID);
    expect(span!.spanContext().traceId).toBe(root.attributes[A.ATTR_SPENDTRACE_TASK_ID]);
    expect(nano(span!.attributes[A.ATTR_GEN_AI_USAGE_COST_AMOUNT])).toBe(nano(CACHED_TOTAL));
    expect(nano(span!.attributes[A.ATTR_SPENDTRACE_COST_CACHE_WRITE])).toBe(nano(CACHED_COST.cacheWrite));
    expect(nano(costUsd)).toBe(nano(CACHED_TOTAL));
  });

  it('names the prompt template (withPrompt) on the native spans of the calls inside it, and only those', async () => {
    suite.fake.enqueue(
      { message: { usage: { input_tokens: 40, output_tokens: 4 } } },
      { message: { usage: { input_tokens: 50, output_tokens: 5 } } },
      { message: { usage: { input_tokens: 60, output_tokens: 6 } } },
    );
    const client = nativeOn();
    await withTask({ name: 'answer', agent: 'math-agent' }, async () => {
      await withPrompt({ name: 'math-tutor', version: '7' }, async () => {
        await client.messages.create({ model: MODEL, max_tokens: 64, messages: user });
        await client.messages.stream({ model: MODEL, max_tokens: 64, messages: user }).finalMessage();
      });
      await client.messages.create({ model: MODEL, max_tokens: 64, messages: user });
    });
    const llm = (await spans()).filter((s) => s.kind === SpanKind.CLIENT);
    expect(llm.map((s) => [s.name, s.instrumentationScope.name])).toEqual(
      Array.from({ length: 3 }, () => ['anthropic.messages.create', 'com.anthropic.sdk.typescript']),
    );
    const prompt = (s: (typeof llm)[number]) => [s.attributes[A.ATTR_GEN_AI_PROMPT_NAME], s.attributes[A.ATTR_GEN_AI_PROMPT_VERSION]];
    expect(llm.map(prompt)).toEqual([
      ['math-tutor', '7'],
      ['math-tutor', '7'],
      [undefined, undefined],
    ]);
    // still priced and attributed as any native span
    expect(llm.map((s) => nano(s.attributes[A.ATTR_GEN_AI_USAGE_COST_AMOUNT]))).toEqual(
      [40, 50, 60].map((n) => nano(usd(n, SONNET_45.input) + usd(n / 10, SONNET_45.output))),
    );
    expect(llm.every((s) => s.attributes[A.ATTR_SPENDTRACE_TASK_NAME] === 'answer')).toBe(true);
  });

  it('prices the native span of a streamed call (messages.stream helper and stream: true), one span each', async () => {
    suite.fake.enqueue({ message: { usage: { input_tokens: 50, output_tokens: 10 } } }, { message: { usage: { input_tokens: 70, output_tokens: 20 } } });
    const client = nativeOn();
    await client.messages.stream({ model: MODEL, max_tokens: 64, messages: user }).finalMessage();
    const stream = await client.messages.create({ model: MODEL, max_tokens: 64, stream: true, messages: user });
    for await (const _ of stream) void _;
    const all = await spans();
    expect(all.map((s) => s.name)).toEqual(['anthropic.messages.create', 'anthropic.messages.create']);
    expect(nano(all[0]!.attributes[A.ATTR_GEN_AI_USAGE_COST_AMOUNT])).toBe(nano(usd(50, SONNET_45.input) + usd(10, SONNET_45.output)));
    expect(nano(all[1]!.attributes[A.ATTR_GEN_AI_USAGE_COST_AMOUNT])).toBe(nano(usd(70, SONNET_45.input) + usd(20, SONNET_45.output)));
  });

  it('keeps the SDK retry of a 429 (retry-after) in one priced span with spendtrace.retry.attempt', async () => {
    suite.fake.enqueue(
      { error: { status: 429, type: 'rate_limit_error', retryAfter: 1, retryAfterMs: 5 } },
      { message: { usage: { input_tokens: 10, output_tokens: 5 } } },
    );
    await nativeOn(2).messages.create({ model: MODEL, max_tokens: 64, messages: user });
    const all = await spans();
    expect(all).toHaveLength(1);
    expect(suite.fake.requests).toHaveLength(2);
    expect(all[0]!.attributes[A.ATTR_SPENDTRACE_RETRY_ATTEMPT]).toBe(1);
    expect(nano(all[0]!.attributes[A.ATTR_GEN_AI_USAGE_COST_AMOUNT])).toBe(nano(usd(10, SONNET_45.input) + usd(5, SONNET_45.output)));
  });

  it('leaves a failed native span unpriced, with the SDK error.type', async () => {
    suite.fake.enqueue({ error: { status: 529, type: 'overloaded_error' } });
    await expect(nativeOn().messages.create({ model: MODEL, max_tokens: 64, messages: user })).rejects.toThrow();
    const all = await spans();
    expect(all).toHaveLength(1);
    expect(all[0]!.attributes[A.ATTR_ERROR_TYPE]).toBe('overloaded_error');
    expect(all[0]!.attributes[A.ATTR_GEN_AI_USAGE_COST_AMOUNT]).toBeUndefined();
  });

  it('puts no cost on token counting', async () => {
    suite.fake.enqueue({ countTokens: 321 });
    const r = await nativeOn().messages.countTokens({ model: MODEL, messages: user });
    expect(r.input_tokens).toBe(321);
    const all = await spans();
    expect(all.map((s) => s.name)).toEqual(['anthropic.messages.count_tokens']);
    expect(all[0]!.attributes[A.ATTR_GEN_AI_USAGE_COST_AMOUNT]).toBeUndefined();
  });

  it('fails fast with BudgetExceededError once the task is over budget, before any request', async () => {
    suite.fake.enqueue({ message: { usage: { input_tokens: 1000, output_tokens: 1000 } } });
    const client = nativeOn();
    await expect(
      withTask({ name: 'tight', budgetUsd: 0.001 }, async () => {
        await client.messages.create({ model: MODEL, max_tokens: 64, messages: user });
        await client.messages.create({ model: MODEL, max_tokens: 64, messages: user });
      }),
    ).rejects.toBeInstanceOf(BudgetExceededError);
    expect(suite.fake.requests).toHaveLength(1);
  });
});

describe('budgets before the money is spent (worst case: input counted locally + max_tokens)', () => {
  // The case from issue 13: a $0.01 budget, one call that could cost far more.
  for (const [label, make] of [
    ['native tracing off', nativeOff],
    ['native tracing on', nativeOn],
  ] as const) {
    it(`${label}: a call whose max_tokens alone could cross the budget is refused before any request, with its estimate`, async () => {
      const outcome = await withTask({ name: 'capped', budgetUsd: 0.01 }, async (task) => {
        const err = await make()
          .messages.create({ model: MODEL, max_tokens: 64_000, messages: user })
          .catch((e: unknown) => e);
        return { err, refusals: (task as unknown as { refusals: number }).refusals };
      });
      expect(suite.fake.requests).toHaveLength(0);
      const err = outcome.err as BudgetExceededError;
      expect(err).toBeInstanceOf(BudgetExceededError);
      expect(err.reason).toBe('worst-case');
      // 64,000 output tokens at $15/M is $0.96; the input adds the prompt's tokens at $3/M.
      const promptTokens = countTokens(promptText(undefined, user));
      expect(nano(err.estimateUsd)).toBe(nano(usd(promptTokens, SONNET_45.input) + usd(64_000, SONNET_45.output)));
      expect(err.message).toContain(`could cost up to $${err.estimateUsd!.toFixed(6)}`);
      const root = (await spans()).find((s) => s.name === 'task capped')!;
      expect(root.attributes).toMatchObject({
        [A.ATTR_SPENDTRACE_BUDGET_REFUSALS]: 1,
        [A.ATTR_SPENDTRACE_TASK_COST]: 0,
        [A.ATTR_SPENDTRACE_BUDGET_CHECK]: 'worst-case',
      });
      expect(root.events.map((e) => [e.name, e.attributes])).toEqual([
        [
          A.EVENT_SPENDTRACE_BUDGET_REFUSED,
          {
            [A.ATTR_SPENDTRACE_BUDGET_REASON]: 'worst-case',
            [A.ATTR_SPENDTRACE_TASK_COST]: 0,
            [A.ATTR_GEN_AI_REQUEST_MODEL]: MODEL,
            [A.ATTR_SPENDTRACE_BUDGET_ESTIMATE]: err.estimateUsd,
          },
        ],
      ]);
    });

    it(`${label}: a call that fits goes ahead; its worst case is held while it is in flight and released when it ends`, async () => {
      suite.fake.enqueue({ message: { usage: { input_tokens: 10, output_tokens: 20 } } }, { message: { usage: { input_tokens: 10, output_tokens: 20 } } });
      const client = make();
      // Each call's worst case: ~15 input tokens + 400 output tokens = ~$0.00605, more than half of $0.01.
      const out = await withTask({ name: 'fan-out', budgetUsd: 0.01 }, async () => {
        const [a, b] = await Promise.allSettled([
          client.messages.create({ model: MODEL, max_tokens: 400, messages: user }),
          client.messages.create({ model: MODEL, max_tokens: 400, messages: user }),
        ]);
        // After the first ended, only its real cost counts: a third call fits.
        const c = await client.messages.create({ model: MODEL, max_tokens: 400, messages: user }).then(
          () => 'sent',
          (e: unknown) => e,
        );
        return { a: a.status, b: b.status === 'rejected' ? b.reason : b.status, c };
      });
      expect(out.a).toBe('fulfilled');
      expect(out.b).toBeInstanceOf(BudgetExceededError);
      expect((out.b as BudgetExceededError).inFlightUsd).toBeGreaterThan(0.006);
      expect(out.c).toBe('sent');
      expect(suite.fake.requests).toHaveLength(2);
    });
  }

  it("budgetCheck: 'spent' lets the call through and refuses only once the budget is used up", async () => {
    suite.fake.enqueue({ message: { usage: { input_tokens: 10, output_tokens: 1000 } } });
    const client = nativeOff();
    const err = await withTask({ name: 'soft', budgetUsd: 0.01, budgetCheck: 'spent' }, async () => {
      await client.messages.create({ model: MODEL, max_tokens: 8000, messages: user });
      return client.messages.create({ model: MODEL, max_tokens: 10, messages: user }).catch((e: unknown) => e);
    });
    expect(suite.fake.requests).toHaveLength(1);
    expect((err as BudgetExceededError).reason).toBe('spent');
  });

  it('a call in an unbudgeted task nested in a budgeted one is checked against the outer budget', async () => {
    const err = await withTask({ name: 'outer', budgetUsd: 0.01 }, () =>
      withTask({ name: 'inner' }, () =>
        nativeOff()
          .messages.create({ model: MODEL, max_tokens: 64_000, messages: user })
          .catch((e: unknown) => e),
      ),
    );
    expect(err).toBeInstanceOf(BudgetExceededError);
    expect((err as BudgetExceededError).taskName).toBe('outer');
    expect(suite.fake.requests).toHaveLength(0);
  });
});
