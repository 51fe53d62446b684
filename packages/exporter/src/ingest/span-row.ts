/**
 * One row of the `spans` table (schema/spans-table.sql), as it is inserted with JSONEachRow.
 * Times are nanoseconds since the epoch as decimal text ("seconds.nanoseconds"), money is the
 * Decimal(38, 12) text of an exact pico-USD integer (semconv formatPico).
 */
import type { InsertColumn } from '../store/store.ts';
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

/**
 * The columns a SpanRow fills and their types, in the table's order, for `Store.insertColumns`
 * (RowBinary on chDB). `ingested_at` is left to its DEFAULT. Held equal to spans-table.sql by
 * span-row-binary.test.ts.
 */
export const SPAN_COLUMNS: readonly InsertColumn[] = (
  [
    ['trace_id', 'String'],
    ['span_id', 'String'],
    ['parent_span_id', 'String'],
    ['start_time', 'DateTime64(9)'],
    ['end_time', 'DateTime64(9)'],
    ['duration_ns', 'UInt64'],
    ['service_name', 'String'],
    ['span_name', 'String'],
    ['span_kind', 'String'],
    ['kind', 'String'],
    ['task_id', 'String'],
    ['task_name', 'String'],
    ['agent_name', 'String'],
    ['user_id', 'String'],
    ['tool_name', 'String'],
    ['operation', 'String'],
    ['provider', 'String'],
    ['request_model', 'String'],
    ['response_model', 'String'],
    ['input_tokens', 'UInt64'],
    ['output_tokens', 'UInt64'],
    ['cache_read_tokens', 'UInt64'],
    ['cache_write_tokens', 'UInt64'],
    ['reasoning_tokens', 'UInt64'],
    ['cost', 'Decimal(38, 12)'],
    ['cost_input', 'Decimal(38, 12)'],
    ['cost_output', 'Decimal(38, 12)'],
    ['cost_cache_read', 'Decimal(38, 12)'],
    ['cost_cache_write', 'Decimal(38, 12)'],
    ['cost_reasoning', 'Decimal(38, 12)'],
    ['cost_source', 'String'],
    ['unpriced', 'UInt8'],
    ['usage_estimated', 'UInt8'],
    ['pricing_version', 'String'],
    ['status_code', 'String'],
    ['error_type', 'String'],
    ['outcome', 'String'],
    ['retry_attempt', 'UInt16'],
    ['request_repeat', 'UInt16'],
    ['request_hash', 'String'],
    ['attributes', 'Map(String, String)'],
    ['resource_attributes', 'Map(String, String)'],
  ] satisfies [keyof SpanRow, InsertColumn['type']][]
).map(([name, type]) => ({ name, type }));
