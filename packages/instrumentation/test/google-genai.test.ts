// Proves that @google/genai calls (generateContent, streams, embeddings, chats, failures) become priced, attributed GenAI spans, one per billed request.
import * as genaiModule from '@google/genai';
import { GoogleGenAI, Type } from '@google/genai';
import { countTokens } from 'gpt-tokenizer/encoding/cl100k_base';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { type ReadableSpan } from '@opentelemetry/sdk-trace';
import * as A from '@spendtrace/semconv';
import { beforeAll, describe, expect, it } from 'vitest';
import { startFakeGemini } from '../../fake-providers/src/google.ts';
import { BudgetExceededError } from '../src/budget.ts';
import { patchGoogleGenAI, unpatchGoogleGenAI } from '../src/google-genai/index.ts';
import { withTask } from '../src/task-context.ts';
import { genAIHarness, nano, providerSuite, usd } from './genai-harness.ts';

// Published prices, https://ai.google.dev/gemini-api/docs/pricing (Standard tier, text), USD per
// million tokens — the figures @pydantic/genai-prices 0.1.8 carries. Output includes thinking.
const FLASH = { input: 0.3, output: 2.5, cacheRead: 0.03 }; // gemini-2.5-flash
const PRO_OVER_200K = { input: 2.5, output: 15 }; // gemini-2.5-pro, prompts > 200k tokens
const EMBEDDING_001 = { input: 0.15 }; // gemini-embedding-001

const h = genAIHarness({ costDetail: 'full' });
const { host, spans } = h;
const suite = providerSuite(h, {
  patch: () => patchGoogleGenAI(genaiModule, host),
  unpatch: () => unpatchGoogleGenAI(genaiModule, host.wrapper),
  startFake: () => startFakeGemini(),
});

async function waitForSpans(n: number): Promise<ReadableSpan[]> {
  for (let i = 0; i < 200; i++) {
    const all = await spans();
    if (all.length >= n) return all;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`expected ${n} spans`);
}

let ai: GoogleGenAI;
beforeAll(() => {
  ai = new GoogleGenAI({ apiKey: 'test-key', httpOptions: { baseUrl: suite.fake.url } });
});

describe('@google/genai', () => {
  it('prices generateContent with cached content and thinking tokens to the nano-dollar', async () => {
    suite.fake.enqueue({
      generate: {
        parts: [{ text: 'Blue, because of Rayleigh scattering.' }],
        usage: { promptTokenCount: 10_000, cachedContentTokenCount: 4_000, candidatesTokenCount: 200, thoughtsTokenCount: 300 },
        responseId: 'resp-1',
      },
    });
    const r = await ai.models.generateContent({
      model: 'gemini-2.5-flash',
      contents: 'Why is the sky blue?',
      config: { temperature: 0.5, maxOutputTokens: 800 },
    });
    expect(r.text).toContain('Rayleigh');

    const [span, ...rest] = await spans();
    expect(rest).toHaveLength(0);
    expect(span!.name).toBe('generate_content gemini-2.5-flash');
    expect(span!.kind).toBe(SpanKind.CLIENT);
    expect(span!.status.code).toBe(SpanStatusCode.UNSET); // the conventions leave a successful call's status unset
    const cost = {
      input: usd(6_000, FLASH.input),
      cacheRead: usd(4_000, FLASH.cacheRead),
      output: usd(200, FLASH.output),
      reasoning: usd(300, FLASH.output),
    };
    const total = cost.input + cost.cacheRead + cost.output + cost.reasoning;
    const { [A.ATTR_SERVER_PORT]: port, ...attrs } = span!.attributes;
    expect(port).toBe(suite.fake.port);
    expect(attrs).toEqual({
      [A.ATTR_SPENDTRACE_REQUEST_HASH]: expect.stringMatching(/^[0-9a-f]{16}$/),
      [A.ATTR_GEN_AI_OPERATION_NAME]: 'generate_content',
      [A.ATTR_GEN_AI_PROVIDER_NAME]: 'gcp.gemini',
      [A.ATTR_SERVER_ADDRESS]: '127.0.0.1',
      [A.ATTR_GEN_AI_REQUEST_MODEL]: 'gemini-2.5-flash',
      [A.ATTR_GEN_AI_REQUEST_TEMPERATURE]: 0.5,
      [A.ATTR_GEN_AI_REQUEST_MAX_TOKENS]: 800,
      [A.ATTR_GEN_AI_RESPONSE_ID]: 'resp-1',
      [A.ATTR_GEN_AI_RESPONSE_MODEL]: 'gemini-2.5-flash',
      [A.ATTR_GEN_AI_RESPONSE_FINISH_REASONS]: ['stop'],
      [A.ATTR_GEN_AI_USAGE_INPUT_TOKENS]: 10_000,
      [A.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: 500,
      [A.ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS]: 4_000,
      [A.ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS]: 300,
      [A.ATTR_GEN_AI_USAGE_COST_AMOUNT]: expect.any(Number),
      [A.ATTR_GEN_AI_USAGE_COST]: expect.any(Number),
      [A.ATTR_GEN_AI_USAGE_COST_CURRENCY]: 'USD',
      [A.ATTR_GEN_AI_USAGE_COST_SOURCE]: 'local',
      [A.ATTR_SPENDTRACE_COST_INPUT]: expect.any(Number),
      [A.ATTR_SPENDTRACE_COST_OUTPUT]: expect.any(Number),
      [A.ATTR_SPENDTRACE_COST_CACHE_READ]: expect.any(Number),
      [A.ATTR_SPENDTRACE_COST_REASONING]: expect.any(Number),
      [A.ATTR_SPENDTRACE_PRICING_VERSION]: expect.any(String),
    });
    expect(nano(attrs[A.ATTR_GEN_AI_USAGE_COST_AMOUNT])).toBe(nano(total));
    expect(nano(attrs[A.ATTR_SPENDTRACE_COST_INPUT])).toBe(nano(cost.input));
    expect(nano(attrs[A.ATTR_SPENDTRACE_COST_CACHE_READ])).toBe(nano(cost.cacheRead));
    expect(nano(attrs[A.ATTR_SPENDTRACE_COST_OUTPUT])).toBe(nano(cost.output));
    expect(nano(attrs[A.ATTR_SPENDTRACE_COST_REASONING])).toBe(nano(cost.reasoning));
  });

  it('prices generateContentStream from the usage on its last chunk', async () => {
    suite.fake.enqueue({
      generate: {
        parts: [{ text: 'One, two, three, four.' }],
        chunks: 4,
        usage: { promptTokenCount: 1_200, candidatesTokenCount: 80, thoughtsTokenCount: 40 },
      },
    });
    const stream = await ai.models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'Count to four' });
    let text = '';
    for await (const chunk of stream) text += chunk.text ?? '';
    expect(text).toBe('One, two, three, four.');
    expect(suite.fake.requests[0]!.query).toBe('alt=sse');

    const [span, ...rest] = await spans();
    expect(rest).toHaveLength(0);
    expect(span!.name).toBe('generate_content gemini-2.5-flash');
    expect(span!.status.code).toBe(SpanStatusCode.UNSET); // the conventions leave a successful call's status unset
    expect(span!.attributes).toMatchObject({
      [A.ATTR_GEN_AI_REQUEST_STREAM]: true,
      [A.ATTR_GEN_AI_USAGE_INPUT_TOKENS]: 1_200,
      [A.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: 120,
      [A.ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS]: 40,
      [A.ATTR_GEN_AI_RESPONSE_FINISH_REASONS]: ['stop'],
    });
    expect(span!.attributes[A.ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK]).toBeGreaterThan(0);
    expect(nano(span!.attributes[A.ATTR_GEN_AI_USAGE_COST_AMOUNT])).toBe(nano(usd(1_200, FLASH.input) + usd(120, FLASH.output)));
  });

  it('a stream the app stops reading is priced for the prompt it reported and the output it sent, counted locally', async () => {
    suite.fake.enqueue({ generate: { parts: [{ text: 'One, two, three, four.' }], chunks: 4, usage: { promptTokenCount: 1_200, candidatesTokenCount: 80 } } });
    const stream = await ai.models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'Count to four' });
    let read = 0;
    for await (const chunk of stream) {
      expect(chunk.text).toBeTruthy();
      if (++read === 2) break;
    }
    const [span, ...rest] = await waitForSpans(1);
    expect(rest).toHaveLength(0);
    expect(span!.status.code).toBe(SpanStatusCode.UNSET);
    expect(span!.attributes[A.ATTR_ERROR_TYPE]).toBeUndefined();
    // Like the API, the fake sends output counts only on the last chunk; earlier ones carry the prompt count.
    expect(span!.attributes[A.ATTR_GEN_AI_USAGE_INPUT_TOKENS]).toBe(1_200);
    expect(span!.attributes[A.ATTR_SPENDTRACE_USAGE_ESTIMATED]).toBe(true);
    const out = span!.attributes[A.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS] as number;
    expect(out).toBeGreaterThan(0); // 'One, two, ' or so: a few tokens
    expect(out).toBeLessThan(80);
    expect(nano(span!.attributes[A.ATTR_GEN_AI_USAGE_COST_AMOUNT])).toBe(nano(usd(1_200, FLASH.input) + usd(out, FLASH.output)));
  });

  it('a stream whose connection drops part-way is a failed span, priced for the prompt and the output that arrived', async () => {
    suite.fake.enqueue({
      generate: { parts: [{ text: 'One, two, three, four.' }], chunks: 4, destroyAfterChunks: 2, usage: { promptTokenCount: 1_200, candidatesTokenCount: 80 } },
    });
    const stream = await ai.models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'Count to four' });
    let read = 0;
    const failure = await (async () => {
      for await (const _ of stream) read++;
    })().catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(Error);
    expect(read).toBe(2);
    const [span, ...rest] = await waitForSpans(1);
    expect(rest).toHaveLength(0);
    expect(span!.status.code).toBe(SpanStatusCode.ERROR);
    expect(span!.attributes[A.ATTR_ERROR_TYPE]).toBeTruthy();
    expect(span!.attributes[A.ATTR_GEN_AI_USAGE_INPUT_TOKENS]).toBe(1_200);
    expect(span!.attributes[A.ATTR_SPENDTRACE_USAGE_ESTIMATED]).toBe(true);
    const out = span!.attributes[A.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS] as number;
    expect(out).toBeGreaterThan(0);
    expect(nano(span!.attributes[A.ATTR_GEN_AI_USAGE_COST_AMOUNT])).toBe(nano(usd(1_200, FLASH.input) + usd(out, FLASH.output)));
  });

  it('estimates input (request text) and output (streamed text) of a stream without usageMetadata, marked estimated and priced', async () => {
    const answer = 'Sunlight scatters off air molecules; blue light scatters the most.';
    suite.fake.enqueue({ generate: { parts: [{ text: answer }], omitUsage: true, chunks: 4 } });
    const tools = [
      {
        functionDeclarations: [
          { name: 'get_weather', description: 'Weather for a city', parameters: { type: Type.OBJECT, properties: { city: { type: Type.STRING } } } },
        ],
      },
    ];
    const contents = [
      { role: 'user', parts: [{ text: 'Why is the sky blue?' }] },
      { role: 'model', parts: [{ text: 'Do you want the physics?' }] },
      { role: 'user', parts: [{ text: 'Yes, briefly.' }] },
    ];
    const stream = await ai.models.generateContentStream({
      model: 'gemini-2.5-flash',
      contents,
      config: { systemInstruction: 'You are a terse physics tutor.', tools },
    });
    let text = '';
    for await (const chunk of stream) text += chunk.text ?? '';
    expect(text).toBe(answer);
    const [span] = await waitForSpans(1);
    // Counted locally with the cl100k_base encoding: system instruction, contents and tool declarations (one per line).
    const input = countTokens(
      ['You are a terse physics tutor.', 'Why is the sky blue?\nDo you want the physics?\nYes, briefly.', JSON.stringify(tools)].join('\n'),
    );
    const output = countTokens(answer);
    expect(input).toBeGreaterThan(40);
    expect(span!.attributes).toMatchObject({
      [A.ATTR_SPENDTRACE_USAGE_ESTIMATED]: true,
      [A.ATTR_GEN_AI_PROVIDER_NAME]: 'gcp.gemini',
      [A.ATTR_GEN_AI_USAGE_INPUT_TOKENS]: input,
      [A.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: output,
    });
    expect(nano(span!.attributes[A.ATTR_GEN_AI_USAGE_COST_AMOUNT])).toBe(nano(usd(input, FLASH.input) + usd(output, FLASH.output)));
  });

  it('applies the long-context tier of gemini-2.5-pro above 200k prompt tokens', async () => {
    suite.fake.enqueue({ generate: { usage: { promptTokenCount: 250_000, candidatesTokenCount: 1_000 } } });
    await ai.models.generateContent({ model: 'gemini-2.5-pro', contents: 'a very long document' });
    const [span] = await spans();
    expect(nano(span!.attributes[A.ATTR_GEN_AI_USAGE_COST_AMOUNT])).toBe(nano(usd(250_000, PRO_OVER_200K.input) + usd(1_000, PRO_OVER_200K.output)));
  });

  it('records a 429 RESOURCE_EXHAUSTED as a failed span with error.type and no cost', async () => {
    suite.fake.enqueue({ error: { status: 429, rpcStatus: 'RESOURCE_EXHAUSTED', message: 'Resource has been exhausted (e.g. check quota).', retryAfter: 3 } });
    await expect(ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'hi' })).rejects.toMatchObject({ status: 429 });
    const [span, ...rest] = await spans();
    expect(rest).toHaveLength(0);
    expect(span!.name).toBe('generate_content gemini-2.5-flash');
    expect(span!.status.code).toBe(SpanStatusCode.ERROR);
    expect(span!.attributes[A.ATTR_ERROR_TYPE]).toBe('RESOURCE_EXHAUSTED');
    expect(span!.attributes[A.ATTR_HTTP_RESPONSE_STATUS_CODE]).toBe(429);
    expect(span!.attributes[A.ATTR_GEN_AI_USAGE_COST_AMOUNT]).toBeUndefined();
  });

  it('prices embedContent from reported tokens, and estimates when none are reported', async () => {
    suite.fake.enqueue({ embed: { promptTokenCount: 12 } }, { embed: {} });
    const r = await ai.models.embedContent({ model: 'gemini-embedding-001', contents: ['first text', 'second text'] });
    expect(r.embeddings).toHaveLength(2);
    await ai.models.embedContent({ model: 'gemini-embedding-001', contents: 'no usage reported' });
    const all = await waitForSpans(2);
    const [reported, estimated] = all;
    expect(reported!.name).toBe('embeddings gemini-embedding-001');
    expect(reported!.attributes).toMatchObject({ [A.ATTR_GEN_AI_OPERATION_NAME]: 'embeddings', [A.ATTR_GEN_AI_USAGE_INPUT_TOKENS]: 12 });
    expect(nano(reported!.attributes[A.ATTR_GEN_AI_USAGE_COST_AMOUNT])).toBe(nano(usd(12, EMBEDDING_001.input)));
    expect(estimated!.attributes[A.ATTR_SPENDTRACE_USAGE_ESTIMATED]).toBe(true);
    expect(estimated!.attributes[A.ATTR_GEN_AI_USAGE_INPUT_TOKENS]).toBeGreaterThan(0);
  });

  it('gives each chat turn its own span, attributed to the task, and the task sees the cost', async () => {
    suite.fake.enqueue(
      { generate: { usage: { promptTokenCount: 100, candidatesTokenCount: 10 } } },
      { generate: { usage: { promptTokenCount: 130, candidatesTokenCount: 20 } } },
    );
    let costUsd = 0;
    await withTask({ name: 'chat', agent: 'helper', userId: 'u-7' }, async (task) => {
      const chat = ai.chats.create({ model: 'gemini-2.5-flash' });
      await chat.sendMessage({ message: 'hello' });
      await chat.sendMessage({ message: 'and again' });
      costUsd = task.costUsd;
    });
    const llm = (await spans()).filter((s) => s.kind === SpanKind.CLIENT);
    expect(llm.map((s) => s.name)).toEqual(['generate_content gemini-2.5-flash', 'generate_content gemini-2.5-flash']);
    for (const s of llm)
      expect(s.attributes).toMatchObject({ [A.ATTR_SPENDTRACE_TASK_NAME]: 'chat', [A.ATTR_GEN_AI_AGENT_NAME]: 'helper', [A.ATTR_USER_ID]: 'u-7' });
    const expected = usd(230, FLASH.input) + usd(30, FLASH.output);
    expect(nano(costUsd)).toBe(nano(expected));
  });

  it('fails fast with BudgetExceededError once the task is over budget', async () => {
    suite.fake.enqueue({ generate: { usage: { promptTokenCount: 100_000, candidatesTokenCount: 1_000 } } });
    await expect(
      withTask({ name: 'tight', budgetUsd: 0.01 }, async () => {
        await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'one' });
        await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'two' });
      }),
    ).rejects.toBeInstanceOf(BudgetExceededError);
    expect(suite.fake.requests).toHaveLength(1);
  });

  it('refuses before any request a call whose worst case (prompt counted locally + maxOutputTokens x candidates) would cross the budget', async () => {
    const contents = 'Summarise the attached report in detail.';
    const err = (await withTask({ name: 'capped', budgetUsd: 0.01 }, () =>
      ai.models.generateContent({ model: 'gemini-2.5-flash', contents, config: { maxOutputTokens: 4000, candidateCount: 2 } }).catch((e: unknown) => e),
    )) as BudgetExceededError;
    expect(err).toBeInstanceOf(BudgetExceededError);
    expect(err.reason).toBe('worst-case');
    expect(nano(err.estimateUsd)).toBe(nano(usd(countTokens(contents), FLASH.input) + usd(8000, FLASH.output)));
    expect(suite.fake.requests).toHaveLength(0);
    // Without an output cap the check sees the input alone: the same prompt goes through.
    suite.fake.enqueue({ generate: { usage: { promptTokenCount: 8, candidatesTokenCount: 100 } } });
    await withTask({ name: 'uncapped', budgetUsd: 0.01 }, () => ai.models.generateContent({ model: 'gemini-2.5-flash', contents }));
    expect(suite.fake.requests).toHaveLength(1);
  });
});
