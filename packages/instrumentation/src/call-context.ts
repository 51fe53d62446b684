/**
 * The OTel context an instrumented LLM call runs the SDK in: its parent context with the call's
 * span active. `trace.setSpan(parent, span)` would copy the parent's whole value map for every
 * call; this is the call object itself, answering the span key and delegating every other key to
 * the parent, so starting a call allocates no context. `Context` is an interface in the OTel API
 * and context managers store what they are given, so this is a context like any other: anything
 * the SDK or another instrumentation derives from it (`setValue`) is an ordinary context again.
 *
 * Being the active context also ties each retry the SDK makes to its call without a lookup table
 * (retry-attempts.ts reads `attempts` / `failure` here).
 */
import { trace, type Context, type Span } from '@opentelemetry/api';

/**
 * The API's key for the active span. It is private to `@opentelemetry/api`; `trace.setSpan`
 * hands it to the context it is given, so it is learned once from a context that records it.
 */
const SPAN_KEY: symbol = (() => {
  let key: symbol | undefined;
  const probe: Context = {
    getValue: () => undefined,
    setValue(k: symbol) {
      key = k;
      return probe;
    },
    deleteValue: () => probe,
  };
  trace.setSpan(probe, trace.wrapSpanContext({ traceId: '0'.repeat(32), spanId: '0'.repeat(16), traceFlags: 0 }));
  if (!key) throw new Error('@opentelemetry/api did not set a span through Context.setValue');
  return key;
})();

export abstract class CallContext implements Context {
  readonly parentContext: Context;
  readonly span: Span;
  /** HTTP attempts once the SDK retried (0 while it has not; retry-attempts.ts). */
  attempts = 0;
  /** The failed attempt a retry is about to follow (retry-attempts.ts). */
  failure: { at: number; status?: number; errorType?: string } | undefined = undefined;

  constructor(parentContext: Context, span: Span) {
    this.parentContext = parentContext;
    this.span = span;
  }

  getValue(key: symbol): unknown {
    return key === SPAN_KEY ? this.span : this.parentContext.getValue(key);
  }
  setValue(key: symbol, value: unknown): Context {
    return this.parentContext.setValue(SPAN_KEY, this.span).setValue(key, value);
  }
  deleteValue(key: symbol): Context {
    return this.parentContext.setValue(SPAN_KEY, this.span).deleteValue(key);
  }
}
