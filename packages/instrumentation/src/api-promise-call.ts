/**
 * A call made through a Stainless-generated SDK (`openai`, `@anthropic-ai/sdk`): both return an
 * `APIPromise` and stream through a `Stream`, built the same way. This is how a call observes them
 * without changing what the app gets.
 *
 * The wrapper returns the SDK's own APIPromise. The call attaches in two places that cost nothing
 * until the app reads the result: `responsePromise` (the HTTP outcome, SDK errors) and the
 * promise's `parseResponse` field (the parsed body or Stream), so `.withResponse()`,
 * `.asResponse()`, `_thenUnwrap()` helpers and `await` behave exactly as without instrumentation.
 * A Stream is instrumented in place through its `iterator` field, which `for await`, `tee()` and
 * `toReadableStream()` all read, so the object the app holds is the SDK's own.
 */
import type { APIPromiseLike, APIResponseProps } from './internal-types.ts';
import { InferenceCall } from './inference-call.ts';
import * as A from '@spendtrace/semconv';

/** The `error.type` of a stream the app aborted. */
export const USER_ABORT = 'APIUserAbortError';

/** The SDK's `Stream`: `iterator` is the raw event source every consumer path goes through. */
export interface SdkStream {
  iterator: () => AsyncIterator<unknown>;
  controller?: AbortController;
}

/** A promise that rejects like an APIPromise would, for calls refused before any request. */
export function rejectedAPIPromise(err: unknown): Promise<never> {
  const p = Promise.reject(err) as Promise<never> & Record<string, unknown>;
  p.withResponse = () => p;
  p.asResponse = () => p;
  // What helpers that build one request on another read (the Anthropic tool runner's threads).
  p.responsePromise = p;
  p._responseProps = () => p;
  p.parse = () => p;
  p._thenUnwrap = () => p;
  return p;
}

type ParseFn = APIPromiseLike['parseResponse'];
type ThenUnwrap = (this: unknown, transform: (data: unknown, props: unknown) => unknown, ...rest: unknown[]) => unknown;

/*
 * The closures put on the SDK's promise are made here, at module level, and capture only the
 * call and the SDK's own function. Made inline in `APIPromiseCall.attach`, the same closure made
 * each call's objects survive young-generation collections on openai 6: 4.6 KB promoted to the old
 * generation per call instead of 1.2, and 7-11 µs more CPU per call (bench/README.md). Which V8
 * mechanism keeps them is not pinned down; the measured difference is.
 */

/**
 * The promise's `parseResponse`, seeing the parsed body (or Stream) before the app does: the
 * SDK's own parse promise is returned, observed by one reaction registered before the SDK
 * resolves the APIPromise with it, so a Stream is instrumented before anyone can read it.
 */
function observedParse(original: ParseFn, call: APIPromiseCall): ParseFn {
  return function parseResponse(this: unknown, client, props) {
    call.parsing = true;
    const parsed = original.call(this, client, props) as Promise<unknown>;
    if (parsed && typeof parsed.then === 'function') parsed.then(call.onResult, call.onError);
    else call.onResult(parsed);
    return parsed;
  };
}

/** An own `_thenUnwrap`: the helper's transform sees the result after the call has. */
function observedThenUnwrap(original: ThenUnwrap, call: APIPromiseCall): ThenUnwrap {
  return function _thenUnwrap(this: unknown, transform, ...rest) {
    call.chained = true;
    return original.call(this, (data: unknown, props: unknown) => transform(call.onResult(data), props), ...rest);
  };
}

/** One in-flight request through an APIPromise: the SDK-facing half; subclasses read what their API says and end the span once. */
export abstract class APIPromiseCall extends InferenceCall {
  /** The request streams (a Stream is what parsing gives). */
  abstract readonly stream: boolean;
  /** The stream carries chunks that are ours to hide (openai's usage chunk, when asked for): `readChunk` may return true. */
  injected = false;
  promise: APIPromiseLike | undefined;
  /** Our parseResponse ran: someone (await, `.withResponse()`) is reading the body. */
  parsing = false;
  /** A helper chained onto the promise with `_thenUnwrap`: it will read the body. */
  chained = false;
  /** The Stream was instrumented (helpers may deliver it twice: parseResponse and `_thenUnwrap`). */
  streamSeen = false;
  // Streams only.
  controller: AbortController | undefined;
  inFlight = false;
  closing = false;
  /** A stream's text pieces, for local counting when it reports no usage (undefined: not collected). */
  text: string[] | undefined;

  /** A parsed non-stream body: read it and finish. */
  protected abstract readResult(result: unknown): void;
  /** A stream event; true when it is ours to hide. */
  abstract readChunk(chunk: unknown): boolean;
  /** Whether a stream's text is kept for local counting. */
  protected abstract collectsText(): boolean;
  /** Ends the span once; `err` is an error object or an error.type. */
  abstract override finish(err?: unknown): void;

  protected get operation(): string {
    return this.startAttributes[A.ATTR_GEN_AI_OPERATION_NAME] as string;
  }

  attach(result: unknown): void {
    const p = result as APIPromiseLike;
    if (!p || typeof p.then !== 'function') {
      this.finish();
      return;
    }
    if (!p.responsePromise || typeof p.parseResponse !== 'function') {
      // Not the APIPromise we know: observe the plain promise (it is the app's to await).
      p.then(this.onResult, this.onError);
      return;
    }
    this.promise = p;
    p.parseResponse = observedParse(p.parseResponse, this);
    // The SDK's helpers (`responses.stream()`, `.parse()`) chain with `_thenUnwrap`. In openai 7 that
    // is an own function of each promise calling the parse function it was built with, not our
    // `parseResponse`: see the result there too. Elsewhere it is the prototype's, which calls our
    // `parseResponse`; an own property added to every promise there would only slow the SDK down.
    const chainable = p as APIPromiseLike & { _thenUnwrap?: ThenUnwrap };
    if (typeof chainable._thenUnwrap === 'function' && Object.hasOwn(chainable, '_thenUnwrap')) {
      chainable._thenUnwrap = observedThenUnwrap(chainable._thenUnwrap, this);
    }
    p.responsePromise.then(this.onResponse, this.onError);
  }

  onResponse = (props: APIResponseProps): void => {
    try {
      if (this.promise && this.promise.parsedPromise === undefined && !this.parsing && !this.ended) {
        if (!props.response?.ok) return this.finish();
        if (this.stream) {
          // A helper that chained with `_thenUnwrap` parses it later; only a stream nobody parses
          // (`.asResponse()`) ends here, after the app's own await has had its chance.
          if (this.chained) return;
          setImmediate(() => {
            if (!this.parsing && !this.chained) this.finish();
          });
          return;
        }
        // Nobody asked for the parsed body yet. A helper's parse reacts to the same response
        // right after us: give it that chance. Still nobody (`.asResponse()`, an await that
        // comes later): read usage from a clone, leaving the app's body untouched.
        queueMicrotask(() => {
          if (this.ended || this.parsing || this.chained || this.promise?.parsedPromise !== undefined) return;
          props.response
            .clone()
            .json()
            .then(
              (json: unknown) => this.onResult(json),
              () => this.finish(),
            );
        });
      }
    } catch (err) {
      this.host.diag.error(`${this.operation} span: response handling failed`, err);
    }
  };

  onError = (err: unknown): void => {
    this.finish(err);
  };

  onResult = (result: unknown): unknown => {
    if (this.ended) return result;
    try {
      if (this.stream && result && typeof (result as SdkStream).iterator === 'function') {
        if (this.streamSeen) return result;
        this.streamSeen = true;
        this.instrumentStream(result as SdkStream);
      } else {
        this.readResult(result);
      }
    } catch (err) {
      this.host.diag.error(`${this.operation} span: result handling failed`, err);
      this.finish();
    }
    return result;
  };

  instrumentStream(stream: SdkStream): void {
    const original = stream.iterator;
    const call = this;
    stream.iterator = function iterator(this: unknown) {
      return new InstrumentedIterator(original.call(this), call);
    };
    if (this.collectsText()) this.text = [];
    this.controller = stream.controller;
    this.controller?.signal?.addEventListener('abort', () => this.onAbort(), { once: true });
  }

  onAbort(): void {
    // break/return() aborts too, and an in-flight read settles on its own (done or an error).
    if (this.closing || this.inFlight || this.ended) return;
    this.finish(USER_ABORT);
  }

  onStreamDone(): void {
    const aborted = this.controller?.signal?.aborted === true;
    this.finish(aborted && !this.closing ? USER_ABORT : undefined);
  }
}

/** Sits between the SDK's event source and every consumer; ends the span on done, return, error or abort. */
class InstrumentedIterator implements AsyncIterator<unknown> {
  readonly inner: AsyncIterator<unknown>;
  readonly call: APIPromiseCall;

  constructor(inner: AsyncIterator<unknown>, call: APIPromiseCall) {
    this.inner = inner;
    this.call = call;
  }

  next(): Promise<IteratorResult<unknown>> {
    // Nothing to hide (no usage chunk of ours): the app gets the SDK's own promise for each chunk,
    // observed by one reaction, registered before the app's and so run first.
    if (!this.call.injected) return this.observedNext();
    return this.filteredNext();
  }

  private observedNext(): Promise<IteratorResult<unknown>> {
    const call = this.call;
    call.inFlight = true;
    let p: Promise<IteratorResult<unknown>>;
    try {
      p = this.inner.next();
    } catch (err) {
      call.inFlight = false;
      if (!call.closing) call.finish(err);
      return Promise.reject(err);
    }
    p.then(this.onChunk, this.onReadError);
    return p;
  }

  /** A chunk read (the app reads the same result from the same promise). */
  private readonly onChunk = (r: IteratorResult<unknown>): void => {
    const call = this.call;
    call.inFlight = false;
    try {
      if (r.done) call.onStreamDone();
      else call.readChunk(r.value);
    } catch (err) {
      call.host.diag.error(`${call.startAttributes[A.ATTR_GEN_AI_OPERATION_NAME]} span: chunk handling failed`, err);
    }
  };

  /** A failed read (the app sees the rejection on the same promise). */
  private readonly onReadError = (err: unknown): void => {
    const call = this.call;
    call.inFlight = false;
    try {
      if (!call.closing) call.finish(err);
    } catch {
      // finish() reports its own failures
    }
  };

  /** Reads on past the chunks that are ours to hide (the usage chunk we asked for). */
  private async filteredNext(): Promise<IteratorResult<unknown>> {
    const call = this.call;
    for (;;) {
      let r: IteratorResult<unknown>;
      call.inFlight = true;
      try {
        r = await this.inner.next();
      } catch (err) {
        call.inFlight = false;
        if (!call.closing) call.finish(err);
        throw err;
      }
      call.inFlight = false;
      if (r.done) {
        call.onStreamDone();
        return r;
      }
      let hide = false;
      try {
        hide = call.readChunk(r.value);
      } catch (err) {
        call.host.diag.error(`${call.startAttributes[A.ATTR_GEN_AI_OPERATION_NAME]} span: chunk handling failed`, err);
      }
      if (!hide) return r;
    }
  }

  async return(value?: unknown): Promise<IteratorResult<unknown>> {
    const call = this.call;
    call.closing = true;
    try {
      return this.inner.return ? await this.inner.return(value) : { done: true, value: value as undefined };
    } finally {
      call.finish();
    }
  }

  async throw(err?: unknown): Promise<IteratorResult<unknown>> {
    const call = this.call;
    call.closing = true;
    try {
      if (this.inner.throw) return await this.inner.throw(err);
      throw err;
    } finally {
      call.finish(err);
    }
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
