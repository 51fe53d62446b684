/**
 * `messages.create` (and `beta.messages.create`, which `messages.stream()`, `parse()` and the tool
 * runner call): a native span gets priced (native-tracing.ts); otherwise spendtrace makes its own
 * `chat {model}` span (an {@link AnthropicCall} on the SDK's APIPromise, api-promise-call.ts), reads
 * usage from the Message or from the SSE events, and ends it when the call fails, the Message is
 * parsed, or the app stops reading the stream.
 */
import type { Attributes } from '@opentelemetry/api';
import * as A from '@spendtrace/semconv';
import type { Usage } from '@spendtrace/semconv';
import { APIPromiseCall, rejectedAPIPromise } from '../api-promise-call.ts';
import { cap, promptText, toolsText, type DescribeRequest } from '../budget-gate.ts';
import { instrumentedMethod, OWN_SPAN, type CallSite, type CallTarget } from '../call-site.ts';
import { errorType as genericErrorType } from '../task-context.ts';
import { estimateOutputTokens } from '../token-estimate.ts';
import { anthropicInput, anthropicOutput } from '../content-capture.ts';
import { startAttributes, startCallSpan, type CallInit } from '../inference-call.ts';
import type { APIPromiseLike, APIResponseProps } from '../internal-types.ts';
import { anthropicRequestHash, type CreateBody } from './request.ts';
import { serverAddress, setDefined, type GenAIHost } from '../provider-host.ts';
import { adoptNativeTracing, hasNativeTracing, nativeCallStarting } from './native-tracing.ts';

/** Look-alike shapes of the SDK objects touched (0.x and 1.x). */
interface MessagesResource {
  _client?: { baseURL?: string; _genAIProviderName?: string; _tracer?: unknown };
}
export interface AnthropicApiUsage {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  cache_creation?: { ephemeral_5m_input_tokens?: number | null; ephemeral_1h_input_tokens?: number | null } | null;
  output_tokens_details?: { thinking_tokens?: number | null } | null;
  server_tool_use?: { web_search_requests?: number | null } | null;
}
interface MessageLike {
  id?: string;
  role?: string;
  content?: unknown;
  model?: string;
  stop_reason?: string | null;
  usage?: AnthropicApiUsage | null;
}
interface StreamEvent {
  type?: string;
  message?: MessageLike;
  usage?: AnthropicApiUsage | null;
  delta?: { type?: string; stop_reason?: string | null; text?: string; thinking?: string; partial_json?: string };
}

export type CreateFn = (this: MessagesResource, body: CreateBody, options?: { __span?: unknown }) => unknown;

/**
 * Usage in spendtrace's shape from the API's: `input_tokens` there EXCLUDES cache reads and
 * writes, so they are added; the 1-hour share of cache writes is priced at its own rate.
 */
export function usageFromAnthropic(u: AnthropicApiUsage): Usage {
  const cacheRead = u.cache_read_input_tokens ?? 0;
  const cacheWrite = u.cache_creation_input_tokens ?? 0;
  const usage: Usage = { inputTokens: (u.input_tokens ?? 0) + cacheRead + cacheWrite, outputTokens: u.output_tokens ?? 0 };
  if (cacheRead) usage.cacheReadTokens = cacheRead;
  if (cacheWrite) usage.cacheWriteTokens = cacheWrite;
  const oneHour = u.cache_creation?.ephemeral_1h_input_tokens ?? 0;
  if (oneHour) usage.cacheWrite1hTokens = oneHour;
  const thinking = u.output_tokens_details?.thinking_tokens ?? 0;
  if (thinking) usage.reasoningTokens = thinking;
  // The web search server tool is billed per search, on top of tokens.
  const searches = u.server_tool_use?.web_search_requests ?? 0;
  if (searches) usage.webSearches = searches;
  return usage;
}

/** `error.type`: the API's error envelope type (rate_limit_error, overloaded_error, ...), else the HTTP status, else the class. */
export function anthropicErrorType(err: unknown): string {
  const e = err as { type?: unknown; status?: unknown; error?: { error?: { type?: unknown }; type?: unknown } } | undefined;
  if (e && typeof e === 'object') {
    if (typeof e.type === 'string' && e.type) return e.type;
    const envelope = e.error?.error?.type ?? (e.error?.type !== 'error' ? e.error?.type : undefined);
    if (typeof envelope === 'string' && envelope) return envelope;
    if (typeof e.status === 'number') return String(e.status);
  }
  return genericErrorType(err);
}

/** The request's settings, added when the call ends. */
function requestAttributes(body: CreateBody | undefined, attrs: Attributes): void {
  if (body) {
    setDefined(attrs, [
      [A.ATTR_GEN_AI_REQUEST_MAX_TOKENS, body.max_tokens],
      [A.ATTR_GEN_AI_REQUEST_TEMPERATURE, body.temperature],
      [A.ATTR_GEN_AI_REQUEST_TOP_P, body.top_p],
      [A.ATTR_GEN_AI_REQUEST_TOP_K, body.top_k],
      [A.ATTR_GEN_AI_REQUEST_STOP_SEQUENCES, body.stop_sequences],
    ]);
    if (body.stream) attrs[A.ATTR_GEN_AI_REQUEST_STREAM] = true;
  }
}

/** Anthropic's Messages request as the budget check reads it: `max_tokens` is required and includes thinking. */
export const anthropicBudget: DescribeRequest = (body: CreateBody | undefined) => ({
  text: promptText(body?.system, body?.messages) + toolsText(body?.tools),
  maxOutputTokens: cap(body?.max_tokens),
});

/** `messages.create` through the call-site template (call-site.ts). */
export function patchedCreate(host: GenAIHost) {
  const site: CallSite<MessagesResource, CallTarget, AnthropicCall> = {
    what: 'anthropic messages.create',
    describe: anthropicBudget,
    target(self, body: CreateBody | undefined) {
      return { provider: self?._client?._genAIProviderName ?? A.GEN_AI_PROVIDER.ANTHROPIC, model: body?.model };
    },
    passThrough(self, body, options: { __span?: unknown } | undefined, original, reservation) {
      let native: boolean;
      try {
        native = hasNativeTracing(self._client);
        if (native) adoptNativeTracing(self._client, host);
      } catch (err) {
        host.diag.error('anthropic messages.create instrumentation failed; calling the SDK uninstrumented', err);
        reservation?.release();
        return original.call(self, body, options);
      }
      if (!native && !options?.__span) return OWN_SPAN;
      // The SDK starts its span inside this call (or started it already, in a helper): the span learns the request.
      const done = nativeCallStarting(host, body, options?.__span, reservation);
      try {
        return original.call(self, body, options);
      } finally {
        done();
      }
    },
    start(self, body: CreateBody | undefined, target, scope, parent) {
      const start = startAttributes(A.GEN_AI_OPERATION.CHAT, target.provider, target.model, serverAddress(self._client?.baseURL));
      const span = startCallSpan(host, A.GEN_AI_OPERATION.CHAT, target.model, start, parent);
      const stream = body?.stream === true;
      return new AnthropicCall(
        { host, span, parent, start, provider: target.provider, model: target.model, scope, hash: anthropicRequestHash(body), timed: stream },
        body,
      );
    },
    attach(call, result) {
      call.attach(result);
      return result;
    },
    refuse: rejectedAPIPromise,
  };
  return (original: CreateFn): CreateFn => instrumentedMethod(host, site, original) as CreateFn;
}

/**
 * One `messages.create` of spendtrace's own span (no native tracing). A Message gives usage
 * whole; a stream gives the input side on message_start and the final output on message_delta.
 */
class AnthropicCall extends APIPromiseCall {
  declare readonly host: GenAIHost;
  readonly body: CreateBody | undefined;
  readonly stream: boolean;
  stop: string | null | undefined;
  usage: AnthropicApiUsage | undefined;
  /** The usage is the call's: a whole Message, or a stream's message_delta arrived. */
  usageFinal = false;

  constructor(init: CallInit & { host: GenAIHost }, body: CreateBody | undefined) {
    super(init);
    this.body = body;
    this.stream = init.timed;
    if (init.host.captureMessageContent) Object.assign(this.attrs, anthropicInput(body));
  }

  protected readResult(result: unknown): void {
    const msg = result as MessageLike | undefined;
    this.responseId = msg?.id;
    this.responseModel = msg?.model;
    this.stop = msg?.stop_reason;
    if (msg?.usage) {
      this.usage = msg.usage;
      this.usageFinal = true;
    }
    if (this.host.captureMessageContent) Object.assign(this.attrs, anthropicOutput(msg as MessageLike));
    this.finish();
  }

  override attach(result: unknown): void {
    super.attach(result);
    // Message threads (the tool runner) take the raw response with `_responseProps()` and parse it
    // themselves: our parse hook never runs, so the call reads a copy of the body.
    const p = this.promise as (APIPromiseLike & { _responseProps?: () => Promise<APIResponseProps> }) | undefined;
    if (p && typeof p._responseProps === 'function') p._responseProps = observedResponseProps(p._responseProps, this);
  }

  /** The raw response a thread is about to parse (this reaction runs before the thread's): read a clone of its body. */
  onRawProps(props: APIResponseProps): void {
    if (this.ended || this.parsing) return;
    try {
      const response = props.response;
      if (!response?.ok) return this.finish();
      if (!this.stream) {
        response
          .clone()
          .json()
          .then(this.onResult, () => this.finish());
        return;
      }
      this.text = [];
      readEvents(response.clone(), this).then(
        () => this.onStreamDone(),
        (err) => this.finish(props.controller?.signal?.aborted ? undefined : err),
      );
    } catch (err) {
      this.host.diag.error('anthropic span: reading the raw response failed', err);
      this.finish();
    }
  }

  readChunk(chunk: unknown): boolean {
    const e = chunk as StreamEvent | undefined;
    switch (e?.type) {
      case 'message_start':
        this.responseId = e.message?.id;
        this.responseModel = e.message?.model;
        this.usage = { ...e.message?.usage };
        break;
      case 'message_delta':
        this.usageFinal = true;
        if (e.usage) {
          const usage = (this.usage ??= {});
          for (const k in e.usage) {
            const v = e.usage[k as keyof AnthropicApiUsage];
            if (v != null) usage[k as keyof AnthropicApiUsage] = v as never;
          }
        }
        if (e.delta?.stop_reason) this.stop = e.delta.stop_reason;
        break;
      case 'content_block_delta': {
        if (!this.firstChunkAt) this.firstChunkAt = performance.now();
        const piece = e.delta?.text ?? e.delta?.thinking ?? e.delta?.partial_json;
        if (piece) this.text?.push(piece);
        break;
      }
    }
    return false;
  }

  /** A stream cut before message_delta has only message_start's placeholder output count. */
  protected collectsText(): boolean {
    return true;
  }

  finish(err?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    const end = this.attrs;
    try {
      this.attribution(end);
      requestAttributes(this.body, end);
      this.response(end, this.stop ? [this.stop] : undefined);
      if (err !== undefined) {
        this.failed(end, err, typeof err === 'string' ? err : anthropicErrorType(err));
      }
      if (!this.usage) return this.close(end);
      const usage = usageFromAnthropic(this.usage);
      if (this.usageFinal) {
        this.price(end, usage, undefined, this.responseModel);
        return this.close(end);
      }
      // Cut before message_delta: message_start's output count is a placeholder; count the output that arrived.
      const counted = estimateOutputTokens(this.responseModel ?? this.requestModel, this.text?.join('') ?? '');
      this.closeEstimated(
        end,
        counted.then((n) => ({ ...usage, outputTokens: n })),
        this.responseModel,
      );
    } catch (e) {
      this.host.diag.error('anthropic span: finishing failed', e);
      this.close(end);
    }
  }
}

/**
 * `messages.stream()` and `beta.messages.toolRunner()` start native spans themselves (the helper's,
 * the agent loop's) before any `create`, so the client's tracer must be adopted first; the span,
 * budget gate and pricing of each request then happen in `create`.
 */
export function patchedStreamHelper(host: GenAIHost) {
  return (original: (...args: unknown[]) => unknown) =>
    function stream(this: MessagesResource, ...args: unknown[]) {
      try {
        if (hasNativeTracing(this._client)) adoptNativeTracing(this._client, host);
      } catch (err) {
        host.diag.error('spendtrace: could not adopt the Anthropic client tracer', err);
      }
      return original.apply(this, args);
    };
}

/** The failure is the thread's to see; the call sees it on `responsePromise`. */
const ignore = () => {};

function observedResponseProps(original: () => Promise<APIResponseProps>, call: AnthropicCall): () => Promise<APIResponseProps> {
  return function _responseProps(this: unknown) {
    call.chained = true;
    const props = original.call(this);
    props.then((p) => call.onRawProps(p), ignore);
    return props;
  };
}

/** The SSE events of a Messages stream body, each handed to the call as the SDK's Stream would. */
async function readEvents(response: Response, call: AnthropicCall): Promise<void> {
  if (!response.body) return;
  const decoder = new TextDecoder();
  let buffered = '';
  const flush = (block: string) => {
    for (const line of block.split(/\r?\n/)) {
      if (!line.startsWith('data:')) continue;
      try {
        call.readChunk(JSON.parse(line.slice(5)));
      } catch {
        // Not a JSON event: nothing to read.
      }
    }
  };
  for await (const bytes of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffered += decoder.decode(bytes, { stream: true });
    let end: number;
    while ((end = buffered.search(/\r?\n\r?\n/)) >= 0) {
      flush(buffered.slice(0, end));
      buffered = buffered.slice(end).replace(/^\r?\n\r?\n/, '');
    }
  }
  flush(buffered + decoder.decode());
}
