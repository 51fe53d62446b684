// Proves the Responses API (create plain and streamed, the stream() and parse() helpers) becomes one priced `chat` span per HTTP request, with built-in web/file search fees priced as tool cost and counted into the task.
import { describe, expect, test } from 'vitest';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import * as A from '@spendtrace/semconv';
import { fakeResponsesInputTokens } from '@spendtrace/fake-providers';
import { withTask } from '../src/index.ts';
import { usd, useHarness, waitFor } from './setup.ts';

// Published OpenAI prices (platform.openai.com/docs/pricing): gpt-4o-mini per 1M tokens; web search
// $10 per 1,000 calls, file search $2.50 per 1,000 calls (genai-prices web_searches_kcount / storage_searches_kcount).
const GPT_4O_MINI = { input: 0.15, cachedInput: 0.075, output: 0.6 };
const O4_MINI = { input: 1.1, cachedInput: 0.275, output: 4.4 };
const WEB_SEARCH_USD = 0.01;
const FILE_SEARCH_USD = 0.0025;

// These check the cost breakdown on the span, which only `full` puts on every span.
const h = useHarness({ costAttributes: 'full' });

const sum = (...usds: number[]) => Number(usds.reduce((n, u) => n + A.usdToPico(u), 0n)) / 1e12;
const oneSpan = () => waitFor(() => h.chatSpans()[0]);

describe('responses.create', () => {
  test('plain: every §3 attribute, cached and reasoning tokens, exact cost', async () => {
    h.fake.enqueue({ promptTokens: 3000, cachedTokens: 2048, completionTokens: 900, reasoningTokens: 640 });
    const r = await h.client.responses.create({ model: 'o4-mini', input: 'Plan a trip', instructions: 'Be brief', max_output_tokens: 1000, temperature: 1 });
    expect(r.object).toBe('response');
    expect(r.output_text).toBe('Echo: Plan a trip');
    const [span] = h.chatSpans();
    expect(span!.name).toBe('chat o4-mini');
    expect(span!.kind).toBe(SpanKind.CLIENT);
    const input = usd(3000 - 2048, O4_MINI.input);
    const cacheRead = usd(2048, O4_MINI.cachedInput);
    const output = usd(900 - 640, O4_MINI.output);
    const reasoning = usd(640, O4_MINI.output);
    const total = sum(input, cacheRead, output, reasoning);
    expect(span!.attributes).toEqual({
      [A.ATTR_GEN_AI_OPERATION_NAME]: 'chat',
      [A.ATTR_OPENAI_API_TYPE]: 'responses',
      [A.ATTR_GEN_AI_PROVIDER_NAME]: 'openai',
      [A.ATTR_GEN_AI_REQUEST_MODEL]: 'o4-mini',
      [A.ATTR_GEN_AI_REQUEST_MAX_TOKENS]: 1000,
      [A.ATTR_GEN_AI_REQUEST_TEMPERATURE]: 1,
      [A.ATTR_SPENDTRACE_REQUEST_HASH]: expect.stringMatching(/^[0-9a-f]{16}$/),
      [A.ATTR_SERVER_ADDRESS]: '127.0.0.1',
      [A.ATTR_SERVER_PORT]: h.fake.port,
      [A.ATTR_GEN_AI_RESPONSE_MODEL]: 'o4-mini-2025-04-16',
      [A.ATTR_GEN_AI_RESPONSE_ID]: r.id,
      [A.ATTR_GEN_AI_RESPONSE_FINISH_REASONS]: ['stop'],
      [A.ATTR_OPENAI_RESPONSE_SERVICE_TIER]: 'default',
      [A.ATTR_GEN_AI_USAGE_INPUT_TOKENS]: 3000,
      [A.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: 900,
      [A.ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS]: 2048,
      [A.ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS]: 640,
      [A.ATTR_GEN_AI_USAGE_COST_AMOUNT]: total,
      [A.ATTR_GEN_AI_USAGE_COST]: total,
      [A.ATTR_GEN_AI_USAGE_COST_CURRENCY]: 'USD',
      [A.ATTR_GEN_AI_USAGE_COST_SOURCE]: 'local',
      [A.ATTR_SPENDTRACE_COST_INPUT]: input,
      [A.ATTR_SPENDTRACE_COST_CACHE_READ]: cacheRead,
      [A.ATTR_SPENDTRACE_COST_OUTPUT]: output,
      [A.ATTR_SPENDTRACE_COST_REASONING]: reasoning,
      [A.ATTR_SPENDTRACE_PRICING_VERSION]: expect.stringContaining('genai-prices'),
    });
  });

  test('web_search and file_search calls are priced per call as spendtrace.cost.tool, inside the total and the task cost', async () => {
    h.fake.enqueue({ promptTokens: 1000, completionTokens: 200, webSearches: 2, fileSearches: 1 });
    let taskCost = 0;
    await withTask({ name: 'research' }, async (task) => {
      await h.client.responses.create({ model: 'gpt-4o-mini', input: 'news about otel', tools: [{ type: 'web_search' }] });
      taskCost = task.costUsd;
    });
    const a = h.chatSpans()[0]!.attributes;
    const tool = sum(WEB_SEARCH_USD, WEB_SEARCH_USD, FILE_SEARCH_USD);
    const total = sum(usd(1000, GPT_4O_MINI.input), usd(200, GPT_4O_MINI.output), tool);
    expect(a[A.ATTR_SPENDTRACE_USAGE_WEB_SEARCHES]).toBe(2);
    expect(a[A.ATTR_SPENDTRACE_USAGE_FILE_SEARCHES]).toBe(1);
    expect(a[A.ATTR_SPENDTRACE_COST_TOOL]).toBe(0.0225);
    expect(a[A.ATTR_GEN_AI_USAGE_COST_AMOUNT]).toBe(total);
    expect(total).toBe(0.02277); // 1000 × $0.15 + 200 × $0.60 per million, + 2 × $0.01 + $0.0025
    expect(taskCost).toBe(total);
    // The exporter reprices from the same attributes: counts and tokens give the same money.
    const repriced = new A.Pricer().price('openai', 'gpt-4o-mini', A.usageFromAttributes(a)!);
    expect(A.picoToUsd(repriced!.cost.total)).toBe(total);
  });

  test('function call output: finish reason tool_calls; incomplete: the reason', async () => {
    h.fake.enqueue({ toolCalls: [{ name: 'lookup', arguments: { q: 'x' } }] }, { incompleteReason: 'max_output_tokens' });
    await h.client.responses.create({ model: 'gpt-4o-mini', input: 'x', tools: [{ type: 'function', name: 'lookup', parameters: {}, strict: false }] });
    await h.client.responses.create({ model: 'gpt-4o-mini', input: 'x', max_output_tokens: 16 });
    const [a, b] = h.chatSpans();
    expect(a!.attributes[A.ATTR_GEN_AI_RESPONSE_FINISH_REASONS]).toEqual(['tool_calls']);
    expect(b!.attributes[A.ATTR_GEN_AI_RESPONSE_FINISH_REASONS]).toEqual(['max_output_tokens']);
  });

  test("withResponse() and asResponse() are the SDK's own; usage reaches the span either way", async () => {
    h.fake.enqueue({ promptTokens: 40, completionTokens: 10 }, { promptTokens: 50, completionTokens: 5 });
    const promise = h.client.responses.create({ model: 'gpt-4o-mini', input: 'hi' });
    expect(promise.constructor.name).toBe('APIPromise');
    const { data, response } = await promise.withResponse();
    expect(data.usage?.input_tokens).toBe(40);
    expect(response.status).toBe(200);
    const raw = await h.client.responses.create({ model: 'gpt-4o-mini', input: 'hi' }).asResponse();
    expect(((await raw.json()) as { usage: { input_tokens: number } }).usage.input_tokens).toBe(50);
    const spans = await waitFor(() => (h.chatSpans().length === 2 ? h.chatSpans() : undefined));
    expect(spans.map((s) => s.attributes[A.ATTR_GEN_AI_USAGE_INPUT_TOKENS])).toEqual([40, 50]);
  });

  test('HTTP error: the SDK error class is thrown and error.type recorded', async () => {
    h.fake.enqueue({ fail: { status: 400 } });
    const err = await h.client.responses.create({ model: 'gpt-4o-mini', input: 'x' }, { maxRetries: 0 }).catch((e: unknown) => e);
    expect((err as object).constructor.name).toBe('BadRequestError');
    const span = h.chatSpans()[0]!;
    expect(span.attributes[A.ATTR_ERROR_TYPE]).toBe('BadRequestError');
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
  });
});

describe('streaming', () => {
  test('stream: true: usage from response.completed, events unchanged, web search fee included', async () => {
    h.fake.enqueue({ promptTokens: 1200, cachedTokens: 1024, completionTokens: 300, webSearches: 1, content: 'The fox jumps over the dog.' });
    const stream = await h.client.responses.create({ model: 'gpt-4o-mini', input: 'foxes?', stream: true, tools: [{ type: 'web_search' }] });
    const types: string[] = [];
    let text = '';
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === 'response.output_text.delta') text += event.delta;
    }
    expect(text).toBe('The fox jumps over the dog.');
    expect(types[0]).toBe('response.created');
    expect(types.at(-1)).toBe('response.completed');
    const a = (await oneSpan()).attributes;
    expect(a[A.ATTR_GEN_AI_REQUEST_STREAM]).toBe(true);
    expect(a[A.ATTR_GEN_AI_RESPONSE_ID]).toMatch(/^resp_fake/);
    expect(a[A.ATTR_GEN_AI_RESPONSE_MODEL]).toBe('gpt-4o-mini-2024-07-18');
    expect(a[A.ATTR_GEN_AI_USAGE_INPUT_TOKENS]).toBe(1200);
    expect(a[A.ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS]).toBe(1024);
    expect(a[A.ATTR_SPENDTRACE_USAGE_WEB_SEARCHES]).toBe(1);
    expect(a[A.ATTR_GEN_AI_USAGE_COST_AMOUNT]).toBe(
      sum(usd(176, GPT_4O_MINI.input), usd(1024, GPT_4O_MINI.cachedInput), usd(300, GPT_4O_MINI.output), WEB_SEARCH_USD),
    );
    expect(a[A.ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK]).toBeTypeOf('number');
    expect(a).not.toHaveProperty(A.ATTR_SPENDTRACE_USAGE_ESTIMATED);
  });

  test('responses.stream() helper: one span for its one request, with usage; finalResponse() intact', async () => {
    h.fake.enqueue({ promptTokens: 77, completionTokens: 11 });
    const runner = h.client.responses.stream({ model: 'gpt-4o-mini', input: 'hello' });
    const final = await runner.finalResponse();
    expect(final.usage?.input_tokens).toBe(77);
    const spans = await waitFor(() => (h.chatSpans().length ? h.chatSpans() : undefined));
    expect(h.fake.requests).toHaveLength(1);
    expect(spans).toHaveLength(1);
    expect(spans[0]!.attributes[A.ATTR_GEN_AI_USAGE_INPUT_TOKENS]).toBe(77);
    expect(spans[0]!.attributes[A.ATTR_GEN_AI_USAGE_COST_AMOUNT]).toBe(sum(usd(77, 0.15), usd(11, 0.6)));
  });

  test('responses.parse() (structured output): one span, parsed output intact', async () => {
    h.fake.enqueue({ content: '{"city":"Paris"}', promptTokens: 20, completionTokens: 6 });
    const r = await h.client.responses.parse({
      model: 'gpt-4o-mini',
      input: 'where?',
      text: {
        format: {
          type: 'json_schema',
          name: 'place',
          schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
          strict: true,
        },
      },
    });
    expect(r.output_parsed).toEqual({ city: 'Paris' });
    const spans = await waitFor(() => (h.chatSpans().length ? h.chatSpans() : undefined));
    expect(spans).toHaveLength(1);
    expect(spans[0]!.attributes[A.ATTR_GEN_AI_OUTPUT_TYPE]).toBe('json');
    expect(spans[0]!.attributes[A.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]).toBe(6);
  });

  test('response.failed event: the span records error.type from the error code', async () => {
    h.fake.enqueue({ streamFailure: { code: 'server_error' } });
    const stream = await h.client.responses.create({ model: 'gpt-4o-mini', input: 'x', stream: true });
    for await (const _e of stream);
    const span = await oneSpan();
    expect(span.attributes[A.ATTR_ERROR_TYPE]).toBe('server_error');
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
  });

  test('early break: no usage event came, tokens are counted locally and marked estimated', async () => {
    h.fake.enqueue({ content: 'one two three four five six seven eight', chunks: 8, chunkDelayMs: 3 });
    const stream = await h.client.responses.create({ model: 'gpt-4o-mini', input: 'count', stream: true });
    let deltas = 0;
    for await (const e of stream) if (e.type === 'response.output_text.delta' && ++deltas === 2) break;
    const a = (await oneSpan()).attributes;
    expect(a).not.toHaveProperty(A.ATTR_ERROR_TYPE);
    expect(a[A.ATTR_SPENDTRACE_USAGE_ESTIMATED]).toBe(true);
    expect(a[A.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]).toBeGreaterThan(0);
    expect(a[A.ATTR_GEN_AI_USAGE_COST_AMOUNT]).toBeGreaterThan(0);
  });

  test('the fake counts input like the API reference example: instructions and input items', () => {
    expect(fakeResponsesInputTokens({ instructions: 'Be brief', input: [{ role: 'user', content: [{ type: 'input_text', text: 'Plan a trip' }] }] })).toBe(
      3 + 3 + 2 + 3 + 3,
    );
  });
});
