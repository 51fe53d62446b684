// Proves the openai SDK's internal retries are visible like Anthropic's and Gemini's: one spendtrace.retry event per retry (status, error.type of the failed attempt) and spendtrace.retry.attempt on the one span, also when the call finally fails; chat, Responses and streams.
import { describe, expect, test } from 'vitest';
import { SpanStatusCode } from '@opentelemetry/api';
import { isWrapped } from '@opentelemetry/instrumentation';
import * as A from '@spendtrace/semconv';
import { OpenAI, openaiModule, usd, useHarness } from './setup.ts';

const h = useHarness();

const hello = [{ role: 'user' as const, content: 'hello' }];
// retry-after: 0 keeps the SDK's backoff out of the test's run time.
const rateLimited = { fail: { status: 429, retryAfter: 0 } };
const serverError = { fail: { status: 500, retryAfter: 0 } };

const retryEvents = (s: { events: Array<{ name: string; attributes?: Record<string, unknown> }> }) =>
  s.events.filter((e) => e.name === A.EVENT_SPENDTRACE_RETRY).map((e) => e.attributes);

describe('openai retries', () => {
  test('429 then 500 then success: one priced span, two retry events, spendtrace.retry.attempt = 2', async () => {
    h.fake.enqueue(rateLimited, serverError, { promptTokens: 100, completionTokens: 20 });
    await h.client.chat.completions.create({ model: 'gpt-4o-mini', messages: hello }, { maxRetries: 3 });
    expect(h.fake.requests).toHaveLength(3);
    const spans = h.chatSpans();
    expect(spans).toHaveLength(1);
    const [span] = spans;
    expect(retryEvents(span!)).toEqual([
      { [A.ATTR_SPENDTRACE_RETRY_ATTEMPT]: 1, [A.ATTR_HTTP_RESPONSE_STATUS_CODE]: 429, [A.ATTR_ERROR_TYPE]: '429' },
      { [A.ATTR_SPENDTRACE_RETRY_ATTEMPT]: 2, [A.ATTR_HTTP_RESPONSE_STATUS_CODE]: 500, [A.ATTR_ERROR_TYPE]: '500' },
    ]);
    expect(span!.attributes[A.ATTR_SPENDTRACE_RETRY_ATTEMPT]).toBe(2);
    expect(span!.attributes).not.toHaveProperty(A.ATTR_ERROR_TYPE);
    expect(span!.status.code).not.toBe(SpanStatusCode.ERROR);
    expect(span!.attributes[A.ATTR_GEN_AI_USAGE_COST_AMOUNT]).toBe(usd(100, 0.15) + usd(20, 0.6));
  });

  test('retries exhausted: the failed span carries spendtrace.retry.attempt, one event per retry, error.type and no cost', async () => {
    h.fake.enqueue(rateLimited, rateLimited, rateLimited);
    const err = await h.client.chat.completions.create({ model: 'gpt-4o-mini', messages: hello }, { maxRetries: 2 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(openaiModule.RateLimitError);
    expect(h.fake.requests).toHaveLength(3);
    const [span, ...rest] = h.chatSpans();
    expect(rest).toHaveLength(0);
    expect(span!.status.code).toBe(SpanStatusCode.ERROR);
    expect(span!.attributes[A.ATTR_ERROR_TYPE]).toBe('RateLimitError');
    expect(span!.attributes[A.ATTR_HTTP_RESPONSE_STATUS_CODE]).toBe(429);
    expect(span!.attributes[A.ATTR_SPENDTRACE_RETRY_ATTEMPT]).toBe(2);
    expect(retryEvents(span!).map((e) => e?.[A.ATTR_SPENDTRACE_RETRY_ATTEMPT])).toEqual([1, 2]);
    expect(span!.attributes).not.toHaveProperty(A.ATTR_GEN_AI_USAGE_COST_AMOUNT);
  });

  test("a refused connection before the retry is recorded as the event's error.type", async () => {
    // Port 1 refuses connections: both attempts fail, the first one is the retry event's cause.
    const dead = new openaiModule.OpenAI({ baseURL: 'http://127.0.0.1:1/v1', apiKey: 'k', maxRetries: 1 });
    const err = await dead.chat.completions.create({ model: 'gpt-4o-mini', messages: hello }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(openaiModule.APIConnectionError);
    const [span] = h.chatSpans();
    expect(retryEvents(span!)).toEqual([{ [A.ATTR_SPENDTRACE_RETRY_ATTEMPT]: 1, [A.ATTR_ERROR_TYPE]: 'connection_error' }]);
    expect(span!.attributes[A.ATTR_SPENDTRACE_RETRY_ATTEMPT]).toBe(1);
  });

  test('a call without retries has no retry event or attribute', async () => {
    await h.client.chat.completions.create({ model: 'gpt-4o-mini', messages: hello });
    const [span] = h.chatSpans();
    expect(retryEvents(span!)).toEqual([]);
    expect(span!.attributes).not.toHaveProperty(A.ATTR_SPENDTRACE_RETRY_ATTEMPT);
  });

  test('Responses API and streams: retries counted on their span too', async () => {
    h.fake.enqueue(serverError, {});
    await h.client.responses.create({ model: 'gpt-4o-mini', input: 'hi' }, { maxRetries: 2 });
    h.fake.enqueue(rateLimited, {});
    const stream = await h.client.chat.completions.create(
      { model: 'gpt-4o-mini', messages: hello, stream: true, stream_options: { include_usage: true } },
      { maxRetries: 2 },
    );
    for await (const _ of stream) void _;
    const [responses, chat] = h.chatSpans();
    expect(responses!.attributes[A.ATTR_OPENAI_API_TYPE]).toBe('responses');
    expect(retryEvents(responses!)).toEqual([{ [A.ATTR_SPENDTRACE_RETRY_ATTEMPT]: 1, [A.ATTR_HTTP_RESPONSE_STATUS_CODE]: 500, [A.ATTR_ERROR_TYPE]: '500' }]);
    expect(chat!.attributes[A.ATTR_GEN_AI_REQUEST_STREAM]).toBe(true);
    expect(retryEvents(chat!)).toEqual([{ [A.ATTR_SPENDTRACE_RETRY_ATTEMPT]: 1, [A.ATTR_HTTP_RESPONSE_STATUS_CODE]: 429, [A.ATTR_ERROR_TYPE]: '429' }]);
    expect(chat!.attributes[A.ATTR_SPENDTRACE_RETRY_ATTEMPT]).toBe(1);
  });
});

describe('how retries are seen', () => {
  test("through the client prototype's shouldRetry and retryRequest: the client's own fetch and the SDK's fetch dispatch hooks (fetchWithTimeout, fetchWithAuth, which openai 7 checks) stay untouched; disable() puts the prototype back", async () => {
    const ownFetch: typeof fetch = (url, init) => fetch(url, init);
    const client = new OpenAI({ baseURL: h.fake.url, apiKey: 'test-key', fetch: ownFetch });
    const proto = openaiModule.OpenAI.prototype as unknown as Record<string, unknown>;
    const fetchOf = () => (client as unknown as { fetch: unknown }).fetch; // a private field of the SDK
    expect(isWrapped(proto.fetchWithTimeout)).toBe(false);
    expect(isWrapped(proto.fetchWithAuth)).toBe(false);
    expect(isWrapped(proto.shouldRetry)).toBe(true);
    expect(isWrapped(proto.retryRequest)).toBe(true);
    h.fake.enqueue(rateLimited, { promptTokens: 10, completionTokens: 2 });
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages: hello }, { maxRetries: 1 });
    expect(h.chatSpans()[0]!.attributes[A.ATTR_SPENDTRACE_RETRY_ATTEMPT]).toBe(1);
    expect(fetchOf()).toBe(ownFetch);
    expect(Object.hasOwn(client, 'fetchWithTimeout')).toBe(false);
    h.instrumentation.disable();
    try {
      expect(isWrapped(proto.shouldRetry)).toBe(false);
      expect(isWrapped(proto.retryRequest)).toBe(false);
    } finally {
      h.instrumentation.enable();
    }
  });

  test('a retry outside any instrumented call (no span of ours active) is left alone', async () => {
    h.fake.enqueue(rateLimited, { promptTokens: 5, completionTokens: 1 });
    // The client's raw `post` bypasses the instrumented resources: its retry must neither throw
    // nor be counted anywhere.
    const raw = await h.client.post('/chat/completions', { body: { model: 'gpt-4o-mini', messages: hello }, maxRetries: 1 });
    expect((raw as { usage?: { prompt_tokens?: number } }).usage?.prompt_tokens).toBe(5);
    expect(h.fake.requests).toHaveLength(2);
    expect(h.chatSpans()).toHaveLength(0);
  });
});
