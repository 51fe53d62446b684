// Proves @anthropic-ai/sdk 0.x (real SDK over real HTTP to the fake Anthropic server) gets one priced span per call:
// 0.60 (no native tracing, like every 0.x before 0.134) gets spendtrace's own `chat {model}` span for messages.create
// plain, stream: true and messages.stream(); 0.137 (the last 0.x, which traces natively since 0.134) gets its native span
// priced with tracing on and spendtrace's own span with it off.
import { createRequire } from 'node:module';
import { context, SpanKind, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import * as A from '@spendtrace/semconv';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { startFakeAnthropic, type FakeAnthropicServer } from '../../fake-providers/src/anthropic.ts';
import { manuallyInstrument, SpendtraceInstrumentation } from '../src/index.ts';
import { nano, usd } from './genai-harness.ts';

// vitest's loader bypasses require hooks: each SDK copy is required by its npm alias and patched by hand.
const require = createRequire(import.meta.url);

// Published prices, https://www.anthropic.com/pricing#api (Claude Sonnet 4.5, prompts <= 200K tokens):
// $3 / MTok input, $15 / MTok output, $0.30 / MTok cache reads.
const SONNET_45 = { input: 3, output: 15, cacheRead: 0.3 };
const MODEL = 'claude-sonnet-4-5';

const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
let instrumentation: SpendtraceInstrumentation;
let fake: FakeAnthropicServer;

beforeAll(async () => {
  trace.setGlobalTracerProvider(provider);
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  instrumentation = new SpendtraceInstrumentation();
  instrumentation.setTracerProvider(provider);
  fake = await startFakeAnthropic();
  vi.spyOn(console, 'warn').mockImplementation(() => {});
});
afterAll(async () => {
  instrumentation.disable();
  await fake.close();
  await provider.shutdown();
  trace.disable();
  context.disable();
});
beforeEach(() => {
  exporter.reset();
  fake.reset();
});

async function spans(): Promise<ReadableSpan[]> {
  await provider.forceFlush();
  return exporter.getFinishedSpans();
}
const user = [{ role: 'user' as const, content: 'What is 2+2?' }];
// 300 fresh + 1200 cache-read input tokens, 80 output tokens.
const USAGE = { input_tokens: 300, output_tokens: 80, cache_read_input_tokens: 1200 };
const COST = usd(300, SONNET_45.input) + usd(1200, SONNET_45.cacheRead) + usd(80, SONNET_45.output);

async function onePricedSpan(name: string): Promise<ReadableSpan> {
  const all = await spans();
  expect(all.map((s) => s.name)).toEqual([name]);
  const [span] = all;
  expect(span!.kind).toBe(SpanKind.CLIENT);
  expect(span!.attributes).toMatchObject({
    [A.ATTR_GEN_AI_OPERATION_NAME]: 'chat',
    [A.ATTR_GEN_AI_PROVIDER_NAME]: 'anthropic',
    [A.ATTR_GEN_AI_REQUEST_MODEL]: MODEL,
    [A.ATTR_GEN_AI_USAGE_INPUT_TOKENS]: 1500,
    [A.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: 80,
    [A.ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS]: 1200,
    [A.ATTR_GEN_AI_USAGE_COST_CURRENCY]: 'USD',
    [A.ATTR_SPENDTRACE_REQUEST_HASH]: expect.stringMatching(/^[0-9a-f]{16}$/),
  });
  expect(span!.attributes[A.ATTR_SPENDTRACE_USAGE_ESTIMATED]).toBeUndefined();
  expect(nano(span!.attributes[A.ATTR_GEN_AI_USAGE_COST_AMOUNT])).toBe(nano(COST));
  return span!;
}

const CASES = [
  // [label, npm alias, major.minor, native tracing on by default]
  ['0.60 (no native tracing)', 'anthropic-v0', '0.60', false],
  ['0.137 native tracing on', 'anthropic-v0-latest', '0.137', true],
  ['0.137 native tracing off', 'anthropic-v0-latest', '0.137', false],
] as const;

describe.each(CASES)('@anthropic-ai/sdk %s', (_label, specifier, minor, native) => {
  const mod = require(specifier);
  const version: string = require(`${specifier}/version`).VERSION;
  const spanName = native ? 'anthropic.messages.create' : `chat ${MODEL}`;
  let client: any;

  beforeAll(() => {
    expect(version.split('.').slice(0, 2).join('.')).toBe(minor);
    manuallyInstrument({ anthropic: mod }, instrumentation);
    client = new mod.Anthropic({ apiKey: 'sk-ant-test', baseURL: fake.url, maxRetries: 0, ...(minor === '0.137' && !native ? { openTelemetry: false } : {}) });
    // 0.60 has no tracer at all; 0.137 has one unless turned off.
    expect(!!client._tracer).toBe(native);
  });

  it('surface: messages.create and messages.stream are patched', () => {
    expect(typeof client.messages.create).toBe('function');
    expect(typeof client.messages.stream).toBe('function');
    expect((client.messages.create as { __wrapped?: boolean }).__wrapped).toBe(true);
  });

  it('prices messages.create in one span', async () => {
    fake.enqueue({ message: { content: [{ type: 'text', text: '4' }], usage: USAGE } });
    const msg = await client.messages.create({ model: MODEL, max_tokens: 64, messages: user });
    expect(msg.content).toEqual([{ type: 'text', text: '4' }]);
    const span = await onePricedSpan(spanName);
    expect(span.attributes[A.ATTR_GEN_AI_RESPONSE_FINISH_REASONS]).toEqual(['end_turn']);
  });

  it('prices messages.create with stream: true in one span', async () => {
    fake.enqueue({ message: { content: [{ type: 'text', text: 'Four.' }], usage: USAGE } });
    const stream = await client.messages.create({ model: MODEL, max_tokens: 64, stream: true, messages: user });
    for await (const _ of stream) void _;
    await onePricedSpan(spanName);
  });

  it("sees the SDK's retries: a 429 then success is one priced span with one spendtrace.retry event", async () => {
    fake.enqueue({ error: { status: 429, type: 'rate_limit_error', retryAfterMs: 2 } }, { message: { content: [{ type: 'text', text: '4' }], usage: USAGE } });
    await client.messages.create({ model: MODEL, max_tokens: 64, messages: user }, { maxRetries: 1 });
    expect(fake.requests).toHaveLength(2);
    const span = await onePricedSpan(spanName);
    expect(span.attributes[A.ATTR_SPENDTRACE_RETRY_ATTEMPT]).toBe(1);
    const retries = span.events.filter((e) => e.name === A.EVENT_SPENDTRACE_RETRY).map((e) => e.attributes);
    expect(retries).toEqual([{ [A.ATTR_SPENDTRACE_RETRY_ATTEMPT]: 1, [A.ATTR_HTTP_RESPONSE_STATUS_CODE]: 429, [A.ATTR_ERROR_TYPE]: '429' }]);
  });

  it('prices the messages.stream() helper in one span', async () => {
    fake.enqueue({ message: { content: [{ type: 'text', text: 'Four.' }], usage: USAGE } });
    const final = await client.messages.stream({ model: MODEL, max_tokens: 64, messages: user }).finalMessage();
    expect(final.usage.output_tokens).toBe(80);
    await onePricedSpan(spanName);
  });
});
