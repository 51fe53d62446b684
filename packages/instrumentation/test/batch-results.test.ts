// Proves recordBatchResults turns OpenAI Batch output lines and Anthropic Message Batch results into one priced span per line at the published 50% batch discount (costs exact), marked spendtrace.batch, attributed to the active task; failed lines are unbilled error spans.
import { readFileSync } from 'node:fs';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import * as A from '@spendtrace/semconv';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { recordBatchResults, withTask } from '../src/index.ts';
import { setup, type Harness } from './setup.ts';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/batch/${name}`, import.meta.url), 'utf8');
const openaiOutput = fixture('openai-batch-output.jsonl');
const openaiInput = fixture('openai-batch-input.jsonl');
const anthropicResults = fixture('anthropic-batch-results.jsonl');

// Published list prices, USD per 1M tokens, and the Batch API's half of them.
// gpt-4o-mini: $0.15 input, $0.075 cached input, $0.60 output -> batch $0.075 / $0.0375 / $0.30.
// text-embedding-3-small: $0.02 -> batch $0.01. claude-sonnet-4-5: $3 input, $0.30 cache read, $15 output -> $1.50 / $0.15 / $7.50.
const CHAT = 0.0001416; // (176 × 0.075 + 1024 × 0.0375 + 300 × 0.30) / 1e6
const RESPONSES = 0.000135; // (1000 × 0.075 + 200 × 0.30) / 1e6
const EMBEDDINGS = 0.005; // 500,000 × 0.01 / 1e6
const CLAUDE = 0.00555; // (1000 × 1.50 + 2000 × 0.15 + 500 × 7.50) / 1e6
const nano = (usd: unknown) => Math.round((usd as number) * 1e9);

let h: Harness;
beforeAll(async () => {
  h = await setup({ costAttributes: 'full' }); // the breakdown is checked on the span
});
afterAll(() => h.close());
beforeEach(() => h.exporter.reset());

const batchSpans = () => h.spans().filter((s) => s.attributes[A.ATTR_SPENDTRACE_BATCH] === true);

describe('recordBatchResults: OpenAI Batch output file', () => {
  test('one span per line by the body it holds (chat, responses, embeddings), priced at half the catalogue rate', () => {
    const summary = recordBatchResults(openaiOutput);
    expect(summary).toEqual({ spans: 5, failed: 2, unpriced: 0, skipped: 0, costUsd: CHAT + RESPONSES + EMBEDDINGS });
    const [chat, responses, embeddings] = batchSpans();
    expect(chat!.name).toBe('chat gpt-4o-mini-2024-07-18');
    expect(chat!.kind).toBe(SpanKind.CLIENT);
    expect(chat!.attributes).toEqual({
      [A.ATTR_GEN_AI_OPERATION_NAME]: 'chat',
      [A.ATTR_GEN_AI_PROVIDER_NAME]: 'openai',
      [A.ATTR_OPENAI_API_TYPE]: 'chat_completions',
      [A.ATTR_SPENDTRACE_BATCH]: true,
      [A.ATTR_SPENDTRACE_BATCH_CUSTOM_ID]: 'classify-1',
      [A.ATTR_GEN_AI_RESPONSE_MODEL]: 'gpt-4o-mini-2024-07-18',
      [A.ATTR_GEN_AI_RESPONSE_ID]: 'chatcmpl-B1',
      [A.ATTR_GEN_AI_RESPONSE_FINISH_REASONS]: ['stop'],
      [A.ATTR_GEN_AI_USAGE_INPUT_TOKENS]: 1200,
      [A.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: 300,
      [A.ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS]: 1024,
      [A.ATTR_GEN_AI_USAGE_COST_AMOUNT]: CHAT,
      [A.ATTR_GEN_AI_USAGE_COST]: CHAT,
      [A.ATTR_GEN_AI_USAGE_COST_CURRENCY]: 'USD',
      [A.ATTR_GEN_AI_USAGE_COST_SOURCE]: 'local',
      [A.ATTR_SPENDTRACE_COST_INPUT]: 0.0000132,
      [A.ATTR_SPENDTRACE_COST_CACHE_READ]: 0.0000384,
      [A.ATTR_SPENDTRACE_COST_OUTPUT]: 0.00009,
      [A.ATTR_SPENDTRACE_PRICING_VERSION]: expect.stringContaining('genai-prices'),
    });
    expect(responses!.attributes[A.ATTR_OPENAI_API_TYPE]).toBe('responses');
    expect(responses!.attributes[A.ATTR_GEN_AI_USAGE_COST_AMOUNT]).toBe(RESPONSES);
    expect(embeddings!.name).toBe('embeddings text-embedding-3-small');
    expect(embeddings!.attributes[A.ATTR_GEN_AI_USAGE_COST_AMOUNT]).toBe(EMBEDDINGS);
  });

  test('failed and expired lines: error spans with error.type and no cost', () => {
    recordBatchResults(openaiOutput);
    const [, , , rejected, expired] = batchSpans();
    expect(rejected!.status.code).toBe(SpanStatusCode.ERROR);
    expect(rejected!.attributes[A.ATTR_ERROR_TYPE]).toBe('empty_array');
    expect(rejected!.attributes[A.ATTR_HTTP_RESPONSE_STATUS_CODE]).toBe(400);
    expect(expired!.attributes[A.ATTR_ERROR_TYPE]).toBe('batch_expired');
    for (const s of [rejected!, expired!]) expect(s.attributes).not.toHaveProperty(A.ATTR_GEN_AI_USAGE_COST_AMOUNT);
  });

  test('with the input file: gen_ai.request.model and the endpoint come from the matching request', () => {
    recordBatchResults(openaiOutput.split('\n'), { requests: openaiInput });
    const spans = batchSpans();
    expect(spans.map((s) => s.name)).toEqual([
      'chat gpt-4o-mini',
      'chat gpt-4o-mini',
      'embeddings text-embedding-3-small',
      'chat gpt-4o-mini',
      'chat gpt-4o-mini',
    ]);
    expect(spans.map((s) => s.attributes[A.ATTR_GEN_AI_REQUEST_MODEL])).toEqual([
      'gpt-4o-mini',
      'gpt-4o-mini',
      'text-embedding-3-small',
      'gpt-4o-mini',
      'gpt-4o-mini',
    ]);
    expect(spans[0]!.attributes[A.ATTR_GEN_AI_USAGE_COST_AMOUNT]).toBe(CHAT);
  });

  test('inside withTask: spans carry the task attribution and the cost counts toward the task', async () => {
    let cost = 0;
    await withTask({ name: 'nightly-classify', agent: 'classifier' }, async (task) => {
      recordBatchResults(openaiOutput.split('\n').map((l) => (l ? JSON.parse(l) : l)));
      cost = task.costUsd;
    });
    expect(nano(cost)).toBe(nano(CHAT + RESPONSES + EMBEDDINGS));
    const root = h.spans().find((s) => s.attributes[A.ATTR_SPENDTRACE_TASK_ROOT] === true)!;
    for (const s of batchSpans()) {
      expect(s.attributes[A.ATTR_SPENDTRACE_TASK_NAME]).toBe('nightly-classify');
      // The task is the trace: its id is not repeated on the spans inside it.
      expect(s.attributes).not.toHaveProperty(A.ATTR_SPENDTRACE_TASK_ID);
      expect(s.spanContext().traceId).toBe(root.attributes[A.ATTR_SPENDTRACE_TASK_ID]);
    }
  });

  test('lines that are not batch results are skipped, never thrown', () => {
    expect(recordBatchResults('not json\n{"foo":1}\n')).toEqual({ spans: 0, failed: 0, unpriced: 0, skipped: 2, costUsd: 0 });
  });
});

describe('recordBatchResults: Anthropic Message Batch results', () => {
  test('succeeded line priced at half the catalogue rate (cache reads too); errored, canceled and expired lines unbilled', () => {
    const summary = recordBatchResults(anthropicResults);
    expect(summary).toEqual({ spans: 4, failed: 3, unpriced: 0, skipped: 0, costUsd: CLAUDE });
    const [ok, errored, canceled, expired] = batchSpans();
    expect(ok!.name).toBe('chat claude-sonnet-4-5-20250929');
    expect(ok!.attributes).toMatchObject({
      [A.ATTR_GEN_AI_PROVIDER_NAME]: 'anthropic',
      [A.ATTR_SPENDTRACE_BATCH_CUSTOM_ID]: 'review-1',
      [A.ATTR_GEN_AI_RESPONSE_FINISH_REASONS]: ['end_turn'],
      [A.ATTR_GEN_AI_USAGE_INPUT_TOKENS]: 3000, // input_tokens excludes cache reads in Anthropic's usage
      [A.ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS]: 2000,
      [A.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: 500,
    });
    expect(nano(ok!.attributes[A.ATTR_GEN_AI_USAGE_COST_AMOUNT])).toBe(nano(CLAUDE));
    expect(errored!.attributes[A.ATTR_ERROR_TYPE]).toBe('invalid_request_error');
    expect(canceled!.attributes[A.ATTR_ERROR_TYPE]).toBe('canceled');
    expect(expired!.attributes[A.ATTR_ERROR_TYPE]).toBe('expired');
    for (const s of [errored!, canceled!, expired!]) expect(s.attributes).not.toHaveProperty(A.ATTR_GEN_AI_USAGE_COST_AMOUNT);
  });

  test('request params give gen_ai.request.model', () => {
    recordBatchResults(anthropicResults, {
      provider: 'anthropic',
      requests: [{ custom_id: 'review-1', params: { model: 'claude-sonnet-4-5', max_tokens: 1024, messages: [] } }],
    });
    expect(batchSpans()[0]!.name).toBe('chat claude-sonnet-4-5');
    expect(batchSpans()[0]!.attributes[A.ATTR_GEN_AI_REQUEST_MODEL]).toBe('claude-sonnet-4-5');
  });
});
