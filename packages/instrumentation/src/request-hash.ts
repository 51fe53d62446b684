/**
 * `spendtrace.request.hash`: a fast non-cryptographic fingerprint of model + messages, so
 * identical requests (retries, loops, cache candidates) group together without storing content.
 * cyrb53 over the strings themselves: no JSON.stringify of the whole message list.
 */
import type { ChatMessage } from './internal-types.ts';

/** The strings of one request, in hashing order (reused: hashing allocates nothing but its result). */
const parts: string[] = [];
let count = 0;

function add(s: string): void {
  parts[count++] = s;
}

function addContent(content: unknown): void {
  if (typeof content === 'string') return add(content);
  if (Array.isArray(content)) {
    for (const part of content) {
      if (!part || typeof part !== 'object') continue;
      const p = part as { type?: unknown; text?: unknown; image_url?: { url?: unknown } };
      if (typeof p.type === 'string') add(p.type);
      if (typeof p.text === 'string') add(p.text);
      else if (p.image_url && typeof p.image_url.url === 'string') add(p.image_url.url);
    }
  }
}

/** Two hex digits per byte value. */
const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function hex32(h: number): string {
  return HEX[(h >>> 24) & 0xff]! + HEX[(h >>> 16) & 0xff]! + HEX[(h >>> 8) & 0xff]! + HEX[h & 0xff]!;
}

export function requestHash(model: string | undefined, messages: ChatMessage[] | undefined): string {
  count = 0;
  add(model ?? '');
  if (Array.isArray(messages)) {
    for (const m of messages) {
      if (!m) continue;
      add(m.role ?? '');
      addContent(m.content);
      if (m.name) add(m.name);
      if (m.tool_call_id) add(m.tool_call_id);
      if (m.tool_calls) for (const t of m.tool_calls) add(`${t.function?.name ?? ''}\u0000${t.function?.arguments ?? ''}`);
    }
  }
  // cyrb53 (public domain): two 32-bit lanes mixed per UTF-16 unit, a separator after each
  // string so ["ab","c"] and ["a","bc"] differ.
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let j = 0; j < count; j++) {
    const s = parts[j]!;
    for (let i = 0; i < s.length; i++) {
      const ch = s.charCodeAt(i);
      h1 = Math.imul(h1 ^ ch, 2654435761);
      h2 = Math.imul(h2 ^ ch, 1597334677);
    }
    h1 = Math.imul(h1 ^ 0x1f, 2654435761);
    h2 = Math.imul(h2 ^ 0x1f, 1597334677);
    parts[j] = '';
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return hex32(h2) + hex32(h1);
}
