/**
 * Opt-in message content (`OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`) for every SDK
 * (Anthropic, Gemini, OpenAI Chat Completions and Responses): requests and responses in the GenAI
 * conventions' message structure, as JSON strings on `gen_ai.input.messages`,
 * `gen_ai.output.messages` and `gen_ai.system_instructions` (gen-ai-spans.md,
 * "gen-ai-input-messages.json"): `{ role, parts: [{ type, ... }] }`, with parts `text` (content),
 * `reasoning` (content), `tool_call` (id, name, arguments), `tool_call_response` (id, response),
 * `blob` (modality, mime_type, content), `uri` (modality, mime_type, uri), `file` (modality,
 * file_id); output messages add `finish_reason`. Anything else (an OpenAI `refusal`, a
 * provider-run `web_search_call`) keeps its own `type`.
 *
 * Only called when capture is on: nothing here runs on the default path.
 */
import type { Attributes } from '@opentelemetry/api';
import * as A from '@spendtrace/semconv';

export interface MessagePart {
  type: string;
  [key: string]: unknown;
}
export interface ConventionMessage {
  role: string;
  parts: MessagePart[];
  finish_reason?: string;
}

const modalityOf = (mime: unknown) =>
  typeof mime === 'string'
    ? mime.split('/')[0] === 'image' || mime.split('/')[0] === 'audio' || mime.split('/')[0] === 'video'
      ? mime.split('/')[0]
      : 'document'
    : 'document';

// --- Anthropic Messages API ----------------------------------------------------------------------

interface AnthropicBlock {
  type?: string;
  text?: string;
  thinking?: string;
  id?: string;
  name?: string;
  input?: unknown;
  tool_use_id?: string;
  content?: unknown;
  source?: { type?: string; media_type?: string; data?: string; url?: string };
}

function anthropicPart(b: AnthropicBlock | string): MessagePart {
  if (typeof b === 'string') return { type: 'text', content: b };
  switch (b?.type) {
    case 'text':
      return { type: 'text', content: b.text ?? '' };
    case 'thinking':
      return { type: 'reasoning', content: b.thinking ?? '' };
    case 'tool_use':
    case 'server_tool_use':
      return { type: 'tool_call', id: b.id, name: b.name, arguments: b.input };
    case 'tool_result':
      return { type: 'tool_call_response', id: b.tool_use_id, response: b.content };
    case 'image':
    case 'document': {
      const src = b.source;
      const modality = b.type === 'image' ? 'image' : 'document';
      if (src?.type === 'base64') return { type: 'blob', modality, mime_type: src.media_type, content: src.data };
      if (src?.type === 'url') return { type: 'uri', modality, uri: src.url };
      return { type: b.type };
    }
    default:
      return { type: String(b?.type ?? 'unknown') };
  }
}

const anthropicParts = (content: unknown): MessagePart[] =>
  typeof content === 'string' ? [{ type: 'text', content }] : Array.isArray(content) ? content.map(anthropicPart) : [];

export function anthropicInput(body: { messages?: unknown; system?: unknown } | undefined): Attributes {
  const attrs: Attributes = {};
  if (Array.isArray(body?.messages)) {
    const messages = (body.messages as Array<{ role?: string; content?: unknown }>).map((m) => ({
      role: m?.role ?? 'user',
      parts: anthropicParts(m?.content),
    }));
    attrs[A.ATTR_GEN_AI_INPUT_MESSAGES] = JSON.stringify(messages);
  }
  if (body?.system !== undefined) attrs[A.ATTR_GEN_AI_SYSTEM_INSTRUCTIONS] = JSON.stringify(anthropicParts(body.system));
  return attrs;
}

const ANTHROPIC_FINISH: Record<string, string> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  max_tokens: 'length',
  tool_use: 'tool_call',
  refusal: 'content_filter',
};

export function anthropicOutput(msg: { role?: string; content?: unknown; stop_reason?: string | null } | undefined): Attributes {
  if (!msg || !Array.isArray(msg.content)) return {};
  const out: ConventionMessage = { role: msg.role ?? 'assistant', parts: anthropicParts(msg.content) };
  if (msg.stop_reason) out.finish_reason = ANTHROPIC_FINISH[msg.stop_reason] ?? msg.stop_reason;
  return { [A.ATTR_GEN_AI_OUTPUT_MESSAGES]: JSON.stringify([out]) };
}

// --- Google Gen AI (Gemini API / Vertex AI) ------------------------------------------------------

interface GeminiPart {
  text?: string;
  thought?: boolean;
  functionCall?: { id?: string; name?: string; args?: unknown };
  functionResponse?: { id?: string; name?: string; response?: unknown };
  inlineData?: { mimeType?: string; data?: string };
  fileData?: { mimeType?: string; fileUri?: string };
}

function geminiPart(p: GeminiPart | string): MessagePart {
  if (typeof p === 'string') return { type: 'text', content: p };
  if (typeof p?.text === 'string') return p.thought ? { type: 'reasoning', content: p.text } : { type: 'text', content: p.text };
  if (p?.functionCall) return { type: 'tool_call', id: p.functionCall.id, name: p.functionCall.name, arguments: p.functionCall.args };
  if (p?.functionResponse) return { type: 'tool_call_response', id: p.functionResponse.id ?? p.functionResponse.name, response: p.functionResponse.response };
  if (p?.inlineData) return { type: 'blob', modality: modalityOf(p.inlineData.mimeType), mime_type: p.inlineData.mimeType, content: p.inlineData.data };
  if (p?.fileData) return { type: 'uri', modality: modalityOf(p.fileData.mimeType), mime_type: p.fileData.mimeType, uri: p.fileData.fileUri };
  return { type: Object.keys(p ?? {})[0] ?? 'unknown' };
}

const geminiRole = (role: unknown) => (role === 'model' ? 'assistant' : typeof role === 'string' ? role : 'user');
const isContent = (c: unknown): c is { role?: string; parts?: GeminiPart[] } => !!c && typeof c === 'object' && Array.isArray((c as { parts?: unknown }).parts);

/** `contents` in any of the shapes the SDK accepts: a string, a Part, a Content, or arrays of them. */
function geminiMessages(contents: unknown): ConventionMessage[] {
  if (contents === undefined || contents === null) return [];
  if (!Array.isArray(contents)) contents = [contents];
  const list = contents as unknown[];
  if (list.every(isContent)) return list.map((c) => ({ role: geminiRole(c.role), parts: (c.parts ?? []).map(geminiPart) }));
  // Strings and Parts together make one user turn.
  return [{ role: 'user', parts: list.filter((p) => !isContent(p)).map((p) => geminiPart(p as GeminiPart | string)) }];
}

export function geminiInput(params: { contents?: unknown; config?: { systemInstruction?: unknown } } | undefined): Attributes {
  const attrs: Attributes = {};
  if (params?.contents !== undefined) attrs[A.ATTR_GEN_AI_INPUT_MESSAGES] = JSON.stringify(geminiMessages(params.contents));
  const sys = params?.config?.systemInstruction;
  if (sys !== undefined) attrs[A.ATTR_GEN_AI_SYSTEM_INSTRUCTIONS] = JSON.stringify(geminiMessages(sys).flatMap((m) => m.parts));
  return attrs;
}

const GEMINI_FINISH: Record<string, string> = {
  STOP: 'stop',
  MAX_TOKENS: 'length',
  SAFETY: 'content_filter',
  RECITATION: 'content_filter',
  PROHIBITED_CONTENT: 'content_filter',
  BLOCKLIST: 'content_filter',
  SPII: 'content_filter',
};

export function geminiOutput(
  response: { candidates?: Array<{ finishReason?: string; content?: { role?: string; parts?: GeminiPart[] } }> } | undefined,
): Attributes {
  if (!Array.isArray(response?.candidates)) return {};
  const out = response.candidates.map((c) => {
    const m: ConventionMessage = { role: geminiRole(c?.content?.role ?? 'model'), parts: (c?.content?.parts ?? []).map(geminiPart) };
    if (c?.finishReason) m.finish_reason = GEMINI_FINISH[c.finishReason] ?? c.finishReason.toLowerCase();
    return m;
  });
  return { [A.ATTR_GEN_AI_OUTPUT_MESSAGES]: JSON.stringify(out) };
}

// --- OpenAI Chat Completions and Responses -------------------------------------------------------

/** `arguments` as the conventions show them (an object) when the JSON text parses, else the text. */
function toolArguments(args: unknown): unknown {
  if (typeof args !== 'string') return args;
  try {
    return JSON.parse(args);
  } catch {
    return args;
  }
}

/** A `data:` URL becomes a blob (its bytes inline); anything else a uri. */
function urlPart(url: unknown, modality: string): MessagePart {
  if (typeof url === 'string' && url.startsWith('data:')) {
    const comma = url.indexOf(',');
    const mime = url.slice(5, comma < 0 ? undefined : comma).split(';')[0];
    return { type: 'blob', modality, mime_type: mime || undefined, content: comma < 0 ? '' : url.slice(comma + 1) };
  }
  return { type: 'uri', modality, uri: url };
}

interface OpenAIContentPart {
  type?: string;
  text?: string;
  refusal?: string;
  image_url?: { url?: string } | string;
  input_audio?: { data?: string; format?: string };
  file?: { file_data?: string; file_id?: string; filename?: string };
  file_data?: string;
  file_id?: string;
  file_url?: string;
  filename?: string;
}

/** One content part of either API (`text` / `image_url` / `input_audio` / `file`, `input_text` / `output_text` / `input_image` / `input_file`). */
function openaiPart(p: OpenAIContentPart | string): MessagePart {
  if (typeof p === 'string') return { type: 'text', content: p };
  switch (p?.type) {
    case 'text':
    case 'input_text':
    case 'output_text':
      return { type: 'text', content: p.text ?? '' };
    case 'refusal':
      return { type: 'refusal', content: p.refusal ?? '' };
    case 'image_url':
      return urlPart(typeof p.image_url === 'string' ? p.image_url : p.image_url?.url, 'image');
    case 'input_image':
      if (p.file_id) return { type: 'file', modality: 'image', file_id: p.file_id };
      return urlPart(typeof p.image_url === 'string' ? p.image_url : p.image_url?.url, 'image');
    case 'input_audio':
      return { type: 'blob', modality: 'audio', mime_type: p.input_audio?.format ? `audio/${p.input_audio.format}` : undefined, content: p.input_audio?.data };
    case 'file':
    case 'input_file': {
      const f = p.type === 'file' ? (p.file ?? {}) : p;
      if (f.file_id) return { type: 'file', modality: 'document', file_id: f.file_id };
      if (f.file_data) return urlPart(f.file_data.startsWith('data:') ? f.file_data : `data:application/octet-stream;base64,${f.file_data}`, 'document');
      if (p.file_url) return { type: 'uri', modality: 'document', uri: p.file_url };
      return { type: 'file', modality: 'document' };
    }
    default:
      return { type: String(p?.type ?? 'unknown') };
  }
}

const openaiParts = (content: unknown): MessagePart[] =>
  typeof content === 'string' ? [{ type: 'text', content }] : Array.isArray(content) ? content.map(openaiPart) : [];

interface OpenAIChatMessage {
  role?: string;
  name?: string;
  content?: unknown;
  refusal?: string | null;
  tool_call_id?: string;
  tool_calls?: Array<{ id?: string; type?: string; function?: { name?: string; arguments?: string }; custom?: { name?: string; input?: string } }> | null;
  function_call?: { name?: string; arguments?: string } | null;
}

function chatMessage(m: OpenAIChatMessage): ConventionMessage {
  const role = m?.role ?? 'user';
  if (role === 'tool')
    return { role, parts: [{ type: 'tool_call_response', id: m.tool_call_id, response: typeof m.content === 'string' ? m.content : openaiParts(m.content) }] };
  // The deprecated `function` role answers a `function_call` by name.
  if (role === 'function') return { role: 'tool', parts: [{ type: 'tool_call_response', id: m.name, response: m.content }] };
  const parts = openaiParts(m?.content);
  if (m?.refusal) parts.push({ type: 'refusal', content: m.refusal });
  for (const t of m?.tool_calls ?? []) {
    if (t?.function) parts.push({ type: 'tool_call', id: t.id, name: t.function.name, arguments: toolArguments(t.function.arguments) });
    else if (t?.custom) parts.push({ type: 'tool_call', id: t.id, name: t.custom.name, arguments: t.custom.input });
  }
  if (m?.function_call) parts.push({ type: 'tool_call', name: m.function_call.name, arguments: toolArguments(m.function_call.arguments) });
  const out: ConventionMessage & { name?: string } = { role, parts };
  if (m?.name) out.name = m.name;
  return out;
}

/**
 * Chat Completions request: every message, system and developer ones included, goes to
 * `gen_ai.input.messages` — the conventions keep instructions that are part of the chat history
 * there; `gen_ai.system_instructions` is for APIs that take them separately (Responses).
 */
export function openaiChatInput(body: { messages?: unknown } | undefined): Attributes {
  if (!Array.isArray(body?.messages)) return {};
  return { [A.ATTR_GEN_AI_INPUT_MESSAGES]: JSON.stringify((body.messages as OpenAIChatMessage[]).map(chatMessage)) };
}

const OPENAI_FINISH: Record<string, string> = {
  stop: 'stop',
  length: 'length',
  content_filter: 'content_filter',
  tool_calls: 'tool_call',
  function_call: 'tool_call',
};

/** Chat Completions result: one output message per choice. */
export function openaiChatOutput(choices: Array<{ finish_reason?: string | null; message?: unknown }> | undefined): Attributes {
  if (!Array.isArray(choices)) return {};
  const out = choices.map((c) => {
    const m = chatMessage({ role: 'assistant', ...(c?.message as OpenAIChatMessage) });
    if (c?.finish_reason) m.finish_reason = OPENAI_FINISH[c.finish_reason] ?? c.finish_reason;
    return m;
  });
  return { [A.ATTR_GEN_AI_OUTPUT_MESSAGES]: JSON.stringify(out) };
}

interface ResponsesItem extends OpenAIContentPart {
  role?: string;
  content?: unknown;
  id?: string;
  call_id?: string;
  name?: string;
  arguments?: string;
  input?: string;
  output?: unknown;
  summary?: Array<{ text?: string }>;
}

/** A Responses API item (input or output) as the part(s) of a message with `role`. */
function responsesItem(item: ResponsesItem): { role: string; parts: MessagePart[]; merge: boolean } {
  switch (item?.type) {
    case undefined:
    case 'message':
      return { role: item?.role ?? 'user', parts: openaiParts(item?.content), merge: false };
    case 'function_call':
      return { role: 'assistant', parts: [{ type: 'tool_call', id: item.call_id, name: item.name, arguments: toolArguments(item.arguments) }], merge: true };
    case 'custom_tool_call':
      return { role: 'assistant', parts: [{ type: 'tool_call', id: item.call_id, name: item.name, arguments: item.input }], merge: true };
    case 'function_call_output':
    case 'custom_tool_call_output':
      return {
        role: 'tool',
        parts: [
          {
            type: 'tool_call_response',
            id: item.call_id,
            response: typeof item.output === 'string' ? item.output : Array.isArray(item.output) ? openaiParts(item.output) : item.output,
          },
        ],
        merge: true,
      };
    case 'reasoning':
      return { role: 'assistant', parts: (item.summary ?? []).map((s) => ({ type: 'reasoning', content: s?.text ?? '' })), merge: true };
    default:
      // Provider-run tools (web_search_call, file_search_call, ...) and references: named by their type.
      return { role: 'assistant', parts: [{ type: String(item?.type), id: item?.id }], merge: true };
  }
}

/** Items as messages; consecutive tool calls (or their outputs, or reasoning) of one role share a message. */
function responsesMessages(items: ResponsesItem[]): ConventionMessage[] {
  const messages: ConventionMessage[] = [];
  let mergeable = false;
  for (const item of items) {
    const { role, parts, merge } = responsesItem(item);
    const last = messages[messages.length - 1];
    if (merge && mergeable && last?.role === role) last.parts.push(...parts);
    else messages.push({ role, parts });
    mergeable = merge;
  }
  return messages;
}

/** Responses request: `input` (a string or items) to input messages, `instructions` to system instructions. */
export function openaiResponsesInput(body: { input?: unknown; instructions?: unknown } | undefined): Attributes {
  const attrs: Attributes = {};
  const input = body?.input;
  if (typeof input === 'string') attrs[A.ATTR_GEN_AI_INPUT_MESSAGES] = JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: input }] }]);
  else if (Array.isArray(input)) attrs[A.ATTR_GEN_AI_INPUT_MESSAGES] = JSON.stringify(responsesMessages(input as ResponsesItem[]));
  if (typeof body?.instructions === 'string') attrs[A.ATTR_GEN_AI_SYSTEM_INSTRUCTIONS] = JSON.stringify([{ type: 'text', content: body.instructions }]);
  return attrs;
}

const RESPONSES_INCOMPLETE: Record<string, string> = { max_output_tokens: 'length', content_filter: 'content_filter' };

/** Responses result: every output item in one assistant message, its finish reason from the status. */
export function openaiResponsesOutput(r: { status?: string; incomplete_details?: { reason?: string } | null; output?: unknown[] } | undefined): Attributes {
  if (!Array.isArray(r?.output)) return {};
  const parts = (r.output as ResponsesItem[]).flatMap((item) => responsesItem(item).parts);
  const out: ConventionMessage = { role: 'assistant', parts };
  if (r.status === 'completed') out.finish_reason = parts.some((p) => p.type === 'tool_call') ? 'tool_call' : 'stop';
  else if (r.status === 'incomplete') out.finish_reason = RESPONSES_INCOMPLETE[r.incomplete_details?.reason ?? ''] ?? r.incomplete_details?.reason ?? 'length';
  else if (r.status === 'failed') out.finish_reason = 'error';
  return { [A.ATTR_GEN_AI_OUTPUT_MESSAGES]: JSON.stringify([out]) };
}
