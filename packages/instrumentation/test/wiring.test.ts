// Proves the wiring: init() declares all three SDKs, manuallyInstrument({ openai, anthropic, googleGenAI }) patches them so each call is exactly one priced span (Anthropic native tracing on and off), and disable()/enable() restore and re-apply the originals.
import { SpanKind } from '@opentelemetry/api';
import { isWrapped } from '@opentelemetry/instrumentation';
import * as A from '@spendtrace/semconv';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { manuallyInstrument, withTask } from '../src/index.ts';
import { anthropicModule, genaiModule, nano, openaiModule, PRICES, providersHarness, usd, type ProvidersHarness } from './fixtures/providers-harness.ts';

let h: ProvidersHarness;
const user = [{ role: 'user' as const, content: 'What is 2+2?' }];

/** The methods spendtrace wraps, as `isWrapped` sees them. */
function wrappedState() {
  const { Anthropic } = anthropicModule;
  const models = genaiModule.Models.prototype as unknown as Record<string, unknown>;
  const openaiClient = openaiModule.OpenAI.prototype as unknown as Record<string, unknown>;
  const anthropicClient = Anthropic.prototype as unknown as Record<string, unknown>;
  return {
    openaiCreate: isWrapped(openaiModule.OpenAI.Chat.Completions.prototype.create),
    openaiRetry: isWrapped(openaiClient.shouldRetry) && isWrapped(openaiClient.retryRequest),
    anthropicCreate: isWrapped(Anthropic.Messages.prototype.create),
    anthropicStream: isWrapped(Anthropic.Messages.prototype.stream),
    anthropicBetaCreate: isWrapped(Anthropic.Beta.Messages.prototype.create),
    anthropicRetry: isWrapped(anthropicClient.shouldRetry) && isWrapped(anthropicClient.retryRequest),
    geminiGenerate: isWrapped(models.generateContentInternal),
    geminiStream: isWrapped(models.generateContentStreamInternal),
    geminiEmbed: isWrapped(models.embedContentInternal),
  };
}
const all = (v: boolean) => ({
  openaiCreate: v,
  openaiRetry: v,
  anthropicCreate: v,
  anthropicStream: v,
  anthropicBetaCreate: v,
  anthropicRetry: v,
  geminiGenerate: v,
  geminiStream: v,
  geminiEmbed: v,
});

/** One call through each SDK (Anthropic twice: native tracing on, then off). */
async function callEverySDK() {
  await h.openai().chat.completions.create({ model: 'gpt-4o-mini', messages: user });
  await h.anthropic(true).messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: user });
  await h.anthropic(false).messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: user });
  await h.gemini().models.generateContent({ model: 'gemini-2.5-flash', contents: 'What is 2+2?' });
}

beforeAll(async () => {
  h = await providersHarness();
  vi.spyOn(console, 'warn').mockImplementation(() => {});
});
afterEach(() => h.reset());
afterAll(() => h.close());

describe('wiring', () => {
  it('init() declares openai, @anthropic-ai/sdk, @google/genai and @aws-sdk/client-bedrock-runtime with bounded version ranges', () => {
    const defs = h.instrumentation.getModuleDefinitions();
    expect(defs.map((d) => [d.name, d.supportedVersions])).toEqual([
      ['openai', ['>=5.0.0 <8']],
      ['@anthropic-ai/sdk', ['>=0.30.0 <2']],
      ['@google/genai', ['>=1.0.0 <4']],
      ['@aws-sdk/client-bedrock-runtime', ['>=3.588.0 <4']],
    ]);
  });

  it('manuallyInstrument patches all three SDKs: each call is exactly one priced CLIENT span, attributed to the task', async () => {
    expect(wrappedState()).toEqual(all(true));
    let costUsd = 0;
    await withTask({ name: 'wiring', agent: 'wiring-agent' }, async (task) => {
      await callEverySDK();
      costUsd = task.costUsd;
    });
    const llm = (await h.spans()).filter((s) => s.kind === SpanKind.CLIENT);
    expect(llm.map((s) => s.name)).toEqual(['chat gpt-4o-mini', 'anthropic.messages.create', 'chat claude-sonnet-4-5', 'generate_content gemini-2.5-flash']);
    const expected = [
      usd(1000, PRICES['gpt-4o-mini'].input) + usd(100, PRICES['gpt-4o-mini'].output),
      usd(1000, PRICES['claude-sonnet-4-5'].input) + usd(100, PRICES['claude-sonnet-4-5'].output),
      usd(1000, PRICES['claude-sonnet-4-5'].input) + usd(100, PRICES['claude-sonnet-4-5'].output),
      usd(1000, PRICES['gemini-2.5-flash'].input) + usd(100, PRICES['gemini-2.5-flash'].output),
    ];
    expect(llm.map((s) => nano(s.attributes[A.ATTR_GEN_AI_USAGE_COST_AMOUNT]))).toEqual(expected.map(nano));
    for (const s of llm) {
      expect(s.attributes).toMatchObject({ [A.ATTR_SPENDTRACE_TASK_NAME]: 'wiring', [A.ATTR_GEN_AI_AGENT_NAME]: 'wiring-agent' });
      expect(s.attributes[A.ATTR_SPENDTRACE_REQUEST_HASH]).toMatch(/^[0-9a-f]{16}$/);
    }
    expect(nano(costUsd)).toBe(nano(expected.reduce((a, b) => a + b, 0)));
  });

  it('disable() restores every original method (calls then make no spendtrace span and no cost); enable() patches again', async () => {
    h.instrumentation.disable();
    try {
      expect(wrappedState()).toEqual(all(false));
      await callEverySDK();
      const spans = await h.spans();
      // Only the Anthropic SDK's own span remains, unpriced: spendtrace no longer touches it.
      expect(spans.map((s) => s.name)).toEqual(['anthropic.messages.create']);
      expect(spans[0]!.attributes[A.ATTR_GEN_AI_USAGE_COST_AMOUNT]).toBeUndefined();
    } finally {
      h.instrumentation.enable();
    }
    expect(wrappedState()).toEqual(all(true));
    h.reset();
    await callEverySDK();
    const priced = (await h.spans()).filter((s) => typeof s.attributes[A.ATTR_GEN_AI_USAGE_COST_AMOUNT] === 'number');
    expect(priced).toHaveLength(4);
  });

  it('accepts client instances too, and patching twice never wraps twice', async () => {
    const inst = manuallyInstrument({ anthropic: h.anthropic(false), googleGenAI: h.gemini() }, h.instrumentation);
    expect(inst).toBe(h.instrumentation);
    await h.anthropic(false).messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: user });
    await h.gemini().models.generateContent({ model: 'gemini-2.5-flash', contents: 'hi' });
    expect((await h.spans()).map((s) => s.name)).toEqual(['chat claude-sonnet-4-5', 'generate_content gemini-2.5-flash']);
  });
});

describe('app-level repeats', () => {
  it('marks spendtrace.request.repeat on identical requests inside one task, for every SDK; a new task starts from zero', async () => {
    const once = async () => {
      await h.openai().chat.completions.create({ model: 'gpt-4o-mini', messages: user });
      await h.anthropic(true).messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: user });
      await h.anthropic(false).messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: user });
      await h.gemini().models.generateContent({ model: 'gemini-2.5-flash', contents: 'What is 2+2?' });
    };
    await withTask({ name: 'loop' }, async () => {
      await once();
      await once();
      // A different question is no repeat.
      await h.gemini().models.generateContent({ model: 'gemini-2.5-flash', contents: 'What is 3+3?' });
    });
    await withTask({ name: 'fresh' }, once);
    const llm = (await h.spans()).filter((s) => s.kind === SpanKind.CLIENT);
    const repeats = llm.map((s) => s.attributes[A.ATTR_SPENDTRACE_REQUEST_REPEAT]);
    // Native and own Anthropic spans of the same request share a hash: the own-span call is its repeat.
    expect(repeats).toEqual([undefined, undefined, 1, undefined, 1, 2, 3, 1, undefined, undefined, undefined, 1, undefined]);
    const hashes = llm.map((s) => s.attributes[A.ATTR_SPENDTRACE_REQUEST_HASH]);
    expect(hashes[3]).toBe(hashes[7]);
    expect(hashes[8]).not.toBe(hashes[7]);
  });
});
