/**
 * The SDKs' internal retries, made visible on the call's span: each retry adds a
 * `spendtrace.retry` event for the attempt that failed before it (its status or error type, at
 * the time it failed) and raises `spendtrace.retry.attempt` on the span at once, so a call that
 * finally fails still says how often it was retried.
 *
 * Shared by every provider module, and tied to the call by the active context, which the SDKs
 * keep while they send (their retry loops run inside the async context of the call): an `openai`
 * call is that context itself (call-context.ts); otherwise only spans registered here
 * (spendtrace's own, and the Anthropic native spans it wraps) are counted. Two ways in:
 * - Stainless-generated clients (openai, @anthropic-ai/sdk): their prototype's `shouldRetry`
 *   (called with each failed response) and `retryRequest` (called once per retry, before the
 *   back-off). Neither runs on a call that succeeds at once, so that costs nothing, and neither is
 *   one of the fetch "dispatch hooks" openai 7 refuses to run X.509 workload identity with
 *   (`fetchWithAuth`, `fetchWithTimeout`); the client's own `fetch` is left alone.
 * - @google/genai: every HTTP attempt through the fetch function its `apiCall` uses ({@link countingFetch}).
 */
import { context, diag, trace, type Span } from '@opentelemetry/api';
import * as A from '@spendtrace/semconv';
import { AttributeKeepingSpan } from './attribute-keeping-span.ts';
import { CallContext } from './call-context.ts';

interface AttemptState {
  /**
   * HTTP attempts so far; -1 while not tracked. Counted per attempt through `countingFetch`; on
   * Stainless clients only retries are seen, so it stays 0 until the first one makes it 2.
   */
  attempts: number;
  /** The last attempt's failure, until a success (`countingFetch`) or the retry it causes (Stainless) clears it. */
  failure: { at: number; status?: number; errorType?: string } | undefined;
}

/**
 * spendtrace's own spans (every {@link AttributeKeepingSpan}) carry their attempt count as fields,
 * so tracking a call allocates nothing; any other span is tracked here.
 */
const others = new WeakMap<Span, AttemptState>();

function stateOf(span: Span | undefined): AttemptState | undefined {
  if (!span) return undefined;
  if (span instanceof AttributeKeepingSpan) return span.attempts >= 0 ? span : undefined;
  return others.get(span);
}

/** Marks `span` as an LLM call span whose attempts are to be counted. */
export function trackAttempts(span: Span): void {
  if (span instanceof AttributeKeepingSpan) {
    if (span.attempts < 0) span.attempts = 0;
  } else if (!others.has(span)) {
    others.set(span, { attempts: 0, failure: undefined });
  }
}

/**
 * Called as an attempt starts; returns the call's state (to pass to {@link attemptSucceeded} /
 * {@link attemptFailed}), or undefined when the active span is not a tracked call (a request the
 * instrumentation does not follow).
 */
export function attemptStarting(): AttemptState | undefined {
  const call = activeCall();
  if (!call) return undefined;
  const [span, state] = call;
  state.attempts++;
  if (state.attempts > 1) recordRetry(span, state.attempts - 1, state.failure);
  return state;
}

/** The tracked call the active context belongs to: its span and attempt state. */
function activeCall(): [Span, AttemptState] | undefined {
  const ctx = context.active();
  // An instrumented `openai` call runs the SDK in its own context (call-context.ts): no lookup needed.
  if (ctx instanceof CallContext) return [ctx.span, ctx];
  const span = trace.getSpan(ctx);
  const state = stateOf(span);
  return span && state ? [span, state] : undefined;
}

/** The `spendtrace.retry` event of retry number `retry` (the failure before it) and the span's running count. */
function recordRetry(span: Span, retry: number, f: AttemptState['failure']): void {
  const attrs: Record<string, string | number> = { [A.ATTR_SPENDTRACE_RETRY_ATTEMPT]: retry };
  if (f?.status !== undefined) attrs[A.ATTR_HTTP_RESPONSE_STATUS_CODE] = f.status;
  if (f?.errorType) attrs[A.ATTR_ERROR_TYPE] = f.errorType;
  span.addEvent(A.EVENT_SPENDTRACE_RETRY, attrs, f?.at);
  span.setAttribute(A.ATTR_SPENDTRACE_RETRY_ATTEMPT, retry);
}

/** An attempt got an HTTP response: a status >= 400 is remembered as its failure. */
export function attemptSucceeded(state: AttemptState, status: number): void {
  state.failure = status >= 400 ? { at: Date.now(), status, errorType: String(status) } : undefined;
}

/** An attempt failed without a response. */
export function attemptFailed(state: AttemptState, status: number | undefined, errorType: string): void {
  state.failure = { at: Date.now(), status, errorType };
}

/** The error type of a failed fetch: a timeout, an abort, or a connection error. */
export function fetchErrorType(err: unknown): string {
  const name = (err as { name?: unknown })?.name;
  if (name === 'TimeoutError') return 'timeout';
  if (name === 'AbortError') return 'aborted';
  return 'connection_error';
}

/*
 * An attempt's outcome handlers are shared, not made per attempt: a promise reaction runs in the
 * async context its `then` was called in, where the call's span is the active one.
 */
function activeState(): AttemptState | undefined {
  return activeCall()?.[1];
}
function onAttemptResponse(res: Response | undefined): void {
  const state = activeState();
  if (state) attemptSucceeded(state, res?.status ?? 0);
}
function onAttemptError(err: unknown): void {
  const state = activeState();
  if (state) attemptFailed(state, undefined, fetchErrorType(err));
}

type AnyFn = (this: unknown, ...args: any[]) => any;

/**
 * A Stainless client's `shouldRetry(response, ...)`, which the SDK calls with every failed
 * response (before deciding whether to retry it): the response is the attempt's failure.
 */
export function observingShouldRetry<F extends AnyFn>(original: F): F {
  return function shouldRetry(this: unknown, response: { status?: unknown } | undefined, ...rest: unknown[]) {
    try {
      const state = activeState();
      const status = response?.status;
      if (state && typeof status === 'number') state.failure = { at: Date.now(), status, errorType: String(status) };
    } catch (err) {
      diag.error('spendtrace: could not record a failed attempt', err);
    }
    return original.call(this, response, ...rest);
  } as F;
}

/**
 * A Stainless client's `retryRequest(...)`, called once per retry: the retry is recorded with the
 * failure `shouldRetry` saw, or as a connection error when the attempt got no response at all.
 */
export function countingRetryRequest<F extends AnyFn>(original: F): F {
  return function retryRequest(this: unknown, ...args: unknown[]) {
    try {
      retryStarting();
    } catch (err) {
      diag.error('spendtrace: could not record a retry', err);
    }
    return original.apply(this, args);
  } as F;
}

function retryStarting(): void {
  const call = activeCall();
  if (!call) return;
  const [span, state] = call;
  // The first attempt is implied: only retries pass through here.
  state.attempts = Math.max(state.attempts, 1) + 1;
  const failure = state.failure ?? { at: Date.now(), errorType: 'connection_error' };
  state.failure = undefined;
  recordRetry(span, state.attempts - 1, failure);
}

/** Wraps a fetch-like function so each call through it is counted as an attempt of the active call. */
export function countingFetch<F extends (...args: any[]) => Promise<Response>>(fetchFn: F): F {
  // Every argument passes through: fetch implementations take more than (url, init) at times.
  return function fetchAttempt(this: unknown, ...args: unknown[]) {
    const tracked = attemptStarting() !== undefined;
    const p = fetchFn.apply(this, args);
    if (tracked && p && typeof p.then === 'function') p.then(onAttemptResponse, onAttemptError);
    return p;
  } as F;
}
