/**
 * Batch API results the app reports: `recordBatchResults(outputFile)` turns each result line of
 * an OpenAI Batch output file (`/v1/batches`, https://platform.openai.com/docs/guides/batch) or of
 * an Anthropic Message Batch's `results()` (https://docs.anthropic.com/en/api/retrieving-message-batch-results)
 * into one priced inference span, marked `spendtrace.batch=true` and attributed to the active task.
 *
 * A batch runs hours after the app submits it, outside any SDK call spendtrace sees, so the app
 * hands over the results when it downloads them — the one moment the usage is known.
 *
 * Price: `@pydantic/genai-prices` (0.1.8) carries no batch rates for `openai` or `anthropic`
 * (only OpenRouter's separate `…:batch` routes), so the token parts of the catalogue (or
 * override) quote are halved: both providers publish a flat 50% Batch API discount on input and
 * output tokens (cache reads and writes included). Per-call tool fees (web searches) are not
 * tokens and keep their price. Lines that failed, expired or were cancelled are not billed: they
 * become error spans without cost.
 */
import { SpanKind, SpanStatusCode, type Attributes } from '@opentelemetry/api';
import * as A from '@spendtrace/semconv';
import { batchQuote, clampUsage, costAttributes, UNPRICED_ATTRIBUTES, usageAttributes, type Usage } from '@spendtrace/semconv';
import { usageFromAnthropic, type AnthropicApiUsage } from './anthropic/messages.ts';
import { SpendtraceInstrumentation } from './instrumentation.ts';
import { currentScope, type TaskState } from './task-context.ts';

export type BatchProvider = 'openai' | 'anthropic';

export interface BatchResultsOptions {
  /**
   * Whose output format the lines are in. Default: detected per line (`response` / `error` →
   * OpenAI, `result` → Anthropic).
   */
  provider?: BatchProvider;
  /**
   * The batch's input lines (OpenAI: `{ custom_id, method, url, body }`; Anthropic:
   * `{ custom_id, params }`), matched by `custom_id`: they give `gen_ai.request.model` and, for
   * OpenAI, the endpoint (`/v1/embeddings` …). Without them the operation comes from the
   * response body's `object` and the model from the response.
   */
  requests?: BatchLines;
  /** The instrumentation whose tracer and pricer to use. Default: the last one constructed. */
  instrumentation?: SpendtraceInstrumentation;
}

/** JSONL text (a whole output file), or its lines as strings or parsed objects. */
export type BatchLines = string | Iterable<string | object>;

export interface BatchResultsSummary {
  /** Spans recorded (one per result line). */
  spans: number;
  /** Lines that failed, expired or were cancelled (error spans, no cost). */
  failed: number;
  /** Succeeded lines whose model has no price (`spendtrace.cost.unpriced`). */
  unpriced: number;
  /** Lines that were not JSON or not a batch result (skipped, reported to the diag logger). */
  skipped: number;
  /** Total cost recorded, USD. */
  costUsd: number;
}

interface Parsed {
  customId: string | undefined;
  provider: string;
  operation: string;
  apiType?: string;
  requestModel?: string;
  responseModel?: string;
  responseId?: string;
  finishReasons?: string[];
  usage?: Usage;
  error?: { type: string; status?: number; message?: string };
}

function* linesOf(input: BatchLines): Iterable<unknown> {
  const items = typeof input === 'string' ? input.split('\n') : input;
  for (const item of items) {
    if (typeof item !== 'string') {
      yield item;
      continue;
    }
    const text = item.trim();
    if (!text) continue;
    try {
      yield JSON.parse(text);
    } catch {
      yield undefined;
    }
  }
}

const ENDPOINTS: Record<string, [operation: string, apiType?: string]> = {
  '/v1/chat/completions': [A.GEN_AI_OPERATION.CHAT, A.OPENAI_API_TYPE.CHAT_COMPLETIONS],
  '/v1/responses': [A.GEN_AI_OPERATION.CHAT, A.OPENAI_API_TYPE.RESPONSES],
  '/v1/embeddings': [A.GEN_AI_OPERATION.EMBEDDINGS],
  '/v1/completions': [A.GEN_AI_OPERATION.TEXT_COMPLETION],
};

/** The operation of an OpenAI response body by its `object` (output lines carry no URL). */
function openaiOperation(url: string | undefined, body: any): [string, string?] {
  const byUrl = url ? ENDPOINTS[url.split('?')[0]!] : undefined;
  if (byUrl) return byUrl;
  switch (body?.object) {
    case 'response':
      return ENDPOINTS['/v1/responses']!;
    case 'list':
      return ENDPOINTS['/v1/embeddings']!;
    case 'text_completion':
      return ENDPOINTS['/v1/completions']!;
    default:
      return ENDPOINTS['/v1/chat/completions']!;
  }
}

function openaiUsage(u: any, webSearches: number): Usage {
  // Chat / completions / embeddings: prompt_tokens, completion_tokens; Responses: input_tokens, output_tokens.
  const usage: Usage = { inputTokens: u?.prompt_tokens ?? u?.input_tokens ?? 0, outputTokens: u?.completion_tokens ?? u?.output_tokens ?? 0 };
  const cached = u?.prompt_tokens_details?.cached_tokens ?? u?.input_tokens_details?.cached_tokens;
  if (cached) usage.cacheReadTokens = cached;
  const reasoning = u?.completion_tokens_details?.reasoning_tokens ?? u?.output_tokens_details?.reasoning_tokens;
  if (reasoning) usage.reasoningTokens = reasoning;
  if (webSearches) usage.webSearches = webSearches;
  return clampUsage(usage);
}

function parseOpenAI(line: any, request: any): Parsed {
  const [operation, apiType] = openaiOperation(request?.url ?? line.url, line.response?.body);
  const p: Parsed = { customId: line.custom_id, provider: A.GEN_AI_PROVIDER.OPENAI, operation, apiType, requestModel: request?.body?.model };
  const res = line.response;
  const body = res?.body;
  if (line.error || !res || (typeof res.status_code === 'number' && res.status_code >= 400) || body?.error) {
    const e = line.error ?? body?.error;
    p.error = {
      type: e?.code || e?.type || (res?.status_code ? String(res.status_code) : 'batch_request_failed'),
      status: res?.status_code,
      message: e?.message,
    };
    return p;
  }
  p.responseModel = body?.model;
  p.responseId = body?.id;
  if (Array.isArray(body?.choices)) p.finishReasons = body.choices.map((c: any) => c?.finish_reason).filter(Boolean);
  const webSearches = Array.isArray(body?.output) ? body.output.filter((o: any) => o?.type === 'web_search_call').length : 0;
  if (body?.object === 'response' && body.status === 'completed')
    p.finishReasons = [body.output?.some((o: any) => o?.type === 'function_call') ? 'tool_calls' : 'stop'];
  if (body?.usage) p.usage = openaiUsage(body.usage, webSearches);
  return p;
}

function parseAnthropic(line: any, request: any): Parsed {
  const p: Parsed = {
    customId: line.custom_id,
    provider: A.GEN_AI_PROVIDER.ANTHROPIC,
    operation: A.GEN_AI_OPERATION.CHAT,
    requestModel: request?.params?.model,
  };
  const result = line.result;
  if (result?.type !== 'succeeded') {
    // errored (with the API's error envelope), canceled, expired: not billed.
    const type = result?.error?.error?.type ?? result?.error?.type ?? result?.type ?? 'batch_request_failed';
    p.error = { type: type === 'error' ? 'errored' : type, message: result?.error?.error?.message };
    return p;
  }
  const m = result.message;
  p.responseModel = m?.model;
  p.responseId = m?.id;
  if (m?.stop_reason) p.finishReasons = [m.stop_reason];
  if (m?.usage) p.usage = clampUsage(usageFromAnthropic(m.usage as AnthropicApiUsage));
  return p;
}

function indexRequests(requests: BatchLines | undefined): Map<string, unknown> | undefined {
  if (!requests) return undefined;
  const byId = new Map<string, unknown>();
  for (const r of linesOf(requests)) {
    const id = (r as { custom_id?: unknown } | undefined)?.custom_id;
    if (typeof id === 'string') byId.set(id, r);
  }
  return byId;
}

/**
 * A batch's results as the SDKs download them: the async iterable of decoded lines
 * `@anthropic-ai/sdk`'s `messages.batches.results()` resolves to, or the `Response` of
 * `openai`'s `files.content()`.
 */
export type AsyncBatchLines = AsyncIterable<string | object> | Response;

function isAsyncSource(x: unknown): x is AsyncBatchLines {
  if (!x || typeof x !== 'object' || typeof x === 'string') return false;
  if (typeof Response !== 'undefined' && x instanceof Response) return true;
  return (
    typeof (x as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function' &&
    typeof (x as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== 'function'
  );
}

async function collect(source: AsyncBatchLines): Promise<BatchLines> {
  if (typeof Response !== 'undefined' && source instanceof Response) return source.text();
  const lines: Array<string | object> = [];
  for await (const line of source as AsyncIterable<string | object>) lines.push(line);
  return lines;
}

/**
 * Records one priced span per result line of a Batch API output file (OpenAI) or a Message
 * Batch's results (Anthropic), at the 50% batch discount, attributed to the active task (whose
 * running cost and budget include it). Never throws: bad lines are skipped and reported to the
 * diag logger. Returns what was recorded.
 *
 * Given what the SDKs download (an async iterable of lines, a `Response`), it reads them first and
 * returns a promise of the same summary, recorded in the task that was active at the call; the
 * promise rejects only when reading the download fails (the app's download, not a bad line).
 */
export function recordBatchResults(results: BatchLines, options?: BatchResultsOptions): BatchResultsSummary;
export function recordBatchResults(results: AsyncBatchLines, options?: BatchResultsOptions): Promise<BatchResultsSummary>;
export function recordBatchResults(
  results: BatchLines | AsyncBatchLines,
  options: BatchResultsOptions = {},
): BatchResultsSummary | Promise<BatchResultsSummary> {
  if (isAsyncSource(results)) {
    // The task's scope follows the await (AsyncLocalStorage).
    return collect(results).then((lines) => recordLines(lines, options));
  }
  return recordLines(results, options);
}

function recordLines(results: BatchLines, options: BatchResultsOptions): BatchResultsSummary {
  const summary: BatchResultsSummary = { spans: 0, failed: 0, unpriced: 0, skipped: 0, costUsd: 0 };
  const inst = options.instrumentation ?? SpendtraceInstrumentation.latest ?? new SpendtraceInstrumentation();
  let totalPico = 0n;
  try {
    const requests = indexRequests(options.requests);
    const scope = currentScope();
    const task: TaskState | undefined = scope?.task;
    const attribution: Attributes = { ...task?.attribution };
    if (task && scope?.tool) attribution[A.ATTR_SPENDTRACE_TOOL_NAME] = scope.tool.name;
    const tracer = inst.callTracer;
    for (const line of linesOf(results)) {
      const l = line as any;
      const provider = options.provider ?? (l && 'result' in l ? 'anthropic' : l && ('response' in l || 'error' in l) ? 'openai' : undefined);
      if (!l || typeof l !== 'object' || !provider) {
        summary.skipped++;
        inst.diag.warn('spendtrace: recordBatchResults skipped a line that is not a batch result');
        continue;
      }
      const request = typeof l.custom_id === 'string' ? requests?.get(l.custom_id) : undefined;
      const p = provider === 'anthropic' ? parseAnthropic(l, request) : parseOpenAI(l, request);
      const model = p.requestModel ?? p.responseModel;
      const attrs: Attributes = {
        [A.ATTR_GEN_AI_OPERATION_NAME]: p.operation,
        [A.ATTR_GEN_AI_PROVIDER_NAME]: p.provider,
        [A.ATTR_SPENDTRACE_BATCH]: true,
        ...attribution,
      };
      if (p.apiType) attrs[A.ATTR_OPENAI_API_TYPE] = p.apiType;
      if (p.customId !== undefined) attrs[A.ATTR_SPENDTRACE_BATCH_CUSTOM_ID] = String(p.customId);
      if (p.requestModel) attrs[A.ATTR_GEN_AI_REQUEST_MODEL] = p.requestModel;
      if (p.responseModel) attrs[A.ATTR_GEN_AI_RESPONSE_MODEL] = p.responseModel;
      if (p.responseId) attrs[A.ATTR_GEN_AI_RESPONSE_ID] = p.responseId;
      if (p.finishReasons?.length) attrs[A.ATTR_GEN_AI_RESPONSE_FINISH_REASONS] = p.finishReasons;
      const span = tracer.startSpan(`${p.operation}${model ? ` ${model}` : ''}`, { kind: SpanKind.CLIENT, attributes: attrs });
      summary.spans++;
      // What the line says beyond the start attributes: onto the span at once, and into the metrics.
      const end: Attributes = {};
      if (p.error) {
        summary.failed++;
        end[A.ATTR_ERROR_TYPE] = p.error.type;
        if (p.error.status) end[A.ATTR_HTTP_RESPONSE_STATUS_CODE] = p.error.status;
        span.setStatus({ code: SpanStatusCode.ERROR, message: p.error.message ?? p.error.type });
      } else if (p.usage) {
        Object.assign(end, usageAttributes(p.usage));
        const quote =
          inst.pricer.price(p.provider, p.responseModel ?? p.requestModel, p.usage) ??
          (p.requestModel ? inst.pricer.price(p.provider, p.requestModel, p.usage) : undefined);
        if (quote) {
          const batch = batchQuote(quote);
          Object.assign(end, costAttributes(batch, 'local', inst.costDetail));
          totalPico += batch.cost.total;
          task?.addCost(batch.cost.total);
        } else {
          summary.unpriced++;
          Object.assign(end, UNPRICED_ATTRIBUTES);
        }
      }
      span.setAttributes(end);
      span.end();
      if (inst.metrics.enabled) inst.metrics.recordCall({ ...attrs, ...end }, 0);
    }
  } catch (err) {
    inst.diag.error('spendtrace: recordBatchResults failed', err);
  }
  summary.costUsd = A.picoToUsd(totalPico);
  return summary;
}
