/**
 * Normalization of a span's attributes, ours and peers': sane token counts only, labels cut to
 * their limit on a code point boundary, the attribute maps with column and money attributes left
 * out, times as DateTime64(9) text. Nothing here throws: an absurd value is cut or dropped with a
 * warning the row keeps.
 */
import * as A from '@spendtrace/semconv';
import type { Attributes, AttrValue } from '../otlp/span.ts';
import { putAttr } from '../otlp/span.ts';
import { COST_ATTRIBUTES } from './classify.ts';
import { LIMITS } from './limits.ts';

export interface ResourceContext {
  serviceName: string;
  resourceAttributes: Record<string, string>;
  scopeName: string;
  scopeVersion: string;
}

const TOKEN_ATTRIBUTES = [
  A.ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  A.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  A.ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
  A.ATTR_GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS,
  A.ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
  A.PEER_GEN_AI_USAGE_PROMPT_TOKENS,
  A.PEER_GEN_AI_USAGE_COMPLETION_TOKENS,
  A.PEER_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
  A.PEER_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS_ALT,
  A.PEER_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS_ALT,
  A.PEER_GEN_AI_USAGE_REASONING_TOKENS,
  A.PEER_LLM_TOKEN_COUNT_PROMPT,
  A.PEER_LLM_TOKEN_COUNT_COMPLETION,
  A.PEER_LLM_TOKEN_COUNT_CACHE_READ,
  A.PEER_LLM_TOKEN_COUNT_CACHE_WRITE,
  A.PEER_LLM_TOKEN_COUNT_REASONING,
  A.PEER_LLM_USAGE_PROMPT_TOKENS,
  A.PEER_LLM_USAGE_COMPLETION_TOKENS,
  A.PEER_AI_USAGE_PROMPT_TOKENS,
  A.PEER_AI_USAGE_COMPLETION_TOKENS,
  A.PEER_AI_USAGE_INPUT_TOKENS,
  A.PEER_AI_USAGE_OUTPUT_TOKENS,
  A.PEER_AI_USAGE_CACHED_INPUT_TOKENS,
  A.PEER_AI_USAGE_REASONING_TOKENS,
] as const;

const MONEY_ATTRIBUTES: ReadonlySet<string> = new Set<string>([
  ...TOKEN_ATTRIBUTES,
  ...COST_ATTRIBUTES,
  A.ATTR_GEN_AI_USAGE_COST_SOURCE,
  A.ATTR_GEN_AI_USAGE_COST_CURRENCY,
  A.ATTR_SPENDTRACE_COST_INPUT,
  A.ATTR_SPENDTRACE_COST_OUTPUT,
  A.ATTR_SPENDTRACE_COST_CACHE_READ,
  A.ATTR_SPENDTRACE_COST_CACHE_WRITE,
  A.ATTR_SPENDTRACE_COST_REASONING,
  A.ATTR_SPENDTRACE_COST_UNPRICED,
  A.ATTR_SPENDTRACE_PRICING_VERSION,
  A.ATTR_SPENDTRACE_USAGE_ESTIMATED,
  A.ATTR_SPENDTRACE_TOOL_COST_AMOUNT,
]);

/** Attributes that become their own columns on every span, so the Map does not repeat them. */
const COLUMN_ATTRIBUTES: ReadonlySet<string> = new Set<string>([
  A.ATTR_GEN_AI_OPERATION_NAME,
  A.ATTR_GEN_AI_PROVIDER_NAME,
  A.ATTR_GEN_AI_REQUEST_MODEL,
  A.ATTR_GEN_AI_RESPONSE_MODEL,
  A.ATTR_SPENDTRACE_TASK_ID,
  A.ATTR_SPENDTRACE_TASK_NAME,
  A.ATTR_GEN_AI_AGENT_NAME,
  A.ATTR_USER_ID,
  A.ATTR_ERROR_TYPE,
  A.ATTR_SPENDTRACE_RETRY_ATTEMPT,
  A.ATTR_SPENDTRACE_REQUEST_HASH,
  A.ATTR_SPENDTRACE_TASK_OUTCOME,
]);

/** A small whole-number attribute (retry attempt, repeat count): 0 when absent, dropped with a warning when absurd. */
export function smallCount(attrs: Attributes, key: string, warnings: string[]): number {
  const v = attrs[key];
  if (v === undefined) return 0;
  const n = typeof v === 'number' ? v : Number(v);
  if (Number.isInteger(n) && n >= 0 && n <= 65_535) return n;
  warnings.push(`${key} ${String(v).slice(0, 40)} not a small whole number`);
  return 0;
}

/** A copy of the attributes without token counts that cannot be real (so usage reads only sane ones). */
export function sanitizeNumbers(src: Attributes, warnings: string[]): Attributes {
  let attrs: Attributes | undefined;
  for (const k of TOKEN_ATTRIBUTES) {
    const v = src[k];
    if (v === undefined) continue;
    const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
    if (Number.isFinite(n) && n >= 0 && n <= LIMITS.maxTokens) continue;
    warnings.push(`${k} ${String(v).slice(0, 40)} is not a token count: dropped`);
    attrs ??= { ...src };
    delete attrs[k];
  }
  return attrs ?? { ...src };
}

export function providerOf(attrs: Attributes, warnings: string[]): string {
  for (const k of [A.ATTR_GEN_AI_PROVIDER_NAME, A.PEER_GEN_AI_SYSTEM, A.PEER_LLM_PROVIDER, A.PEER_LLM_SYSTEM]) {
    const v = label(attrs[k], warnings, k);
    if (v) return v.toLowerCase();
  }
  // Vercel: "openai.chat", "anthropic.messages" -> the provider is the first segment.
  const vercel = label(attrs[A.PEER_AI_MODEL_PROVIDER], warnings, A.PEER_AI_MODEL_PROVIDER);
  return vercel ? vercel.split('.')[0]!.toLowerCase() : '';
}

export function label(v: AttrValue | undefined, warnings: string[], key: string): string {
  if (v === undefined || v === null) return '';
  const s = typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : '';
  if (s.length > LIMITS.maxLabelChars) {
    warnings.push(`${key} longer than ${LIMITS.maxLabelChars} chars: cut`);
    return cut(s, LIMITS.maxLabelChars);
  }
  return wellFormed(s);
}

export function truthy(v: AttrValue | undefined): boolean {
  return v === true || v === 'true';
}

/**
 * At most `max` UTF-16 units, cut on a code point boundary, with any lone surrogate (JSON can
 * carry one) replaced by U+FFFD: ClickHouse refuses a lone surrogate, and one refused row used
 * to stop every insert.
 */
export function cut(s: string, max: number): string {
  let t = s;
  if (t.length > max) {
    t = t.slice(0, max);
    const last = t.charCodeAt(t.length - 1);
    if (last >= 0xd800 && last <= 0xdbff) t = t.slice(0, -1);
  }
  return wellFormed(t);
}

const LONE_SURROGATE = /\p{Cs}/u;
const LONE_SURROGATES = /\p{Cs}/gu;

function wellFormed(s: string): string {
  return LONE_SURROGATE.test(s) ? s.replace(LONE_SURROGATES, '\uFFFD') : s;
}

/** Attribute values as strings for the Map column; long values cut, long keys and extras dropped. */
export function attributeMap(
  attrs: Attributes,
  dropMoney: boolean,
  warnings: string[],
  skipColumns = true,
  maxTotalChars: number = LIMITS.maxSpanAttributeChars,
): Record<string, string> {
  const out: Record<string, string> = {};
  let n = 0;
  let total = 0;
  let droppedKeys = 0;
  let cutValues = 0;
  for (const [k, v] of Object.entries(attrs)) {
    if ((skipColumns && COLUMN_ATTRIBUTES.has(k)) || (dropMoney && MONEY_ATTRIBUTES.has(k))) continue;
    if (k.length > LIMITS.maxKeyChars || n >= LIMITS.maxAttributes) {
      droppedKeys++;
      continue;
    }
    let s = valueText(v);
    if (s.length > LIMITS.maxValueChars) {
      s = `${cut(s, LIMITS.maxValueChars)}…[cut ${s.length - LIMITS.maxValueChars} chars]`;
      cutValues++;
    } else {
      s = wellFormed(s);
    }
    if (total + k.length + s.length > maxTotalChars) {
      droppedKeys++;
      continue;
    }
    total += k.length + s.length;
    putAttr(out, wellFormed(k), s);
    n++;
  }
  if (droppedKeys)
    warnings.push(
      `${droppedKeys} attributes dropped (key over ${LIMITS.maxKeyChars} chars, over ${LIMITS.maxAttributes} attributes or over ${maxTotalChars} chars in all)`,
    );
  if (cutValues) warnings.push(`${cutValues} attribute values cut to ${LIMITS.maxValueChars} chars`);
  return out;
}

function valueText(v: AttrValue): string {
  if (v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/** Nanoseconds as "seconds.nanoseconds", which DateTime64(9) parses exactly. */
export function nsText(ns: bigint): string {
  return `${ns / 1_000_000_000n}.${(ns % 1_000_000_000n).toString().padStart(9, '0')}`;
}

/** The service name and attribute map of a resource, computed once for all its spans. */
export function resourceColumns(resource: Attributes): { serviceName: string; resourceAttributes: Record<string, string> } {
  const warnings: string[] = [];
  const service = label(resource[A.ATTR_SERVICE_NAME], warnings, A.ATTR_SERVICE_NAME);
  return { serviceName: service || 'unknown_service', resourceAttributes: attributeMap(resource, false, warnings, false, LIMITS.maxResourceAttributeChars) };
}

export function scopeColumns(scope: { name: string; version: string }): { scopeName: string; scopeVersion: string } {
  return { scopeName: cut(scope.name, LIMITS.maxLabelChars), scopeVersion: cut(scope.version, LIMITS.maxLabelChars) };
}
