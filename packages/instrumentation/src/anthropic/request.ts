/** A Messages request as spendtrace reads it (messages.ts for own spans, native-tracing.ts for the SDK's). */
import type { ChatMessage } from '../internal-types.ts';
import { requestHash } from '../request-hash.ts';

/** Look-alike shape of a Messages request body (0.x and 1.x). */
export interface CreateBody {
  model?: string;
  max_tokens?: number;
  temperature?: number;
  top_p?: number;
  top_k?: number;
  stop_sequences?: string[];
  stream?: boolean;
  messages?: unknown[];
  system?: unknown;
  tools?: unknown[];
}

/**
 * `spendtrace.request.hash` of a Messages request: model, system prompt and messages. Text
 * blocks hash as text; other blocks (tool use and results, images, documents) by their JSON.
 */
export function anthropicRequestHash(body: CreateBody | undefined): string {
  const messages: ChatMessage[] = [];
  const blocks = (content: unknown) =>
    typeof content === 'string'
      ? content
      : Array.isArray(content)
        ? content.map((b: { type?: string; text?: unknown }) => (b?.type === 'text' ? b : { type: b?.type, text: JSON.stringify(b) }))
        : undefined;
  if (body?.system !== undefined) messages.push({ role: 'system', content: blocks(body.system) });
  if (Array.isArray(body?.messages))
    for (const m of body.messages as Array<{ role?: string; content?: unknown }>) messages.push({ role: m?.role, content: blocks(m?.content) });
  return requestHash(body?.model, messages);
}
