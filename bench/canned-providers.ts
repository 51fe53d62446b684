/**
 * In-memory answers for `@anthropic-ai/sdk` (the `fetch` option) and `@google/genai` (the global
 * `fetch`, it has no option), in each API's wire format, as the fake servers in
 * `@spendtrace/fake-providers` send them: a Messages API `message` and its SSE stream
 * (message_start, content_block_start, N text deltas, content_block_stop, message_delta,
 * message_stop); a Gemini `GenerateContentResponse` and `streamGenerateContent?alt=sse` chunks
 * (usageMetadata with the prompt count on every chunk, final counts and finishReason on the last).
 * Bytes are made once; each call only wraps them in a new Response, one read per SSE event.
 */
const enc = new TextEncoder();

function sseResponse(events: Uint8Array[], headers: Record<string, string>): Response {
  let i = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i < events.length) controller.enqueue(events[i++]!);
      else controller.close();
    },
  });
  return new Response(body, { status: 200, headers });
}

// Anthropic -----------------------------------------------------------------------------------------
export const ANTHROPIC_MODEL = 'claude-sonnet-4-6';
const anthropicUsage = { input_tokens: 1200, output_tokens: 300, cache_read_input_tokens: 1024, cache_creation_input_tokens: 0, service_tier: 'standard' };
const anthropicHeaders = { 'content-type': 'application/json', 'request-id': 'req_bench' };
const anthropicSseHeaders = { 'content-type': 'text/event-stream; charset=utf-8', 'request-id': 'req_bench' };

const messageJson = enc.encode(
  JSON.stringify({
    id: 'msg_bench',
    type: 'message',
    role: 'assistant',
    model: ANTHROPIC_MODEL,
    content: [{ type: 'text', text: 'The capital of France is Paris. It has been the capital since the 10th century.' }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: anthropicUsage,
  }),
);

function anthropicEvents(contentChunks: number): Uint8Array[] {
  const ev = (type: string, data: Record<string, unknown>) => enc.encode(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
  const head = { id: 'msg_bench_stream', type: 'message', role: 'assistant', model: ANTHROPIC_MODEL, stop_sequence: null };
  const events = [
    ev('message_start', { message: { ...head, content: [], stop_reason: null, usage: { ...anthropicUsage, output_tokens: 1 } } }),
    ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
  ];
  for (let i = 0; i < contentChunks; i++) events.push(ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: ` word${i}` } }));
  events.push(ev('content_block_stop', { index: 0 }));
  events.push(
    ev('message_delta', {
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { output_tokens: contentChunks, input_tokens: 1200, cache_creation_input_tokens: 0, cache_read_input_tokens: 1024 },
    }),
  );
  events.push(ev('message_stop', {}));
  return events;
}

/** A `fetch` for the Anthropic client: the canned message, or its stream when the body asks for one. */
export function anthropicFetch(contentChunks: number): typeof fetch {
  const events = anthropicEvents(contentChunks);
  return (async (_url: unknown, init?: RequestInit) =>
    typeof init?.body === 'string' && init.body.includes('"stream":true')
      ? sseResponse(events, anthropicSseHeaders)
      : new Response(messageJson, { status: 200, headers: anthropicHeaders })) as typeof fetch;
}

// Gemini --------------------------------------------------------------------------------------------
export const GEMINI_MODEL = 'gemini-2.5-flash';
const geminiUsage = { promptTokenCount: 1200, candidatesTokenCount: 300, cachedContentTokenCount: 1024, totalTokenCount: 1500 };

const generateJson = enc.encode(
  JSON.stringify({
    candidates: [
      {
        content: { role: 'model', parts: [{ text: 'The capital of France is Paris. It has been the capital since the 10th century.' }] },
        finishReason: 'STOP',
        index: 0,
      },
    ],
    usageMetadata: geminiUsage,
    modelVersion: GEMINI_MODEL,
    responseId: 'resp_bench',
  }),
);

function geminiEvents(contentChunks: number): Uint8Array[] {
  const events: Uint8Array[] = [];
  for (let i = 0; i < contentChunks; i++) {
    const last = i === contentChunks - 1;
    const chunk = {
      candidates: [{ content: { role: 'model', parts: [{ text: ` word${i}` }] }, index: 0, ...(last ? { finishReason: 'STOP' } : {}) }],
      usageMetadata: last
        ? { ...geminiUsage, candidatesTokenCount: contentChunks, totalTokenCount: 1200 + contentChunks }
        : { promptTokenCount: 1200, cachedContentTokenCount: 1024, totalTokenCount: 1200 },
      modelVersion: GEMINI_MODEL,
      responseId: 'resp_bench_stream',
    };
    events.push(enc.encode(`data: ${JSON.stringify(chunk)}\r\n\r\n`));
  }
  return events;
}

/** Installs a global `fetch` answering generateContent and streamGenerateContent from memory. */
export function installGeminiFetch(contentChunks: number): void {
  const events = geminiEvents(contentChunks);
  globalThis.fetch = (async (url: string | URL | Request) =>
    String(url instanceof Request ? url.url : url).includes(':streamGenerateContent')
      ? sseResponse(events, { 'content-type': 'text/event-stream' })
      : new Response(generateJson, { status: 200, headers: { 'content-type': 'application/json' } })) as typeof fetch;
}
