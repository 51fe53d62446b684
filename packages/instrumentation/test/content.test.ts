// Proves opt-in message content capture for Anthropic (own and native spans) and Gemini: off by default, and when on, gen_ai.input.messages / gen_ai.output.messages / gen_ai.system_instructions in the conventions' JSON structure.
import { SpanKind } from '@opentelemetry/api';
import * as A from '@spendtrace/semconv';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { providersHarness, type ProvidersHarness } from './fixtures/providers-harness.ts';

let h: ProvidersHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
  delete process.env[A.ENV_CAPTURE_MESSAGE_CONTENT];
});
vi.spyOn(console, 'warn').mockImplementation(() => {});

const conversation = [
  { role: 'user' as const, content: 'Weather in Paris?' },
  { role: 'assistant' as const, content: [{ type: 'tool_use' as const, id: 'toolu_1', name: 'weather', input: { city: 'Paris' } }] },
  { role: 'user' as const, content: [{ type: 'tool_result' as const, tool_use_id: 'toolu_1', content: 'sunny' }] },
];
const toolReply = {
  message: {
    content: [
      { type: 'thinking' as const, thinking: 'It is sunny.', signature: 'sig' },
      { type: 'text' as const, text: 'Sunny in Paris.' },
    ],
    usage: { input_tokens: 10, output_tokens: 5 },
  },
};

const expectedInput = [
  { role: 'user', parts: [{ type: 'text', content: 'Weather in Paris?' }] },
  { role: 'assistant', parts: [{ type: 'tool_call', id: 'toolu_1', name: 'weather', arguments: { city: 'Paris' } }] },
  { role: 'user', parts: [{ type: 'tool_call_response', id: 'toolu_1', response: 'sunny' }] },
];
const json = (v: unknown) => JSON.parse(v as string);

async function anthropicCall(native: boolean) {
  h!.anthropicFake.enqueue(toolReply);
  await h!.anthropic(native).messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, system: 'Be brief.', messages: conversation });
  return (await h!.spans()).filter((s) => s.kind === SpanKind.CLIENT)[0]!;
}
async function geminiCall() {
  h!.geminiFake.enqueue({ generate: { parts: [{ text: 'Sunny.' }], finishReason: 'STOP' } });
  await h!.gemini().models.generateContent({
    model: 'gemini-2.5-flash',
    contents: [
      { role: 'user', parts: [{ text: 'Weather in Paris?' }] },
      { role: 'model', parts: [{ functionCall: { name: 'weather', args: { city: 'Paris' } } }] },
      { role: 'user', parts: [{ functionResponse: { name: 'weather', response: { output: 'sunny' } } }] },
    ],
    config: { systemInstruction: 'Be brief.' },
  });
  return (await h!.spans())[0]!;
}

describe('message content capture', () => {
  it('is off by default: no message attributes on Anthropic (own, native) or Gemini spans', async () => {
    h = await providersHarness();
    for (const call of [() => anthropicCall(false), () => anthropicCall(true), geminiCall]) {
      h.reset();
      const span = await call();
      expect(span.attributes[A.ATTR_GEN_AI_INPUT_MESSAGES]).toBeUndefined();
      expect(span.attributes[A.ATTR_GEN_AI_OUTPUT_MESSAGES]).toBeUndefined();
      expect(span.attributes[A.ATTR_GEN_AI_SYSTEM_INSTRUCTIONS]).toBeUndefined();
    }
  });

  it(`${A.ENV_CAPTURE_MESSAGE_CONTENT}=true: Anthropic own span carries input, system and output messages in the conventions' structure`, async () => {
    process.env[A.ENV_CAPTURE_MESSAGE_CONTENT] = 'true';
    h = await providersHarness();
    const span = await anthropicCall(false);
    expect(json(span.attributes[A.ATTR_GEN_AI_INPUT_MESSAGES])).toEqual(expectedInput);
    expect(json(span.attributes[A.ATTR_GEN_AI_SYSTEM_INSTRUCTIONS])).toEqual([{ type: 'text', content: 'Be brief.' }]);
    expect(json(span.attributes[A.ATTR_GEN_AI_OUTPUT_MESSAGES])).toEqual([
      {
        role: 'assistant',
        parts: [
          { type: 'reasoning', content: 'It is sunny.' },
          { type: 'text', content: 'Sunny in Paris.' },
        ],
        finish_reason: 'stop',
      },
    ]);
  });

  it("captureMessageContent: the native Anthropic span gets the input messages (output is the SDK's own content mode)", async () => {
    h = await providersHarness({ captureMessageContent: true });
    const span = await anthropicCall(true);
    expect(span.name).toBe('anthropic.messages.create');
    expect(json(span.attributes[A.ATTR_GEN_AI_INPUT_MESSAGES])).toEqual(expectedInput);
    expect(json(span.attributes[A.ATTR_GEN_AI_SYSTEM_INSTRUCTIONS])).toEqual([{ type: 'text', content: 'Be brief.' }]);
  });

  it('captureMessageContent: Gemini spans carry contents (model role as assistant, function calls as tool parts) and candidates', async () => {
    h = await providersHarness({ captureMessageContent: true });
    const span = await geminiCall();
    expect(json(span.attributes[A.ATTR_GEN_AI_INPUT_MESSAGES])).toEqual([
      { role: 'user', parts: [{ type: 'text', content: 'Weather in Paris?' }] },
      { role: 'assistant', parts: [{ type: 'tool_call', name: 'weather', arguments: { city: 'Paris' } }] },
      { role: 'user', parts: [{ type: 'tool_call_response', id: 'weather', response: { output: 'sunny' } }] },
    ]);
    expect(json(span.attributes[A.ATTR_GEN_AI_SYSTEM_INSTRUCTIONS])).toEqual([{ type: 'text', content: 'Be brief.' }]);
    expect(json(span.attributes[A.ATTR_GEN_AI_OUTPUT_MESSAGES])).toEqual([
      { role: 'assistant', parts: [{ type: 'text', content: 'Sunny.' }], finish_reason: 'stop' },
    ]);
  });
});
