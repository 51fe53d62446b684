/**
 * What a span is to spendtrace. Only inference and tool spans carry money: a parent (task root,
 * invoke_agent, a peer's workflow or wrapper span) never adds cost of its own, even when a peer
 * copied its children's token totals onto it, so nothing is counted twice.
 */
import * as A from '@spendtrace/semconv';
import { usageFromAttributes } from '@spendtrace/semconv';
import type { Attributes } from '../otlp/span.ts';

export type SpanClass = 'inference' | 'tool' | 'task' | 'other';

/** gen_ai.operation.name values that are one model call. */
export const INFERENCE_OPERATIONS: ReadonlySet<string> = new Set([
  A.GEN_AI_OPERATION.CHAT,
  A.GEN_AI_OPERATION.TEXT_COMPLETION,
  A.GEN_AI_OPERATION.EMBEDDINGS,
  A.GEN_AI_OPERATION.GENERATE_CONTENT,
  'completion',
  'responses',
  'rerank',
  'image_generation',
  'audio_transcription',
  'speech',
]);

// Vercel AI SDK wrapper operations: the inner `.doGenerate` / `.doStream` / `.doEmbed` span is the call.
const VERCEL_WRAPPERS = /^ai\.(generateText|streamText|generateObject|streamObject|embed|embedMany)$/;
const TRACELOOP_PARENTS = new Set(['workflow', 'task', 'agent']);
const OPENINFERENCE_PARENTS = new Set(['CHAIN', 'AGENT']);

export const COST_ATTRIBUTES = [A.ATTR_GEN_AI_USAGE_COST_AMOUNT, A.ATTR_GEN_AI_USAGE_COST, A.PEER_LLM_COST_TOTAL] as const;

export function classifySpan(attrs: Attributes): SpanClass {
  const op = typeof attrs[A.ATTR_GEN_AI_OPERATION_NAME] === 'string' ? (attrs[A.ATTR_GEN_AI_OPERATION_NAME] as string) : '';
  if (attrs[A.ATTR_SPENDTRACE_TASK_ROOT] === true || attrs[A.ATTR_SPENDTRACE_TASK_ROOT] === 'true' || op === A.GEN_AI_OPERATION.INVOKE_AGENT) return 'task';
  const toolName = attrs[A.ATTR_GEN_AI_TOOL_NAME];
  if (op === A.GEN_AI_OPERATION.EXECUTE_TOOL) return 'tool';
  if (typeof toolName === 'string' && toolName && attrs[A.ATTR_SPENDTRACE_TOOL_COST_AMOUNT] !== undefined) return 'tool';
  if (attrs[A.PEER_OPENINFERENCE_SPAN_KIND] === 'TOOL') return 'tool';
  if (INFERENCE_OPERATIONS.has(op)) return 'inference';
  // Peers' parents that repeat their children's usage: never priced.
  const opId = attrs[A.PEER_AI_OPERATION_ID];
  if (typeof opId === 'string' && VERCEL_WRAPPERS.test(opId)) return 'other';
  const tlKind = attrs[A.PEER_TRACELOOP_SPAN_KIND];
  if (typeof tlKind === 'string' && TRACELOOP_PARENTS.has(tlKind)) return 'other';
  const oiKind = attrs[A.PEER_OPENINFERENCE_SPAN_KIND];
  if (typeof oiKind === 'string' && OPENINFERENCE_PARENTS.has(oiKind)) return 'other';
  if (oiKind === 'LLM' || oiKind === 'EMBEDDING') return 'inference';
  if (COST_ATTRIBUTES.some((k) => attrs[k] !== undefined)) return 'inference';
  if (usageFromAttributes(attrs) !== undefined) return 'inference';
  return 'other';
}
