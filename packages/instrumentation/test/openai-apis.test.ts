// Proves embeddings, legacy completions (plain and streamed) and the chat helpers (parse, runTools, stream) each give exactly one priced span per HTTP request, never counted twice.
import { describe, expect, test } from 'vitest';
import { SpanKind } from '@opentelemetry/api';
import { countTokens } from 'gpt-tokenizer/encoding/cl100k_base';
import * as A from '@spendtrace/semconv';
import { fakeInputTokens } from '@spendtrace/fake-providers';
import { withTask } from '../src/index.ts';
import { usd, useHarness, waitFor } from './setup.ts';

// Published OpenAI prices, USD per 1M tokens (platform.openai.com/docs/pricing).
const EMBED_3_SMALL = 0.02;
const INSTRUCT = { input: 1.5, output: 2 };
const GPT_4O_MINI = { input: 0.15, output: 0.6 };

// These check the cost breakdown on the span, which only `full` puts on every span.
const h = useHarness({ costAttributes: 'full' });

const sum = (...usds: number[]) => Number(usds.reduce((n, u) => n + A.usdToPico(u), 0n)) / 1e12;
const spansNamed = (prefix: string) => h.spans().filter((s) => s.name.startsWith(prefix));

describe('embeddings.create', () => {
  test('an embeddings span: input tokens only, exact cost, vectors decoded as without instrumentation', async () => {
    const input = ['the quick brown fox', 'jumps over the lazy dog'];
    const r = await h.client.embeddings.create({ model: 'text-embedding-3-small', input, dimensions: 8 });
    expect(r.data).toHaveLength(2);
    expect(r.data[0]!.embedding).toHaveLength(8);
    expect(typeof r.data[0]!.embedding[0]).toBe('number');
    const [span] = spansNamed('embeddings ');
    expect(span!.name).toBe('embeddings text-embedding-3-small');
    expect(span!.kind).toBe(SpanKind.CLIENT);
    const tokens = fakeInputTokens(input);
    const cost = usd(tokens, EMBED_3_SMALL);
    expect(span!.attributes).toEqual({
      [A.ATTR_GEN_AI_OPERATION_NAME]: 'embeddings',
      [A.ATTR_GEN_AI_PROVIDER_NAME]: 'openai',
      [A.ATTR_GEN_AI_REQUEST_MODEL]: 'text-embedding-3-small',
      [A.ATTR_GEN_AI_EMBEDDINGS_DIMENSION_COUNT]: 8,
      [A.ATTR_SPENDTRACE_REQUEST_HASH]: expect.stringMatching(/^[0-9a-f]{16}$/),
      [A.ATTR_SERVER_ADDRESS]: '127.0.0.1',
      [A.ATTR_SERVER_PORT]: h.fake.port,
      [A.ATTR_GEN_AI_RESPONSE_MODEL]: 'text-embedding-3-small',
      [A.ATTR_GEN_AI_USAGE_INPUT_TOKENS]: tokens,
      [A.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: 0,
      [A.ATTR_GEN_AI_USAGE_COST_AMOUNT]: cost,
      [A.ATTR_GEN_AI_USAGE_COST]: cost,
      [A.ATTR_GEN_AI_USAGE_COST_CURRENCY]: 'USD',
      [A.ATTR_GEN_AI_USAGE_COST_SOURCE]: 'local',
      [A.ATTR_SPENDTRACE_COST_INPUT]: cost,
      [A.ATTR_SPENDTRACE_COST_OUTPUT]: 0,
      [A.ATTR_SPENDTRACE_PRICING_VERSION]: expect.stringContaining('genai-prices'),
    });
  });

  test('explicit encoding_format is recorded; a large batch is priced to the pico-dollar', async () => {
    h.fake.enqueue({ promptTokens: 1_234_567 });
    await h.client.embeddings.create({ model: 'text-embedding-3-small', input: 'x', encoding_format: 'float' });
    const a = spansNamed('embeddings ')[0]!.attributes;
    expect(a[A.ATTR_GEN_AI_REQUEST_ENCODING_FORMATS]).toEqual(['float']);
    expect(a[A.ATTR_GEN_AI_USAGE_COST_AMOUNT]).toBe(0.02469134); // 1,234,567 × $0.02 per million
  });
});

describe('completions.create (legacy)', () => {
  test('plain: a text_completion span with usage and cost', async () => {
    h.fake.enqueue({ promptTokens: 100, completionTokens: 50 });
    const r = await h.client.completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'Say this is a test', max_tokens: 60, temperature: 0 });
    expect(r.object).toBe('text_completion');
    const [span] = spansNamed('text_completion ');
    expect(span!.name).toBe('text_completion gpt-3.5-turbo-instruct');
    const a = span!.attributes;
    expect(a[A.ATTR_GEN_AI_OPERATION_NAME]).toBe('text_completion');
    expect(a[A.ATTR_GEN_AI_REQUEST_MAX_TOKENS]).toBe(60);
    expect(a[A.ATTR_GEN_AI_REQUEST_TEMPERATURE]).toBe(0);
    expect(a[A.ATTR_GEN_AI_RESPONSE_ID]).toBe(r.id);
    expect(a[A.ATTR_GEN_AI_RESPONSE_FINISH_REASONS]).toEqual(['stop']);
    expect(a[A.ATTR_GEN_AI_USAGE_COST_AMOUNT]).toBe(sum(usd(100, INSTRUCT.input), usd(50, INSTRUCT.output)));
  });

  test('stream with include_usage: usage from the last chunk, text unchanged', async () => {
    h.fake.enqueue({ promptTokens: 12, completionTokens: 8, content: ' This is a test.' });
    const stream = await h.client.completions.create({
      model: 'gpt-3.5-turbo-instruct',
      prompt: 'Say this is a test',
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    for await (const c of stream) text += c.choices[0]?.text ?? '';
    expect(text).toBe(' This is a test.');
    const a = (await waitFor(() => spansNamed('text_completion ')[0])).attributes;
    expect(a[A.ATTR_GEN_AI_REQUEST_STREAM]).toBe(true);
    expect(a[A.ATTR_GEN_AI_USAGE_INPUT_TOKENS]).toBe(12);
    expect(a[A.ATTR_GEN_AI_USAGE_COST_AMOUNT]).toBe(sum(usd(12, INSTRUCT.input), usd(8, INSTRUCT.output)));
  });

  test('stream without usage: the prompt and text are counted locally (no chat framing) and marked estimated', async () => {
    h.fake.enqueue({ content: ' This is a test.' });
    const stream = await h.client.completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'Say this is a test', stream: true });
    for await (const _c of stream);
    const a = (await waitFor(() => spansNamed('text_completion ')[0])).attributes;
    expect(a[A.ATTR_SPENDTRACE_USAGE_ESTIMATED]).toBe(true);
    expect(a[A.ATTR_GEN_AI_USAGE_INPUT_TOKENS]).toBe(countTokens('Say this is a test'));
    expect(a[A.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]).toBe(countTokens(' This is a test.'));
  });
});

describe('chat helpers call create: one span per HTTP request', () => {
  test('chat.completions.parse (structured output): one span, parsed content intact', async () => {
    h.fake.enqueue({ content: '{"city":"Paris"}', promptTokens: 30, completionTokens: 7 });
    const r = await h.client.chat.completions.parse({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'where?' }],
      response_format: {
        type: 'json_schema',
        json_schema: {
          name: 'place',
          strict: true,
          schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
        },
      },
    });
    expect(r.choices[0]!.message.parsed).toEqual({ city: 'Paris' });
    const spans = await waitFor(() => (h.chatSpans().length ? h.chatSpans() : undefined));
    await new Promise((r) => setTimeout(r, 20));
    expect(h.chatSpans()).toHaveLength(1);
    expect(spans[0]!.attributes[A.ATTR_GEN_AI_OUTPUT_TYPE]).toBe('json');
    expect(spans[0]!.attributes[A.ATTR_GEN_AI_USAGE_COST_AMOUNT]).toBe(sum(usd(30, GPT_4O_MINI.input), usd(7, GPT_4O_MINI.output)));
  });

  test('runTools: two HTTP requests, two spans, the task cost is their sum (nothing twice)', async () => {
    h.fake.enqueue(
      { toolCalls: [{ name: 'lookup', arguments: { city: 'Paris' } }], promptTokens: 50, completionTokens: 10 },
      { content: 'Sunny.', promptTokens: 80, completionTokens: 4 },
    );
    let taskCost = 0;
    await withTask({ name: 'weather' }, async (task) => {
      const runner = h.client.chat.completions.runTools({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'Weather in Paris?' }],
        tools: [
          {
            type: 'function',
            function: {
              name: 'lookup',
              description: 'Weather by city',
              parameters: { type: 'object', properties: { city: { type: 'string' } } },
              function: (args: { city: string }) => `sunny in ${args.city}`,
              parse: JSON.parse,
            },
          },
        ],
      });
      expect(await runner.finalContent()).toBe('Sunny.');
      taskCost = task.costUsd;
    });
    expect(h.fake.requests).toHaveLength(2);
    const spans = h.chatSpans();
    expect(spans).toHaveLength(2);
    expect(spans.map((s) => s.attributes[A.ATTR_GEN_AI_RESPONSE_FINISH_REASONS])).toEqual([['tool_calls'], ['stop']]);
    const costs = spans.map((s) => s.attributes[A.ATTR_GEN_AI_USAGE_COST_AMOUNT] as number);
    expect(costs).toEqual([sum(usd(50, 0.15), usd(10, 0.6)), sum(usd(80, 0.15), usd(4, 0.6))]);
    expect(taskCost).toBe(sum(...costs));
  });

  test('chat.completions.stream helper: one span with the streamed usage', async () => {
    h.fake.enqueue({ promptTokens: 21, completionTokens: 9, content: 'streamed words here' });
    const runner = h.client.chat.completions.stream({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hi' }],
      stream_options: { include_usage: true },
    });
    const final = await runner.finalChatCompletion();
    expect(final.choices[0]!.message.content).toBe('streamed words here');
    const spans = await waitFor(() => (h.chatSpans().length ? h.chatSpans() : undefined));
    expect(spans).toHaveLength(1);
    expect(spans[0]!.attributes[A.ATTR_GEN_AI_USAGE_INPUT_TOKENS]).toBe(21);
    expect(spans[0]!.attributes[A.ATTR_GEN_AI_REQUEST_STREAM]).toBe(true);
  });
});
