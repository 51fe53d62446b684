// Proves the same core calls (chat plain + stream, Responses plain + stream, embeddings, legacy completions, SDK retries) are priced identically on openai v5, v6 and v7, each major's API surface checked before it is used.
import { createRequire } from 'node:module';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import * as A from '@spendtrace/semconv';
import { startFakeOpenAI, type FakeOpenAIServer } from '@spendtrace/fake-providers';
import { manuallyInstrument, SpendtraceInstrumentation } from '../src/index.ts';
import { waitFor } from './setup.ts';

// vitest's loader bypasses require hooks: each major is required by its npm alias and patched by hand.
const require = createRequire(import.meta.url);
const MAJORS = [
  ['v5', 'openai-v5'],
  ['v6', 'openai-v6'],
  ['v7', 'openai'],
] as const;

const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
let instrumentation: SpendtraceInstrumentation;
let fake: FakeOpenAIServer;

beforeAll(async () => {
  trace.setGlobalTracerProvider(provider);
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  instrumentation = new SpendtraceInstrumentation();
  instrumentation.setTracerProvider(provider);
  fake = await startFakeOpenAI();
});
afterAll(async () => {
  instrumentation.disable();
  await fake.close();
  await provider.shutdown();
});
beforeEach(() => {
  exporter.reset();
  fake.reset();
});

// gpt-4o-mini: $0.15 input, $0.075 cached input, $0.60 output per 1M tokens.
const CHAT_COST = 0.0002832; // 176 × $0.15 + 1024 × $0.075 + 300 × $0.60, per million
const messages = [{ role: 'user' as const, content: 'hello' }];
const onlySpan = () => waitFor(() => (exporter.getFinishedSpans().length === 1 ? exporter.getFinishedSpans()[0] : undefined));

describe.each(MAJORS)('openai %s', (major, specifier) => {
  const mod = require(specifier);
  const version: string = require(`${specifier}/version`).VERSION;
  let client: any;

  beforeAll(() => {
    expect(version.split('.')[0]).toBe(major.slice(1));
    manuallyInstrument({ openai: mod }, instrumentation);
    client = new mod.OpenAI({ baseURL: fake.url, apiKey: 'k', maxRetries: 0 });
  });

  test('surface: chat.completions, responses, embeddings, completions all have create (patched)', () => {
    for (const resource of [client.chat.completions, client.responses, client.embeddings, client.completions]) {
      expect(typeof resource?.create).toBe('function');
      expect((Object.getPrototypeOf(resource).create as { __wrapped?: boolean }).__wrapped).toBe(true);
    }
  });

  test('chat plain', async () => {
    fake.enqueue({ promptTokens: 1200, cachedTokens: 1024, completionTokens: 300 });
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages });
    const a = (await onlySpan()).attributes;
    expect(a[A.ATTR_GEN_AI_OPERATION_NAME]).toBe('chat');
    expect(a[A.ATTR_GEN_AI_USAGE_COST_AMOUNT]).toBe(CHAT_COST);
  });

  test('chat stream with include_usage', async () => {
    fake.enqueue({ promptTokens: 1200, cachedTokens: 1024, completionTokens: 300 });
    const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true, stream_options: { include_usage: true } });
    for await (const _c of stream);
    expect((await onlySpan()).attributes[A.ATTR_GEN_AI_USAGE_COST_AMOUNT]).toBe(CHAT_COST);
  });

  test('responses plain and stream, with a web search fee', async () => {
    fake.enqueue(
      { promptTokens: 1200, cachedTokens: 1024, completionTokens: 300, webSearches: 1 },
      { promptTokens: 1200, cachedTokens: 1024, completionTokens: 300 },
    );
    await client.responses.create({ model: 'gpt-4o-mini', input: 'hello', tools: [{ type: 'web_search' }] });
    const stream = await client.responses.create({ model: 'gpt-4o-mini', input: 'hello', stream: true });
    for await (const _e of stream);
    const spans = await waitFor(() => (exporter.getFinishedSpans().length === 2 ? exporter.getFinishedSpans() : undefined));
    expect(spans.map((s) => s.attributes[A.ATTR_OPENAI_API_TYPE])).toEqual(['responses', 'responses']);
    expect(spans.map((s) => s.attributes[A.ATTR_GEN_AI_USAGE_COST_AMOUNT])).toEqual([0.0102832, CHAT_COST]); // + $0.01 for one web search
  });

  test('responses.stream() helper: one span with usage', async () => {
    fake.enqueue({ promptTokens: 1200, cachedTokens: 1024, completionTokens: 300 });
    await client.responses.stream({ model: 'gpt-4o-mini', input: 'hello' }).finalResponse();
    expect((await onlySpan()).attributes[A.ATTR_GEN_AI_USAGE_COST_AMOUNT]).toBe(CHAT_COST);
  });

  test('embeddings', async () => {
    fake.enqueue({ promptTokens: 500_000 });
    const r = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['a', 'b'] });
    expect(r.data).toHaveLength(2);
    const a = (await onlySpan()).attributes;
    expect(a[A.ATTR_GEN_AI_OPERATION_NAME]).toBe('embeddings');
    expect(a[A.ATTR_GEN_AI_USAGE_COST_AMOUNT]).toBe(0.01); // 500,000 × $0.02 per million
  });

  test('SDK retries: a 429 then success gives one span with a spendtrace.retry event', async () => {
    fake.enqueue({ fail: { status: 429, retryAfter: 0 } }, { promptTokens: 1200, cachedTokens: 1024, completionTokens: 300 });
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages }, { maxRetries: 1 });
    const span = await onlySpan();
    expect(span.attributes[A.ATTR_SPENDTRACE_RETRY_ATTEMPT]).toBe(1);
    expect(span.events.filter((e) => e.name === A.EVENT_SPENDTRACE_RETRY).map((e) => e.attributes?.[A.ATTR_HTTP_RESPONSE_STATUS_CODE])).toEqual([429]);
    expect(span.attributes[A.ATTR_GEN_AI_USAGE_COST_AMOUNT]).toBe(CHAT_COST);
  });

  test('legacy completions', async () => {
    fake.enqueue({ promptTokens: 100, completionTokens: 50 });
    await client.completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'x' });
    expect((await onlySpan()).attributes[A.ATTR_GEN_AI_USAGE_COST_AMOUNT]).toBe(0.00025); // 100 × $1.50 + 50 × $2.00, per million
  });
});
