/**
 * Pricing a span the Anthropic SDK made itself (native-tracing.ts): attribution from the task
 * scope or W3C baggage, usage + cost attributes, the task's running cost.
 */
import type { Attributes, Context, Span } from '@opentelemetry/api';
import * as A from '@spendtrace/semconv';
import { costAttributes, UNPRICED_ATTRIBUTES, usageAttributes, type Usage } from '@spendtrace/semconv';
import type { GenAIHost } from '../provider-host.ts';
import { baggageAttribution, currentScope, type TaskState } from '../task-context.ts';

/** The task an LLM call belongs to, captured when the call starts (a stream may be read elsewhere). */
export interface CallScope {
  task: TaskState | undefined;
  attribution: Attributes | undefined;
}

/** Attribution for an LLM call started now: the local task (and tool), else baggage from another service. */
export function callScope(ctx: Context): CallScope {
  const scope = currentScope();
  const task = scope?.task;
  if (!task) return { task: undefined, attribution: baggageAttribution(ctx) };
  const tool = scope.tool;
  return { task, attribution: tool ? { ...task.attribution, [A.ATTR_SPENDTRACE_TOOL_NAME]: tool.name } : task.attribution };
}

/**
 * Sets usage and cost on `span` and adds the cost to the task. `model` is the response model when
 * the API reported one (a dated snapshot prices like its alias), else the request model.
 */
export function recordUsage(
  host: GenAIHost,
  span: Span,
  scope: CallScope,
  provider: string,
  model: string | undefined,
  usage: Usage,
  estimated = false,
  /** False when the span already carries the usage attributes (a native SDK span). */
  writeUsage = true,
): void {
  const quote = host.pricer.price(provider, model, usage);
  const attrs: Attributes = writeUsage ? usageAttributes(usage) : {};
  if (estimated) attrs[A.ATTR_SPENDTRACE_USAGE_ESTIMATED] = true;
  Object.assign(attrs, quote ? costAttributes(quote, 'local', host.costDetail) : UNPRICED_ATTRIBUTES);
  span.setAttributes(attrs);
  if (quote && scope.task) scope.task.addCost(quote.cost.total, model, usage);
}
