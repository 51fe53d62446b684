/**
 * Local token counts for streams that reported no usage (`spendtrace.usage.estimated=true`).
 * gpt-tokenizer's BPE tables are large, so an encoding loads on first use only, asynchronously.
 * Message overhead follows OpenAI's published counting recipe: 3 tokens per message, 1 per
 * name, 3 to prime the reply.
 */
import type { ChatMessage } from './internal-types.ts';

type Counter = (text: string) => number;
const loaded = new Map<string, Promise<Counter>>();

/** o200k_base for the gpt-4o / 4.1 / 4.5 / 5 / o-series families, cl100k_base for older models. */
export function encodingFor(model: string | undefined): 'o200k_base' | 'cl100k_base' {
  const m = (model ?? '').toLowerCase().replace(/^.*\//, '');
  return /^(gpt-4o|chatgpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|gpt-oss|o\d)/.test(m) ? 'o200k_base' : 'cl100k_base';
}

function counter(encoding: 'o200k_base' | 'cl100k_base'): Promise<Counter> {
  let p = loaded.get(encoding);
  if (!p) {
    p = (encoding === 'o200k_base' ? import('gpt-tokenizer/encoding/o200k_base') : import('gpt-tokenizer/encoding/cl100k_base')).then(
      (mod) => (text: string) => (text ? mod.countTokens(text) : 0),
    );
    loaded.set(encoding, p);
  }
  return p;
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let s = '';
  for (const p of content) if (p && typeof p === 'object' && typeof (p as { text?: unknown }).text === 'string') s += (p as { text: string }).text;
  return s;
}

export async function estimateInputTokens(model: string | undefined, messages: ChatMessage[] | undefined, tools: unknown[] | undefined): Promise<number> {
  const count = await counter(encodingFor(model));
  let n = 3;
  for (const m of messages ?? []) {
    if (!m) continue;
    n += 3 + count(m.role ?? '') + count(textOf(m.content));
    if (m.name) n += 1 + count(m.name);
    if (m.tool_calls) for (const t of m.tool_calls) n += count(t.function?.name ?? '') + count(t.function?.arguments ?? '');
  }
  // Tool definitions are billed as (undocumented) formatted text; their JSON is a close proxy.
  if (tools?.length) n += count(JSON.stringify(tools));
  return n;
}

export async function estimateOutputTokens(model: string | undefined, text: string): Promise<number> {
  const count = await counter(encodingFor(model));
  return count(text);
}
