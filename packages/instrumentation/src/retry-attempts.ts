/**
 * The SDKs' internal retries, made visible on the call's span: each HTTP attempt after the first
 * adds a `spendtrace.retry` event for the attempt that failed before it (its status or error
 * type, at the time it failed) and raises `spendtrace.retry.attempt` on the span at once, so a
 * call that finally fails still says how often it was retried.
 *
 * Shared by every provider module. Attempts are seen where each SDK sends them (the `openai` and
 * Anthropic clients' `fetchWithTimeout`, the fetch function @google/genai's `apiCall` uses) and
 * tied to the call by the active context, which the SDKs keep while they send (their retry loops
 * run inside the async context of the call): an `openai` call is that context itself
 * (call-context.ts); otherwise only spans registered here (spendtrace's own, and the Anthropic
 * native spans it wraps) are counted.
 */
import { context, trace, type Span } from '@opentelemetry/api';
import * as A from '@spendtrace/semconv';
import { AttributeKeepingSpan } from './attribute-keeping-span.ts';
import { CallContext } from './call-context.ts';

interface AttemptState {
  /** Attempts seen so far; -1 while not tracked. */
  attempts: number;
  /** The last attempt's outcome when it failed; cleared by a success. */
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

/** Retries seen so far on `span` (0 when none or not tracked). */
export function retriesOf(span: Span | CallContext): number {
  if (span instanceof CallContext) return span.attempts > 1 ? span.attempts - 1 : 0;
  const s = stateOf(span);
  return s && s.attempts > 1 ? s.attempts - 1 : 0;
}

/**
 * Called as an attempt starts; returns the call's state (to pass to {@link attemptSucceeded} /
 * {@link attemptFailed}), or undefined when the active span is not a tracked call (a request the
 * instrumentation does not follow).
 */
export function attemptStarting(): AttemptState | undefined {
  const ctx = context.active();
  // An instrumented call runs the SDK in its own context (call-context.ts): no lookup needed.
  const span = ctx instanceof CallContext ? ctx.span : trace.getSpan(ctx);
  const state = ctx instanceof CallContext ? ctx : stateOf(span);
  if (!span || !state) return undefined;
  state.attempts++;
  if (state.attempts > 1) {
    const retry = state.attempts - 1;
    const f = state.failure;
    const attrs: Record<string, string | number> = { [A.ATTR_SPENDTRACE_RETRY_ATTEMPT]: retry };
    if (f?.status !== undefined) attrs[A.ATTR_HTTP_RESPONSE_STATUS_CODE] = f.status;
    if (f?.errorType) attrs[A.ATTR_ERROR_TYPE] = f.errorType;
    span.addEvent(A.EVENT_SPENDTRACE_RETRY, attrs, f?.at);
    span.setAttribute(A.ATTR_SPENDTRACE_RETRY_ATTEMPT, retry);
  }
  return state;
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
  const ctx = context.active();
  return ctx instanceof CallContext ? ctx : stateOf(trace.getSpan(ctx));
}
function onAttemptResponse(res: Response | undefined): void {
  const state = activeState();
  if (state) attemptSucceeded(state, res?.status ?? 0);
}
function onAttemptError(err: unknown): void {
  const state = activeState();
  if (state) attemptFailed(state, undefined, fetchErrorType(err));
}

/** The counting wrappers put on SDK clients' own `fetch` (countClientFetch), and what each wraps. */
const clientFetchOriginals = new WeakMap<object, unknown>();
/** Clients given a counting `fetch`, so `restoreClientFetches` can put theirs back. */
const countedClients = new Set<WeakRef<{ fetch?: unknown }>>();

/**
 * Counts the HTTP attempts of a Stainless-generated SDK client (openai v5–v7) through its own
 * `fetch` field, which `fetchWithTimeout` calls once per attempt. Not through the prototype's
 * `fetchWithTimeout`: openai 7 treats an overridden one as a dispatch hook (it changes how the
 * request's abort controller is made, and X.509 workload identity refuses to run), and wrapping a
 * method the SDK calls from its own async code slows that code down (bench/README.md). Cheap to
 * call per request: it only wraps a client whose `fetch` is not already ours.
 */
export function countClientFetch(client: { fetch?: unknown }): void {
  const current = client.fetch;
  if (typeof current !== 'function' || clientFetchOriginals.has(current)) return;
  const counting = countingFetch(current as (...args: any[]) => Promise<Response>);
  clientFetchOriginals.set(counting, current);
  client.fetch = counting;
  countedClients.add(new WeakRef(client));
}

/** Puts the SDK clients' own `fetch` back (the instrumentation is disabled). */
export function restoreClientFetches(): void {
  for (const ref of countedClients) {
    const client = ref.deref();
    const original = client && clientFetchOriginals.get(client.fetch as object);
    if (client && original) client.fetch = original;
  }
  countedClients.clear();
}

/** Wraps a fetch-like function so each call through it is counted as an attempt of the active call. */
export function countingFetch<F extends (...args: any[]) => Promise<Response>>(fetchFn: F): F {
  // Every argument passes through: the wrapped functions differ in arity (`fetch(url, init)`,
  // Anthropic 1.x's `fetchWithTimeout(url, init, ms, controller, requestOptions, logCtx)`).
  return function fetchAttempt(this: unknown, ...args: unknown[]) {
    const tracked = attemptStarting() !== undefined;
    const p = fetchFn.apply(this, args);
    if (tracked && p && typeof p.then === 'function') p.then(onAttemptResponse, onAttemptError);
    return p;
  } as F;
}
