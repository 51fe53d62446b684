/**
 * The task/tool context API (ARCHITECTURE.md): `withTask`, `withTool`, `recordToolCost`,
 * `setTaskOutcome`, `currentTask`.
 *
 * Task state lives in our own AsyncLocalStorage, not only in the OTel context: these helpers must
 * work (attribution, running cost, budgets) even in an app that registered no context manager or
 * never constructed the instrumentation. The OTel context still gets the task span and W3C
 * baggage, so child spans nest and other services attribute their spans to the task.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { context, diag, propagation, SpanKind, SpanStatusCode, trace, type Attributes, type Baggage, type Context, type Span } from '@opentelemetry/api';
import * as A from '@spendtrace/semconv';
import { picoToUsd, usdToPico, type Pico, type TaskOutcome, type Usage } from '@spendtrace/semconv';
import { BudgetExceededError, type BudgetCheck, type BudgetExceededInfo, type OnBudgetExceeded } from './budget.ts';
import { PACKAGE_NAME, PACKAGE_VERSION } from './version.ts';

export interface TaskOptions {
  /** What kind of work this is ("research", "triage"): the unit reports group by. */
  name: string;
  /** The agent doing it: the root span becomes `invoke_agent {agent}` with `gen_ai.agent.name`. */
  agent?: string;
  /** The end user it is done for (`user.id`). */
  userId?: string;
  /** A task id spanning several traces; defaults to this task's trace id. */
  id?: string;
  /** Budget for LLM calls and paid tools, in USD. */
  budgetUsd?: number;
  /** What happens to a call the budget refuses. @default 'throw' */
  onBudgetExceeded?: OnBudgetExceeded;
  /**
   * With `budgetUsd`: when the task tracks over its budget at its midpoint, the `ModelRouter`s it
   * uses give the rest of its calls the next cheaper eligible model instead of letting it run
   * into the budget. The midpoint is half of `expectedCalls` LLM calls (default: the router's
   * observed calls per task of its type; without any, half the budget spent). @default false
   */
  budgetDowngrade?: boolean | { expectedCalls?: number };
  /** When a call is refused: `worst-case` (before it could cross the budget) or `spent` (once the budget is used up); see {@link BudgetCheck}. @default 'worst-case' */
  budgetCheck?: BudgetCheck;
}

export interface TaskHandle {
  readonly id: string;
  readonly name: string;
  readonly agent: string | undefined;
  readonly userId: string | undefined;
  readonly budgetUsd: number | undefined;
  /** Running cost so far (LLM calls that finished + recorded tool fees), USD. */
  readonly costUsd: number;
  /** `budgetUsd - costUsd` (may go negative); `Infinity` when the task has no budget. */
  readonly remainingUsd: number;
}

export interface TaskOutcomeDetails {
  reason?: string;
  /** A quality score of the app's choosing (e.g. 0..1 from an eval). */
  quality?: number;
}

const tracer = () => trace.getTracer(PACKAGE_NAME, PACKAGE_VERSION);

export class TaskState implements TaskHandle {
  readonly id: string;
  readonly name: string;
  readonly agent: string | undefined;
  readonly userId: string | undefined;
  readonly budgetUsd: number | undefined;
  readonly budgetPico: Pico | undefined;
  readonly onBudgetExceeded: OnBudgetExceeded;
  readonly budgetCheck: BudgetCheck;
  /** This task or an enclosing one has a budget: its calls pass the budget gate. */
  readonly budgeted: boolean;
  readonly span: Span;
  readonly parent: TaskState | undefined;
  /**
   * Attributes every span inside the task carries (built once). `spendtrace.task.id` only when it
   * is not the trace id (an `id` option, a nested task): a trace is its task by default, and every
   * attribute past 19 makes an OTel JS span markedly slower (bench/README.md).
   */
  readonly attribution: Attributes;
  costPico: Pico = 0n;
  /** Worst cases of this task's calls in flight (budget-gate.ts): counted against the budget until they end. */
  reservedPico: Pico = 0n;
  /** Calls the budget refused. */
  refusals = 0;
  exceeded = false;
  warned = false;
  outcomeSet = false;
  /** Request hashes seen in this task and how often (bounded: oldest forgotten first). */
  seenRequests: Map<string, number> | undefined;
  readonly budgetDowngrade: { expectedCalls?: number } | undefined;
  /** The outcome and quality the app set (or `failure` when the task threw). */
  outcome: string | undefined;
  quality: number | undefined;
  /** Priced LLM calls in this task (nested tasks' included). */
  calls = 0;
  /** @internal What routers keep per task, keyed by the router. */
  routing: Map<object, unknown> | undefined;
  /** @internal Told about each priced LLM call of this task (routers learn token counts). */
  callListeners: Array<(model: string | undefined, usage: Usage, pico: Pico) => void> | undefined;
  /** @internal Told once when the task's span ends (routers learn its outcome and cost). */
  endListeners: Array<(task: TaskState) => void> | undefined;

  constructor(o: TaskOptions, id: string, span: Span, parent: TaskState | undefined) {
    this.id = id;
    this.name = o.name;
    this.agent = o.agent;
    this.userId = o.userId;
    this.budgetUsd = typeof o.budgetUsd === 'number' && o.budgetUsd >= 0 && Number.isFinite(o.budgetUsd) ? o.budgetUsd : undefined;
    this.budgetPico = this.budgetUsd === undefined ? undefined : usdToPico(this.budgetUsd);
    this.onBudgetExceeded = o.onBudgetExceeded ?? 'throw';
    this.budgetDowngrade = o.budgetDowngrade ? (typeof o.budgetDowngrade === 'object' ? o.budgetDowngrade : {}) : undefined;
    this.budgetCheck = o.budgetCheck === 'spent' ? 'spent' : 'worst-case';
    this.span = span;
    this.parent = parent;
    this.budgeted = this.budgetPico !== undefined || !!parent?.budgeted;
    const attribution: Attributes =
      span.spanContext().traceId === id
        ? { [A.ATTR_SPENDTRACE_TASK_NAME]: o.name }
        : { [A.ATTR_SPENDTRACE_TASK_ID]: id, [A.ATTR_SPENDTRACE_TASK_NAME]: o.name };
    if (o.agent) attribution[A.ATTR_GEN_AI_AGENT_NAME] = o.agent;
    if (o.userId) attribution[A.ATTR_USER_ID] = o.userId;
    this.attribution = attribution;
  }

  get costUsd(): number {
    return picoToUsd(this.costPico);
  }

  get remainingUsd(): number {
    return this.budgetPico === undefined ? Infinity : picoToUsd(this.budgetPico - this.costPico);
  }

  /** Adds money spent inside this task (and its enclosing tasks); marks the span once over budget. An LLM call passes its model and usage. */
  addCost(pico: Pico, model?: string, usage?: Usage): void {
    for (let t: TaskState | undefined = this; t; t = t.parent) {
      t.costPico += pico;
      if (usage) {
        t.calls++;
        if (t.callListeners) for (const l of t.callListeners) l(model, usage, pico);
      }
      if (!t.exceeded && t.budgetPico !== undefined && t.costPico > t.budgetPico) {
        t.exceeded = true;
        t.span.setAttribute(A.ATTR_SPENDTRACE_BUDGET_EXCEEDED, true);
        t.span.addEvent(A.EVENT_SPENDTRACE_BUDGET_EXCEEDED, { [A.ATTR_SPENDTRACE_TASK_BUDGET]: t.budgetUsd!, [A.ATTR_SPENDTRACE_TASK_COST]: t.costUsd });
      }
    }
  }

  /** What a budgeted task's span carries at its end: the running cost and the refusals. */
  budgetAttributes(): Attributes | undefined {
    if (this.budgetPico === undefined) return undefined;
    return {
      [A.ATTR_SPENDTRACE_TASK_COST]: this.costUsd,
      [A.ATTR_SPENDTRACE_BUDGET_CHECK]: this.budgetCheck,
      [A.ATTR_SPENDTRACE_BUDGET_REFUSALS]: this.refusals,
    };
  }
}

/** How many distinct request hashes a task remembers for `spendtrace.request.repeat`. */
export const MAX_SEEN_REQUESTS = 1024;

/**
 * @internal Counts a request about to be sent in `task` (default: the current one). Returns how
 * many identical requests (same hash) came before it in that task; 0 outside any task.
 */
export function noteRequest(hash: string, task: TaskState | undefined = storage.getStore()?.task): number {
  if (!task) return 0;
  const seen = (task.seenRequests ??= new Map());
  const before = seen.get(hash) ?? 0;
  if (before) seen.delete(hash);
  else if (seen.size >= MAX_SEEN_REQUESTS) seen.delete(seen.keys().next().value!);
  // Re-inserted, so the most recently used hashes are the last to be forgotten.
  seen.set(hash, before + 1);
  return before;
}

type ToolCostListener = (usd: number, attributes: Attributes) => void;
let toolCostListener: ToolCostListener | undefined;

/** @internal The instrumentation's cost counter hears about tool fees through this. */
export function setToolCostListener(listener: ToolCostListener | undefined): void {
  toolCostListener = listener;
}

export class ToolState {
  readonly name: string;
  readonly span: Span;
  costPico: Pico = 0n;
  constructor(name: string, span: Span) {
    this.name = name;
    this.span = span;
  }
}

/** What the current async context knows: the innermost task and tool, if any. */
export interface Scope {
  task: TaskState | undefined;
  tool: ToolState | undefined;
}

const storage = new AsyncLocalStorage<Scope>();

/** @internal The innermost task/tool scope (used by the instrumentation on every LLM call). */
export function currentScope(): Scope | undefined {
  return storage.getStore();
}

/** @internal Before an LLM call in a budgeted task: undefined to go ahead, or the error to fail fast with. */
export function checkBudget(task: TaskState, model: string | undefined): Error | undefined {
  for (let t: TaskState | undefined = task; t; t = t.parent) {
    if (!t.exceeded) continue;
    const refused = applyBudgetMode(t, { taskId: t.id, taskName: t.name, budgetUsd: t.budgetUsd!, costUsd: t.costUsd, model, reason: 'spent' });
    if (refused) return refused;
  }
  return undefined;
}

/**
 * @internal A call `t`'s budget would refuse, by its `onBudgetExceeded`: the error to fail with
 * (recorded on the task span as a refusal), or undefined when the mode lets the call through.
 * The app's callback may throw: its error is the refusal.
 */
export function applyBudgetMode(t: TaskState, info: BudgetExceededInfo): Error | undefined {
  const mode = t.onBudgetExceeded;
  let refused: Error | undefined;
  if (mode === 'throw') {
    refused = new BudgetExceededError(info);
  } else if (mode === 'warn') {
    if (!t.warned) diag.warn(`spendtrace: ${new BudgetExceededError(info).message} (onBudgetExceeded: 'warn', call allowed)`);
    t.warned = true;
  } else if (typeof mode === 'function') {
    try {
      mode(info);
    } catch (err) {
      refused = err instanceof Error ? err : new BudgetExceededError(info);
    }
  }
  if (refused) {
    t.refusals++;
    const event: Attributes = {
      [A.ATTR_SPENDTRACE_BUDGET_REASON]: info.reason ?? 'spent',
      [A.ATTR_SPENDTRACE_TASK_COST]: info.costUsd,
    };
    if (info.model) event[A.ATTR_GEN_AI_REQUEST_MODEL] = info.model;
    if (info.estimateUsd !== undefined) event[A.ATTR_SPENDTRACE_BUDGET_ESTIMATE] = info.estimateUsd;
    t.span.addEvent(A.EVENT_SPENDTRACE_BUDGET_REFUSED, event);
  }
  return refused;
}

function randomId(): string {
  return randomBytes(16).toString('hex');
}

function withBaggage(ctx: Context, entries: Array<[string, string | undefined]>): Context {
  let bag: Baggage = propagation.getBaggage(ctx) ?? propagation.createBaggage();
  for (const [k, v] of entries) if (v) bag = bag.setEntry(k, { value: v });
  return propagation.setBaggage(ctx, bag);
}

function errorType(err: unknown): string {
  if (err && typeof err === 'object') {
    const ctor = (err as { constructor?: { name?: string } }).constructor?.name;
    if (ctor && ctor !== 'Object') return ctor;
    const name = (err as { name?: unknown }).name;
    if (typeof name === 'string') return name;
  }
  return '_OTHER';
}

function endWithError(span: Span, err: unknown): void {
  span.setAttribute(A.ATTR_ERROR_TYPE, errorType(err));
  span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
  span.end();
}

/** Runs fn inside the scope; ends the span when fn (or its promise) settles. */
function runScoped<T>(ctx: Context, scope: Scope, span: Span, fn: () => T, onError?: (err: unknown) => void, onEnd?: () => void): T {
  const task = scope.task && scope.task.span === span ? scope.task : undefined;
  let result: T;
  try {
    result = context.with(ctx, () => storage.run(scope, fn));
  } catch (err) {
    onError?.(err);
    endTask(task);
    endWithError(span, err);
    onEnd?.();
    throw err;
  }
  if (result && typeof (result as { then?: unknown }).then === 'function') {
    // `then` is called inside the task's scope: a lazy thenable (the Anthropic tool runner) starts its work there.
    const onValue = (v: unknown) => {
      endTask(task);
      span.end();
      onEnd?.();
      return v;
    };
    const onFailure = (err: unknown) => {
      onError?.(err);
      endTask(task);
      endWithError(span, err);
      onEnd?.();
      throw err;
    };
    return context.with(ctx, () => storage.run(scope, () => (result as unknown as Promise<unknown>).then(onValue, onFailure))) as T;
  }
  endTask(task);
  span.end();
  onEnd?.();
  return result;
}

/** A budgeted task's running cost and refusals onto its span, just before it ends. */
function endTask(task: TaskState | undefined): void {
  const attrs = task?.budgetAttributes();
  if (attrs) task!.span.setAttributes(attrs);
}

/**
 * Runs `fn` as one task: a root span (`invoke_agent {agent}` or `task {name}`) whose trace id is
 * the task id unless `id` is given; every LLM and tool span inside carries the task's attribution,
 * and its cost counts toward `budgetUsd`. Returns what `fn` returns.
 */
export function withTask<T>(options: TaskOptions, fn: (task: TaskHandle) => T): T {
  let state: TaskState;
  let ctx: Context;
  try {
    const parent = storage.getStore()?.task;
    const active = context.active();
    const activeSpan = trace.getSpanContext(active);
    const name = options.agent ? `${A.GEN_AI_OPERATION.INVOKE_AGENT} ${options.agent}` : `task ${options.name}`;
    const attributes: Attributes = { [A.ATTR_SPENDTRACE_TASK_ROOT]: true, [A.ATTR_SPENDTRACE_TASK_NAME]: options.name };
    if (options.agent) {
      attributes[A.ATTR_GEN_AI_OPERATION_NAME] = A.GEN_AI_OPERATION.INVOKE_AGENT;
      attributes[A.ATTR_GEN_AI_AGENT_NAME] = options.agent;
    }
    if (options.userId) attributes[A.ATTR_USER_ID] = options.userId;
    if (typeof options.budgetUsd === 'number') attributes[A.ATTR_SPENDTRACE_TASK_BUDGET] = options.budgetUsd;
    // A top-level task starts its own trace (trace id = task id), linked to whatever span was
    // active (an HTTP request, a job); a nested task is a child span of the enclosing task.
    const span = tracer().startSpan(
      name,
      {
        kind: SpanKind.INTERNAL,
        attributes,
        root: !parent,
        ...(!parent && activeSpan && trace.isSpanContextValid(activeSpan) ? { links: [{ context: activeSpan }] } : {}),
      },
      active,
    );
    const traceId = span.spanContext().traceId;
    const traceIdUsable = trace.isSpanContextValid(span.spanContext()) && (!parent || parent.id !== traceId);
    const id = options.id ?? (traceIdUsable ? traceId : randomId());
    span.setAttribute(A.ATTR_SPENDTRACE_TASK_ID, id);
    state = new TaskState(options, id, span, parent);
    ctx = withBaggage(trace.setSpan(active, span), [
      [A.BAGGAGE_TASK_ID, id],
      [A.BAGGAGE_TASK_NAME, options.name],
      [A.BAGGAGE_AGENT_NAME, options.agent],
      [A.BAGGAGE_USER_ID, options.userId],
    ]);
  } catch (err) {
    diag.error('spendtrace: withTask could not start the task; running it untracked', err);
    return fn(untrackedHandle(options));
  }
  return runScoped(
    ctx,
    { task: state, tool: undefined },
    state.span,
    () => fn(state),
    (err) => {
      if (!state.outcomeSet) {
        state.outcome = A.TASK_OUTCOME.FAILURE;
        state.span.setAttribute(A.ATTR_SPENDTRACE_TASK_OUTCOME, A.TASK_OUTCOME.FAILURE);
        state.span.setAttribute(A.ATTR_SPENDTRACE_TASK_OUTCOME_REASON, errorType(err));
      }
    },
    () => notifyEnd(state),
  );
}

function notifyEnd(state: TaskState): void {
  const listeners = state.endListeners;
  if (!listeners) return;
  state.endListeners = undefined;
  for (const l of listeners) {
    try {
      l(state);
    } catch (err) {
      diag.error('spendtrace: a task-end listener failed', err);
    }
  }
}

function untrackedHandle(o: TaskOptions): TaskHandle {
  return { id: o.id ?? '', name: o.name, agent: o.agent, userId: o.userId, budgetUsd: o.budgetUsd, costUsd: 0, remainingUsd: o.budgetUsd ?? Infinity };
}

/** Runs `fn` as a tool call: an `execute_tool {name}` span; LLM calls inside get `spendtrace.tool.name`. */
export function withTool<T>(name: string, fn: () => T): T {
  let tool: ToolState;
  let ctx: Context;
  let task: TaskState | undefined;
  try {
    task = storage.getStore()?.task;
    const active = context.active();
    const span = tracer().startSpan(
      `${A.GEN_AI_OPERATION.EXECUTE_TOOL} ${name}`,
      {
        kind: SpanKind.INTERNAL,
        attributes: { [A.ATTR_GEN_AI_OPERATION_NAME]: A.GEN_AI_OPERATION.EXECUTE_TOOL, [A.ATTR_GEN_AI_TOOL_NAME]: name, ...task?.attribution },
      },
      active,
    );
    tool = new ToolState(name, span);
    ctx = trace.setSpan(active, span);
  } catch (err) {
    diag.error('spendtrace: withTool could not start the tool span; running it untracked', err);
    return fn();
  }
  return runScoped(ctx, { task, tool }, tool.span, fn);
}

function setToolCost(span: Span, pico: Pico): void {
  const usd = picoToUsd(pico);
  span.setAttributes({
    [A.ATTR_SPENDTRACE_TOOL_COST_AMOUNT]: usd,
    [A.ATTR_GEN_AI_USAGE_COST_AMOUNT]: usd,
    [A.ATTR_GEN_AI_USAGE_COST]: usd,
    [A.ATTR_GEN_AI_USAGE_COST_CURRENCY]: 'USD',
  });
}

/**
 * Records a paid tool fee (a search API call, a sandbox minute) in USD: on the current tool span
 * (amounts accumulate) — or, outside `withTool` or for another tool, on a zero-length
 * `execute_tool {tool}` span — and in the task's running cost.
 */
export function recordToolCost(usd: number, options: { tool?: string } = {}): void {
  try {
    if (typeof usd !== 'number' || !Number.isFinite(usd) || usd < 0) {
      diag.warn(`spendtrace: recordToolCost expects a finite amount >= 0 in USD, got ${String(usd)}; ignored`);
      return;
    }
    const pico = usdToPico(usd);
    const scope = storage.getStore();
    const task = scope?.task;
    const tool = scope?.tool;
    if (toolCostListener) {
      const toolName = options.tool ?? tool?.name ?? 'unnamed';
      toolCostListener(usd, { ...task?.attribution, [A.ATTR_SPENDTRACE_TOOL_NAME]: toolName });
    }
    if (tool && (options.tool === undefined || options.tool === tool.name)) {
      tool.costPico += pico;
      setToolCost(tool.span, tool.costPico);
    } else {
      const name = options.tool ?? 'unnamed';
      const span = tracer().startSpan(`${A.GEN_AI_OPERATION.EXECUTE_TOOL} ${name}`, {
        kind: SpanKind.INTERNAL,
        attributes: { [A.ATTR_GEN_AI_OPERATION_NAME]: A.GEN_AI_OPERATION.EXECUTE_TOOL, [A.ATTR_GEN_AI_TOOL_NAME]: name, ...task?.attribution },
      });
      setToolCost(span, pico);
      span.end();
    }
    task?.addCost(pico);
  } catch (err) {
    diag.error('spendtrace: recordToolCost failed', err);
  }
}

/** Sets the current task's outcome (`spendtrace.task.outcome`, `.reason`, `spendtrace.task.quality`). */
export function setTaskOutcome(outcome: TaskOutcome | 'success' | 'failure', details: TaskOutcomeDetails = {}): void {
  try {
    const task = storage.getStore()?.task;
    if (!task) {
      diag.warn('spendtrace: setTaskOutcome called outside withTask; ignored');
      return;
    }
    task.outcomeSet = true;
    task.outcome = outcome;
    if (typeof details.quality === 'number' && Number.isFinite(details.quality)) task.quality = details.quality;
    task.span.setAttribute(A.ATTR_SPENDTRACE_TASK_OUTCOME, outcome);
    if (details.reason !== undefined) task.span.setAttribute(A.ATTR_SPENDTRACE_TASK_OUTCOME_REASON, String(details.reason));
    if (typeof details.quality === 'number' && Number.isFinite(details.quality)) task.span.setAttribute(A.ATTR_SPENDTRACE_TASK_QUALITY, details.quality);
  } catch (err) {
    diag.error('spendtrace: setTaskOutcome failed', err);
  }
}

/** The innermost task of the current async context, if any. */
export function currentTask(): TaskHandle | undefined {
  return storage.getStore()?.task;
}

/** @internal Attribution from W3C baggage, for LLM calls made outside any local task (another service's task). */
export function baggageAttribution(ctx: Context): Attributes | undefined {
  const bag = propagation.getBaggage(ctx);
  if (!bag) return undefined;
  let out: Attributes | undefined;
  for (const key of [A.BAGGAGE_TASK_ID, A.BAGGAGE_TASK_NAME, A.BAGGAGE_AGENT_NAME, A.BAGGAGE_USER_ID]) {
    const v = bag.getEntry(key)?.value;
    if (v) (out ??= {})[key] = v;
  }
  return out;
}

export { errorType };
