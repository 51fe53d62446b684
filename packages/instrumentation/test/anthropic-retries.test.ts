// Proves the Anthropic SDK's internal retries are visible: one spendtrace.retry event per retry (status, error.type of the failed attempt) and spendtrace.retry.attempt on the one span, also when the call finally fails; native tracing on and off.
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import * as A from '@spendtrace/semconv';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { nano, PRICES, providersHarness, usd, type ProvidersHarness } from './fixtures/providers-harness.ts';

let h: ProvidersHarness;
const user = [{ role: 'user' as const, content: 'What is 2+2?' }];
const rateLimited = { error: { status: 429, type: 'rate_limit_error', retryAfter: 1, retryAfterMs: 2 } };
const overloaded = { error: { status: 529, type: 'overloaded_error', retryAfterMs: 2 } };

beforeAll(async () => {
  h = await providersHarness();
  vi.spyOn(console, 'warn').mockImplementation(() => {});
});
afterEach(() => h.reset());
afterAll(() => h.close());

const retryEvents = (s: { events: Array<{ name: string; attributes?: Record<string, unknown> }> }) =>
  s.events.filter((e) => e.name === A.EVENT_SPENDTRACE_RETRY).map((e) => e.attributes);

for (const native of [false, true]) {
  describe(`anthropic retries, native tracing ${native ? 'on' : 'off'}`, () => {
    it('a 429 then a 529 then success: one priced span, two retry events, spendtrace.retry.attempt = 2', async () => {
      h.anthropicFake.enqueue(rateLimited, overloaded, { message: { usage: { input_tokens: 10, output_tokens: 5 } } });
      await h.anthropic(native, 3).messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: user });
      const llm = (await h.spans()).filter((s) => s.kind === SpanKind.CLIENT);
      expect(llm).toHaveLength(1);
      expect(h.anthropicFake.requests).toHaveLength(3);
      const [span] = llm;
      expect(span!.name).toBe(native ? 'anthropic.messages.create' : 'chat claude-sonnet-4-5');
      expect(retryEvents(span!)).toEqual([
        { [A.ATTR_SPENDTRACE_RETRY_ATTEMPT]: 1, [A.ATTR_HTTP_RESPONSE_STATUS_CODE]: 429, [A.ATTR_ERROR_TYPE]: '429' },
        { [A.ATTR_SPENDTRACE_RETRY_ATTEMPT]: 2, [A.ATTR_HTTP_RESPONSE_STATUS_CODE]: 529, [A.ATTR_ERROR_TYPE]: '529' },
      ]);
      expect(span!.attributes[A.ATTR_SPENDTRACE_RETRY_ATTEMPT]).toBe(2);
      expect(nano(span!.attributes[A.ATTR_GEN_AI_USAGE_COST_AMOUNT])).toBe(
        nano(usd(10, PRICES['claude-sonnet-4-5'].input) + usd(5, PRICES['claude-sonnet-4-5'].output)),
      );
    });

    it('retries exhausted: the failed span still carries spendtrace.retry.attempt and one event per retry', async () => {
      h.anthropicFake.enqueue(rateLimited, rateLimited, rateLimited);
      await expect(h.anthropic(native, 2).messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: user })).rejects.toThrow();
      const [span, ...rest] = (await h.spans()).filter((s) => s.kind === SpanKind.CLIENT);
      expect(rest).toHaveLength(0);
      expect(span!.status.code).toBe(SpanStatusCode.ERROR);
      expect(span!.attributes[A.ATTR_ERROR_TYPE]).toBe('rate_limit_error');
      expect(span!.attributes[A.ATTR_SPENDTRACE_RETRY_ATTEMPT]).toBe(2);
      expect(retryEvents(span!).map((e) => e?.[A.ATTR_SPENDTRACE_RETRY_ATTEMPT])).toEqual([1, 2]);
      expect(span!.attributes[A.ATTR_GEN_AI_USAGE_COST_AMOUNT]).toBeUndefined();
    });

    it('a call without retries has no retry event or attribute', async () => {
      await h.anthropic(native, 2).messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: user });
      const [span] = (await h.spans()).filter((s) => s.kind === SpanKind.CLIENT);
      expect(retryEvents(span!)).toEqual([]);
      expect(span!.attributes[A.ATTR_SPENDTRACE_RETRY_ATTEMPT]).toBeUndefined();
    });
  });
}
