// Proves Amazon Bedrock calls through the real @aws-sdk/client-bedrock-runtime over HTTP/2 to a fake endpoint (JSON and the event-stream framing) become priced, attributed, budgeted chat spans for the Anthropic, Meta and Amazon families.
import * as bedrock from '@aws-sdk/client-bedrock-runtime';
import {
  BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
  InvokeModelCommand,
  InvokeModelWithResponseStreamCommand,
  ListAsyncInvokesCommand,
} from '@aws-sdk/client-bedrock-runtime';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { countTokens } from 'gpt-tokenizer/encoding/cl100k_base';
import * as A from '@spendtrace/semconv';
import { beforeAll, describe, expect, it } from 'vitest';
import { startFakeBedrock } from '../../fake-providers/src/bedrock.ts';
import { patchBedrockRuntime, unpatchBedrockRuntime } from '../src/bedrock/index.ts';
import { BudgetExceededError } from '../src/budget.ts';
import { withTask } from '../src/task-context.ts';
import { genAIHarness, nano, providerSuite, usd } from './genai-harness.ts';

// Published Bedrock on-demand rates (us-east-1), USD per million tokens.
const CLAUDE_35_SONNET = { id: 'anthropic.claude-3-5-sonnet-20240620-v1:0', input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 };
const LLAMA_31_70B = { id: 'meta.llama3-1-70b-instruct-v1:0', input: 0.72, output: 0.72 };
const NOVA_PRO = { id: 'amazon.nova-pro-v1:0', input: 0.8, output: 3.2, cacheRead: 0.2 };

const h = genAIHarness({ costDetail: 'full' });
const { host, spans } = h;
const suite = providerSuite(h, {
  patch: () => patchBedrockRuntime(bedrock, host),
  unpatch: () => unpatchBedrockRuntime(bedrock, host.wrapper),
  startFake: () => startFakeBedrock(),
});

let client: BedrockRuntimeClient;
beforeAll(() => {
  client = new BedrockRuntimeClient({
    region: 'us-east-1',
    endpoint: suite.fake.url,
    credentials: { accessKeyId: 'AKIDFAKE', secretAccessKey: 'fake-secret' },
    maxAttempts: 1,
  });
});

const messages = [{ role: 'user' as const, content: [{ text: 'What is 2+2?' }] }];
const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

async function waitForSpans(n: number) {
  for (let i = 0; i < 200; i++) {
    const all = await spans();
    if (all.length >= n) return all;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`expected ${n} spans`);
}

describe('@aws-sdk/client-bedrock-runtime', () => {
  it('Converse: a priced chat span with cache reads and writes at their own rates, attributed to the task', async () => {
    suite.fake.enqueue({ usage: { inputTokens: 1000, outputTokens: 200, cacheReadInputTokens: 4000, cacheWriteInputTokens: 800 } });
    const cost = await withTask({ name: 'triage', agent: 'helper' }, async (task) => {
      const out = await client.send(new ConverseCommand({ modelId: CLAUDE_35_SONNET.id, messages, inferenceConfig: { maxTokens: 256, temperature: 0.2 } }));
      expect(out.output?.message?.content?.[0]?.text).toBe('Hello from the fake Bedrock.');
      return task.costUsd;
    });
    const chat = (await spans()).find((s) => s.kind === SpanKind.CLIENT)!;
    expect(chat.name).toBe(`chat ${CLAUDE_35_SONNET.id}`);
    const expected =
      usd(1000, CLAUDE_35_SONNET.input) + usd(200, CLAUDE_35_SONNET.output) + usd(4000, CLAUDE_35_SONNET.cacheRead) + usd(800, CLAUDE_35_SONNET.cacheWrite);
    expect(chat.attributes).toMatchObject({
      [A.ATTR_GEN_AI_OPERATION_NAME]: 'chat',
      [A.ATTR_GEN_AI_PROVIDER_NAME]: 'aws.bedrock',
      [A.ATTR_GEN_AI_REQUEST_MODEL]: CLAUDE_35_SONNET.id,
      [A.ATTR_SERVER_ADDRESS]: '127.0.0.1',
      [A.ATTR_GEN_AI_REQUEST_MAX_TOKENS]: 256,
      [A.ATTR_GEN_AI_REQUEST_TEMPERATURE]: 0.2,
      [A.ATTR_GEN_AI_RESPONSE_FINISH_REASONS]: ['end_turn'],
      [A.ATTR_GEN_AI_RESPONSE_ID]: expect.stringMatching(/^fake-req-/),
      [A.ATTR_GEN_AI_USAGE_INPUT_TOKENS]: 5800,
      [A.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: 200,
      [A.ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS]: 4000,
      [A.ATTR_GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS]: 800,
      [A.ATTR_SPENDTRACE_TASK_NAME]: 'triage',
      [A.ATTR_GEN_AI_AGENT_NAME]: 'helper',
    });
    expect(nano(chat.attributes[A.ATTR_GEN_AI_USAGE_COST_AMOUNT])).toBe(nano(expected));
    expect(nano(chat.attributes[A.ATTR_SPENDTRACE_COST_CACHE_READ])).toBe(nano(usd(4000, CLAUDE_35_SONNET.cacheRead)));
    expect(nano(cost)).toBe(nano(expected));
    expect(chat.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('ConverseStream: the event stream observed in place; usage from the metadata event, time to first chunk', async () => {
    suite.fake.enqueue({ text: 'Four, of course.', chunks: 4, usage: { inputTokens: 30, outputTokens: 6 } });
    const out = await client.send(new ConverseStreamCommand({ modelId: `us.${CLAUDE_35_SONNET.id}`, messages }));
    let text = '';
    for await (const e of out.stream!) text += e.contentBlockDelta?.delta?.text ?? '';
    expect(text).toBe('Four, of course.');
    const [chat] = await waitForSpans(1);
    expect(chat!.attributes).toMatchObject({
      [A.ATTR_GEN_AI_REQUEST_STREAM]: true,
      [A.ATTR_GEN_AI_USAGE_INPUT_TOKENS]: 30,
      [A.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: 6,
      [A.ATTR_GEN_AI_RESPONSE_FINISH_REASONS]: ['end_turn'],
    });
    expect(chat!.attributes[A.ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK]).toBeGreaterThan(0);
    expect(nano(chat!.attributes[A.ATTR_GEN_AI_USAGE_COST_AMOUNT])).toBe(nano(usd(30, CLAUDE_35_SONNET.input) + usd(6, CLAUDE_35_SONNET.output)));
  });

  it('InvokeModel, Anthropic family: the Messages body read, priced with its cache tokens', async () => {
    suite.fake.enqueue({ usage: { inputTokens: 100, outputTokens: 50, cacheReadInputTokens: 2000 } });
    const out = await client.send(
      new InvokeModelCommand({
        modelId: CLAUDE_35_SONNET.id,
        contentType: 'application/json',
        body: json({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 300, messages: [{ role: 'user', content: 'hi' }] }),
      }),
    );
    expect(JSON.parse(new TextDecoder().decode(out.body)).type).toBe('message');
    const [chat] = await spans();
    expect(chat!.attributes).toMatchObject({
      [A.ATTR_GEN_AI_USAGE_INPUT_TOKENS]: 2100,
      [A.ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS]: 2000,
      [A.ATTR_GEN_AI_REQUEST_MAX_TOKENS]: 300,
      [A.ATTR_GEN_AI_RESPONSE_FINISH_REASONS]: ['end_turn'],
    });
    expect(nano(chat!.attributes[A.ATTR_GEN_AI_USAGE_COST_AMOUNT])).toBe(
      nano(usd(100, CLAUDE_35_SONNET.input) + usd(50, CLAUDE_35_SONNET.output) + usd(2000, CLAUDE_35_SONNET.cacheRead)),
    );
  });

  it('InvokeModel, Meta family: prompt_token_count / generation_token_count', async () => {
    suite.fake.enqueue({ usage: { inputTokens: 40, outputTokens: 90 } });
    await client.send(new InvokeModelCommand({ modelId: LLAMA_31_70B.id, body: JSON.stringify({ prompt: 'hi', max_gen_len: 128 }) }));
    const [chat] = await spans();
    expect(chat!.attributes).toMatchObject({
      [A.ATTR_GEN_AI_USAGE_INPUT_TOKENS]: 40,
      [A.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: 90,
      [A.ATTR_GEN_AI_REQUEST_MAX_TOKENS]: 128,
      [A.ATTR_GEN_AI_RESPONSE_FINISH_REASONS]: ['stop'],
    });
    expect(nano(chat!.attributes[A.ATTR_GEN_AI_USAGE_COST_AMOUNT])).toBe(nano(usd(40, LLAMA_31_70B.input) + usd(90, LLAMA_31_70B.output)));
  });

  it('InvokeModelWithResponseStream, Amazon Nova: chunks decoded from the event stream, cache reads priced', async () => {
    suite.fake.enqueue({ text: 'Nova says four.', usage: { inputTokens: 500, outputTokens: 20, cacheReadInputTokens: 1000 } });
    const out = await client.send(
      new InvokeModelWithResponseStreamCommand({
        modelId: NOVA_PRO.id,
        body: json({ messages: [{ role: 'user', content: [{ text: 'hi' }] }], inferenceConfig: { max_new_tokens: 64 } }),
      }),
    );
    let text = '';
    for await (const e of out.body!) text += JSON.parse(new TextDecoder().decode(e.chunk!.bytes)).contentBlockDelta?.delta?.text ?? '';
    expect(text).toBe('Nova says four.');
    const [chat] = await waitForSpans(1);
    expect(chat!.attributes).toMatchObject({
      [A.ATTR_GEN_AI_USAGE_INPUT_TOKENS]: 1500,
      [A.ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS]: 1000,
      [A.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: 20,
      [A.ATTR_GEN_AI_REQUEST_STREAM]: true,
    });
    expect(nano(chat!.attributes[A.ATTR_GEN_AI_USAGE_COST_AMOUNT])).toBe(
      nano(usd(500, NOVA_PRO.input) + usd(20, NOVA_PRO.output) + usd(1000, NOVA_PRO.cacheRead)),
    );
  });

  it('InvokeModelWithResponseStream, Anthropic and Meta families: usage from the family events and invocation metrics', async () => {
    suite.fake.enqueue({ usage: { inputTokens: 70, outputTokens: 11 } }, { usage: { inputTokens: 33, outputTokens: 44 } });
    const a = await client.send(
      new InvokeModelWithResponseStreamCommand({
        modelId: CLAUDE_35_SONNET.id,
        body: json({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] }),
      }),
    );
    for await (const _ of a.body!) void _;
    const m = await client.send(new InvokeModelWithResponseStreamCommand({ modelId: LLAMA_31_70B.id, body: json({ prompt: 'hi', max_gen_len: 100 }) }));
    for await (const _ of m.body!) void _;
    const [claude, llama] = await waitForSpans(2);
    expect(claude!.attributes).toMatchObject({
      [A.ATTR_GEN_AI_USAGE_INPUT_TOKENS]: 70,
      [A.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: 11,
      [A.ATTR_GEN_AI_RESPONSE_FINISH_REASONS]: ['end_turn'],
    });
    expect(llama!.attributes).toMatchObject({ [A.ATTR_GEN_AI_USAGE_INPUT_TOKENS]: 33, [A.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: 44 });
    expect(nano(llama!.attributes[A.ATTR_GEN_AI_USAGE_COST_AMOUNT])).toBe(nano(usd(33, LLAMA_31_70B.input) + usd(44, LLAMA_31_70B.output)));
  });

  it('a ConverseStream whose connection drops before the metadata event: prompt and output counted locally, marked estimated', async () => {
    suite.fake.enqueue({ text: 'one two three four five six', chunks: 3, destroyAfterEvents: 3 });
    const out = await client.send(new ConverseStreamCommand({ modelId: CLAUDE_35_SONNET.id, messages }));
    let text = '';
    // The SDK ends the iteration without an error when the connection drops.
    for await (const e of out.stream!) text += e.contentBlockDelta?.delta?.text ?? '';
    expect(text).toBe('one two three four');
    const [chat] = await waitForSpans(1);
    const counted = { input: countTokens('What is 2+2?'), output: countTokens('one two three four') };
    expect(chat!.attributes).toMatchObject({
      [A.ATTR_SPENDTRACE_USAGE_ESTIMATED]: true,
      [A.ATTR_GEN_AI_USAGE_INPUT_TOKENS]: counted.input,
      [A.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: counted.output,
    });
    expect(nano(chat!.attributes[A.ATTR_GEN_AI_USAGE_COST_AMOUNT])).toBe(
      nano(usd(counted.input, CLAUDE_35_SONNET.input) + usd(counted.output, CLAUDE_35_SONNET.output)),
    );
  });

  it('an API error ends the span with the exception name and HTTP status; the app gets the SDK error', async () => {
    suite.fake.enqueue({ error: { status: 429, type: 'ThrottlingException', message: 'Too many requests' } });
    const err = await client.send(new ConverseCommand({ modelId: CLAUDE_35_SONNET.id, messages })).catch((e: unknown) => e);
    expect((err as Error).name).toBe('ThrottlingException');
    const [chat] = await spans();
    expect(chat!.status.code).toBe(SpanStatusCode.ERROR);
    expect(chat!.attributes).toMatchObject({ [A.ATTR_ERROR_TYPE]: 'ThrottlingException' });
  });

  it('a call whose worst case (prompt + maxTokens) would cross the task budget is refused before any request', async () => {
    const err = await withTask({ name: 'capped', budgetUsd: 0.01 }, () =>
      client.send(new ConverseCommand({ modelId: CLAUDE_35_SONNET.id, messages, inferenceConfig: { maxTokens: 4096 } })).catch((e: unknown) => e),
    );
    expect(err).toBeInstanceOf(BudgetExceededError);
    expect((err as BudgetExceededError).reason).toBe('worst-case');
    expect((err as BudgetExceededError).estimateUsd).toBeGreaterThan(usd(4096, CLAUDE_35_SONNET.output));
    expect(suite.fake.requests).toHaveLength(0);
  });

  it('other commands of the client pass through without a span', async () => {
    await client.send(new ListAsyncInvokesCommand({})).catch(() => undefined);
    expect((await spans()).filter((s) => s.kind === SpanKind.CLIENT)).toHaveLength(0);
  });
});
