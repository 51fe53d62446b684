// Proves that @anthropic-ai/sdk's beta.messages.create and beta.messages.stream() (real SDK, real HTTP to the fake
// Anthropic server) each become exactly one priced span: spendtrace's own with native tracing off, the SDK's own with it on.
import Anthropic from '@anthropic-ai/sdk';
import * as anthropicModule from '@anthropic-ai/sdk';
import { SpanKind, SpanStatusCode, type Attributes } from '@opentelemetry/api';
import * as A from '@spendtrace/semconv';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { startFakeAnthropic } from '../../fake-providers/src/anthropic.ts';
import { patchAnthropic, unpatchAnthropic } from '../src/anthropic/index.ts';
import { withTask } from '../src/task-context.ts';
import { genAIHarness, nano, providerSuite, usd } from './genai-harness.ts';

// Published prices, https://www.anthropic.com/pricing#api (Claude Sonnet 4.5, prompts <= 200K
// tokens): $3 / MTok input, $15 / MTok output, $0.30 / MTok cache reads, $3.75 / MTok 5-minute cache writes.
const SONNET_45 = { input: 3, output: 15, cacheRead: 0.3, cacheWrite5m: 3.75 };
const MODEL = 'claude-sonnet-4-5';

const h = genAIHarness();
const { host, spans } = h;

const user = [{ role: 'user' as const, content: 'What is 2+2?' }];
const client = (native: boolean) =>
  new Anthropic({ apiKey: 'sk-ant-test', baseURL: suite.fake.url, maxRetries: 0, ...(native ? {} : { openTelemetry: false }) });

// 400 fresh input tokens + 1600 cache reads + 200 5-minute cache writes, 120 output tokens.
const USAGE = {
  input_tokens: 400,
  output_tokens: 120,
  cache_read_input_tokens: 1600,
  cache_creation_input_tokens: 200,
  cache_creation: { ephemeral_5m_input_tokens: 200, ephemeral_1h_input_tokens: 0 },
};
const COST = usd(400, SONNET_45.input) + usd(1600, SONNET_45.cacheRead) + usd(200, SONNET_45.cacheWrite5m) + usd(120, SONNET_45.output);
const STREAM_USAGE = { input_tokens: 70, output_tokens: 20 };
const STREAM_COST = usd(70, SONNET_45.input) + usd(20, SONNET_45.output);

const suite = providerSuite(h, {
  patch: () => patchAnthropic(anthropicModule, host),
  unpatch: () => unpatchAnthropic(anthropicModule, host.wrapper),
  startFake: () => startFakeAnthropic(),
});
// The SDK warns on every call to a model it lists as deprecated; not what these tests look at.
beforeAll(() => void vi.spyOn(console, 'warn').mockImplementation(() => {}));

function expectPriced(attrs: Attributes, expected: number): void {
  expect(attrs[A.ATTR_GEN_AI_USAGE_COST_CURRENCY]).toBe('USD');
  expect(attrs[A.ATTR_GEN_AI_USAGE_COST_SOURCE]).toBe('local');
  expect(attrs[A.ATTR_SPENDTRACE_USAGE_ESTIMATED]).toBeUndefined();
  expect(nano(attrs[A.ATTR_GEN_AI_USAGE_COST_AMOUNT])).toBe(nano(expected));
}

for (const native of [false, true]) {
  const label = native ? 'native tracing on (the SDK span, priced)' : 'native tracing off (spendtrace span)';
  const spanName = native ? 'anthropic.messages.create' : `chat ${MODEL}`;

  describe(`beta.messages, ${label}`, () => {
    it('prices beta.messages.create (cache reads and writes) in one span, with the task cost', async () => {
      suite.fake.enqueue({ message: { content: [{ type: 'text', text: '4' }], usage: USAGE } });
      let costUsd = 0;
      const msg = await withTask({ name: 'beta-answer' }, async (task) => {
        const m = await client(native).beta.messages.create({ model: MODEL, max_tokens: 256, messages: user, betas: ['context-1m-2025-08-07'] });
        costUsd = task.costUsd;
        return m;
      });
      expect(msg.content).toEqual([{ type: 'text', text: '4' }]);
      expect(suite.fake.requests).toHaveLength(1);
      expect(suite.fake.requests[0]!.path).toBe('/v1/messages');
      expect(suite.fake.requests[0]!.headers['anthropic-beta']).toContain('context-1m-2025-08-07');

      const llm = (await spans()).filter((s) => s.kind === SpanKind.CLIENT);
      expect(llm).toHaveLength(1);
      const [span] = llm;
      expect(span!.name).toBe(spanName);
      expect(span!.status.code).not.toBe(SpanStatusCode.ERROR);
      expect(span!.attributes).toMatchObject({
        [A.ATTR_GEN_AI_OPERATION_NAME]: 'chat',
        [A.ATTR_GEN_AI_PROVIDER_NAME]: 'anthropic',
        [A.ATTR_GEN_AI_REQUEST_MODEL]: MODEL,
        [A.ATTR_GEN_AI_USAGE_INPUT_TOKENS]: 2200,
        [A.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: 120,
        [A.ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS]: 1600,
        [A.ATTR_GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS]: 200,
        [A.ATTR_GEN_AI_RESPONSE_FINISH_REASONS]: ['end_turn'],
        [A.ATTR_SPENDTRACE_TASK_NAME]: 'beta-answer',
        [A.ATTR_SPENDTRACE_REQUEST_HASH]: expect.stringMatching(/^[0-9a-f]{16}$/),
      });
      expectPriced(span!.attributes, COST);
      expect(nano(costUsd)).toBe(nano(COST));
    });

    it('prices beta.messages.stream() once, from message_start and message_delta usage', async () => {
      suite.fake.enqueue({ message: { content: [{ type: 'text', text: 'Four.' }], usage: STREAM_USAGE } });
      const final = await client(native).beta.messages.stream({ model: MODEL, max_tokens: 64, messages: user }).finalMessage();
      expect(final.usage.output_tokens).toBe(20);
      const all = await spans();
      expect(all).toHaveLength(1);
      expect(all[0]!.name).toBe(spanName);
      expect(all[0]!.attributes).toMatchObject({
        [A.ATTR_GEN_AI_REQUEST_MODEL]: MODEL,
        [A.ATTR_GEN_AI_USAGE_INPUT_TOKENS]: 70,
        [A.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: 20,
      });
      expectPriced(all[0]!.attributes, STREAM_COST);
    });

    it('prices beta.messages.create with stream: true once', async () => {
      suite.fake.enqueue({ message: { content: [{ type: 'text', text: 'Four.' }], usage: STREAM_USAGE } });
      const stream = await client(native).beta.messages.create({ model: MODEL, max_tokens: 64, stream: true, messages: user });
      for await (const _ of stream) void _;
      const all = await spans();
      expect(all).toHaveLength(1);
      expect(all[0]!.name).toBe(spanName);
      expectPriced(all[0]!.attributes, STREAM_COST);
    });
  });
}
