/**
 * One instrumented LLM request of spendtrace's own (an `openai`, Anthropic or Google Gen AI call):
 * the span's life from start to its single end. Provider modules subclass it with what their API
 * says; this holds what every call does the same way.
 *
 * The call is the OTel context the SDK runs in (call-context.ts), so it allocates no context and
 * each HTTP attempt finds its call. The span starts with only what samplers may decide on
 * (operation, provider, request model, server); everything else is gathered in `attrs` and goes
 * onto the span in ONE `setAttributes` when the call ends, with the cost, the task's running
 * cost and the call's metrics. OTel JS cleans start attributes twice (for the sampler, then for
 * the span) and keeps a span's attributes in a fast object only up to 19, so this is the cheapest
 * way to carry them (bench/README.md).
 */
import { SpanKind, SpanStatusCode, type Attributes, type Context, type DiagLogger, type Span, type Tracer } from '@opentelemetry/api';
import * as A from '@spendtrace/semconv';
import {
  usdToPico,
  writeCostAttributes,
  writeProviderCostAttributes,
  writeUsageAttributes,
  type CostDetail,
  type Pico,
  type Pricer,
  type Usage,
} from '@spendtrace/semconv';
import type { Reservation } from './budget-gate.ts';
import { CallContext } from './call-context.ts';
import type { GenAIMetrics } from './metrics.ts';
import { baggageAttribution, noteRequest, type Scope, type TaskState } from './task-context.ts';
import { currentPromptAttributes } from './prompt-template.ts';

/** What a call needs from the instrumentation instance (read per call, so config changes apply). */
export interface CallHost {
  /** The plain tracer (no metrics wrapper: a call records its metrics when it finishes). */
  readonly callTracer: Tracer;
  readonly metrics: GenAIMetrics;
  readonly pricer: Pricer;
  /** `costAttributes` from the config. Absent: `total`. */
  readonly costDetail?: CostDetail | undefined;
  readonly diag: DiagLogger;
}

/** `server.address` / `server.port`, when the client's base URL gave them. */
export interface ServerAddress {
  address?: string | undefined;
  port?: number | undefined;
}

/** The attributes a call's span starts with: the conventions' "at creation time" set, for samplers. */
export function startAttributes(operation: string, provider: string, model: string | undefined, server: ServerAddress): Attributes {
  return server.address === undefined
    ? { [A.ATTR_GEN_AI_OPERATION_NAME]: operation, [A.ATTR_GEN_AI_PROVIDER_NAME]: provider, [A.ATTR_GEN_AI_REQUEST_MODEL]: model }
    : {
        [A.ATTR_GEN_AI_OPERATION_NAME]: operation,
        [A.ATTR_GEN_AI_PROVIDER_NAME]: provider,
        [A.ATTR_GEN_AI_REQUEST_MODEL]: model,
        [A.ATTR_SERVER_ADDRESS]: server.address,
        [A.ATTR_SERVER_PORT]: server.port,
      };
}

/** `{operation} {model}` span names, made once per pair (the bound keeps a model-per-call app from growing it). */
const spanNames = new Map<string, Map<string | undefined, string>>();
let spanNameCount = 0;

export function spanName(operation: string, model: string | undefined): string {
  let byModel = spanNames.get(operation);
  let name = byModel?.get(model);
  if (name === undefined) {
    name = model ? `${operation} ${model}` : operation;
    if (spanNameCount >= 1000) {
      spanNames.clear();
      spanNameCount = 0;
      byModel = undefined;
    }
    if (!byModel) spanNames.set(operation, (byModel = new Map()));
    byModel.set(model, name);
    spanNameCount++;
  }
  return name;
}

/** Starts a call's CLIENT span under `parent` with its start attributes. */
export function startCallSpan(host: CallHost, operation: string, model: string | undefined, start: Attributes, parent: Context): Span {
  return host.callTracer.startSpan(spanName(operation, model), { kind: SpanKind.CLIENT, attributes: start }, parent);
}

/** What every call starts from (the call-site template's `start` makes one). */
export interface CallInit {
  host: CallHost;
  span: Span;
  /** The context the call was made in (the span's parent). */
  parent: Context;
  /** The span's start attributes ({@link startAttributes}). */
  start: Attributes;
  provider: string;
  /** The request model. */
  model: string | undefined;
  scope: Scope | undefined;
  /** `spendtrace.request.hash` of the request. */
  hash: string;
  /** Take the start time even without metrics (a stream's time to first chunk). */
  timed: boolean;
}

export abstract class InferenceCall extends CallContext {
  readonly host: CallHost;
  /** What the span started with (operation, provider, request model, server): the metrics read them too. */
  readonly startAttributes: Attributes;
  readonly provider: string;
  readonly requestModel: string | undefined;
  /** The task and tool the call started in (a stream may be read elsewhere). */
  readonly scope: Scope | undefined;
  /** `spendtrace.request.hash`, taken as the call starts (the app may reuse its message list). */
  readonly hash: string;
  /** `spendtrace.request.repeat`: identical requests before this one in its task, counted in call order. */
  readonly repeat: number;
  /** `performance.now()` at the start when something needs it (metrics, a stream's time to first chunk); else 0. */
  readonly started: number;
  /** `gen_ai.prompt.name` / `.version` from `withPrompt` around the call's start. */
  readonly prompt = currentPromptAttributes();
  /** What goes onto the span when the call ends; provider modules add to it while the call runs. */
  readonly attrs: Attributes = {};
  ended = false;
  responseModel: string | undefined;
  responseId: string | undefined;
  /** `performance.now()` at a stream's first chunk (0: none yet, or no stream). */
  firstChunkAt = 0;
  /** The worst case the budget gate holds against the task until the call ends (budget-gate.ts). */
  reservation: Reservation | undefined = undefined;

  constructor(o: CallInit) {
    super(o.parent, o.span);
    this.host = o.host;
    this.startAttributes = o.start;
    this.provider = o.provider;
    this.requestModel = o.model;
    this.scope = o.scope;
    this.hash = o.hash;
    this.repeat = o.scope?.task ? noteRequest(o.hash, o.scope.task) : 0;
    this.started = o.timed || o.host.metrics.enabled ? performance.now() : 0;
  }

  /** Ends the span once; `err` is an error object or an error.type. */
  abstract finish(err?: unknown): void;

  get task(): TaskState | undefined {
    return this.scope?.task;
  }

  /** The request hash and repeat count, and who made the call: the task (and tool) it ran in, else W3C baggage. */
  protected attribution(end: Attributes): void {
    end[A.ATTR_SPENDTRACE_REQUEST_HASH] = this.hash;
    if (this.prompt) for (const k in this.prompt) end[k] = this.prompt[k];
    if (this.repeat) end[A.ATTR_SPENDTRACE_REQUEST_REPEAT] = this.repeat;
    const task = this.scope?.task;
    if (task) {
      const attribution = task.attribution;
      for (const k in attribution) end[k] = attribution[k];
      if (this.scope!.tool) end[A.ATTR_SPENDTRACE_TOOL_NAME] = this.scope!.tool.name;
    } else {
      const fromBaggage = baggageAttribution(this.parentContext);
      if (fromBaggage) for (const k in fromBaggage) end[k] = fromBaggage[k];
    }
  }

  /** What the response said (model, id, finish reasons) and a stream's time to first chunk. */
  protected response(end: Attributes, finishReasons: string[] | undefined): void {
    if (this.responseModel) end[A.ATTR_GEN_AI_RESPONSE_MODEL] = this.responseModel;
    if (this.responseId) end[A.ATTR_GEN_AI_RESPONSE_ID] = this.responseId;
    if (finishReasons?.length) end[A.ATTR_GEN_AI_RESPONSE_FINISH_REASONS] = finishReasons;
    if (this.firstChunkAt) end[A.ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] = (this.firstChunkAt - this.started) / 1000;
  }

  /** `error.type`, the HTTP status when the SDK's error has one, and an ERROR status; `err` is an error object or an error.type. */
  protected failed(end: Attributes, err: unknown, type: string): void {
    end[A.ATTR_ERROR_TYPE] = type;
    const status = (err as { status?: unknown } | undefined)?.status;
    if (typeof status === 'number') end[A.ATTR_HTTP_RESPONSE_STATUS_CODE] = status;
    this.span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : type });
  }

  /**
   * Closes the call once a local token count is in (usage the API did not report): counted off
   * the hot path, priced and marked estimated, the span ended at the real end time.
   */
  protected closeEstimated(end: Attributes, estimate: Promise<Usage>, model: string | undefined): void {
    const endTime = performance.timeOrigin + performance.now();
    const endedAt = performance.now();
    const what = this.startAttributes[A.ATTR_GEN_AI_OPERATION_NAME];
    estimate.then(
      (usage) => {
        try {
          end[A.ATTR_SPENDTRACE_USAGE_ESTIMATED] = true;
          this.price(end, usage, undefined, model);
        } catch (e) {
          this.host.diag.error(`${what} span: pricing the local token count failed`, e);
        }
        this.close(end, endTime, endedAt);
      },
      (e) => {
        this.host.diag.error(`${what} span: local token count failed`, e);
        this.close(end, endTime, endedAt);
      },
    );
  }

  /**
   * Usage and cost attributes into `attrs` (set on the span by the caller); the cost into the task.
   * A provider-reported cost wins; else the catalogue's price of `model`, then of the request model.
   */
  price(attrs: Attributes, usage: Usage, providerCostUsd: number | undefined, model: string | undefined): void {
    writeUsageAttributes(attrs, usage);
    let pico: Pico | undefined;
    if (typeof providerCostUsd === 'number' && Number.isFinite(providerCostUsd) && providerCostUsd >= 0) {
      pico = usdToPico(providerCostUsd);
      writeProviderCostAttributes(attrs, pico, this.host.costDetail);
    } else {
      const pricer = this.host.pricer;
      const requestModel = this.requestModel;
      const quote =
        pricer.price(this.provider, model ?? requestModel, usage) ??
        (model && model !== requestModel ? pricer.price(this.provider, requestModel, usage) : undefined);
      if (quote) {
        pico = quote.cost.total;
        writeCostAttributes(attrs, quote, 'local', this.host.costDetail);
      } else {
        attrs[A.ATTR_SPENDTRACE_COST_UNPRICED] = true;
      }
    }
    // The request model: what a router chose (a response names a dated snapshot).
    if (pico !== undefined && this.task) this.task.addCost(pico, this.requestModel ?? model, usage);
  }

  /** Everything that waited for the end onto the span in one setAttributes, the span ended, the call's metrics recorded. */
  protected close(end: Attributes, endTime?: number, endedAt?: number): void {
    this.reservation?.release();
    const span = this.span;
    try {
      span.setAttributes(end);
    } catch (e) {
      this.host.diag.error(`${this.startAttributes[A.ATTR_GEN_AI_OPERATION_NAME]} span: setting attributes failed`, e);
    }
    try {
      span.end(endTime);
    } catch (e) {
      this.host.diag.error(`${this.startAttributes[A.ATTR_GEN_AI_OPERATION_NAME]} span: ending failed`, e);
    }
    const metrics = this.host.metrics;
    if (!metrics.enabled) return;
    try {
      metrics.recordCall({ ...this.startAttributes, ...end }, ((endedAt ?? performance.now()) - this.started) / 1000);
    } catch (e) {
      this.host.diag.error(`${this.startAttributes[A.ATTR_GEN_AI_OPERATION_NAME]} span: recording metrics failed`, e);
    }
  }
}
