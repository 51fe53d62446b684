-- One row per task (a trace, unless spendtrace.task.id spans several) after merges.
-- Rows merge eventually: read with GROUP BY task_id and sum/min/max (see reports).
CREATE TABLE IF NOT EXISTS {{database}}.task_costs{{local}} {{on_cluster}}
(
    task_id             String,
    service_name        SimpleAggregateFunction(max, LowCardinality(String)),
    agent_name          SimpleAggregateFunction(max, LowCardinality(String)),
    task_name           SimpleAggregateFunction(max, LowCardinality(String)),
    user_id             SimpleAggregateFunction(max, String),
    first_seen          SimpleAggregateFunction(min, DateTime64(9)),
    last_seen           SimpleAggregateFunction(max, DateTime64(9)),
    cost                SimpleAggregateFunction(sum, Decimal(38, 12)),   -- LLM + tool
    llm_cost            SimpleAggregateFunction(sum, Decimal(38, 12)),
    tool_cost           SimpleAggregateFunction(sum, Decimal(38, 12)),
    retry_cost          SimpleAggregateFunction(sum, Decimal(38, 12)),   -- overhead: LLM calls that failed yet billed, plus repeats of an identical request
    input_tokens        SimpleAggregateFunction(sum, UInt64),
    output_tokens       SimpleAggregateFunction(sum, UInt64),
    cache_read_tokens   SimpleAggregateFunction(sum, UInt64),
    cache_write_tokens  SimpleAggregateFunction(sum, UInt64),
    reasoning_tokens    SimpleAggregateFunction(sum, UInt64),
    llm_calls           SimpleAggregateFunction(sum, UInt64),
    tool_calls          SimpleAggregateFunction(sum, UInt64),
    errors              SimpleAggregateFunction(sum, UInt64),
    retries             SimpleAggregateFunction(sum, UInt64),
    unpriced_calls      SimpleAggregateFunction(sum, Int64),     -- signed: `spendtrace reprice` subtracts calls that became priced
    outcome             SimpleAggregateFunction(max, LowCardinality(String))  -- '' < failure < success
)
ENGINE = {{engine_prefix}}AggregatingMergeTree{{engine_args}}
ORDER BY task_id
{{ttl_task}}
SETTINGS non_replicated_deduplication_window = 100000
