/**
 * One OTLP span -> one `spans` row: classify (classify.ts), normalize our names and peers'
 * (normalize.ts), price (price-span.ts), clamp (limits.ts).
 * Absurd values (huge strings, NaN / negative / huge token counts, impossible times, bad costs)
 * are clamped or dropped here, each with a warning kept on the row, so no single span can fail a
 * batch. A span without valid ids is rejected (deduplication and rollups key on them).
 */
import * as A from '@spendtrace/semconv';
import { formatPico, type Pricer } from '@spendtrace/semconv';
import type { OtlpSpan } from '../otlp/span.ts';
import { SPAN_KIND_NAMES, STATUS_CODE_NAMES } from '../otlp/span.ts';
import { classifySpan } from './classify.ts';
import { LIMITS } from './limits.ts';
import { attributeMap, cut, label, nsText, providerOf, sanitizeNumbers, smallCount, truthy, type ResourceContext } from './normalize.ts';
import { NO_MONEY, priceInference, priceTool } from './price-span.ts';
import type { SpanRow } from './span-row.ts';

export type SpanOutcome = { row: SpanRow; warnings: string[] } | { rejected: string };

const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;

export function spanToRow(span: OtlpSpan, res: ResourceContext, pricer: Pricer, nowNs: bigint): SpanOutcome {
  if (!HEX32.test(span.traceId) || /^0+$/.test(span.traceId)) return { rejected: `span ${JSON.stringify(span.name.slice(0, 80))}: invalid trace id` };
  if (!HEX16.test(span.spanId) || /^0+$/.test(span.spanId)) return { rejected: `span ${JSON.stringify(span.name.slice(0, 80))}: invalid span id` };

  const warnings: string[] = [];
  const attrs = sanitizeNumbers(span.attributes, warnings);
  const kind = classifySpan(attrs);

  // Times: impossible values fall back to the other end, else to the time of receipt.
  let start = span.startTimeUnixNano;
  let end = span.endTimeUnixNano;
  const validTime = (t: bigint) => t >= LIMITS.minTimeNs && t < LIMITS.maxTimeNs;
  if (!validTime(end)) {
    warnings.push(`end time ${end} out of range`);
    end = validTime(start) ? start : nowNs;
  }
  if (!validTime(start)) {
    warnings.push(`start time ${start} out of range`);
    start = end;
  }
  if (end < start) {
    warnings.push('end time before start time');
    end = start;
  }

  const str = (k: string) => label(attrs[k], warnings, k);
  const provider = providerOf(attrs, warnings);
  const requestModel =
    str(A.ATTR_GEN_AI_REQUEST_MODEL) ||
    label(attrs[A.PEER_LLM_MODEL_NAME], warnings, A.PEER_LLM_MODEL_NAME) ||
    label(attrs[A.PEER_AI_MODEL_ID], warnings, A.PEER_AI_MODEL_ID);
  const responseModel = str(A.ATTR_GEN_AI_RESPONSE_MODEL) || label(attrs[A.PEER_AI_RESPONSE_MODEL], warnings, A.PEER_AI_RESPONSE_MODEL);
  const operation = str(A.ATTR_GEN_AI_OPERATION_NAME);
  const statusCode = STATUS_CODE_NAMES[span.status.code] ?? 'unset';

  const money =
    kind === 'inference'
      ? priceInference(attrs, provider, requestModel, responseModel, end, statusCode, pricer, warnings)
      : kind === 'tool'
        ? priceTool(attrs, warnings)
        : NO_MONEY;

  const toolName =
    kind === 'tool'
      ? str(A.ATTR_GEN_AI_TOOL_NAME) || label(attrs['tool.name'], warnings, 'tool.name')
      : kind === 'inference'
        ? str(A.ATTR_SPENDTRACE_TOOL_NAME)
        : '';
  const retryAttempt = smallCount(attrs, A.ATTR_SPENDTRACE_RETRY_ATTEMPT, warnings);
  const requestRepeat = smallCount(attrs, A.ATTR_SPENDTRACE_REQUEST_REPEAT, warnings);

  const map = attributeMap(attrs, kind === 'inference' || kind === 'tool', warnings);
  map[A.ATTR_OTEL_SCOPE_NAME] = res.scopeName;
  if (res.scopeVersion) map[A.ATTR_OTEL_SCOPE_VERSION] = res.scopeVersion;
  if (warnings.length) map[A.ATTR_SPENDTRACE_INGEST_WARNINGS] = cut(warnings.join('; '), LIMITS.maxValueChars);

  const row: SpanRow = {
    trace_id: span.traceId,
    span_id: span.spanId,
    parent_span_id: HEX16.test(span.parentSpanId) ? span.parentSpanId : '',
    start_time: nsText(start),
    end_time: nsText(end),
    duration_ns: (end - start).toString(),
    service_name: res.serviceName,
    span_name: cut(span.name, LIMITS.maxLabelChars),
    span_kind: SPAN_KIND_NAMES[span.kind] ?? 'unspecified',
    kind,
    task_id: str(A.ATTR_SPENDTRACE_TASK_ID) || span.traceId,
    task_name: str(A.ATTR_SPENDTRACE_TASK_NAME),
    agent_name: str(A.ATTR_GEN_AI_AGENT_NAME),
    user_id: str(A.ATTR_USER_ID),
    tool_name: toolName,
    operation,
    provider,
    request_model: requestModel,
    response_model: responseModel,
    input_tokens: money.usage.inputTokens,
    output_tokens: money.usage.outputTokens,
    cache_read_tokens: money.usage.cacheReadTokens ?? 0,
    cache_write_tokens: money.usage.cacheWriteTokens ?? 0,
    reasoning_tokens: money.usage.reasoningTokens ?? 0,
    cost: formatPico(money.total),
    cost_input: formatPico(money.input),
    cost_output: formatPico(money.output),
    cost_cache_read: formatPico(money.cacheRead),
    cost_cache_write: formatPico(money.cacheWrite),
    cost_reasoning: formatPico(money.reasoning),
    cost_source: money.source,
    unpriced: money.unpriced ? 1 : 0,
    usage_estimated: kind === 'inference' && truthy(attrs[A.ATTR_SPENDTRACE_USAGE_ESTIMATED]) ? 1 : 0,
    pricing_version: money.pricingVersion,
    status_code: statusCode,
    error_type: str(A.ATTR_ERROR_TYPE) || (statusCode === 'error' ? '_OTHER' : ''),
    outcome: kind === 'task' ? str(A.ATTR_SPENDTRACE_TASK_OUTCOME) : '',
    retry_attempt: retryAttempt,
    request_repeat: requestRepeat,
    request_hash: str(A.ATTR_SPENDTRACE_REQUEST_HASH),
    attributes: map,
    resource_attributes: res.resourceAttributes,
  };
  return { row, warnings };
}
