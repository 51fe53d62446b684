// Proves `stream: true` calls keep the SDK's Stream behaviour (break, abort, tee, toReadableStream, errors) and always end their span with usage: reported, injected or estimated.
import { describe, expect, test } from 'vitest';
import { SpanStatusCode } from '@opentelemetry/api';
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import * as A from '@spendtrace/semconv';
import { usd, useHarness, waitFor } from './setup.ts';

const h = useHarness();

const messages = [
  { role: 'system' as const, content: 'You are terse.' },
  { role: 'user' as const, content: 'Tell me about foxes.' },
];
const CONTENT = 'The quick brown fox jumps over the lazy dog, twice.';

const oneSpan = () => waitFor(() => h.chatSpans()[0]);

describe('streaming', () => {
  test('with include_usage: usage from the final chunk, exact cost, chunks unchanged', async () => {
    h.fake.enqueue({ promptTokens: 2000, completionTokens: 400, cachedTokens: 1500, content: CONTENT, chunks: 6 });
    const stream = await h.client.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true, stream_options: { include_usage: true } });
    expect(stream.controller).toBeInstanceOf(AbortController);
    let text = '';
    let usageChunks = 0;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      if (chunk.usage) usageChunks++;
    }
    expect(text).toBe(CONTENT);
    expect(usageChunks).toBe(1);
    const span = await oneSpan();
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    const a = span.attributes;
    expect(a[A.ATTR_GEN_AI_REQUEST_STREAM]).toBe(true);
    expect(a[A.ATTR_GEN_AI_RESPONSE_MODEL]).toBe('gpt-4o-mini-2024-07-18');
    expect(a[A.ATTR_GEN_AI_RESPONSE_FINISH_REASONS]).toEqual(['stop']);
    expect(a[A.ATTR_GEN_AI_USAGE_INPUT_TOKENS]).toBe(2000);
    expect(a[A.ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS]).toBe(1500);
    expect(a[A.ATTR_GEN_AI_USAGE_COST_AMOUNT]).toBe(0.0004275); // 500 × $0.15 + 1500 × $0.075 + 400 × $0.60, per million
    expect(a[A.ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK]).toBeTypeOf('number');
    expect(a).not.toHaveProperty(A.ATTR_SPENDTRACE_USAGE_ESTIMATED);
  });

  test('without include_usage: the request is not changed, tokens are counted locally and marked estimated', async () => {
    h.fake.enqueue({ content: CONTENT });
    const stream = await h.client.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text).toBe(CONTENT);
    expect(h.fake.requests[0]!.body.stream_options).toBeUndefined();
    const a = (await oneSpan()).attributes;
    expect(a[A.ATTR_SPENDTRACE_USAGE_ESTIMATED]).toBe(true);
    const output = countTokens(CONTENT);
    // OpenAI's counting recipe: 3 per message (+ role and content tokens), 3 to prime the reply.
    const input = 3 + messages.reduce((n, m) => n + 3 + countTokens(m.role) + countTokens(m.content), 0);
    expect(a[A.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]).toBe(output);
    expect(a[A.ATTR_GEN_AI_USAGE_INPUT_TOKENS]).toBe(input);
    expect(a[A.ATTR_GEN_AI_USAGE_COST_AMOUNT]).toBe(Number(A.usdToPico(usd(input, 0.15)) + A.usdToPico(usd(output, 0.6))) / 1e12);
  });

  test("streamUsage: 'inject' asks for usage and hides the extra usage chunk from the app", async () => {
    h.instrumentation.setConfig({ streamUsage: 'inject' });
    try {
      h.fake.enqueue({ promptTokens: 77, completionTokens: 11, content: CONTENT });
      const stream = await h.client.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true });
      const chunks = [];
      for await (const chunk of stream) chunks.push(chunk);
      expect(chunks.every((c) => c.choices.length === 1)).toBe(true);
      expect(h.fake.requests[0]!.body.stream_options).toEqual({ include_usage: true });
      const a = (await oneSpan()).attributes;
      expect(a[A.ATTR_GEN_AI_USAGE_INPUT_TOKENS]).toBe(77);
      expect(a).not.toHaveProperty(A.ATTR_SPENDTRACE_USAGE_ESTIMATED);
    } finally {
      h.instrumentation.setConfig({});
    }
  });

  test('early break ends the span without an error and aborts the request', async () => {
    h.fake.enqueue({ content: CONTENT, chunks: 8, chunkDelayMs: 5 });
    const stream = await h.client.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true, stream_options: { include_usage: true } });
    let seen = 0;
    for await (const _chunk of stream) {
      if (++seen === 2) break;
    }
    expect(stream.controller.signal.aborted).toBe(true);
    const span = await oneSpan();
    expect(span.attributes).not.toHaveProperty(A.ATTR_ERROR_TYPE);
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    // The final usage chunk never came: the partial output is counted locally.
    expect(span.attributes[A.ATTR_SPENDTRACE_USAGE_ESTIMATED]).toBe(true);
    expect(span.attributes[A.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]).toBeLessThan(countTokens(CONTENT));
  });

  test('controller.abort() mid-stream ends the loop as the SDK does and records error.type', async () => {
    h.fake.enqueue({ content: CONTENT, chunks: 8, chunkDelayMs: 5 });
    const stream = await h.client.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true });
    let seen = 0;
    for await (const _chunk of stream) {
      if (++seen === 2) stream.controller.abort();
    }
    expect(seen).toBeLessThan(8);
    const span = await oneSpan();
    expect(span.attributes[A.ATTR_ERROR_TYPE]).toBe('APIUserAbortError');
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
  });

  test('controller.abort() before iterating ends the span too', async () => {
    const stream = await h.client.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true });
    stream.controller.abort();
    const span = await oneSpan();
    expect(span.attributes[A.ATTR_ERROR_TYPE]).toBe('APIUserAbortError');
  });

  test('connection dropped mid-stream: the app gets the SDK error, the span records error.type and ends', async () => {
    h.fake.enqueue({ content: CONTENT, chunks: 8, destroyAfterChunks: 3 });
    const stream = await h.client.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true });
    let seen = 0;
    const err = await (async () => {
      for await (const _chunk of stream) seen++;
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(seen).toBe(3);
    const span = await oneSpan();
    expect(span.attributes[A.ATTR_ERROR_TYPE]).toBe((err as Error).constructor.name);
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
  });

  test('tee(): both branches see every chunk, one span with usage', async () => {
    h.fake.enqueue({ promptTokens: 30, completionTokens: 12, content: CONTENT });
    const stream = await h.client.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true, stream_options: { include_usage: true } });
    const [left, right] = stream.tee();
    const read = async (s: typeof left) => {
      let n = 0;
      for await (const _c of s) n++;
      return n;
    };
    const [l, r] = await Promise.all([read(left), read(right)]);
    expect(l).toBe(r);
    expect(l).toBeGreaterThan(2);
    const spans = await waitFor(() => (h.chatSpans().length ? h.chatSpans() : undefined));
    expect(spans).toHaveLength(1);
    expect(spans[0]!.attributes[A.ATTR_GEN_AI_USAGE_INPUT_TOKENS]).toBe(30);
  });

  test('toReadableStream(): the NDJSON stream carries the chunks and the span ends with usage', async () => {
    h.fake.enqueue({ promptTokens: 31, completionTokens: 13, content: CONTENT });
    const stream = await h.client.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true, stream_options: { include_usage: true } });
    const text = await new Response(stream.toReadableStream()).text();
    expect(text.trim().split('\n').length).toBeGreaterThan(2);
    const span = await oneSpan();
    expect(span.attributes[A.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]).toBe(13);
  });

  test('streamed tool calls: finish reason and estimated output include the call', async () => {
    h.fake.enqueue({ toolCalls: [{ name: 'lookup', arguments: { city: 'Paris' } }] });
    const stream = await h.client.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true });
    for await (const _c of stream);
    const a = (await oneSpan()).attributes;
    expect(a[A.ATTR_GEN_AI_RESPONSE_FINISH_REASONS]).toEqual(['tool_calls']);
    expect(a[A.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]).toBe(countTokens('lookup') + countTokens('{"city":"Paris"}'));
  });
});
