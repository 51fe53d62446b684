/**
 * One row of the `spans` table (schema/spans-table.sql), as it is inserted with JSONEachRow.
 * Times are nanoseconds since the epoch as decimal text ("seconds.nanoseconds"), money is the
 * Decimal(38, 12) text of an exact pico-USD integer (semconv formatPico).
 */
import type { SpanClass } from './classify.ts';

export interface SpanRow {
  trace_id: string;
  span_id: string;
  parent_span_id: string;
  start_time: string;
  end_time: string;
  duration_ns: string;
  service_name: string;
  span_name: string;
  span_kind: string;
  kind: SpanClass;
  task_id: string;
  task_name: string;
  agent_name: string;
  user_id: string;
  tool_name: string;
  operation: string;
  provider: string;
  request_model: string;
  response_model: string;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  reasoning_tokens: number;
  cost: string;
  cost_input: string;
  cost_output: string;
  cost_cache_read: string;
  cost_cache_write: string;
  cost_reasoning: string;
  cost_source: string;
  unpriced: 0 | 1;
  usage_estimated: 0 | 1;
  pricing_version: string;
  status_code: string;
  error_type: string;
  outcome: string;
  retry_attempt: number;
  /** Identical requests before this one in the task (app-level repeats). */
  request_repeat: number;
  request_hash: string;
  attributes: Record<string, string>;
  resource_attributes: Record<string, string>;
}
