/**
 * One instrumented `openai` SDK request (v5–v7), whatever the API: chat completions, Responses,
 * embeddings, legacy completions. Each API supplies an {@link OpenAIApi} that reads its request,
 * result and stream events; this module owns the span's life.
 *
 * The wrapper returns the SDK's own APIPromise. It attaches in two places that cost nothing
 * until the app reads the result: `responsePromise` (the HTTP outcome, SDK errors) and the
 * promise's `parseResponse` field (the parsed body or Stream), so `.withResponse()`,
 * `.asResponse()`, `_thenUnwrap()` helpers and `await` behave exactly as without instrumentation.
 * A Stream is instrumented in place through its `iterator` field, which `for await`, `tee()` and
 * `toReadableStream()` all read, so the object the app holds is the SDK's own.
 *
 * The SDK's helpers (`parse`, `runTools`, `stream`, `responses.stream`) call `create` on the
 * client's resource, so each HTTP request is one span, counted once.
 */
import { context, type Attributes, type Context, type Span } from '@opentelemetry/api';
import * as A from '@spendtrace/semconv';
import type { CostDetail, Usage } from '@spendtrace/semconv';
import { InferenceCall, startAttributes, startCallSpan, type CallHost } from '../inference-call.ts';
import type { APIPromiseLike, APIResponseProps, StreamLike } from '../internal-types.ts';
import { checkBudget, currentScope, errorType, type Scope } from '../task-context.ts';
import type { OpenAIProviderMap, StreamUsageMode } from '../types.ts';
import { endpointOfClient } from './provider.ts';

/** What the wrappers need from the instrumentation instance (read per call, so config changes apply). */
export interface ChatHost extends CallHost {
  readonly costDetail: CostDetail;
  readonly streamUsage: StreamUsageMode;
  readonly captureMessageContent: boolean;
  /** `openaiProviders` from the config: base URL / host -> `gen_ai.provider.name`. */
  readonly openaiProviders?: OpenAIProviderMap | undefined;
}

/** A resource instance (`client.chat.completions`, `client.responses`, ...). */
export interface ResourceLike {
  _client?: { baseURL?: string; deploymentName?: string; apiVersion?: string };
}

export type MethodFn = (this: ResourceLike, body: any, options?: unknown) => unknown;

/** How one API's requests, results and stream events map to the span. */
export interface OpenAIApi<Body = any> {
  readonly operation: string;
  /** The request attributes beyond operation / provider / model / server (DESIGN.md §3). */
  requestAttributes(body: Body, attrs: Attributes, host: ChatHost): void;
  /** `spendtrace.request.hash`. */
  hash(model: string | undefined, body: Body): string;
  /** Whether the request streams, and whether usage can be asked for (`stream_options.include_usage`): one of the shared {@link Streaming} values. */
  streaming(body: Body): Streaming;
  /** A parsed non-stream body: response model / id / finish reasons / usage onto the call. */
  readResult(call: OpenAICall, result: any): void;
  /** A stream event; true when it is ours to hide (the usage chunk we asked for). */
  readChunk(call: OpenAICall, chunk: any): boolean;
  /** Local token counts for a stream that reported no usage (undefined: none possible). */
  estimate?(call: OpenAICall, outputText: string): Promise<Usage> | undefined;
}

export interface Streaming {
  readonly stream: boolean;
  readonly canInject: boolean;
}
/** The answers of {@link OpenAIApi.streaming}, shared (no object per call). */
export const NOT_STREAMING: Streaming = Object.freeze({ stream: false, canInject: false });
export const STREAMING_INJECTABLE: Streaming = Object.freeze({ stream: true, canInject: true });
export const STREAMING_WITH_USAGE: Streaming = Object.freeze({ stream: true, canInject: false });

const USER_ABORT = 'APIUserAbortError';

function now(): number {
  return performance.timeOrigin + performance.now();
}

/** A promise that rejects like an APIPromise would, for calls refused before any request. */
function rejectedAPIPromise(err: unknown): Promise<never> {
  const p = Promise.reject(err) as Promise<never> & Record<string, unknown>;
  p.withResponse = () => p;
  p.asResponse = () => p;
  p.parse = () => p;
  p._thenUnwrap = () => p;
  return p;
}

/** Wraps one resource method (`create`) of one API. */
export function patchedMethod(host: ChatHost, api: OpenAIApi, original: MethodFn): MethodFn {
  return function create(this: ResourceLike, body: any, options?: unknown) {
    const scope = currentScope();
    const task = scope?.task;
    if (task && task.budgetPico !== undefined) {
      const refused = checkBudget(task, body?.model);
      if (refused) return rejectedAPIPromise(refused);
    }
    let call: OpenAICall;
    let sent = body;
    try {
      const client = this?._client;
      const endpoint = endpointOfClient(client, host.openaiProviders);
      // Azure routes by deployment: the client's deployment is what the request asked for.
      const model: string | undefined = (endpoint.provider === A.GEN_AI_PROVIDER.AZURE_OPENAI && client?.deploymentName) || body?.model;
      // Only what samplers may decide on goes in at start; the rest when the call ends (inference-call.ts).
      const start = startAttributes(api.operation, endpoint.provider, model, endpoint);
      const streaming = api.streaming(body);
      const stream = streaming.stream;
      let injected = false;
      if (stream && streaming.canInject && body.stream_options?.include_usage !== true && host.streamUsage === 'inject') {
        sent = { ...body, stream_options: { ...body.stream_options, include_usage: true } };
        injected = true;
      }
      const parent = context.active();
      const span = startCallSpan(host, api.operation, model, start, parent);
      call = new OpenAICall(host, api, span, parent, start, body, model, endpoint.provider, scope, stream, injected);
    } catch (err) {
      host.diag.error(`could not start a ${api.operation} span; calling the SDK uninstrumented`, err);
      return original.call(this, body, options);
    }
    let result: unknown;
    try {
      // The call is the context the SDK runs in (call-context.ts): its span is the active one,
      // so child spans nest under it and each HTTP attempt is counted on it.
      result = context.with(call, original, this, sent, options);
    } catch (err) {
      call.finish(err);
      throw err;
    }
    try {
      call.attach(result);
    } catch (err) {
      host.diag.error('could not attach to the SDK promise', err);
    }
    return result;
  };
}

type ParseFn = APIPromiseLike['parseResponse'];
type ThenUnwrap = (this: unknown, transform: (data: unknown, props: unknown) => unknown, ...rest: unknown[]) => unknown;

/*
 * The closures put on the SDK's promise are made here, at module level, and capture only the
 * call and the SDK's own function. Made inline in `OpenAICall.attach`, the same closure made each
 * call's objects survive young-generation collections on openai 6: 4.6 KB promoted to the old
 * generation per call instead of 1.2, and 7-11 µs more CPU per call (bench/README.md). Which V8
 * mechanism keeps them is not pinned down; the measured difference is.
 */

/**
 * The promise's `parseResponse`, seeing the parsed body (or Stream) before the app does: the
 * SDK's own parse promise is returned, observed by one reaction registered before the SDK
 * resolves the APIPromise with it, so a Stream is instrumented before anyone can read it.
 */
function observedParse(original: ParseFn, call: OpenAICall): ParseFn {
  return function parseResponse(this: unknown, client, props) {
    call.parsing = true;
    const parsed = original.call(this, client, props) as Promise<unknown>;
    if (parsed && typeof parsed.then === 'function') parsed.then(call.onResult, call.onError);
    else call.onResult(parsed);
    return parsed;
  };
}

/** An own `_thenUnwrap`: the helper's transform sees the result after the call has. */
function observedThenUnwrap(original: ThenUnwrap, call: OpenAICall): ThenUnwrap {
  return function _thenUnwrap(this: unknown, transform, ...rest) {
    call.chained = true;
    return original.call(this, (data: unknown, props: unknown) => transform(call.onResult(data), props), ...rest);
  };
}

/** One in-flight request: collects what the response says and ends the span once. */
export class OpenAICall extends InferenceCall {
  declare readonly host: ChatHost;
  readonly api: OpenAIApi;
  readonly body: any;
  readonly stream: boolean;
  /** We added include_usage: the usage-only chunk is ours to hide. */
  readonly injected: boolean;
  promise: APIPromiseLike | undefined;
  /** Our parseResponse ran: someone (await, `.withResponse()`) is reading the body. */
  parsing = false;
  /** A helper chained onto the promise with `_thenUnwrap`: it will read the body. */
  chained = false;
  /** The Stream was instrumented (v5/v6 helpers deliver it twice: parseResponse and `_thenUnwrap`). */
  streamSeen = false;
  responseModel: string | undefined;
  responseId: string | undefined;
  finishReasons: string[] | undefined;
  usage: Usage | undefined;
  /** Provider-reported cost in USD (OpenRouter's `usage.cost`). */
  providerCost: number | undefined;
  /** Provider-run tool calls seen (Responses built-in tools): priced as tool fees. */
  webSearches = 0;
  fileSearches = 0;
  /** An error the API reported inside a successful HTTP response (a `response.failed` event). */
  apiError: string | undefined;
  // Streams only.
  controller: AbortController | undefined;
  firstChunkAt = 0;
  inFlight = false;
  closing = false;
  text: string[] | undefined;

  constructor(
    host: ChatHost,
    api: OpenAIApi,
    span: Span,
    parent: Context,
    startAttributes: Attributes,
    body: any,
    requestModel: string | undefined,
    provider: string,
    scope: Scope | undefined,
    stream: boolean,
    injected: boolean,
  ) {
    super(host, span, parent, startAttributes, provider, requestModel, scope, api.hash(requestModel, body), stream);
    this.api = api;
    this.body = body;
    this.stream = stream;
    this.injected = injected;
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
    // The SDK's helpers (`responses.stream()`, `.parse()`) chain with `_thenUnwrap`. In v7 that is
    // an own function of each promise calling the parse function it was built with, not our
    // `parseResponse`: see the result there too. In v5/v6 it is the prototype's, which calls our
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
        // Nobody asked for the parsed body yet. A v5/v6 helper's parse reacts to the same
        // response right after us: give it that chance. Still nobody (`.asResponse()`, an await
        // that comes later): read usage from a clone, leaving the app's body untouched.
        queueMicrotask(() => {
          if (this.ended || this.parsing || this.chained || this.promise?.parsedPromise !== undefined) return;
          props.response
            .clone()
            .json()
            .then((json: unknown) => this.onResult(json), () => this.finish());
        });
      }
    } catch (err) {
      this.host.diag.error(`${this.api.operation} span: response handling failed`, err);
    }
  };

  onError = (err: unknown): void => {
    this.finish(err);
  };

  onResult = (result: unknown): unknown => {
    if (this.ended) return result;
    try {
      if (this.stream && result && typeof (result as StreamLike).iterator === 'function') {
        if (this.streamSeen) return result;
        this.streamSeen = true;
        this.instrumentStream(result as StreamLike);
      } else {
        this.api.readResult(this, result);
        this.finish();
      }
    } catch (err) {
      this.host.diag.error(`${this.api.operation} span: result handling failed`, err);
    }
    return result;
  };

  instrumentStream(stream: StreamLike): void {
    const original = stream.iterator;
    const call = this;
    stream.iterator = function iterator(this: unknown) {
      return new InstrumentedIterator(original.call(this), call);
    } as StreamLike['iterator'];
    // Also when usage was asked for: a stream cut short (break, abort, error) never gets the usage chunk.
    if (this.host.streamUsage !== 'off') this.text = [];
    this.controller = stream.controller;
    this.controller?.signal?.addEventListener('abort', () => this.onAbort(), { once: true });
  }

  onAbort(): void {
    // break/return() aborts too, and an in-flight read settles on its own (done or an error).
    if (this.closing || this.inFlight || this.ended) return;
    this.finish(USER_ABORT);
  }

  /** Returns true for a chunk the app must not see (the usage chunk we injected). */
  observeChunk(chunk: any): boolean {
    if (!this.firstChunkAt) this.firstChunkAt = performance.now();
    return this.api.readChunk(this, chunk);
  }

  onStreamDone(): void {
    const aborted = this.controller?.signal?.aborted === true;
    this.finish(aborted && !this.closing ? USER_ABORT : undefined);
  }

  /** Ends the span once: usage, cost, attribution; `err` is an error object or an error.type. */
  finish(err?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    const end = this.attrs;
    try {
      this.attribution(end);
      if (this.body) this.api.requestAttributes(this.body, end, this.host);
      if (this.responseModel) end[A.ATTR_GEN_AI_RESPONSE_MODEL] = this.responseModel;
      if (this.responseId) end[A.ATTR_GEN_AI_RESPONSE_ID] = this.responseId;
      if (this.finishReasons) end[A.ATTR_GEN_AI_RESPONSE_FINISH_REASONS] = presentReasons(this.finishReasons);
      if (this.firstChunkAt) end[A.ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] = (this.firstChunkAt - this.started) / 1000;
      if (err === undefined && this.apiError !== undefined) err = this.apiError;
      if (err !== undefined) {
        this.failed(end, err, typeof err === 'string' ? err : errorType(err));
        const status = (err as { status?: unknown })?.status;
        if (typeof status === 'number') end[A.ATTR_HTTP_RESPONSE_STATUS_CODE] = status;
      }
      if (this.usage) {
        this.price(end, this.withTools(this.usage), this.providerCost, this.responseModel);
        return this.close(end);
      }
      const estimate = this.text && this.api.estimate?.(this, this.text.join(''));
      if (!estimate) return this.close(end);
      // A stream that reported no usage: count locally, off the hot path, then end at the real end time.
      const endTime = now();
      const endedAt = performance.now();
      estimate.then(
        (usage) => {
          try {
            end[A.ATTR_SPENDTRACE_USAGE_ESTIMATED] = true;
            this.price(end, this.withTools(usage), undefined, this.responseModel);
          } catch (e) {
            this.host.diag.error(`${this.api.operation} span: pricing the local token count failed`, e);
          }
          this.close(end, endTime, endedAt);
        },
        (e) => {
          this.host.diag.error(`${this.api.operation} span: local token count failed`, e);
          this.close(end, endTime, endedAt);
        },
      );
    } catch (e) {
      this.host.diag.error(`${this.api.operation} span: finishing failed`, e);
      this.close(end);
    }
  }

  /**
   * Usage as both chat APIs report it, whatever their field names: cached tokens are counted
   * inside input, reasoning tokens inside output; `cost` is a gateway's own figure in USD.
   */
  setUsage(input: number | undefined, output: number | undefined, cached: number | null | undefined, reasoning: number | null | undefined, cost: number | undefined): void {
    const usage: Usage = { inputTokens: input ?? 0, outputTokens: output ?? 0 };
    if (cached) usage.cacheReadTokens = cached;
    if (reasoning) usage.reasoningTokens = reasoning;
    this.usage = A.clampUsage(usage);
    if (typeof cost === 'number') this.providerCost = cost;
  }

  private withTools(usage: Usage): Usage {
    if (this.webSearches) usage.webSearches = this.webSearches;
    if (this.fileSearches) usage.fileSearches = this.fileSearches;
    return usage;
  }
}

/** Finish reasons without the gaps a stream's per-choice indexing may leave. */
function presentReasons(reasons: string[]): string[] {
  for (let i = 0; i < reasons.length; i++) if (!reasons[i]) return reasons.filter((r) => r);
  return reasons;
}

/** Sits between the SDK's event source and every consumer; ends the span on done, return, error or abort. */
class InstrumentedIterator implements AsyncIterator<unknown> {
  readonly inner: AsyncIterator<unknown>;
  readonly call: OpenAICall;

  constructor(inner: AsyncIterator<unknown>, call: OpenAICall) {
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
      else call.observeChunk(r.value);
    } catch (err) {
      call.host.diag.error(`${call.api.operation} span: chunk handling failed`, err);
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
        hide = call.observeChunk(r.value);
      } catch (err) {
        call.host.diag.error(`${call.api.operation} span: chunk handling failed`, err);
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
