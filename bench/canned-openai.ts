/**
 * In-memory answers for the openai SDK's `fetch` option, in the Chat Completions wire format
 * (https://platform.openai.com/docs/api-reference/chat, the same shapes the fake server sends):
 * a `chat.completion` JSON, and an SSE stream of `chat.completion.chunk` events with the final
 * usage chunk (`stream_options.include_usage`). Bytes are made once; each call only wraps them in
 * a new Response, so the set-up isolates the SDK's and the instrumentation's own CPU time.
 */
const created = 1_735_689_600;
const model = 'gpt-4o-mini-2024-07-18';

const usage = {
  prompt_tokens: 1200,
  completion_tokens: 300,
  total_tokens: 1500,
  prompt_tokens_details: { cached_tokens: 1024, audio_tokens: 0 },
  completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
};

const completionJson = new TextEncoder().encode(
  JSON.stringify({
    id: 'chatcmpl-bench',
    object: 'chat.completion',
    created,
    model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: 'The capital of France is Paris. It has been the capital since the 10th century.',
          refusal: null,
          annotations: [],
        },
        logprobs: null,
        finish_reason: 'stop',
      },
    ],
    usage,
    service_tier: 'default',
    system_fingerprint: 'fp_bench',
  }),
);

/** SSE events of a stream with `contentChunks` content deltas, one encoded buffer per event. */
export function sseEvents(contentChunks: number): Uint8Array[] {
  const enc = new TextEncoder();
  const base = { id: 'chatcmpl-bench-stream', object: 'chat.completion.chunk', created, model, service_tier: 'default', system_fingerprint: 'fp_bench' };
  const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
    JSON.stringify({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], usage: null });
  const events = [chunk({ role: 'assistant', content: '', refusal: null })];
  for (let i = 0; i < contentChunks; i++) events.push(chunk({ content: ` word${i}` }));
  events.push(chunk({}, 'stop'));
  events.push(JSON.stringify({ ...base, choices: [], usage: { ...usage, completion_tokens: contentChunks, total_tokens: 1200 + contentChunks } }));
  events.push('[DONE]');
  return events.map((e) => enc.encode(`data: ${e}\n\n`));
}

const jsonHeaders = { 'content-type': 'application/json', 'x-request-id': 'req_bench', 'openai-processing-ms': '1' };
const sseHeaders = { 'content-type': 'text/event-stream; charset=utf-8', 'x-request-id': 'req_bench' };

/** A `fetch` that answers every request with the canned completion. */
export function completionFetch(): typeof fetch {
  return (async () => new Response(completionJson, { status: 200, headers: jsonHeaders })) as typeof fetch;
}

/** A `fetch` that answers every request with the canned stream, one read per SSE event. */
export function streamFetch(contentChunks: number): typeof fetch {
  const events = sseEvents(contentChunks);
  return (async () => {
    let i = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (i < events.length) controller.enqueue(events[i++]!);
        else controller.close();
      },
    });
    return new Response(body, { status: 200, headers: sseHeaders });
  }) as typeof fetch;
}
