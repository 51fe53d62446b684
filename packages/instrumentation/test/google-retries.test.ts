// Proves @google/genai's own retries (httpOptions.retryOptions) are visible on the one generate_content span: one spendtrace.retry event per retry and spendtrace.retry.attempt, also when the call finally fails.
import { SpanStatusCode } from '@opentelemetry/api';
import * as A from '@spendtrace/semconv';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { nano, PRICES, providersHarness, usd, type ProvidersHarness } from './fixtures/providers-harness.ts';

let h: ProvidersHarness;
const exhausted = { error: { status: 429, rpcStatus: 'RESOURCE_EXHAUSTED' } };
const unavailable = { error: { status: 503, rpcStatus: 'UNAVAILABLE' } };

beforeAll(async () => {
  h = await providersHarness();
});
afterEach(() => h.reset());
afterAll(() => h.close());

const retryEvents = (s: { events: Array<{ name: string; attributes?: Record<string, unknown> }> }) =>
  s.events.filter((e) => e.name === A.EVENT_SPENDTRACE_RETRY).map((e) => e.attributes);

describe('@google/genai retries', () => {
  it('429 then 503 then success: one priced span, two retry events, spendtrace.retry.attempt = 2', async () => {
    h.geminiFake.enqueue(exhausted, unavailable, { generate: { usage: { promptTokenCount: 100, candidatesTokenCount: 10 } } });
    await h.gemini(5).models.generateContent({ model: 'gemini-2.5-flash', contents: 'hi' });
    const spans = await h.spans();
    expect(spans).toHaveLength(1);
    expect(h.geminiFake.requests).toHaveLength(3);
    expect(retryEvents(spans[0]!)).toEqual([
      { [A.ATTR_SPENDTRACE_RETRY_ATTEMPT]: 1, [A.ATTR_HTTP_RESPONSE_STATUS_CODE]: 429, [A.ATTR_ERROR_TYPE]: '429' },
      { [A.ATTR_SPENDTRACE_RETRY_ATTEMPT]: 2, [A.ATTR_HTTP_RESPONSE_STATUS_CODE]: 503, [A.ATTR_ERROR_TYPE]: '503' },
    ]);
    expect(spans[0]!.attributes[A.ATTR_SPENDTRACE_RETRY_ATTEMPT]).toBe(2);
    expect(nano(spans[0]!.attributes[A.ATTR_GEN_AI_USAGE_COST_AMOUNT])).toBe(
      nano(usd(100, PRICES['gemini-2.5-flash'].input) + usd(10, PRICES['gemini-2.5-flash'].output)),
    );
  });

  it('retries exhausted: the failed span carries the retry count and events', async () => {
    h.geminiFake.enqueue(exhausted, exhausted, exhausted);
    await expect(h.gemini(3).models.generateContent({ model: 'gemini-2.5-flash', contents: 'hi' })).rejects.toThrow();
    const [span, ...rest] = await h.spans();
    expect(rest).toHaveLength(0);
    expect(span!.status.code).toBe(SpanStatusCode.ERROR);
    expect(span!.attributes[A.ATTR_ERROR_TYPE]).toBe('RESOURCE_EXHAUSTED');
    expect(span!.attributes[A.ATTR_SPENDTRACE_RETRY_ATTEMPT]).toBe(2);
    expect(retryEvents(span!).map((e) => e?.[A.ATTR_SPENDTRACE_RETRY_ATTEMPT])).toEqual([1, 2]);
  });

  it('retries of a stream are counted too', async () => {
    h.geminiFake.enqueue(unavailable, { generate: { chunks: 2, usage: { promptTokenCount: 10, candidatesTokenCount: 4 } } });
    for await (const _ of await h.gemini(3).models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'hi' })) void _;
    const [span] = await h.spans();
    expect(span!.attributes[A.ATTR_SPENDTRACE_RETRY_ATTEMPT]).toBe(1);
    expect(retryEvents(span!)).toHaveLength(1);
  });
});
