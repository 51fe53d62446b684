// Proves the Batch API discount end to end: a batch run through the real openai and @anthropic-ai/sdk SDKs over HTTP (upload, create, poll, download) and handed to recordBatchResults becomes one span per result line, priced at half the published rate to the nano-dollar and attributed to the task; the SDKs' file and batch management calls are never priced as inference.
import Anthropic from '@anthropic-ai/sdk';
import * as anthropicModule from '@anthropic-ai/sdk';
import type { MessageBatch, MessageBatchIndividualResponse } from '@anthropic-ai/sdk/resources/messages/batches';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import * as A from '@spendtrace/semconv';
import { startFakeAnthropic, type FakeAnthropicServer } from '@spendtrace/fake-providers';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { manuallyInstrument, recordBatchResults, withTask } from '../src/index.ts';
import { openaiModule, useHarness } from './setup.ts';

/** A USD amount in whole nano-dollars, so costs compare exactly. */
const nano = (usd: unknown) => Math.round((usd as number) * 1e9);
const jsonl = (lines: object[]) => lines.map((l) => `${JSON.stringify(l)}\n`).join('');
const lineCount = (text: string) => text.split('\n').filter(Boolean).length;

// Published list prices, USD per 1M tokens, and the Batch API's flat 50% off them (both providers
// halve input, cached input, cache writes and output in a batch).
// OpenAI (platform.openai.com/docs/pricing): gpt-4o-mini $0.15 input, $0.075 cached input, $0.60 output
//   -> batch $0.075 / $0.0375 / $0.30; text-embedding-3-small $0.02 -> batch $0.01.
// Anthropic (anthropic.com/pricing, docs "Batch processing" pricing): claude-sonnet-4-5 $3 input,
//   $0.30 cache read, $3.75 5-minute cache write, $15 output -> batch $1.50 / $0.15 / $1.875 / $7.50.
const CLASSIFY_1 = { input: 0.0000132, cacheRead: 0.0000384, output: 0.00009, total: 0.0001416 }; // (176 × 0.075 + 1024 × 0.0375 + 300 × 0.30) / 1e6, 176 = 1200 − 1024 uncached
const CLASSIFY_2 = 0.00018; // (2000 × 0.075 + 100 × 0.30) / 1e6
const REALTIME_CLASSIFY_1 = 0.0002832; // the same usage outside a batch: (176 × 0.15 + 1024 × 0.075 + 300 × 0.60) / 1e6 = 2 × CLASSIFY_1
const EMBED_1 = 0.0025; // 250,000 × 0.01 / 1e6
const EMBED_2 = 0.0005; // 50,000 × 0.01 / 1e6
const REVIEW_1 = 0.0063; // (1000 × 1.50 + 2000 × 0.15 + 400 × 1.875 + 500 × 7.50) / 1e6 = (1500 + 300 + 750 + 3750) / 1e6
const DEFAULT_REVIEW = 0.0027; // (800 × 1.50 + 200 × 7.50) / 1e6

const h = useHarness({ costAttributes: 'full' }); // the cost breakdown is checked on the span
let anthropicFake: FakeAnthropicServer;

beforeAll(async () => {
  // Both SDKs instrumented as an app would have them: the openai one by the harness, this one here.
  manuallyInstrument({ anthropic: anthropicModule }, h.instrumentation);
  anthropicFake = await startFakeAnthropic();
});
beforeEach(() => anthropicFake.reset());
afterAll(() => anthropicFake.close());

const batchSpans = () => h.spans().filter((s) => s.attributes[A.ATTR_SPENDTRACE_BATCH] === true);
const taskRoot = () => h.spans().find((s) => s.attributes[A.ATTR_SPENDTRACE_TASK_ROOT] === true)!;
const byCustomId = (spans: ReadableSpan[]) => Object.fromEntries(spans.map((s) => [s.attributes[A.ATTR_SPENDTRACE_BATCH_CUSTOM_ID] as string, s]));

type BatchEndpoint = '/v1/chat/completions' | '/v1/embeddings';

/**
 * What a user does with the openai SDK: upload the JSONL input, create the batch, poll it until it
 * is done, download the output file and the error file when there is one.
 */
async function runOpenAIBatch(input: string, endpoint: BatchEndpoint) {
  const { toFile } = openaiModule;
  const client = h.client;
  const file = await client.files.create({ file: await toFile(Buffer.from(input), 'batch-input.jsonl'), purpose: 'batch' });
  expect(file).toMatchObject({ object: 'file', purpose: 'batch', bytes: Buffer.byteLength(input) });
  // The fake keeps the batch in progress for one poll (`pendingPolls`), so the loop really polls.
  let batch = await client.batches.create(
    { input_file_id: file.id, endpoint, completion_window: '24h' },
    { headers: { 'x-fake-behavior': JSON.stringify({ pendingPolls: 1 }) } },
  );
  const statuses: string[] = [batch.status];
  for (let polls = 0; !['completed', 'failed', 'expired', 'cancelled'].includes(batch.status); polls++) {
    if (polls === 10) throw new Error(`batch ${batch.id} still ${batch.status}`);
    batch = await client.batches.retrieve(batch.id);
    statuses.push(batch.status);
  }
  const download = async (id: string | null | undefined) => (id ? (await client.files.content(id)).text() : '');
  return { batch, statuses, output: await download(batch.output_file_id), errors: await download(batch.error_file_id) };
}

describe('OpenAI Batch API through the openai SDK', () => {
  const CHAT_INPUT = [
    {
      custom_id: 'classify-1',
      method: 'POST',
      url: '/v1/chat/completions',
      body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Sentiment of: great product' }] },
    },
    {
      custom_id: 'classify-2',
      method: 'POST',
      url: '/v1/chat/completions',
      body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Sentiment of: arrived late' }] },
    },
    {
      custom_id: 'classify-3',
      method: 'POST',
      url: '/v1/chat/completions',
      body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Sentiment of: (a very long review)' }] },
    },
  ];

  test('a chat completions batch with a failing line: one span per line at half price, attributed to the task; the file and batch calls leave no span', async () => {
    const input = jsonl(CHAT_INPUT);
    // The fake runs each input line against itself, in order, with these behaviours.
    h.fake.enqueue(
      { promptTokens: 1200, completionTokens: 300, cachedTokens: 1024 },
      { promptTokens: 2000, completionTokens: 100 },
      { fail: { status: 400, message: "This model's maximum context length is 128000 tokens.", code: 'context_length_exceeded' } },
    );
    let taskCost = 0;
    let realtimeId = '';
    const { batch, statuses, output, errors, summary } = await withTask({ name: 'nightly-classify', agent: 'classifier' }, async (task) => {
      const run = await runOpenAIBatch(input, '/v1/chat/completions');
      // Both files handed over as downloaded, with the input file for the request models and endpoint.
      const summary = recordBatchResults(run.output + run.errors, { requests: input });
      // The same client's real-time call, same usage: traced and priced at the full rate.
      h.fake.enqueue({ promptTokens: 1200, completionTokens: 300, cachedTokens: 1024 });
      realtimeId = (await h.client.chat.completions.create({ model: 'gpt-4o-mini', messages: CHAT_INPUT[0]!.body.messages as any })).id;
      taskCost = task.costUsd;
      return { ...run, summary };
    });

    // The batch as the SDK saw it: created, polled while in progress, completed with both files.
    expect(statuses).toEqual(['validating', 'in_progress', 'completed']);
    expect(batch.request_counts).toEqual({ total: 3, completed: 2, failed: 1 });
    expect([lineCount(output), lineCount(errors)]).toEqual([2, 1]);
    expect(summary).toMatchObject({ spans: 3, failed: 1, unpriced: 0, skipped: 0 });
    expect(nano(summary.costUsd)).toBe(nano(CLASSIFY_1.total + CLASSIFY_2));

    const spans = byCustomId(batchSpans());
    expect(Object.keys(spans).sort()).toEqual(['classify-1', 'classify-2', 'classify-3']);
    const outputBodies = Object.fromEntries(
      output
        .split('\n')
        .filter(Boolean)
        .map((l) => [JSON.parse(l).custom_id, JSON.parse(l).response.body]),
    );
    const ok = spans['classify-1']!;
    expect(ok.name).toBe('chat gpt-4o-mini');
    expect(ok.kind).toBe(SpanKind.CLIENT);
    expect(ok.status.code).toBe(SpanStatusCode.UNSET);
    expect(ok.attributes).toEqual({
      [A.ATTR_GEN_AI_OPERATION_NAME]: 'chat',
      [A.ATTR_GEN_AI_PROVIDER_NAME]: 'openai',
      [A.ATTR_OPENAI_API_TYPE]: 'chat_completions',
      [A.ATTR_SPENDTRACE_BATCH]: true,
      [A.ATTR_SPENDTRACE_BATCH_CUSTOM_ID]: 'classify-1',
      [A.ATTR_SPENDTRACE_TASK_NAME]: 'nightly-classify',
      [A.ATTR_GEN_AI_AGENT_NAME]: 'classifier',
      [A.ATTR_GEN_AI_REQUEST_MODEL]: 'gpt-4o-mini',
      [A.ATTR_GEN_AI_RESPONSE_MODEL]: 'gpt-4o-mini-2024-07-18',
      [A.ATTR_GEN_AI_RESPONSE_ID]: outputBodies['classify-1'].id,
      [A.ATTR_GEN_AI_RESPONSE_FINISH_REASONS]: ['stop'],
      [A.ATTR_GEN_AI_USAGE_INPUT_TOKENS]: 1200,
      [A.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: 300,
      [A.ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS]: 1024,
      [A.ATTR_GEN_AI_USAGE_COST_AMOUNT]: CLASSIFY_1.total,
      [A.ATTR_GEN_AI_USAGE_COST]: CLASSIFY_1.total,
      [A.ATTR_GEN_AI_USAGE_COST_CURRENCY]: 'USD',
      [A.ATTR_GEN_AI_USAGE_COST_SOURCE]: 'local',
      [A.ATTR_SPENDTRACE_COST_INPUT]: CLASSIFY_1.input,
      [A.ATTR_SPENDTRACE_COST_CACHE_READ]: CLASSIFY_1.cacheRead,
      [A.ATTR_SPENDTRACE_COST_OUTPUT]: CLASSIFY_1.output,
      [A.ATTR_SPENDTRACE_PRICING_VERSION]: expect.stringContaining('genai-prices'),
    });
    expect(nano(spans['classify-2']!.attributes[A.ATTR_GEN_AI_USAGE_COST_AMOUNT])).toBe(nano(CLASSIFY_2));
    expect(spans['classify-2']!.attributes[A.ATTR_GEN_AI_USAGE_INPUT_TOKENS]).toBe(2000);

    // The line the API refused (from the error file): an error span, no usage, no cost.
    const refused = spans['classify-3']!;
    expect(refused.status.code).toBe(SpanStatusCode.ERROR);
    expect(refused.attributes).toMatchObject({
      [A.ATTR_ERROR_TYPE]: 'context_length_exceeded',
      [A.ATTR_HTTP_RESPONSE_STATUS_CODE]: 400,
      [A.ATTR_SPENDTRACE_TASK_NAME]: 'nightly-classify',
    });
    expect(refused.attributes).not.toHaveProperty(A.ATTR_GEN_AI_USAGE_COST_AMOUNT);
    expect(refused.attributes).not.toHaveProperty(A.ATTR_GEN_AI_USAGE_INPUT_TOKENS);

    // Attribution: every line is in the task's trace, and its cost counts toward the task's.
    const root = taskRoot();
    for (const s of Object.values(spans)) expect(s.spanContext().traceId).toBe(root.attributes[A.ATTR_SPENDTRACE_TASK_ID]);
    const realtime = h.chatSpans().find((s) => s.attributes[A.ATTR_GEN_AI_RESPONSE_ID] === realtimeId)!;
    expect(realtime.attributes).not.toHaveProperty(A.ATTR_SPENDTRACE_BATCH);
    expect(nano(realtime.attributes[A.ATTR_GEN_AI_USAGE_COST_AMOUNT])).toBe(nano(REALTIME_CLASSIFY_1));
    expect(nano(realtime.attributes[A.ATTR_GEN_AI_USAGE_COST_AMOUNT])).toBe(2 * nano(CLASSIFY_1.total));
    expect(nano(taskCost)).toBe(nano(CLASSIFY_1.total + CLASSIFY_2 + REALTIME_CLASSIFY_1));

    // The management calls really went over HTTP, and the (instrumented) SDK turned none of them into
    // a span: the task's spans are its root, the three batch lines and the real-time call, nothing else.
    const management = h.fake.requests
      .filter((r) => !r.headers['x-fake-batch-id'] && r.path !== '/v1/chat/completions')
      .map((r) => `${r.method} ${r.path.replace(/(file-|batch_)fake\d+/, '$1…')}`);
    expect(management).toEqual([
      'POST /v1/files',
      'POST /v1/batches',
      'GET /v1/batches/batch_…',
      'GET /v1/batches/batch_…',
      'GET /v1/files/file-…/content',
      'GET /v1/files/file-…/content',
    ]);
    const others = h.spans().filter((s) => s !== root);
    expect(others.map((s) => s.name)).toEqual(['chat gpt-4o-mini', 'chat gpt-4o-mini', 'chat gpt-4o-mini', 'chat gpt-4o-mini']);
    expect(others.filter((s) => s.attributes[A.ATTR_SPENDTRACE_BATCH] === true)).toHaveLength(3);
  });

  test('an embeddings batch (a batch has one endpoint): priced at half the embeddings rate, line tokens summing to the batch usage the API reports', async () => {
    const input = jsonl([
      { custom_id: 'embed-1', method: 'POST', url: '/v1/embeddings', body: { model: 'text-embedding-3-small', input: ['invoice 1', 'invoice 2'] } },
      { custom_id: 'embed-2', method: 'POST', url: '/v1/embeddings', body: { model: 'text-embedding-3-small', input: 'invoice 3' } },
    ]);
    h.fake.enqueue({ promptTokens: 250_000 }, { promptTokens: 50_000 });
    const { batch, statuses, output, errors, summary, taskCost } = await withTask({ name: 'index-invoices' }, async (task) => {
      const run = await runOpenAIBatch(input, '/v1/embeddings');
      const summary = recordBatchResults(run.output, { requests: input });
      return { ...run, summary, taskCost: task.costUsd };
    });
    expect(statuses).toEqual(['validating', 'in_progress', 'completed']);
    expect(batch.error_file_id).toBeNull(); // no failed line: the API reports no error file
    expect(errors).toBe('');
    expect(summary).toMatchObject({ spans: 2, failed: 0, unpriced: 0, skipped: 0 });
    expect(nano(summary.costUsd)).toBe(nano(EMBED_1 + EMBED_2));
    expect(nano(taskCost)).toBe(nano(EMBED_1 + EMBED_2));

    const spans = byCustomId(batchSpans());
    for (const [id, cost, tokens] of [
      ['embed-1', EMBED_1, 250_000],
      ['embed-2', EMBED_2, 50_000],
    ] as const) {
      const s = spans[id]!;
      expect(s.name).toBe('embeddings text-embedding-3-small');
      expect(s.attributes).toMatchObject({
        [A.ATTR_GEN_AI_OPERATION_NAME]: 'embeddings',
        [A.ATTR_GEN_AI_PROVIDER_NAME]: 'openai',
        [A.ATTR_SPENDTRACE_BATCH]: true,
        [A.ATTR_SPENDTRACE_TASK_NAME]: 'index-invoices',
        [A.ATTR_GEN_AI_USAGE_INPUT_TOKENS]: tokens,
      });
      expect(s.attributes).not.toHaveProperty(A.ATTR_OPENAI_API_TYPE);
      expect(nano(s.attributes[A.ATTR_GEN_AI_USAGE_COST_AMOUNT])).toBe(nano(cost));
    }
    expect(lineCount(output)).toBe(2);
    // What spendtrace counted line by line is what the API bills the batch for.
    const spanTokens = batchSpans().reduce((n, s) => n + (s.attributes[A.ATTR_GEN_AI_USAGE_INPUT_TOKENS] as number), 0);
    expect(batch.usage?.input_tokens).toBe(spanTokens);
  });

  test('the fake refuses a batch mixing endpoints, as the API does: it fails validation with no output file (so chat and embeddings go in separate batches)', async () => {
    const input = jsonl([CHAT_INPUT[0]!, { custom_id: 'embed-1', method: 'POST', url: '/v1/embeddings', body: { model: 'gpt-4o-mini', input: 'x' } }]);
    const { batch, statuses, output } = await runOpenAIBatch(input, '/v1/chat/completions');
    expect(statuses).toEqual(['validating', 'validating', 'failed']);
    expect(batch.errors?.data).toEqual([expect.objectContaining({ code: 'mismatched_endpoint', param: 'url', line: 2 })]);
    expect([batch.output_file_id, batch.error_file_id, output]).toEqual([null, null, '']);
    expect(h.fake.requests.filter((r) => r.headers['x-fake-batch-id'])).toHaveLength(0); // no line was run
  });
});

describe('Anthropic Message Batches through @anthropic-ai/sdk', () => {
  const ask = (text: string) => [{ role: 'user' as const, content: text }];
  const REQUESTS = [
    { custom_id: 'review-1', params: { model: 'claude-sonnet-4-5', max_tokens: 1024, messages: ask('Review PR #1') } },
    { custom_id: 'review-2', params: { model: 'claude-sonnet-4-5', max_tokens: 1024, messages: ask('Review PR #2') } },
    { custom_id: 'review-3', params: { model: 'claude-sonnet-4-5', max_tokens: 1024, messages: ask('Review PR #3') } },
  ];
  const client = () => new Anthropic({ apiKey: 'sk-ant-test', baseURL: anthropicFake.url, maxRetries: 0 });

  /** What a user does with the SDK: create the batch, poll until it ended, read every result line. */
  async function runAnthropicBatch(requests: Anthropic.Messages.BatchCreateParams['requests']) {
    const c = client();
    let batch: MessageBatch = await c.messages.batches.create({ requests });
    const statuses: string[] = [batch.processing_status];
    for (let polls = 0; batch.processing_status !== 'ended'; polls++) {
      if (polls === 10) throw new Error(`batch ${batch.id} still ${batch.processing_status}`);
      batch = await c.messages.batches.retrieve(batch.id);
      statuses.push(batch.processing_status);
    }
    // results() is an async iterable of decoded lines: collected here to check them; the direct
    // hand-over (recordBatchResults(await results())) has its own test below.
    const results: MessageBatchIndividualResponse[] = [];
    for await (const line of await c.messages.batches.results(batch.id)) results.push(line);
    return { batch, statuses, results };
  }

  test('succeeded (cache read and write), errored and canceled lines: the succeeded one priced at half the rate to the nano-dollar, the others unbilled', async () => {
    anthropicFake.enqueue({
      batch: {
        pendingPolls: 1,
        results: [
          {
            custom_id: 'review-1',
            result: {
              type: 'succeeded',
              message: {
                id: 'msg_batch_review1',
                type: 'message',
                role: 'assistant',
                model: 'claude-sonnet-4-5-20250929',
                content: [{ type: 'text', text: 'Looks good.' }],
                stop_reason: 'end_turn',
                stop_sequence: null,
                usage: {
                  input_tokens: 1000,
                  cache_creation_input_tokens: 400,
                  cache_read_input_tokens: 2000,
                  cache_creation: { ephemeral_5m_input_tokens: 400, ephemeral_1h_input_tokens: 0 },
                  output_tokens: 500,
                  service_tier: 'batch',
                },
              },
            },
          },
          {
            custom_id: 'review-2',
            result: { type: 'errored', error: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' }, request_id: 'req_batch_2' } },
          },
          { custom_id: 'review-3', result: { type: 'canceled' } },
        ],
      },
    });
    const { batch, statuses, results, summary, taskCost } = await withTask({ name: 'pr-review', agent: 'reviewer' }, async (task) => {
      const run = await runAnthropicBatch(REQUESTS);
      const summary = recordBatchResults(run.results, { requests: REQUESTS });
      return { ...run, summary, taskCost: task.costUsd };
    });

    expect(statuses).toEqual(['in_progress', 'in_progress', 'ended']);
    expect(batch.request_counts).toEqual({ processing: 0, succeeded: 1, errored: 1, canceled: 1, expired: 0 });
    expect(results.map((r) => [r.custom_id, r.result.type])).toEqual([
      ['review-1', 'succeeded'],
      ['review-2', 'errored'],
      ['review-3', 'canceled'],
    ]);
    expect(summary).toMatchObject({ spans: 3, failed: 2, unpriced: 0, skipped: 0 });
    expect(nano(summary.costUsd)).toBe(nano(REVIEW_1));
    expect(nano(taskCost)).toBe(nano(REVIEW_1));

    const spans = byCustomId(batchSpans());
    const ok = spans['review-1']!;
    expect(ok.name).toBe('chat claude-sonnet-4-5');
    expect(ok.kind).toBe(SpanKind.CLIENT);
    expect(ok.attributes).toMatchObject({
      [A.ATTR_GEN_AI_OPERATION_NAME]: 'chat',
      [A.ATTR_GEN_AI_PROVIDER_NAME]: 'anthropic',
      [A.ATTR_SPENDTRACE_BATCH]: true,
      [A.ATTR_SPENDTRACE_TASK_NAME]: 'pr-review',
      [A.ATTR_GEN_AI_AGENT_NAME]: 'reviewer',
      [A.ATTR_GEN_AI_REQUEST_MODEL]: 'claude-sonnet-4-5',
      [A.ATTR_GEN_AI_RESPONSE_MODEL]: 'claude-sonnet-4-5-20250929',
      [A.ATTR_GEN_AI_RESPONSE_ID]: 'msg_batch_review1',
      [A.ATTR_GEN_AI_RESPONSE_FINISH_REASONS]: ['end_turn'],
      // input_tokens excludes cache reads and writes in Anthropic's usage; the span's input count includes them.
      [A.ATTR_GEN_AI_USAGE_INPUT_TOKENS]: 3400,
      [A.ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS]: 2000,
      [A.ATTR_GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS]: 400,
      [A.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: 500,
    });
    expect(nano(ok.attributes[A.ATTR_GEN_AI_USAGE_COST_AMOUNT])).toBe(nano(REVIEW_1));
    expect(nano(ok.attributes[A.ATTR_SPENDTRACE_COST_CACHE_READ])).toBe(nano(0.0003)); // 2000 × 0.15 / 1e6
    expect(nano(ok.attributes[A.ATTR_SPENDTRACE_COST_CACHE_WRITE])).toBe(nano(0.00075)); // 400 × 1.875 / 1e6

    expect(spans['review-2']!.attributes[A.ATTR_ERROR_TYPE]).toBe('overloaded_error');
    expect(spans['review-3']!.attributes[A.ATTR_ERROR_TYPE]).toBe('canceled');
    for (const s of [spans['review-2']!, spans['review-3']!]) {
      expect(s.status.code).toBe(SpanStatusCode.ERROR);
      expect(s.attributes).not.toHaveProperty(A.ATTR_GEN_AI_USAGE_COST_AMOUNT);
      expect(s.attributes[A.ATTR_SPENDTRACE_TASK_NAME]).toBe('pr-review');
    }
    const root = taskRoot();
    for (const s of Object.values(spans)) expect(s.spanContext().traceId).toBe(root.attributes[A.ATTR_SPENDTRACE_TASK_ID]);

    // The SDK traces its batch calls natively (create, each retrieve, results and the retrieve
    // results() makes first). Those spans stay the SDK's own: no operation, no usage, no cost, and
    // nothing added to the task. spendtrace adds no span for them.
    const native = h.spans().filter((s) => s.name.startsWith('anthropic.'));
    expect(native.map((s) => s.name).sort()).toEqual([
      'anthropic.messages.batches.create',
      'anthropic.messages.batches.results',
      'anthropic.messages.batches.retrieve',
      'anthropic.messages.batches.retrieve',
      'anthropic.messages.batches.retrieve',
    ]);
    for (const s of native) {
      expect(s.attributes[A.ATTR_GEN_AI_PROVIDER_NAME]).toBe('anthropic');
      for (const key of [A.ATTR_GEN_AI_OPERATION_NAME, A.ATTR_GEN_AI_USAGE_INPUT_TOKENS, A.ATTR_GEN_AI_USAGE_COST_AMOUNT, A.ATTR_SPENDTRACE_BATCH])
        expect(s.attributes).not.toHaveProperty(key);
    }
    expect(h.spans()).toHaveLength(native.length + 3 + 1); // + the three result lines + the task root
  });

  test("the fake's default run: a request whose params lack max_tokens is errored at results time (the API validates params asynchronously); the other is priced", async () => {
    anthropicFake.enqueue({ message: { usage: { input_tokens: 800, output_tokens: 200 } } });
    const requests = [
      REQUESTS[0]!,
      // Not what the SDK's types allow, but what the API accepts into a batch and then errors.
      { custom_id: 'no-max-tokens', params: { model: 'claude-sonnet-4-5', messages: ask('Review PR #4') } } as unknown as (typeof REQUESTS)[number],
    ];
    const { results, summary } = await withTask({ name: 'pr-review' }, async () => {
      const run = await runAnthropicBatch(requests);
      return { ...run, summary: recordBatchResults(run.results, { requests }) };
    });
    expect(results[0]!.result).toMatchObject({ type: 'succeeded', message: { usage: { input_tokens: 800, output_tokens: 200, service_tier: 'batch' } } });
    expect(results[1]!.result).toEqual({
      type: 'errored',
      error: { type: 'error', error: { type: 'invalid_request_error', message: 'max_tokens: Field required' }, request_id: null },
    });
    expect(summary).toMatchObject({ spans: 2, failed: 1, unpriced: 0, skipped: 0 });
    expect(nano(summary.costUsd)).toBe(nano(DEFAULT_REVIEW));
    const spans = byCustomId(batchSpans());
    expect(nano(spans['review-1']!.attributes[A.ATTR_GEN_AI_USAGE_COST_AMOUNT])).toBe(nano(DEFAULT_REVIEW));
    expect(spans['no-max-tokens']!.attributes[A.ATTR_ERROR_TYPE]).toBe('invalid_request_error');
    expect(spans['no-max-tokens']!.status).toEqual({ code: SpanStatusCode.ERROR, message: 'max_tokens: Field required' });
  });

  test('what the SDKs download goes straight in: results() (an async iterable) and files.content() (a Response), priced like the collected lines, in the task', async () => {
    anthropicFake.enqueue({ message: { usage: { input_tokens: 800, output_tokens: 200 } } });
    const requests = [REQUESTS[0]!];
    const c = client();
    const { summary, taskCost } = await withTask({ name: 'pr-review' }, async (task) => {
      let batch = await c.messages.batches.create({ requests });
      while (batch.processing_status !== 'ended') batch = await c.messages.batches.retrieve(batch.id);
      const summary = await recordBatchResults(await c.messages.batches.results(batch.id), { requests });
      return { summary, taskCost: task.costUsd };
    });
    expect(summary).toEqual({ spans: 1, failed: 0, unpriced: 0, skipped: 0, costUsd: DEFAULT_REVIEW });
    expect(nano(taskCost)).toBe(nano(DEFAULT_REVIEW));
    expect(batchSpans()[0]!.attributes[A.ATTR_SPENDTRACE_TASK_NAME]).toBe('pr-review');

    // The openai side: the output file's Response, unread, handed over as it is.
    const output = JSON.stringify({
      id: 'batch_req_1',
      custom_id: 'c-1',
      response: {
        status_code: 200,
        request_id: 'r1',
        body: {
          id: 'chatcmpl-1',
          object: 'chat.completion',
          model: 'gpt-4o-mini-2024-07-18',
          choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'ok' } }],
          usage: { prompt_tokens: 1000, completion_tokens: 100, total_tokens: 1100 },
        },
      },
      error: null,
    });
    const fromResponse = await recordBatchResults(new Response(`${output}\n`));
    // gpt-4o-mini at half its published rate: (1000 × $0.075 + 100 × $0.30) / 1e6.
    expect(nano(fromResponse.costUsd)).toBe(nano((1000 * 0.075 + 100 * 0.3) / 1e6));
    expect(fromResponse.spans).toBe(1);
  });
});
