/**
 * The one call-site template every provider's patched SDK method runs (ARCHITECTURE.md):
 *
 *   enabled? → who is called (provider, model) → budget gate → span start → (on failure: the SDK
 *   uninstrumented) → the SDK called inside the call's context → attach to what it returned.
 *
 * A provider supplies a {@link CallSite}: how to read the target, how to describe the request to
 * the budget, how to start its call, and how the app gets the result (the SDK's own APIPromise
 * observed in place, or a promise of the SDK's own value). Nothing else in a provider module
 * decides whether a call is instrumented, refused or passed through.
 */
import { context, type Context } from '@opentelemetry/api';
import { budgetGate, type BudgetHost, type DescribeRequest, type GateResult, type Reservation } from './budget-gate.ts';
import type { InferenceCall } from './inference-call.ts';
import { currentScope, type Scope } from './task-context.ts';

/** Who a call goes to, read before anything starts (the budget gate prices it). */
export interface CallTarget {
  readonly provider: string;
  readonly model: string | undefined;
}

export interface CallSiteHost extends BudgetHost {
  isEnabled(): boolean;
}

type Method = (this: any, body: any, options?: any) => unknown;

export interface CallSite<Self, Target extends CallTarget, Call extends InferenceCall> {
  /** For diag messages: "openai chat", "anthropic messages.create", ... */
  readonly what: string;
  /** The request as the budget check reads it (absent: checked on the running cost only). */
  readonly describe?: DescribeRequest;
  /** Undefined: not a model call (another command of the same method), passed to the SDK as it is. */
  target(self: Self, body: any): Target | undefined;
  /**
   * A call the SDK traces itself (Anthropic native tracing): runs `original` without a span of
   * ours and returns its result, or returns {@link OWN_SPAN} to go on with spendtrace's own call.
   */
  passThrough?(self: Self, body: any, options: any, original: Method, reservation: Reservation | undefined): unknown;
  /** Starts the span and makes the call object (the OTel context the SDK runs in). */
  start(self: Self, body: any, target: Target, scope: Scope | undefined, parent: Context): Call;
  /** The body the SDK is sent (openai: a copy asking for stream usage); absent: the app's. */
  sent?(call: Call, body: any): any;
  /** What the app gets from the SDK's result, observed by the call. */
  attach(call: Call, result: unknown): unknown;
  /** A refused call, failing as the SDK's own return value would (a rejected APIPromise, a rejected promise). */
  refuse(err: Error): unknown;
}

/** The answer of {@link CallSite.passThrough} that lets spendtrace make its own span. */
export const OWN_SPAN: unique symbol = Symbol('spendtrace.ownSpan');

/** The patched method for `original`, running `site`'s template. */
export function instrumentedMethod<Self, Target extends CallTarget, Call extends InferenceCall>(
  host: CallSiteHost,
  site: CallSite<Self, Target, Call>,
  original: Method,
): Method {
  return function instrumented(this: Self, body: any, options?: any) {
    return runCall(host, site, original, this, body, options, arguments.length);
  };
}

function callOriginal(original: Method, self: unknown, body: unknown, options: unknown, argc: number): unknown {
  // The SDK sees the arguments it was given (some methods branch on how many).
  return argc < 2 ? original.call(self, body) : original.call(self, body, options);
}

function runCall<Self, Target extends CallTarget, Call extends InferenceCall>(
  host: CallSiteHost,
  site: CallSite<Self, Target, Call>,
  original: Method,
  self: Self,
  body: any,
  options: any,
  argc: number,
): unknown {
  if (!host.isEnabled()) return callOriginal(original, self, body, options, argc);
  let target: Target | undefined;
  try {
    target = site.target(self, body);
  } catch (err) {
    host.diag.error(`${site.what}: could not read the call; calling the SDK uninstrumented`, err);
  }
  if (!target) return callOriginal(original, self, body, options, argc);
  const scope = currentScope();
  const task = scope?.task;
  let reservation: Reservation | undefined;
  if (task?.budgeted) {
    let gate: GateResult | undefined;
    try {
      gate = budgetGate(host, task, target.provider, target.model, body, site.describe);
    } catch (err) {
      host.diag.error(`${site.what}: the budget check failed; calling the SDK`, err);
    }
    if (gate?.refused) return site.refuse(gate.refused);
    reservation = gate?.reservation;
  }
  if (site.passThrough) {
    const passed = site.passThrough(self, body, options, original, reservation);
    if (passed !== OWN_SPAN) return passed;
  }
  let call: Call;
  try {
    call = site.start(self, body, target, scope, context.active());
    call.reservation = reservation;
  } catch (err) {
    reservation?.release();
    host.diag.error(`${site.what}: could not start a span; calling the SDK uninstrumented`, err);
    return callOriginal(original, self, body, options, argc);
  }
  const sent = site.sent ? site.sent(call, body) : body;
  let result: unknown;
  try {
    // The call is the context the SDK runs in (call-context.ts): its span is the active one, so
    // child spans nest under it and each HTTP attempt is counted on it.
    result = argc < 2 ? context.with(call, original, self, sent) : context.with(call, original, self, sent, options);
  } catch (err) {
    call.finish(err);
    throw err;
  }
  try {
    return site.attach(call, result);
  } catch (err) {
    host.diag.error(`${site.what}: could not attach to the SDK's result`, err);
    return result;
  }
}
