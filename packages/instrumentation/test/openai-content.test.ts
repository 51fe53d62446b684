// Proves opt-in message content capture for OpenAI Chat Completions and Responses: off by default, and when on, gen_ai.input.messages / gen_ai.output.messages / gen_ai.system_instructions in the conventions' JSON structure (text, tool_call, tool_call_response, blob, uri, file parts), not the raw request JSON.
import { beforeEach, describe, expect, test } from 'vitest';
import * as A from '@spendtrace/semconv';
import { useHarness } from './setup.ts';

const h = useHarness();
beforeEach(() => h.instrumentation.setConfig({}));

const json = (v: unknown) => JSON.parse(v as string);
const capture = () => h.instrumentation.setConfig({ captureMessageContent: true });

// A tool round trip as an app sends it back: system prompt, image (inline and by URL), the assistant's tool call, the tool's answer.
const chatMessages = [
  { role: 'system' as const, content: 'Be brief.' },
  {
    role: 'user' as const,
    content: [
      { type: 'text' as const, text: 'Weather where this photo was taken?' },
      { type: 'image_url' as const, image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
      { type: 'image_url' as const, image_url: { url: 'https://example.com/paris.jpg' } },
    ],
  },
  {
    role: 'assistant' as const,
    content: null,
    tool_calls: [{ id: 'call_1', type: 'function' as const, function: { name: 'weather', arguments: '{"city":"Paris"}' } }],
  },
  { role: 'tool' as const, tool_call_id: 'call_1', content: 'sunny' },
];
const expectedChatInput = [
  { role: 'system', parts: [{ type: 'text', content: 'Be brief.' }] },
  {
    role: 'user',
    parts: [
      { type: 'text', content: 'Weather where this photo was taken?' },
      { type: 'blob', modality: 'image', mime_type: 'image/png', content: 'iVBORw0KGgo=' },
      { type: 'uri', modality: 'image', uri: 'https://example.com/paris.jpg' },
    ],
  },
  { role: 'assistant', parts: [{ type: 'tool_call', id: 'call_1', name: 'weather', arguments: { city: 'Paris' } }] },
  { role: 'tool', parts: [{ type: 'tool_call_response', id: 'call_1', response: 'sunny' }] },
];

const responsesInput = [
  {
    role: 'user' as const,
    content: [
      { type: 'input_text' as const, text: 'Summarise the report.' },
      { type: 'input_file' as const, file_id: 'file-abc' },
    ],
  },
  { type: 'function_call' as const, call_id: 'call_9', name: 'lookup', arguments: '{"q":"report"}' },
  { type: 'function_call_output' as const, call_id: 'call_9', output: '{"pages":3}' },
];

describe('OpenAI message content capture', () => {
  test('off by default: no message attributes on chat or Responses spans', async () => {
    await h.client.chat.completions.create({ model: 'gpt-4o-mini', messages: chatMessages });
    await h.client.responses.create({ model: 'gpt-4o-mini', instructions: 'Be brief.', input: responsesInput });
    const spans = h.chatSpans();
    expect(spans).toHaveLength(2);
    for (const s of spans) {
      expect(s.attributes).not.toHaveProperty(A.ATTR_GEN_AI_INPUT_MESSAGES);
      expect(s.attributes).not.toHaveProperty(A.ATTR_GEN_AI_OUTPUT_MESSAGES);
      expect(s.attributes).not.toHaveProperty(A.ATTR_GEN_AI_SYSTEM_INSTRUCTIONS);
    }
  });

  test('chat completions: input messages with system, image, tool call and tool response parts; output per choice with finish_reason', async () => {
    capture();
    h.fake.enqueue({ content: 'Sunny in Paris.' });
    await h.client.chat.completions.create({ model: 'gpt-4o-mini', messages: chatMessages });
    const a = h.chatSpans()[0]!.attributes;
    expect(json(a[A.ATTR_GEN_AI_INPUT_MESSAGES])).toEqual(expectedChatInput);
    // System messages are part of the chat history in this API: the conventions keep them in the input messages.
    expect(a).not.toHaveProperty(A.ATTR_GEN_AI_SYSTEM_INSTRUCTIONS);
    expect(json(a[A.ATTR_GEN_AI_OUTPUT_MESSAGES])).toEqual([
      { role: 'assistant', parts: [{ type: 'text', content: 'Sunny in Paris.' }], finish_reason: 'stop' },
    ]);
  });

  test('chat completions: a tool-call answer is a tool_call part with parsed arguments and finish_reason tool_call', async () => {
    capture();
    h.fake.enqueue({ toolCalls: [{ id: 'call_7', name: 'weather', arguments: { city: 'Oslo' } }] });
    await h.client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Weather in Oslo?' }] });
    const a = h.chatSpans()[0]!.attributes;
    expect(json(a[A.ATTR_GEN_AI_INPUT_MESSAGES])).toEqual([{ role: 'user', parts: [{ type: 'text', content: 'Weather in Oslo?' }] }]);
    expect(json(a[A.ATTR_GEN_AI_OUTPUT_MESSAGES])).toEqual([
      { role: 'assistant', parts: [{ type: 'tool_call', id: 'call_7', name: 'weather', arguments: { city: 'Oslo' } }], finish_reason: 'tool_call' },
    ]);
  });

  test('chat completions stream: input messages are captured', async () => {
    capture();
    const stream = await h.client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    for await (const _ of stream) void _;
    expect(json(h.chatSpans()[0]!.attributes[A.ATTR_GEN_AI_INPUT_MESSAGES])).toEqual([{ role: 'user', parts: [{ type: 'text', content: 'hi' }] }]);
  });

  test('Responses: instructions as system instructions; input items as messages (file part, tool call, tool response); output items in one assistant message', async () => {
    capture();
    h.fake.enqueue({ content: 'Three pages.', toolCalls: [{ id: 'call_10', name: 'lookup', arguments: { q: 'more' } }] });
    await h.client.responses.create({ model: 'gpt-4o-mini', instructions: 'Be brief.', input: responsesInput });
    const a = h.chatSpans()[0]!.attributes;
    expect(json(a[A.ATTR_GEN_AI_SYSTEM_INSTRUCTIONS])).toEqual([{ type: 'text', content: 'Be brief.' }]);
    expect(json(a[A.ATTR_GEN_AI_INPUT_MESSAGES])).toEqual([
      {
        role: 'user',
        parts: [
          { type: 'text', content: 'Summarise the report.' },
          { type: 'file', modality: 'document', file_id: 'file-abc' },
        ],
      },
      { role: 'assistant', parts: [{ type: 'tool_call', id: 'call_9', name: 'lookup', arguments: { q: 'report' } }] },
      { role: 'tool', parts: [{ type: 'tool_call_response', id: 'call_9', response: '{"pages":3}' }] },
    ]);
    expect(json(a[A.ATTR_GEN_AI_OUTPUT_MESSAGES])).toEqual([
      {
        role: 'assistant',
        parts: [
          { type: 'text', content: 'Three pages.' },
          { type: 'tool_call', id: 'call_10', name: 'lookup', arguments: { q: 'more' } },
        ],
        finish_reason: 'tool_call',
      },
    ]);
  });

  test('Responses: a string input and a stream (output from response.completed), with a provider-run web search kept by its type', async () => {
    capture();
    h.fake.enqueue({ content: 'Found it.', webSearches: 1 });
    const stream = await h.client.responses.create({ model: 'gpt-4o-mini', input: 'Search the news', tools: [{ type: 'web_search' }], stream: true });
    for await (const _ of stream) void _;
    const a = h.chatSpans()[0]!.attributes;
    expect(json(a[A.ATTR_GEN_AI_INPUT_MESSAGES])).toEqual([{ role: 'user', parts: [{ type: 'text', content: 'Search the news' }] }]);
    expect(a).not.toHaveProperty(A.ATTR_GEN_AI_SYSTEM_INSTRUCTIONS);
    const [out] = json(a[A.ATTR_GEN_AI_OUTPUT_MESSAGES]);
    expect(out).toEqual({
      role: 'assistant',
      parts: [
        { type: 'web_search_call', id: expect.any(String) },
        { type: 'text', content: 'Found it.' },
      ],
      finish_reason: 'stop',
    });
  });
});
