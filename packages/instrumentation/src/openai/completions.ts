/**
 * Legacy `completions.create` (plain and `stream: true`) as a `text_completion` span. Streams
 * behave as chat streams: usage from the final chunk when `stream_options.include_usage` is set,
 * injected with `streamUsage: 'inject'`, else counted locally and marked estimated.
 */
import { cap, capTimes } from '../budget-gate.ts';
import * as A from '@spendtrace/semconv';
import type { Completion, CompletionParams } from '../internal-types.ts';
import { requestHash } from '../request-hash.ts';
import { estimateOutputTokens } from '../token-estimate.ts';
import { NOT_STREAMING, STREAMING_INJECTABLE, type OpenAIApi } from './call.ts';
import { chatRequestAttributes, readCompletionChunk, readCompletionResult } from './chat-completions.ts';
import { inputsAsMessages } from './embeddings.ts';

function promptText(prompt: unknown): string {
  if (typeof prompt === 'string') return prompt;
  if (Array.isArray(prompt)) return prompt.filter((p) => typeof p === 'string').join('\n');
  return '';
}

/** Token-array prompts are already counted: their length. */
function promptTokenArrays(prompt: unknown): number {
  if (!Array.isArray(prompt) || !prompt.length) return 0;
  if (typeof prompt[0] === 'number') return prompt.length;
  let n = 0;
  for (const p of prompt) if (Array.isArray(p)) n += p.length;
  return n;
}

/** A streamed choice's text, kept for a local count should the stream end without usage. */
function collectCompletionText(text: string[], c: NonNullable<Completion['choices']>[number]): void {
  if (c.text) text.push(c.text);
}

export const completionsApi: OpenAIApi<CompletionParams> = {
  operation: A.GEN_AI_OPERATION.TEXT_COMPLETION,
  // The legacy API writes 16 tokens when max_tokens is not given, per choice (`best_of` are all generated).
  budget: (body: any) => ({
    text: promptText(body?.prompt),
    maxOutputTokens: capTimes(body?.max_tokens ?? 16, Math.max(cap(body?.n) ?? 1, cap(body?.best_of) ?? 1)),
  }),

  requestAttributes(body, attrs, host) {
    chatRequestAttributes(body, attrs);
    if (host.captureMessageContent && body.prompt != null) attrs[A.ATTR_GEN_AI_INPUT_MESSAGES] = JSON.stringify(body.prompt);
  },

  hash: (model, body) => requestHash(model, inputsAsMessages(body?.prompt)),

  streaming: (body) => (body?.stream === true ? STREAMING_INJECTABLE : NOT_STREAMING),

  readResult(call, r: Completion) {
    const choices = readCompletionResult(call, r);
    if (choices && call.host.captureMessageContent) call.attrs[A.ATTR_GEN_AI_OUTPUT_MESSAGES] = JSON.stringify(choices.map((c) => c?.text));
  },

  readChunk: (call, chunk: Completion) => readCompletionChunk(call, chunk, collectCompletionText),

  estimate(call, text) {
    const model = call.responseModel ?? call.body.model;
    // A raw prompt has no chat framing: count its text as is.
    return Promise.all([estimateOutputTokens(model, promptText(call.body.prompt)), estimateOutputTokens(model, text)]).then(([input, outputTokens]) => ({
      inputTokens: input + promptTokenArrays(call.body.prompt),
      outputTokens,
    }));
  },
};
