/**
 * `chat.completions.create` of the `openai` SDK (v5–v7) as a `chat` span with usage and cost.
 * `chat.completions.parse`, `.runTools()` and `.stream()` call `create` on the client, so they are
 * covered by the same wrapper: one span per HTTP request. The span's life is in call.ts.
 */
import { capTimes, promptText, toolsText } from '../budget-gate.ts';
import type { Attributes } from '@opentelemetry/api';
import * as A from '@spendtrace/semconv';
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionParams, ChatCompletionUsage, CompletionChoice, CompletionResult } from '../internal-types.ts';
import { openaiChatInput, openaiChatOutput } from '../content-capture.ts';
import { requestHash } from '../request-hash.ts';
import { estimateInputTokens, estimateOutputTokens } from '../token-estimate.ts';
import { NOT_STREAMING, STREAMING_INJECTABLE, type OpenAIApi, type OpenAICall } from './call.ts';

export type { ChatHost } from './call.ts';

export function chatRequestAttributes(body: ChatCompletionParams, attrs: Attributes): void {
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  if (typeof maxTokens === 'number') attrs[A.ATTR_GEN_AI_REQUEST_MAX_TOKENS] = maxTokens;
  if (typeof body.temperature === 'number') attrs[A.ATTR_GEN_AI_REQUEST_TEMPERATURE] = body.temperature;
  if (typeof body.top_p === 'number') attrs[A.ATTR_GEN_AI_REQUEST_TOP_P] = body.top_p;
  if (typeof body.frequency_penalty === 'number') attrs[A.ATTR_GEN_AI_REQUEST_FREQUENCY_PENALTY] = body.frequency_penalty;
  if (typeof body.presence_penalty === 'number') attrs[A.ATTR_GEN_AI_REQUEST_PRESENCE_PENALTY] = body.presence_penalty;
  if (typeof body.seed === 'number') attrs[A.ATTR_GEN_AI_REQUEST_SEED] = body.seed;
  if (typeof body.n === 'number' && body.n !== 1) attrs[A.ATTR_GEN_AI_REQUEST_CHOICE_COUNT] = body.n;
  if (body.stop) attrs[A.ATTR_GEN_AI_REQUEST_STOP_SEQUENCES] = typeof body.stop === 'string' ? [body.stop] : body.stop;
  if (body.stream === true) attrs[A.ATTR_GEN_AI_REQUEST_STREAM] = true;
}

/** Chat Completions / legacy Completions usage: prompt_tokens (cached inside), completion_tokens (reasoning inside). */
function completionUsage(call: OpenAICall, u: ChatCompletionUsage): void {
  call.setUsage(u.prompt_tokens, u.completion_tokens, u.prompt_tokens_details?.cached_tokens, u.completion_tokens_details?.reasoning_tokens, u.cost);
}

/**
 * A whole Chat Completions / legacy Completions body: id, model, usage and finish reasons onto
 * the call. Returns the choices (when there are any) for the API's own content capture.
 */
export function readCompletionResult<C extends CompletionChoice>(call: OpenAICall, r: CompletionResult<C>): C[] | undefined {
  call.responseId = r?.id;
  call.responseModel = r?.model;
  if (r?.usage) completionUsage(call, r.usage);
  const choices = r?.choices;
  if (!Array.isArray(choices)) return undefined;
  const reasons: string[] = [];
  for (const c of choices) if (c?.finish_reason) reasons.push(c.finish_reason);
  call.finishReasons = reasons;
  return choices;
}

/**
 * A Chat Completions / legacy Completions stream chunk: id, model, usage and each choice's finish
 * reason onto the call; `collectText` adds a choice's text for local token counting. True for the
 * usage-only chunk we asked for (ours to hide).
 */
export function readCompletionChunk<C extends CompletionChoice>(
  call: OpenAICall,
  chunk: CompletionResult<C>,
  collectText: (text: string[], choice: C) => void,
): boolean {
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
      if (call.text) collectText(call.text, c);
    }
    if (call.injected && choices.length === 0 && chunk.usage) return true;
  }
  return false;
}

/** A streamed choice's text, kept for a local count should the stream end without usage. */
function collectChatText(text: string[], c: NonNullable<ChatCompletionChunk['choices']>[number]): void {
  const d = c.delta;
  if (d?.content) text.push(d.content);
  if (d?.tool_calls) for (const t of d.tool_calls) text.push(t.function?.name ?? '', t.function?.arguments ?? '');
}

export const chatCompletionsApi: OpenAIApi<ChatCompletionParams> = {
  operation: A.GEN_AI_OPERATION.CHAT,
  budget: (body: any) => ({
    text: promptText(body?.messages) + toolsText(body?.tools),
    // OpenAI's counting recipe: 3 tokens per message, 3 to prime the reply.
    overheadTokens: 3 + 3 * (Array.isArray(body?.messages) ? body.messages.length : 0),
    maxOutputTokens: capTimes(body?.max_completion_tokens ?? body?.max_tokens, body?.n),
  }),

  requestAttributes(body, attrs, host) {
    // Both OpenAI APIs are `chat` operations: this is what tells them apart (as responses.ts sets `responses`).
    attrs[A.ATTR_OPENAI_API_TYPE] = A.OPENAI_API_TYPE.CHAT_COMPLETIONS;
    chatRequestAttributes(body, attrs);
    const format = body.response_format?.type;
    if (format) attrs[A.ATTR_GEN_AI_OUTPUT_TYPE] = format === 'text' ? 'text' : 'json';
    if (host.captureMessageContent) Object.assign(attrs, openaiChatInput(body));
  },

  hash: (model, body) => requestHash(model, body?.messages),

  streaming: (body) => (body?.stream === true ? STREAMING_INJECTABLE : NOT_STREAMING),

  readResult(call, r: ChatCompletion) {
    const choices = readCompletionResult(call, r);
    if (choices && call.host.captureMessageContent) Object.assign(call.attrs, openaiChatOutput(choices));
  },

  readChunk: (call, chunk: ChatCompletionChunk) => readCompletionChunk(call, chunk, collectChatText),

  estimate(call, text) {
    const model = call.responseModel ?? call.body.model;
    return Promise.all([estimateInputTokens(model, call.body.messages, call.body.tools), estimateOutputTokens(model, text)]).then(
      ([inputTokens, outputTokens]) => ({ inputTokens, outputTokens }),
    );
  },
};
