/**
 * What the Anthropic and Google Gen AI modules share beyond inference-call.ts: the host they are
 * patched with, and pricing a span the SDK made itself (Anthropic native spans: attribution from
 * the task scope or W3C baggage, usage + cost attributes, the task's running cost).
 */
import type { Attributes, Context, Span, Tracer } from '@opentelemetry/api';
import * as A from '@spendtrace/semconv';
import { costAttributes, UNPRICED_ATTRIBUTES, usageAttributes, type Usage } from '@spendtrace/semconv';
import type { CallHost, ServerAddress } from '../inference-call.ts';
import { baggageAttribution, currentScope, type TaskState } from '../task-context.ts';

/** What a provider module needs from `SpendtraceInstrumentation`. */
export interface GenAIHost extends CallHost {
  /** The tracer whose inference spans record their metrics at `end()` (metrics.ts; read per call: `setTracerProvider` may replace it). */
  readonly tracer: Tracer;
  isEnabled(): boolean;
  /** Record prompts and completions (`gen_ai.input.messages` / `.output.messages`). Absent: off. */
  readonly captureMessageContent?: boolean;
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

/** `server.address` / `server.port` of a client's base URL (cached: clients keep one). */
const servers = new Map<string, ServerAddress>();
export function serverAddress(baseURL: string | undefined): ServerAddress {
  const key = baseURL ?? '';
  let server = servers.get(key);
  if (server) return server;
  server = {};
  try {
    const url = new URL(key);
    server = { address: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: url.port ? Number(url.port) : url.protocol === 'http:' ? 80 : 443 };
  } catch {
    // No usable base URL: the span goes without server attributes.
  }
  if (servers.size > 1000) servers.clear();
  servers.set(key, server);
  return server;
}

/** Copies the defined, attribute-typed values of `pairs` into `attrs`. */
export function setDefined(attrs: Attributes, pairs: Array<[string, unknown]>): Attributes {
  for (const [k, v] of pairs) {
    if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') attrs[k] = v;
    else if (Array.isArray(v) && v.length && v.every((x) => typeof x === 'string')) attrs[k] = v as string[];
  }
  return attrs;
}
