/**
 * `spendtrace.request.hash`: a fast non-cryptographic fingerprint of model + messages, so
 * identical requests (retries, loops, cache candidates) group together without storing content.
 * cyrb53 over the strings themselves: no JSON.stringify of the whole message list.
 */
import type { ChatMessage } from './internal-types.ts';

// Two 32-bit lanes mixed per UTF-16 unit (cyrb53, public domain).
let h1 = 0;
let h2 = 0;

function mix(s: string): void {
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  // A separator, so ["ab","c"] and ["a","bc"] differ.
  h1 = Math.imul(h1 ^ 0x1f, 2654435761);
  h2 = Math.imul(h2 ^ 0x1f, 1597334677);
}

function mixContent(content: unknown): void {
  if (typeof content === 'string') return mix(content);
  if (Array.isArray(content)) {
    for (const part of content) {
      if (!part || typeof part !== 'object') continue;
      const p = part as { type?: unknown; text?: unknown; image_url?: { url?: unknown } };
      if (typeof p.type === 'string') mix(p.type);
      if (typeof p.text === 'string') mix(p.text);
      else if (p.image_url && typeof p.image_url.url === 'string') mix(p.image_url.url);
    }
  }
}

export function requestHash(model: string | undefined, messages: ChatMessage[] | undefined): string {
  h1 = 0xdeadbeef;
  h2 = 0x41c6ce57;
  mix(model ?? '');
  if (Array.isArray(messages)) {
    for (const m of messages) {
      if (!m) continue;
      mix(m.role ?? '');
      mixContent(m.content);
      if (m.name) mix(m.name);
      if (m.tool_call_id) mix(m.tool_call_id);
      if (m.tool_calls) for (const t of m.tool_calls) mix(`${t.function?.name ?? ''}\u0000${t.function?.arguments ?? ''}`);
    }
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (h2 >>> 0).toString(16).padStart(8, '0') + (h1 >>> 0).toString(16).padStart(8, '0');
}
