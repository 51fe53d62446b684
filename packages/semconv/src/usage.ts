/**
 * Token usage in one shape, whatever convention a span or an SDK response reported it in.
 *
 * The shape follows the GenAI conventions: `inputTokens` INCLUDES cached tokens (read and write),
 * `outputTokens` INCLUDES reasoning tokens. Conventions that report the parts separately
 * (Anthropic's API, some peers) are added up on the way in, so pricing never double-counts.
 */
import * as A from './attributes.ts';

export interface Usage {
  inputTokens: number;
  outputTokens: number;
  /** Part of inputTokens served from the prompt cache. */
  cacheReadTokens?: number;
  /** Part of inputTokens written to the prompt cache (all durations). */
  cacheWriteTokens?: number;
  /** Part of cacheWriteTokens written with a 1-hour TTL (Anthropic prices these higher). */
  cacheWrite1hTokens?: number;
  /** Part of outputTokens spent on reasoning / thinking. */
  reasoningTokens?: number;
  /** Provider-run web searches billed per call (not tokens), e.g. OpenAI's web_search tool. */
  webSearches?: number;
  /** Provider-run file / vector-store searches billed per call, e.g. OpenAI's file_search tool. */
  fileSearches?: number;
}

export type AttributeValue = string | number | boolean | Array<string | number | boolean | null> | null | undefined;
export type AttributeBag = Readonly<Record<string, AttributeValue | unknown>>;

function num(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? v : undefined;
  if (typeof v === 'bigint') return v >= 0n ? Number(v) : undefined;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) && n >= 0 ? n : undefined;
  }
  return undefined;
}

function first(attrs: AttributeBag, ...names: string[]): number | undefined {
  for (const n of names) {
    const v = num(attrs[n]);
    if (v !== undefined) return v;
  }
  return undefined;
}

/**
 * Usage from span attributes: the GenAI conventions first, then the names peers emit
 * (older gen_ai names, OpenInference, Traceloop, Vercel AI SDK). Undefined when the span reports
 * no tokens at all, so a span that is not an LLM call is never priced.
 */
export function usageFromAttributes(attrs: AttributeBag): Usage | undefined {
  const input = first(
    attrs,
    A.ATTR_GEN_AI_USAGE_INPUT_TOKENS,
    A.PEER_GEN_AI_USAGE_PROMPT_TOKENS,
    A.PEER_LLM_TOKEN_COUNT_PROMPT,
    A.PEER_LLM_USAGE_PROMPT_TOKENS,
    A.PEER_AI_USAGE_INPUT_TOKENS,
    A.PEER_AI_USAGE_PROMPT_TOKENS,
  );
  const output = first(
    attrs,
    A.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
    A.PEER_GEN_AI_USAGE_COMPLETION_TOKENS,
    A.PEER_LLM_TOKEN_COUNT_COMPLETION,
    A.PEER_LLM_USAGE_COMPLETION_TOKENS,
    A.PEER_AI_USAGE_OUTPUT_TOKENS,
    A.PEER_AI_USAGE_COMPLETION_TOKENS,
  );
  if (input === undefined && output === undefined) return undefined;
  const usage: Usage = { inputTokens: input ?? 0, outputTokens: output ?? 0 };
  const cacheRead = first(
    attrs,
    A.ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
    A.PEER_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS_ALT,
    A.PEER_LLM_TOKEN_COUNT_CACHE_READ,
    A.PEER_AI_USAGE_CACHED_INPUT_TOKENS,
  );
  const cacheWrite = first(
    attrs,
    A.ATTR_GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS,
    A.PEER_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
    A.PEER_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS_ALT,
    A.PEER_LLM_TOKEN_COUNT_CACHE_WRITE,
  );
  const reasoning = first(
    attrs,
    A.ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
    A.PEER_GEN_AI_USAGE_REASONING_TOKENS,
    A.PEER_LLM_TOKEN_COUNT_REASONING,
    A.PEER_AI_USAGE_REASONING_TOKENS,
  );
  if (cacheRead) usage.cacheReadTokens = cacheRead;
  if (cacheWrite) usage.cacheWriteTokens = cacheWrite;
  if (reasoning) usage.reasoningTokens = reasoning;
  const webSearches = first(attrs, A.ATTR_SPENDTRACE_USAGE_WEB_SEARCHES);
  const fileSearches = first(attrs, A.ATTR_SPENDTRACE_USAGE_FILE_SEARCHES);
  if (webSearches) usage.webSearches = webSearches;
  if (fileSearches) usage.fileSearches = fileSearches;
  return clampUsage(usage);
}

/**
 * Make the parts fit inside their totals. A provider or peer that reported cached tokens
 * outside the input total (Anthropic's API does) would otherwise price negative uncached input.
 */
export function clampUsage(u: Usage): Usage {
  const cached = (u.cacheReadTokens ?? 0) + (u.cacheWriteTokens ?? 0);
  if (cached > u.inputTokens) u.inputTokens = cached;
  if ((u.reasoningTokens ?? 0) > u.outputTokens) u.outputTokens = u.reasoningTokens ?? 0;
  if ((u.cacheWrite1hTokens ?? 0) > (u.cacheWriteTokens ?? 0)) u.cacheWriteTokens = u.cacheWrite1hTokens;
  return u;
}

/** Usage as GenAI-convention span attributes (zero parts omitted). */
export function usageAttributes(u: Usage): Record<string, number> {
  return writeUsageAttributes({}, u);
}

/** {@link usageAttributes} written into `target` (one attribute object per span); returns it. */
export function writeUsageAttributes<T extends Record<string, unknown>>(target: T, u: Usage): T {
  const t = target as Record<string, unknown>;
  t[A.ATTR_GEN_AI_USAGE_INPUT_TOKENS] = u.inputTokens;
  t[A.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS] = u.outputTokens;
  if (u.cacheReadTokens) t[A.ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = u.cacheReadTokens;
  if (u.cacheWriteTokens) t[A.ATTR_GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS] = u.cacheWriteTokens;
  if (u.reasoningTokens) t[A.ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] = u.reasoningTokens;
  if (u.webSearches) t[A.ATTR_SPENDTRACE_USAGE_WEB_SEARCHES] = u.webSearches;
  if (u.fileSearches) t[A.ATTR_SPENDTRACE_USAGE_FILE_SEARCHES] = u.fileSearches;
  return target;
}
