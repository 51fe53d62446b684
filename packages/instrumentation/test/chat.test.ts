// Proves non-streaming chat completions through the real openai SDK become GenAI spans with exact published-price cost, untouched return values and SDK errors.
import { describe, expect, test } from 'vitest';
import { context, createContextKey, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { isWrapped } from '@opentelemetry/instrumentation';
import * as A from '@spendtrace/semconv';
import { fakePromptTokens } from '@spendtrace/fake-providers';
import { OpenAI, openaiModule, usd, useHarness } from './setup.ts';

// Published OpenAI prices, USD per 1M tokens (platform.openai.com/docs/pricing).
const GPT_4O_MINI = { input: 0.15, cachedInput: 0.075, output: 0.6 };

const h = useHarness();

const hello = [{ role: 'user' as const, content: 'hello' }];

describe('plain calls', () => {
  test('plain call: span attributes and cost with cached input, to the pico-dollar', async () => {
    h.fake.enqueue({ promptTokens: 1200, completionTokens: 300, cachedTokens: 1024 });
    const result = await h.client.chat.completions.create({ model: 'gpt-4o-mini', messages: hello, temperature: 0.2, max_tokens: 100 });
    expect(result.object).toBe('chat.completion');
    expect(result.usage?.prompt_tokens).toBe(1200);

    const [span] = h.chatSpans();
    expect(span!.name).toBe('chat gpt-4o-mini');
    expect(span!.kind).toBe(SpanKind.CLIENT);
    const input = usd(1200 - 1024, GPT_4O_MINI.input);
    const cacheRead = usd(1024, GPT_4O_MINI.cachedInput);
    const output = usd(300, GPT_4O_MINI.output);
    const total = Number(A.usdToPico(input) + A.usdToPico(cacheRead) + A.usdToPico(output)) / 1e12;
    expect(total).toBe(0.0002832); // 176 × $0.15 + 1024 × $0.075 + 300 × $0.60, per million
    expect(span!.attributes).toEqual({
      [A.ATTR_GEN_AI_OPERATION_NAME]: 'chat',
      [A.ATTR_GEN_AI_PROVIDER_NAME]: 'openai',
      [A.ATTR_OPENAI_API_TYPE]: 'chat_completions',
      [A.ATTR_GEN_AI_REQUEST_MODEL]: 'gpt-4o-mini',
      [A.ATTR_GEN_AI_REQUEST_TEMPERATURE]: 0.2,
      [A.ATTR_GEN_AI_REQUEST_MAX_TOKENS]: 100,
      [A.ATTR_SPENDTRACE_REQUEST_HASH]: expect.stringMatching(/^[0-9a-f]{16}$/),
      [A.ATTR_SERVER_ADDRESS]: '127.0.0.1',
      [A.ATTR_SERVER_PORT]: h.fake.port,
      [A.ATTR_GEN_AI_RESPONSE_MODEL]: 'gpt-4o-mini-2024-07-18',
      [A.ATTR_GEN_AI_RESPONSE_ID]: result.id,
      [A.ATTR_GEN_AI_RESPONSE_FINISH_REASONS]: ['stop'],
      [A.ATTR_GEN_AI_USAGE_INPUT_TOKENS]: 1200,
      [A.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: 300,
      [A.ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS]: 1024,
      [A.ATTR_GEN_AI_USAGE_COST_AMOUNT]: total,
      [A.ATTR_GEN_AI_USAGE_COST_CURRENCY]: 'USD',
      [A.ATTR_GEN_AI_USAGE_COST_SOURCE]: 'local',
    });
    // OTel JS keeps up to 19 attributes in a fast object and gets markedly slower past that
    // (bench/README.md): the default attribute set of a priced call with cached input fits.
    expect(Object.keys(span!.attributes).length).toBeLessThanOrEqual(19);
  });

  test("costAttributes 'full': the breakdown by token kind, the pricing version and the gen_ai.usage.cost alias on the span", async () => {
    h.instrumentation.setConfig({ costAttributes: 'full' });
    try {
      h.fake.enqueue({ promptTokens: 1200, completionTokens: 300, cachedTokens: 1024 });
      await h.client.chat.completions.create({ model: 'gpt-4o-mini', messages: hello });
      const a = h.chatSpans()[0]!.attributes;
      const input = usd(1200 - 1024, GPT_4O_MINI.input);
      const cacheRead = usd(1024, GPT_4O_MINI.cachedInput);
      const output = usd(300, GPT_4O_MINI.output);
      expect(a[A.ATTR_SPENDTRACE_COST_INPUT]).toBe(input);
      expect(a[A.ATTR_SPENDTRACE_COST_CACHE_READ]).toBe(cacheRead);
      expect(a[A.ATTR_SPENDTRACE_COST_OUTPUT]).toBe(output);
      expect(a[A.ATTR_GEN_AI_USAGE_COST]).toBe(a[A.ATTR_GEN_AI_USAGE_COST_AMOUNT]);
      expect(a[A.ATTR_GEN_AI_USAGE_COST_AMOUNT]).toBe(0.0002832);
      expect(a[A.ATTR_SPENDTRACE_PRICING_VERSION]).toEqual(expect.stringContaining('genai-prices'));
    } finally {
      h.instrumentation.setConfig({});
    }
  });

  test('a price from the overrides puts its breakdown and version on the span even by default (nothing downstream can rebuild them)', async () => {
    h.instrumentation.setConfig({ pricing: { overrides: [{ provider: 'openai', model: 'acme-tuned-1', prices: { input_mtok: 2, output_mtok: 8 } }] } });
    try {
      h.fake.enqueue({ promptTokens: 1000, completionTokens: 500 });
      await h.client.chat.completions.create({ model: 'acme-tuned-1', messages: hello });
      const a = h.chatSpans()[0]!.attributes;
      expect(a[A.ATTR_GEN_AI_USAGE_COST_AMOUNT]).toBe(0.006); // 1000 × $2 + 500 × $8, per million
      expect(a[A.ATTR_SPENDTRACE_COST_INPUT]).toBe(0.002);
      expect(a[A.ATTR_SPENDTRACE_COST_OUTPUT]).toBe(0.004);
      expect(a[A.ATTR_SPENDTRACE_PRICING_VERSION]).toEqual(expect.stringContaining('overrides'));
      expect(a[A.ATTR_GEN_AI_USAGE_COST]).toBeUndefined();
    } finally {
      h.instrumentation.setConfig({});
    }
  });

  test('reasoning model: reasoning tokens counted inside output and priced at the output rate', async () => {
    h.fake.enqueue({ promptTokens: 500, completionTokens: 1500, reasoningTokens: 1200 });
    await h.client.chat.completions.create({ model: 'o3-mini', messages: hello });
    const a = h.chatSpans()[0]!.attributes;
    expect(a[A.ATTR_GEN_AI_RESPONSE_MODEL]).toBe('o3-mini-2025-01-31');
    expect(a[A.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]).toBe(1500);
    expect(a[A.ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS]).toBe(1200);
    expect(a[A.ATTR_GEN_AI_USAGE_COST_AMOUNT]).toBe(0.00715); // 500 × $1.10 + 1500 × $4.40, per million
  });

  test('tool_calls response records finish reason tool_calls', async () => {
    h.fake.enqueue({ toolCalls: [{ name: 'web_search', arguments: { q: 'otel' } }] });
    const r = await h.client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: hello,
      tools: [{ type: 'function', function: { name: 'web_search', parameters: {} } }],
    });
    expect(r.choices[0]!.message.tool_calls?.[0]).toMatchObject({ function: { name: 'web_search' } });
    expect(h.chatSpans()[0]!.attributes[A.ATTR_GEN_AI_RESPONSE_FINISH_REASONS]).toEqual(['tool_calls']);
  });

  test('unknown model is flagged unpriced, never $0', async () => {
    await h.client.chat.completions.create({ model: 'acme-private-7b', messages: hello });
    const a = h.chatSpans()[0]!.attributes;
    expect(a[A.ATTR_SPENDTRACE_COST_UNPRICED]).toBe(true);
    expect(a).not.toHaveProperty(A.ATTR_GEN_AI_USAGE_COST_AMOUNT);
    expect(a[A.ATTR_GEN_AI_USAGE_INPUT_TOKENS]).toBe(fakePromptTokens(hello)); // tokens are still recorded for repricing
  });

  test('same messages give the same request hash; different ones differ', async () => {
    await h.client.chat.completions.create({ model: 'gpt-4o-mini', messages: hello });
    await h.client.chat.completions.create({ model: 'gpt-4o-mini', messages: hello });
    await h.client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hellp' }] });
    const [a, b, c] = h.chatSpans().map((s) => s.attributes[A.ATTR_SPENDTRACE_REQUEST_HASH]);
    expect(a).toBe(b);
    expect(a).not.toBe(c);
  });
});

describe("return values are the SDK's own", () => {
  test('withResponse() gives data, the raw Response and the request id; the span has usage', async () => {
    h.fake.enqueue({ promptTokens: 40, completionTokens: 10 });
    const promise = h.client.chat.completions.create({ model: 'gpt-4o-mini', messages: hello });
    expect(promise.constructor.name).toBe('APIPromise');
    const { data, response, request_id } = await promise.withResponse();
    expect(data.usage?.prompt_tokens).toBe(40);
    expect(response.status).toBe(200);
    expect(request_id).toMatch(/^req_fake/);
    expect(h.chatSpans()[0]!.attributes[A.ATTR_GEN_AI_USAGE_COST_AMOUNT]).toBe(usd(40, 0.15) + usd(10, 0.6));
  });

  test('asResponse() leaves the body unread for the app; the span still gets usage from a clone', async () => {
    h.fake.enqueue({ promptTokens: 1000, completionTokens: 100 });
    const response = await h.client.chat.completions.create({ model: 'gpt-4o-mini', messages: hello }).asResponse();
    const json = (await response.json()) as { usage: { prompt_tokens: number } };
    expect(json.usage.prompt_tokens).toBe(1000);
    const [span] = await waitForSpans(1);
    expect(span!.attributes[A.ATTR_GEN_AI_USAGE_INPUT_TOKENS]).toBe(1000);
    expect(span!.attributes[A.ATTR_GEN_AI_USAGE_COST_AMOUNT]).toBe(0.00021);
  });
});

async function waitForSpans(n: number) {
  for (let i = 0; i < 200 && h.chatSpans().length < n; i++) await new Promise((r) => setTimeout(r, 5));
  return h.chatSpans();
}

/** The error class the SDK throws with no instrumentation at all, for comparison. */
async function uninstrumentedError(status: number): Promise<unknown> {
  h.instrumentation.disable();
  try {
    h.fake.enqueue({ fail: { status } });
    await h.client.chat.completions.create({ model: 'gpt-4o-mini', messages: hello }, { maxRetries: 0 });
  } catch (err) {
    return err;
  } finally {
    h.instrumentation.enable();
  }
  throw new Error('expected an error');
}

describe('errors', () => {
  test.each([
    [400, 'BadRequestError'],
    [401, 'AuthenticationError'],
    [500, 'InternalServerError'],
  ])('HTTP %i: the same SDK error class is thrown, and the span records error.type', async (status, className) => {
    const baseline = await uninstrumentedError(status);
    h.exporter.reset();
    h.fake.enqueue({ fail: { status } });
    const err = await h.client.chat.completions.create({ model: 'gpt-4o-mini', messages: hello }, { maxRetries: 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(openaiModule.APIError);
    expect((err as object).constructor).toBe((baseline as object).constructor);
    expect((err as object).constructor.name).toBe(className);
    expect((err as { status: number }).status).toBe(status);
    const [span] = h.chatSpans();
    expect(span!.status.code).toBe(SpanStatusCode.ERROR);
    expect(span!.attributes[A.ATTR_ERROR_TYPE]).toBe(className);
    expect(span!.attributes[A.ATTR_HTTP_RESPONSE_STATUS_CODE]).toBe(status);
    expect(span!.attributes).not.toHaveProperty(A.ATTR_GEN_AI_USAGE_COST_AMOUNT);
  });

  test('429 with retry-after: the SDK retries, one span records spendtrace.retry.attempt and the final usage', async () => {
    h.fake.enqueue({ fail: { status: 429, retryAfter: 0 } }, { promptTokens: 10, completionTokens: 5 });
    await h.client.chat.completions.create({ model: 'gpt-4o-mini', messages: hello });
    expect(h.fake.requests).toHaveLength(2);
    expect(h.fake.requests[1]!.headers['x-stainless-retry-count']).toBe('1');
    const spans = h.chatSpans();
    expect(spans).toHaveLength(1);
    expect(spans[0]!.attributes[A.ATTR_SPENDTRACE_RETRY_ATTEMPT]).toBe(1);
    expect(spans[0]!.attributes[A.ATTR_GEN_AI_USAGE_INPUT_TOKENS]).toBe(10);
    expect(spans[0]!.attributes).not.toHaveProperty(A.ATTR_ERROR_TYPE);
  });

  test('429 when retries run out: RateLimitError and error.type', async () => {
    h.fake.enqueue({ fail: { status: 429, retryAfter: 0 } });
    const err = await h.client.chat.completions.create({ model: 'gpt-4o-mini', messages: hello }, { maxRetries: 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(openaiModule.RateLimitError);
    expect(h.chatSpans()[0]!.attributes[A.ATTR_ERROR_TYPE]).toBe('RateLimitError');
  });

  test('a 200 whose body does not parse: the app gets the same error as without instrumentation, the span records it and no rejection goes unhandled', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      h.instrumentation.disable();
      let baseline: unknown;
      try {
        h.fake.enqueue({ truncatedBody: true });
        baseline = await h.client.chat.completions.create({ model: 'gpt-4o-mini', messages: hello }, { maxRetries: 0 }).catch((e: unknown) => e);
      } finally {
        h.instrumentation.enable();
      }
      expect(baseline).toBeInstanceOf(Error);
      h.exporter.reset();
      h.fake.enqueue({ truncatedBody: true });
      const err = await h.client.chat.completions.create({ model: 'gpt-4o-mini', messages: hello }, { maxRetries: 0 }).catch((e: unknown) => e);
      expect((err as object).constructor).toBe((baseline as object).constructor);
      expect((err as Error).message).toBe((baseline as Error).message);
      await new Promise((resolve) => setImmediate(resolve));
      const [span, ...rest] = h.chatSpans();
      expect(rest).toHaveLength(0);
      expect(span!.status.code).toBe(SpanStatusCode.ERROR);
      expect(span!.attributes[A.ATTR_ERROR_TYPE]).toBe((baseline as Error).name);
      expect(span!.attributes).not.toHaveProperty(A.ATTR_GEN_AI_USAGE_COST_AMOUNT);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  test('connection refused: APIConnectionError recorded', async () => {
    const dead = new OpenAI({ baseURL: 'http://127.0.0.1:1/v1', apiKey: 'k', maxRetries: 0 });
    const err = await dead.chat.completions.create({ model: 'gpt-4o-mini', messages: hello }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(openaiModule.APIConnectionError);
    expect(h.chatSpans()[0]!.attributes[A.ATTR_ERROR_TYPE]).toBe('APIConnectionError');
  });
});

describe('lifecycle', () => {
  test('disable() restores the original create method; enable() patches again', async () => {
    const proto = OpenAI.Chat.Completions.prototype as unknown as { create: { __original?: unknown } };
    expect(isWrapped(proto.create)).toBe(true);
    const original = proto.create.__original;
    h.instrumentation.disable();
    try {
      expect(proto.create).toBe(original);
      await h.client.chat.completions.create({ model: 'gpt-4o-mini', messages: hello });
      expect(h.chatSpans()).toHaveLength(0);
    } finally {
      h.instrumentation.enable();
    }
    expect(isWrapped(proto.create)).toBe(true);
    await h.client.chat.completions.create({ model: 'gpt-4o-mini', messages: hello });
    expect(h.chatSpans()).toHaveLength(1);
  });
});

describe('the context the SDK runs in', () => {
  test("inside the call the chat span is active, the caller's baggage and values still read, and contexts derived from it keep both", async () => {
    const key = createContextKey('app value');
    const seen: Array<Record<string, unknown>> = [];
    const client = new OpenAI({
      baseURL: h.fake.url,
      apiKey: 'test-key',
      // The SDK's fetch option runs inside the call: what an HTTP instrumentation would see.
      fetch: (url, init) => {
        const active = context.active();
        const derived = active.setValue(createContextKey('http'), 1);
        seen.push({
          span: trace.getSpan(active)?.spanContext().spanId,
          derivedSpan: trace.getSpan(derived)?.spanContext().spanId,
          baggage: propagation.getBaggage(active)?.getEntry('tenant')?.value,
          appValue: active.getValue(key),
          derivedAppValue: derived.getValue(key),
          deleted: trace.getSpan(active.deleteValue(key))?.spanContext().spanId,
        });
        return fetch(url, init);
      },
    });
    const parent = propagation.setBaggage(context.active().setValue(key, 'kept'), propagation.createBaggage({ tenant: { value: 'acme' } }));
    await context.with(parent, () => client.chat.completions.create({ model: 'gpt-4o-mini', messages: hello }));
    const spanId = h.chatSpans()[0]!.spanContext().spanId;
    expect(seen).toEqual([{ span: spanId, derivedSpan: spanId, baggage: 'acme', appValue: 'kept', derivedAppValue: 'kept', deleted: spanId }]);
  });
});
