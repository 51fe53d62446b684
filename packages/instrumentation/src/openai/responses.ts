/**
 * `responses.create` (plain and `stream: true`) as a `chat` span with `openai.api.type=responses`,
 * as the GenAI conventions map the Responses API. `responses.parse()` and `responses.stream()`
 * call `create` on the client: one span per HTTP request.
 *
 * Usage comes from the `response` object, or in a stream from the terminal `response.completed`
 * / `response.incomplete` / `response.failed` event: `input_tokens` (cached inside),
 * `output_tokens` (reasoning inside). Built-in tools that OpenAI bills per call —
 * `web_search_call` and `file_search_call` output items — are counted and priced from the
 * catalogue's `web_searches_kcount` / `storage_searches_kcount` as `spendtrace.cost.tool`,
 * inside the span's total and the task's running cost.
 */
import { cap, promptText, toolsText } from '../budget-gate.ts';
import type { Attributes } from '@opentelemetry/api';
import * as A from '@spendtrace/semconv';
import type { ChatMessage } from '../internal-types.ts';
import { openaiResponsesInput, openaiResponsesOutput } from '../content-capture.ts';
import { requestHash } from '../request-hash.ts';
import { estimateInputTokens, estimateOutputTokens } from '../token-estimate.ts';
import { NOT_STREAMING, STREAMING_WITH_USAGE, type OpenAIApi, type OpenAICall } from './call.ts';

/** Look-alike of the Responses request fields we read (v5–v7). */
interface ResponsesParams {
  model?: string;
  input?: string | Array<{ role?: string; content?: unknown; type?: string; output?: unknown }>;
  instructions?: string | null;
  stream?: boolean | null;
  max_output_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  service_tier?: string | null;
  text?: { format?: { type?: string } | null } | null;
  conversation?: string | { id?: string } | null;
  tools?: unknown[];
}

interface ResponsesUsage {
  input_tokens?: number;
  input_tokens_details?: { cached_tokens?: number | null } | null;
  output_tokens?: number;
  output_tokens_details?: { reasoning_tokens?: number | null } | null;
  /** Provider-reported cost in USD (OpenRouter). */
  cost?: number;
}

interface ResponseObject {
  id?: string;
  model?: string;
  status?: string;
  incomplete_details?: { reason?: string } | null;
  error?: { code?: string } | null;
  output?: Array<{ type?: string }>;
  usage?: ResponsesUsage | null;
  service_tier?: string | null;
}

/** The request as chat-style messages, for the request hash and local token counts. */
function messagesOf(body: ResponsesParams): ChatMessage[] {
  const messages: ChatMessage[] = [];
  if (typeof body.instructions === 'string') messages.push({ role: 'system', content: body.instructions });
  const input = body.input;
  if (typeof input === 'string') messages.push({ role: 'user', content: input });
  else if (Array.isArray(input)) {
    for (const item of input) {
      if (!item) continue;
      // Function call outputs carry `output` instead of `content`.
      messages.push({ role: item.role ?? item.type ?? '', content: item.content ?? (typeof item.output === 'string' ? item.output : undefined) });
    }
  }
  return messages;
}

function readUsage(call: OpenAICall, u: ResponsesUsage): void {
  call.setUsage(u.input_tokens, u.output_tokens, u.input_tokens_details?.cached_tokens, u.output_tokens_details?.reasoning_tokens, u.cost);
}

/** A whole `response` object (plain call, or a stream's terminal event). */
function readResponse(call: OpenAICall, r: ResponseObject | undefined): void {
  if (!r) return;
  if (r.id) call.responseId = r.id;
  if (r.model) call.responseModel = r.model;
  if (r.usage) readUsage(call, r.usage);
  if (r.service_tier) call.attrs[A.ATTR_OPENAI_RESPONSE_SERVICE_TIER] = r.service_tier;
  let toolCalls = false;
  if (Array.isArray(r.output)) {
    // The final output is authoritative: recount what a stream counted item by item.
    let web = 0;
    let file = 0;
    for (const item of r.output) {
      const type = item?.type;
      if (type === 'web_search_call') web++;
      else if (type === 'file_search_call') file++;
      else if (type === 'function_call' || type === 'custom_tool_call') toolCalls = true;
    }
    call.webSearches = web;
    call.fileSearches = file;
    if (call.host.captureMessageContent) Object.assign(call.attrs, openaiResponsesOutput(r));
  }
  // The Responses API has no finish_reason: its status says the same thing.
  switch (r.status) {
    case 'completed':
      call.finishReasons = [toolCalls ? 'tool_calls' : 'stop'];
      break;
    case 'incomplete':
      call.finishReasons = [r.incomplete_details?.reason ?? 'incomplete'];
      break;
    case 'failed':
      call.finishReasons = ['error'];
      call.apiError = r.error?.code || 'response.failed';
      break;
    case 'cancelled':
      call.finishReasons = ['cancelled'];
      break;
    default:
  }
}

export const responsesApi: OpenAIApi<ResponsesParams> = {
  operation: A.GEN_AI_OPERATION.CHAT,
  budget: (body: any) => ({
    text: promptText(body?.instructions, body?.input) + toolsText(body?.tools),
    overheadTokens: 3,
    maxOutputTokens: cap(body?.max_output_tokens),
  }),

  requestAttributes(body, attrs: Attributes, host) {
    attrs[A.ATTR_OPENAI_API_TYPE] = A.OPENAI_API_TYPE.RESPONSES;
    if (typeof body.max_output_tokens === 'number') attrs[A.ATTR_GEN_AI_REQUEST_MAX_TOKENS] = body.max_output_tokens;
    if (typeof body.temperature === 'number') attrs[A.ATTR_GEN_AI_REQUEST_TEMPERATURE] = body.temperature;
    if (typeof body.top_p === 'number') attrs[A.ATTR_GEN_AI_REQUEST_TOP_P] = body.top_p;
    if (body.stream === true) attrs[A.ATTR_GEN_AI_REQUEST_STREAM] = true;
    if (body.service_tier && body.service_tier !== 'auto') attrs[A.ATTR_OPENAI_REQUEST_SERVICE_TIER] = body.service_tier;
    const format = body.text?.format?.type;
    if (format) attrs[A.ATTR_GEN_AI_OUTPUT_TYPE] = format === 'text' ? 'text' : 'json';
    const conversation = typeof body.conversation === 'string' ? body.conversation : body.conversation?.id;
    if (conversation) attrs[A.ATTR_GEN_AI_CONVERSATION_ID] = conversation;
    if (host.captureMessageContent) Object.assign(attrs, openaiResponsesInput(body));
  },

  hash: (model, body) => requestHash(model, body ? messagesOf(body) : undefined),

  // Responses streams always end with usage: nothing to ask for.
  streaming: (body) => (body?.stream === true ? STREAMING_WITH_USAGE : NOT_STREAMING),

  readResult: (call, r: ResponseObject) => readResponse(call, r),

  readChunk(call, event: { type?: string; response?: ResponseObject; delta?: string; item?: { type?: string; name?: string } }) {
    switch (event?.type) {
      case 'response.created':
      case 'response.in_progress':
        if (!call.responseId) readResponse(call, event.response);
        break;
      case 'response.output_text.delta':
      case 'response.refusal.delta':
      case 'response.function_call_arguments.delta':
        if (call.text && event.delta) call.text.push(event.delta);
        break;
      case 'response.output_item.done': {
        // Counted as they finish, so a stream cut short still bills the searches that ran.
        const type = event.item?.type;
        if (type === 'web_search_call') call.webSearches++;
        else if (type === 'file_search_call') call.fileSearches++;
        else if (type === 'function_call' && call.text && event.item?.name) call.text.push(event.item.name);
        break;
      }
      case 'response.completed':
      case 'response.incomplete':
      case 'response.failed':
        readResponse(call, event.response);
        break;
      default:
    }
    return false;
  },

  estimate(call, text) {
    const model = call.responseModel ?? call.body.model;
    return Promise.all([estimateInputTokens(model, messagesOf(call.body), call.body.tools), estimateOutputTokens(model, text)]).then(
      ([inputTokens, outputTokens]) => ({ inputTokens, outputTokens }),
    );
  },
};
