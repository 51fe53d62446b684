/**
 * One instrumented `openai` SDK request (v5–v7), whatever the API: chat completions, Responses,
 * embeddings, legacy completions. Each API supplies an {@link OpenAIApi} that reads its request,
 * result and stream events; this module owns the span's life.
 *
 * The wrapper returns the SDK's own APIPromise, observed as api-promise-call.ts describes.
 *
 * The SDK's helpers (`parse`, `runTools`, `stream`, `responses.stream`) call `create` on the
 * client's resource, so each HTTP request is one span, counted once.
 */
import type { Attributes } from '@opentelemetry/api';
import * as A from '@spendtrace/semconv';
import type { CostDetail, Usage } from '@spendtrace/semconv';
import { APIPromiseCall, rejectedAPIPromise } from '../api-promise-call.ts';
import type { DescribeRequest } from '../budget-gate.ts';
import { instrumentedMethod, type CallSite, type CallTarget } from '../call-site.ts';
import { startAttributes, startCallSpan, type CallHost, type CallInit } from '../inference-call.ts';
import { errorType } from '../task-context.ts';
import type { OpenAIProviderMap, StreamUsageMode } from '../types.ts';
import { endpointOfClient, type Endpoint } from './provider.ts';

/** What the wrappers need from the instrumentation instance (read per call, so config changes apply). */
export interface ChatHost extends CallHost {
  isEnabled(): boolean;
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
  /** The request as the budget check reads it: prompt text and output cap (budget-gate.ts). */
  readonly budget?: DescribeRequest;
  /** The request attributes beyond operation / provider / model / server. */
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

interface OpenAITarget extends CallTarget {
  readonly endpoint: Endpoint;
}

/** Wraps one resource method (`create`) of one API: the call-site template (call-site.ts) with what openai's APIs say. */
export function patchedMethod(host: ChatHost, api: OpenAIApi, original: MethodFn): MethodFn {
  const site: CallSite<ResourceLike, OpenAITarget, OpenAICall> = {
    what: `openai ${api.operation}`,
    describe: api.budget,
    target(self, body) {
      const client = self?._client;
      const endpoint = endpointOfClient(client, host.openaiProviders);
      // Azure routes by deployment: the client's deployment is what the request asked for.
      const model: string | undefined = (endpoint.provider === A.GEN_AI_PROVIDER.AZURE_OPENAI && client?.deploymentName) || body?.model;
      return { provider: endpoint.provider, model, endpoint };
    },
    start(_self, body, target, scope, parent) {
      // Only what samplers may decide on goes in at start; the rest when the call ends (inference-call.ts).
      const start = startAttributes(api.operation, target.provider, target.model, target.endpoint);
      const streaming = api.streaming(body);
      const injected = streaming.stream && streaming.canInject && body.stream_options?.include_usage !== true && host.streamUsage === 'inject';
      const span = startCallSpan(host, api.operation, target.model, start, parent);
      return new OpenAICall(
        { host, span, parent, start, provider: target.provider, model: target.model, scope, hash: api.hash(target.model, body), timed: streaming.stream },
        api,
        body,
        injected,
      );
    },
    sent: (call, body) => (call.injected ? { ...body, stream_options: { ...body.stream_options, include_usage: true } } : body),
    attach(call, result) {
      call.attach(result);
      return result;
    },
    refuse: rejectedAPIPromise,
  };
  return instrumentedMethod(host, site, original) as MethodFn;
}

/** One in-flight request: collects what the response says and ends the span once. */
export class OpenAICall extends APIPromiseCall {
  declare readonly host: ChatHost;
  readonly api: OpenAIApi;
  readonly body: any;
  readonly stream: boolean;
  finishReasons: string[] | undefined;
  usage: Usage | undefined;
  /** Provider-reported cost in USD (OpenRouter's `usage.cost`). */
  providerCost: number | undefined;
  /** Provider-run tool calls seen (Responses built-in tools): priced as tool fees. */
  webSearches = 0;
  fileSearches = 0;
  /** An error the API reported inside a successful HTTP response (a `response.failed` event). */
  apiError: string | undefined;

  constructor(init: CallInit, api: OpenAIApi, body: any, injected: boolean) {
    super(init);
    this.api = api;
    this.body = body;
    this.stream = init.timed;
    this.injected = injected;
  }

  protected readResult(result: unknown): void {
    this.api.readResult(this, result);
    this.finish();
  }

  /** Returns true for a chunk the app must not see (the usage chunk we injected). */
  readChunk(chunk: unknown): boolean {
    if (!this.firstChunkAt) this.firstChunkAt = performance.now();
    return this.api.readChunk(this, chunk);
  }

  /** Also when usage was asked for: a stream cut short (break, abort, error) never gets the usage chunk. */
  protected collectsText(): boolean {
    return this.host.streamUsage !== 'off';
  }

  /** Ends the span once: usage, cost, attribution; `err` is an error object or an error.type. */
  finish(err?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    const end = this.attrs;
    try {
      this.attribution(end);
      if (this.body) this.api.requestAttributes(this.body, end, this.host);
      this.response(end, this.finishReasons && presentReasons(this.finishReasons));
      if (err === undefined && this.apiError !== undefined) err = this.apiError;
      if (err !== undefined) {
        this.failed(end, err, typeof err === 'string' ? err : errorType(err));
      }
      if (this.usage) {
        this.price(end, this.withTools(this.usage), this.providerCost, this.responseModel);
        return this.close(end);
      }
      const estimate = this.text && this.api.estimate?.(this, this.text.join(''));
      if (!estimate) return this.close(end);
      // A stream that reported no usage.
      this.closeEstimated(
        end,
        estimate.then((usage) => this.withTools(usage)),
        this.responseModel,
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
  setUsage(
    input: number | undefined,
    output: number | undefined,
    cached: number | null | undefined,
    reasoning: number | null | undefined,
    cost: number | undefined,
  ): void {
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
