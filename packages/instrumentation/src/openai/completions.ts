/**
 * Legacy `completions.create` (plain and `stream: true`) as a `text_completion` span. Streams
 * behave as chat streams: usage from the final chunk when `stream_options.include_usage` is set,
 * injected with `streamUsage: 'inject'`, else counted locally and marked estimated.
 */
import * as A from '@spendtrace/semconv';
import type { ChatCompletionUsage } from '../internal-types.ts';
import { requestHash } from '../request-hash.ts';
import { estimateOutputTokens } from '../token-estimate.ts';
import type { OpenAIApi } from './call.ts';
import { chatRequestAttributes, completionUsage } from './chat-completions.ts';
import { inputsAsMessages } from './embeddings.ts';

interface CompletionParams {
  model?: string;
  prompt?: string | string[] | number[] | number[][] | null;
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean | null } | null;
  max_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  frequency_penalty?: number | null;
  presence_penalty?: number | null;
  stop?: string | string[] | null;
  seed?: number | null;
  n?: number | null;
}

interface Completion {
  id?: string;
  model?: string;
  choices?: Array<{ index?: number; text?: string; finish_reason?: string | null }>;
  usage?: ChatCompletionUsage | null;
}

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

export const completionsApi: OpenAIApi<CompletionParams> = {
  operation: A.GEN_AI_OPERATION.TEXT_COMPLETION,

  requestAttributes(body, attrs, host) {
    chatRequestAttributes(body, attrs);
    if (host.captureMessageContent && body.prompt != null) attrs[A.ATTR_GEN_AI_INPUT_MESSAGES] = JSON.stringify(body.prompt);
  },

  hash: (model, body) => requestHash(model, inputsAsMessages(body?.prompt)),

  streaming: (body) => ({ stream: body?.stream === true, canInject: true }),

  readResult(call, r: Completion) {
    call.responseId = r?.id;
    call.responseModel = r?.model;
    if (r?.usage) completionUsage(call, r.usage);
    if (Array.isArray(r?.choices)) {
      const reasons: string[] = [];
      for (const c of r.choices) if (c?.finish_reason) reasons.push(c.finish_reason);
      call.finishReasons = reasons;
      if (call.host.captureMessageContent) call.span.setAttribute(A.ATTR_GEN_AI_OUTPUT_MESSAGES, JSON.stringify(r.choices.map((c) => c?.text)));
    }
  },

  readChunk(call, chunk: Completion) {
    if (!call.responseId) {
      call.responseId = chunk?.id;
      call.responseModel = chunk?.model;
    }
    if (chunk?.usage) completionUsage(call, chunk.usage);
    const choices = chunk?.choices;
    if (choices) {
      for (let i = 0; i < choices.length; i++) {
        const c = choices[i]!;
        if (c.finish_reason) (call.finishReasons ??= [])[c.index ?? i] = c.finish_reason;
        if (call.text && c.text) call.text.push(c.text);
      }
      if (call.injected && choices.length === 0 && chunk.usage) return true;
    }
    return false;
  },

  estimate(call, text) {
    const model = call.responseModel ?? call.body.model;
    // A raw prompt has no chat framing: count its text as is.
    return Promise.all([estimateOutputTokens(model, promptText(call.body.prompt)), estimateOutputTokens(model, text)]).then(([input, outputTokens]) => ({
      inputTokens: input + promptTokenArrays(call.body.prompt),
      outputTokens,
    }));
  },
};
