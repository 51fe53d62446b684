/**
 * `chat.completions.create` of the `openai` SDK (v5–v7) as a GenAI client span with usage and cost.
 *
 * The wrapper returns the SDK's own APIPromise. It attaches in two places that cost nothing
 * until the app reads the result: `responsePromise` (the HTTP outcome, SDK errors) and the
 * promise's `parseResponse` field (the parsed ChatCompletion or Stream), so `.withResponse()`,
 * `.asResponse()` and `await` behave exactly as without instrumentation. A Stream is instrumented
 * in place through its `iterator` field, which `for await`, `tee()` and `toReadableStream()` all
 * read, so the object the app holds is the SDK's own.
 */
import { context, SpanKind, SpanStatusCode, trace, type Attributes, type DiagLogger, type Span, type Tracer } from '@opentelemetry/api';
import * as A from '@spendtrace/semconv';
import {
  costAttributes,
  providerCostAttributes,
  UNPRICED_ATTRIBUTES,
  usageAttributes,
  usdToPico,
  type Pico,
  type Pricer,
  type Usage,
} from '@spendtrace/semconv';
import type {
  APIPromiseLike,
  APIResponseProps,
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionParams,
  ChatCompletionUsage,
  CompletionsResource,
  CreateFn,
  StreamLike,
} from '../internal-types.ts';
import { requestHash } from '../request-hash.ts';
import { baggageAttribution, checkBudget, currentScope, errorType, type TaskState } from '../task-context.ts';
import { estimateInputTokens, estimateOutputTokens } from '../token-estimate.ts';
import type { StreamUsageMode } from '../types.ts';
import { endpointOf } from './provider.ts';

/** What the wrapper needs from the instrumentation instance (read per call, so config changes apply). */
export interface ChatHost {
  readonly tracer: Tracer;
  readonly pricer: Pricer;
  readonly diag: DiagLogger;
  readonly streamUsage: StreamUsageMode;
  readonly captureMessageContent: boolean;
}

/** SDK retries seen per request options object (the SDK passes the same object to every attempt). */
const retryCounts = new WeakMap<object, number>();

export function patchedRetryRequest(original: (...args: unknown[]) => unknown) {
  return function retryRequest(this: unknown, options: unknown, ...rest: unknown[]) {
    if (options && typeof options === 'object') retryCounts.set(options, (retryCounts.get(options) ?? 0) + 1);
    return original.call(this, options, ...rest);
  };
}

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

export function patchedCreate(host: ChatHost, original: CreateFn): CreateFn {
  return function create(this: CompletionsResource, body: ChatCompletionParams, options?: unknown) {
    const scope = currentScope();
    const task = scope?.task;
    if (task && task.budgetPico !== undefined) {
      const refused = checkBudget(task, body?.model);
      if (refused) return rejectedAPIPromise(refused);
    }
    let call: ChatCall;
    let sent = body;
    let ctx;
    try {
      const model = body?.model;
      const endpoint = endpointOf(this?._client?.baseURL);
      const attrs: Attributes = {
        [A.ATTR_GEN_AI_OPERATION_NAME]: A.GEN_AI_OPERATION.CHAT,
        [A.ATTR_GEN_AI_PROVIDER_NAME]: endpoint.provider,
        [A.ATTR_GEN_AI_REQUEST_MODEL]: model,
        [A.ATTR_SPENDTRACE_REQUEST_HASH]: requestHash(model, body?.messages),
      };
      if (endpoint.address !== undefined) {
        attrs[A.ATTR_SERVER_ADDRESS] = endpoint.address;
        attrs[A.ATTR_SERVER_PORT] = endpoint.port;
      }
      requestAttributes(body, attrs);
      ctx = context.active();
      if (task) {
        for (const k in task.attribution) attrs[k] = task.attribution[k];
        if (scope.tool) attrs[A.ATTR_SPENDTRACE_TOOL_NAME] = scope.tool.name;
      } else {
        const fromBaggage = baggageAttribution(ctx);
        if (fromBaggage) for (const k in fromBaggage) attrs[k] = fromBaggage[k];
      }
      const stream = body?.stream === true;
      let injected = false;
      if (stream && body.stream_options?.include_usage !== true && host.streamUsage === 'inject') {
        sent = { ...body, stream_options: { ...body.stream_options, include_usage: true } };
        injected = true;
      }
      if (host.captureMessageContent && body?.messages) attrs[A.ATTR_GEN_AI_INPUT_MESSAGES] = JSON.stringify(body.messages);
      const span = host.tracer.startSpan(`${A.GEN_AI_OPERATION.CHAT} ${model}`, { kind: SpanKind.CLIENT, attributes: attrs }, ctx);
      call = new ChatCall(host, span, body, endpoint.provider, task, stream, injected);
      ctx = trace.setSpan(ctx, span);
    } catch (err) {
      host.diag.error('could not start a chat span; calling the SDK uninstrumented', err);
      return original.call(this, body, options);
    }
    let result: unknown;
    try {
      result = context.with(ctx, original, this, sent, options);
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

function requestAttributes(body: ChatCompletionParams | undefined, attrs: Attributes): void {
  if (!body) return;
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  if (typeof maxTokens === 'number') attrs[A.ATTR_GEN_AI_REQUEST_MAX_TOKENS] = maxTokens;
  if (typeof body.temperature === 'number') attrs[A.ATTR_GEN_AI_REQUEST_TEMPERATURE] = body.temperature;
  if (typeof body.top_p === 'number') attrs[A.ATTR_GEN_AI_REQUEST_TOP_P] = body.top_p;
  if (typeof body.frequency_penalty === 'number') attrs[A.ATTR_GEN_AI_REQUEST_FREQUENCY_PENALTY] = body.frequency_penalty;
  if (typeof body.presence_penalty === 'number') attrs[A.ATTR_GEN_AI_REQUEST_PRESENCE_PENALTY] = body.presence_penalty;
  if (typeof body.seed === 'number') attrs[A.ATTR_GEN_AI_REQUEST_SEED] = body.seed;
  if (typeof body.n === 'number' && body.n !== 1) attrs[A.ATTR_GEN_AI_REQUEST_CHOICE_COUNT] = body.n;
  if (body.stop) attrs[A.ATTR_GEN_AI_REQUEST_STOP_SEQUENCES] = typeof body.stop === 'string' ? [body.stop] : body.stop;
  if (body.stream === true) attrs[A.ATTR_GEN_AI_REQUEST_STREAM] = true;
  const format = body.response_format?.type;
  if (format) attrs[A.ATTR_GEN_AI_OUTPUT_TYPE] = format === 'text' ? 'text' : 'json';
}

/** One in-flight `create` call: collects what the response says and ends the span once. */
class ChatCall {
  readonly host: ChatHost;
  readonly span: Span;
  readonly body: ChatCompletionParams;
  readonly provider: string;
  readonly task: TaskState | undefined;
  readonly stream: boolean;
  /** We added include_usage: the usage-only chunk is ours to hide. */
  readonly injected: boolean;
  promise: APIPromiseLike | undefined;
  ended = false;
  responseModel: string | undefined;
  responseId: string | undefined;
  finishReasons: string[] | undefined;
  usage: ChatCompletionUsage | undefined;
  retries = 0;
  // Streams only.
  controller: AbortController | undefined;
  started = 0;
  firstChunkAt = 0;
  inFlight = false;
  closing = false;
  text: string[] | undefined;

  constructor(host: ChatHost, span: Span, body: ChatCompletionParams, provider: string, task: TaskState | undefined, stream: boolean, injected: boolean) {
    this.host = host;
    this.span = span;
    this.body = body;
    this.provider = provider;
    this.task = task;
    this.stream = stream;
    this.injected = injected;
    if (stream) this.started = performance.now();
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
    const originalParse = p.parseResponse;
    const call = this;
    p.parseResponse = function parseResponse(client, props) {
      return Promise.resolve(originalParse.call(this, client, props)).then(call.onResult, call.onParseError);
    };
    p.responsePromise.then(this.onResponse, this.onError);
  }

  onResponse = (props: APIResponseProps): void => {
    try {
      const n = props?.options ? retryCounts.get(props.options) : undefined;
      if (n) this.retries = n;
      if (this.promise && this.promise.parsedPromise === undefined && !this.ended) {
        // Nobody asked for the parsed body yet (`.asResponse()`, a helper that re-wraps the
        // promise, or an await that comes later): read usage from a clone, leaving the app's body untouched.
        if (this.stream || !props.response?.ok) return this.finish();
        props.response
          .clone()
          .json()
          .then((json: unknown) => this.onResult(json), () => this.finish());
      }
    } catch (err) {
      this.host.diag.error('chat span: response handling failed', err);
    }
  };

  onError = (err: unknown): void => {
    this.finish(err);
  };

  onParseError = (err: unknown): never => {
    this.finish(err);
    throw err;
  };

  onResult = (result: unknown): unknown => {
    if (this.ended) return result;
    try {
      if (this.stream && result && typeof (result as StreamLike).iterator === 'function') {
        this.instrumentStream(result as StreamLike);
      } else {
        const r = result as ChatCompletion;
        this.responseId = r?.id;
        this.responseModel = r?.model;
        this.usage = r?.usage ?? undefined;
        const choices = r?.choices;
        if (Array.isArray(choices)) {
          const reasons: string[] = [];
          for (const c of choices) if (c?.finish_reason) reasons.push(c.finish_reason);
          this.finishReasons = reasons;
          if (this.host.captureMessageContent) this.span.setAttribute(A.ATTR_GEN_AI_OUTPUT_MESSAGES, JSON.stringify(choices.map((c) => c?.message)));
        }
        this.finish();
      }
    } catch (err) {
      this.host.diag.error('chat span: result handling failed', err);
    }
    return result;
  };

  instrumentStream(stream: StreamLike): void {
    const original = stream.iterator;
    const call = this;
    stream.iterator = function iterator(this: unknown) {
      return new InstrumentedIterator(original.call(this), call);
    };
    // Also when usage was asked for: a stream cut short (break, abort, error) never gets the usage chunk.
    if (this.host.streamUsage !== 'off') this.text = [];
    this.controller = stream.controller;
    this.controller?.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  onAbort = (): void => {
    // break/return() aborts too, and an in-flight read settles on its own (done or an error).
    if (this.closing || this.inFlight || this.ended) return;
    this.finish(USER_ABORT);
  };

  /** Returns true for a chunk the app must not see (the usage chunk we injected). */
  observeChunk(chunk: ChatCompletionChunk): boolean {
    if (!this.firstChunkAt) {
      this.firstChunkAt = performance.now();
      this.responseId = chunk?.id;
      this.responseModel = chunk?.model;
    }
    if (chunk?.usage) this.usage = chunk.usage;
    const choices = chunk?.choices;
    if (choices) {
      for (let i = 0; i < choices.length; i++) {
        const c = choices[i]!;
        if (c.finish_reason) (this.finishReasons ??= [])[c.index ?? i] = c.finish_reason;
        if (this.text) {
          const d = c.delta;
          if (d?.content) this.text.push(d.content);
          if (d?.tool_calls) for (const t of d.tool_calls) this.text.push(t.function?.name ?? '', t.function?.arguments ?? '');
        }
      }
      if (this.injected && choices.length === 0 && chunk.usage) return true;
    }
    return false;
  }

  onStreamDone(): void {
    const aborted = this.controller?.signal?.aborted === true;
    this.finish(aborted && !this.closing ? USER_ABORT : undefined);
  }

  /** Ends the span once: usage, cost, attribution; `err` is an error object or an error.type. */
  finish(err?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    try {
      const span = this.span;
      if (this.responseModel) span.setAttribute(A.ATTR_GEN_AI_RESPONSE_MODEL, this.responseModel);
      if (this.responseId) span.setAttribute(A.ATTR_GEN_AI_RESPONSE_ID, this.responseId);
      if (this.finishReasons) span.setAttribute(A.ATTR_GEN_AI_RESPONSE_FINISH_REASONS, this.finishReasons.filter((r) => r));
      if (this.retries) span.setAttribute(A.ATTR_SPENDTRACE_RETRY_ATTEMPT, this.retries);
      if (this.firstChunkAt) span.setAttribute(A.ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK, (this.firstChunkAt - this.started) / 1000);
      if (err !== undefined) {
        const type = typeof err === 'string' ? err : errorType(err);
        span.setAttribute(A.ATTR_ERROR_TYPE, type);
        const status = (err as { status?: unknown })?.status;
        if (typeof status === 'number') span.setAttribute(A.ATTR_HTTP_RESPONSE_STATUS_CODE, status);
        span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : type });
      }
      if (this.usage) {
        this.price(usageOf(this.usage), this.usage.cost);
        span.end();
        return;
      }
      if (this.text) {
        // A stream that reported no usage: count locally, off the hot path, then end at the real end time.
        const endTime = now();
        const model = this.responseModel ?? this.body.model;
        const text = this.text.join('');
        Promise.all([estimateInputTokens(model, this.body.messages, this.body.tools), estimateOutputTokens(model, text)]).then(
          ([input, output]) => {
            span.setAttribute(A.ATTR_SPENDTRACE_USAGE_ESTIMATED, true);
            this.price({ inputTokens: input, outputTokens: output }, undefined);
            span.end(endTime);
          },
          (e) => {
            this.host.diag.error('chat span: local token count failed', e);
            span.end(endTime);
          },
        );
        return;
      }
      span.end();
    } catch (e) {
      this.host.diag.error('chat span: finishing failed', e);
      try {
        this.span.end();
      } catch {
        // nothing more to do
      }
    }
  }

  price(usage: Usage, providerCostUsd: number | undefined): void {
    const span = this.span;
    span.setAttributes(usageAttributes(usage));
    let pico: Pico | undefined;
    if (typeof providerCostUsd === 'number' && Number.isFinite(providerCostUsd) && providerCostUsd >= 0) {
      pico = usdToPico(providerCostUsd);
      span.setAttributes(providerCostAttributes(pico));
    } else {
      const pricer = this.host.pricer;
      const requestModel = this.body.model;
      const quote =
        pricer.price(this.provider, this.responseModel ?? requestModel, usage) ??
        (this.responseModel && this.responseModel !== requestModel ? pricer.price(this.provider, requestModel, usage) : undefined);
      if (quote) {
        pico = quote.cost.total;
        span.setAttributes(costAttributes(quote));
      } else {
        span.setAttributes(UNPRICED_ATTRIBUTES);
      }
    }
    if (pico !== undefined && this.task) this.task.addCost(pico);
  }
}

function usageOf(u: ChatCompletionUsage): Usage {
  const usage: Usage = { inputTokens: u.prompt_tokens ?? 0, outputTokens: u.completion_tokens ?? 0 };
  const cached = u.prompt_tokens_details?.cached_tokens;
  if (cached) usage.cacheReadTokens = cached;
  const reasoning = u.completion_tokens_details?.reasoning_tokens;
  if (reasoning) usage.reasoningTokens = reasoning;
  return A.clampUsage(usage);
}

/** Sits between the SDK's event source and every consumer; ends the span on done, return, error or abort. */
class InstrumentedIterator implements AsyncIterator<ChatCompletionChunk> {
  readonly inner: AsyncIterator<ChatCompletionChunk>;
  readonly call: ChatCall;

  constructor(inner: AsyncIterator<ChatCompletionChunk>, call: ChatCall) {
    this.inner = inner;
    this.call = call;
  }

  async next(): Promise<IteratorResult<ChatCompletionChunk>> {
    const call = this.call;
    for (;;) {
      let r: IteratorResult<ChatCompletionChunk>;
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
        call.host.diag.error('chat span: chunk handling failed', err);
      }
      if (!hide) return r;
    }
  }

  async return(value?: unknown): Promise<IteratorResult<ChatCompletionChunk>> {
    const call = this.call;
    call.closing = true;
    try {
      return this.inner.return ? await this.inner.return(value) : { done: true, value: value as undefined };
    } finally {
      call.finish();
    }
  }

  async throw(err?: unknown): Promise<IteratorResult<ChatCompletionChunk>> {
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
