/**
 * Opt-in message content (`OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`): requests and
 * responses in the GenAI conventions' message structure, as JSON strings on
 * `gen_ai.input.messages`, `gen_ai.output.messages` and `gen_ai.system_instructions`
 * (gen-ai-spans.md, "gen-ai-input-messages.json"): `{ role, parts: [{ type, ... }] }`, with parts
 * `text` (content), `reasoning` (content), `tool_call` (id, name, arguments),
 * `tool_call_response` (id, response), `blob` (modality, mime_type, content), `uri` (modality,
 * mime_type, uri); output messages add `finish_reason`. Anything else keeps its own `type`.
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

const modalityOf = (mime: unknown) => (typeof mime === 'string' ? (mime.split('/')[0] === 'image' || mime.split('/')[0] === 'audio' || mime.split('/')[0] === 'video' ? mime.split('/')[0] : 'document') : 'document');

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
    const messages = (body.messages as Array<{ role?: string; content?: unknown }>).map((m) => ({ role: m?.role ?? 'user', parts: anthropicParts(m?.content) }));
    attrs[A.ATTR_GEN_AI_INPUT_MESSAGES] = JSON.stringify(messages);
  }
  if (body?.system !== undefined) attrs[A.ATTR_GEN_AI_SYSTEM_INSTRUCTIONS] = JSON.stringify(anthropicParts(body.system));
  return attrs;
}

const ANTHROPIC_FINISH: Record<string, string> = { end_turn: 'stop', stop_sequence: 'stop', max_tokens: 'length', tool_use: 'tool_call', refusal: 'content_filter' };

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

const GEMINI_FINISH: Record<string, string> = { STOP: 'stop', MAX_TOKENS: 'length', SAFETY: 'content_filter', RECITATION: 'content_filter', PROHIBITED_CONTENT: 'content_filter', BLOCKLIST: 'content_filter', SPII: 'content_filter' };

export function geminiOutput(response: { candidates?: Array<{ finishReason?: string; content?: { role?: string; parts?: GeminiPart[] } }> } | undefined): Attributes {
  if (!Array.isArray(response?.candidates)) return {};
  const out = response.candidates.map((c) => {
    const m: ConventionMessage = { role: geminiRole(c?.content?.role ?? 'model'), parts: (c?.content?.parts ?? []).map(geminiPart) };
    if (c?.finishReason) m.finish_reason = GEMINI_FINISH[c.finishReason] ?? c.finishReason.toLowerCase();
    return m;
  });
  return { [A.ATTR_GEN_AI_OUTPUT_MESSAGES]: JSON.stringify(out) };
}
