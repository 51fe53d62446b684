/**
 * What every inference span of the Anthropic and Google Gen AI modules does at its start and end:
 * attribution from the task scope (or W3C baggage), the budget gate, usage + cost attributes, and
 * the task's running cost. Built on task-context.ts so budgets see these calls exactly as they see
 * OpenAI's.
 */
import type { Attributes, Context, DiagLogger, Span, Tracer } from '@opentelemetry/api';
import * as A from '@spendtrace/semconv';
import { costAttributes, UNPRICED_ATTRIBUTES, usageAttributes, type CostDetail, type Pricer, type Usage } from '@spendtrace/semconv';
import type { GenAIMetrics } from '../metrics.ts';
import { baggageAttribution, checkBudget, currentScope, type TaskState } from '../task-context.ts';

/** What a provider module needs from `SpendtraceInstrumentation`. */
export interface GenAIHost {
  /** The instrumentation's tracer (read per call: `setTracerProvider` may replace it). */
  readonly tracer: Tracer;
  readonly pricer: Pricer;
  readonly diag: DiagLogger;
  isEnabled(): boolean;
  /** Record prompts and completions (`gen_ai.input.messages` / `.output.messages`). Absent: off. */
  readonly captureMessageContent?: boolean;
  /** `costAttributes` from the config. Absent: `total`. */
  readonly costDetail?: CostDetail;
  /** Where spans the SDK made itself (Anthropic native spans) record their metrics. Absent: none. */
  readonly metrics?: GenAIMetrics;
}

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

/** Throws the task's BudgetExceededError when it is over budget and set to throw (before any request). */
export function budgetGate(scope: CallScope, model: string | undefined): void {
  if (!scope.task) return;
  const err = checkBudget(scope.task, model);
  if (err) throw err;
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
  if (quote && scope.task) scope.task.addCost(quote.cost.total);
}

/** `server.address` / `server.port` of a base URL (cached: clients keep one). */
const servers = new Map<string, Attributes>();
export function serverAttributes(baseURL: string | undefined): Attributes {
  const key = baseURL ?? '';
  let attrs = servers.get(key);
  if (attrs) return attrs;
  attrs = {};
  try {
    const url = new URL(key);
    attrs = {
      [A.ATTR_SERVER_ADDRESS]: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      [A.ATTR_SERVER_PORT]: url.port ? Number(url.port) : url.protocol === 'http:' ? 80 : 443,
    };
  } catch {
    // No usable base URL: the span goes without server attributes.
  }
  if (servers.size > 1000) servers.clear();
  servers.set(key, attrs);
  return attrs;
}

/** Copies the defined, attribute-typed values of `pairs` into `attrs`. */
export function setDefined(attrs: Attributes, pairs: Array<[string, unknown]>): Attributes {
  for (const [k, v] of pairs) {
    if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') attrs[k] = v;
    else if (Array.isArray(v) && v.length && v.every((x) => typeof x === 'string')) attrs[k] = v as string[];
  }
  return attrs;
}
