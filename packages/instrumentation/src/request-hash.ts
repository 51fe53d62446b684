/**
 * `spendtrace.request.hash`: a fast non-cryptographic fingerprint of model + messages, so
 * identical requests (retries, loops, cache candidates) group together without storing content.
 * cyrb53 over the strings themselves: no JSON.stringify of the whole message list.
 */
import type { ChatMessage } from './internal-types.ts';

/** The two 32-bit lanes of the hash being computed (one request at a time, synchronously). */
let h1 = 0;
let h2 = 0;

/** cyrb53 (public domain): both lanes mixed per UTF-16 unit. */
function mix(s: string): void {
  let a = h1;
  let b = h2;
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    a = Math.imul(a ^ ch, 2654435761);
    b = Math.imul(b ^ ch, 1597334677);
  }
  h1 = a;
  h2 = b;
}

/** One string of the request, then a separator, so ["ab","c"] and ["a","bc"] differ. */
function add(s: string): void {
  mix(s);
  mix('\u001f');
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
  h1 = 0xdeadbeef;
  h2 = 0x41c6ce57;
  add(model ?? '');
  if (Array.isArray(messages)) {
    for (const m of messages) {
      if (!m) continue;
      add(m.role ?? '');
      addContent(m.content);
      if (m.name) add(m.name);
      if (m.tool_call_id) add(m.tool_call_id);
      if (m.tool_calls) {
        for (const t of m.tool_calls) {
          // A tool call's name and arguments hash as one string joined by a NUL.
          mix(t.function?.name ?? '');
          mix('\u0000');
          add(t.function?.arguments ?? '');
        }
      }
    }
  }
  const a = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  const b = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(a ^ (a >>> 13), 3266489909);
  return hex32(b) + hex32(a);
}
