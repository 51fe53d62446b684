/**
 * Local token counts: for streams that reported no usage (`spendtrace.usage.estimated=true`) and
 * for the worst-case budget check before a call (budget-gate.ts).
 * gpt-tokenizer's BPE tables are large, so an encoding loads on first use only.
 * Message overhead follows OpenAI's published counting recipe: 3 tokens per message, 1 per
 * name, 3 to prime the reply.
 */
import { createRequire } from 'node:module';
import type { ChatMessage } from './internal-types.ts';

type Counter = (text: string) => number;
type Encoding = 'o200k_base' | 'cl100k_base';
// CommonJS builds, loaded synchronously: a budget check must count before the SDK is called. One
// copy per encoding serves the sync and async paths (the tables are ~35 MB of heap once loaded).
const require = createRequire(import.meta.url);
const loaded = new Map<Encoding, Counter>();

/** o200k_base for the gpt-4o / 4.1 / 4.5 / 5 / o-series families, cl100k_base for older models. */
export function encodingFor(model: string | undefined): Encoding {
  const m = (model ?? '').toLowerCase().replace(/^.*\//, '');
  return /^(gpt-4o|chatgpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|gpt-oss|o\d)/.test(m) ? 'o200k_base' : 'cl100k_base';
}

function counterSync(encoding: Encoding): Counter {
  let c = loaded.get(encoding);
  if (!c) {
    const mod = (encoding === 'o200k_base' ? require('gpt-tokenizer/encoding/o200k_base') : require('gpt-tokenizer/encoding/cl100k_base')) as {
      countTokens(text: string): number;
    };
    c = (text: string) => (text ? mod.countTokens(text) : 0);
    loaded.set(encoding, c);
  }
  return c;
}

/** Off the caller's stack (a stream's end), so a first load never runs inside the SDK's iteration. */
function counter(encoding: Encoding): Promise<Counter> {
  return Promise.resolve(encoding).then(counterSync);
}

/** Tokens of `text` for `model`, counted now (the budget check before a call). */
export function countTokensSync(model: string | undefined, text: string): number {
  return counterSync(encodingFor(model))(text);
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
