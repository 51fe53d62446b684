-- Costs by hour x service x agent x task name x tool x provider x model x operation x kind.
CREATE TABLE IF NOT EXISTS {{database}}.hourly_costs{{local}} {{on_cluster}}
(
    hour                DateTime,
    service_name        LowCardinality(String),
    agent_name          LowCardinality(String),
    task_name           LowCardinality(String),
    tool_name           LowCardinality(String),
    provider            LowCardinality(String),
    model               LowCardinality(String),   -- response model, else request model
    operation           LowCardinality(String),
    kind                LowCardinality(String),   -- inference | tool
    cost                SimpleAggregateFunction(sum, Decimal(38, 12)),
    retry_cost          SimpleAggregateFunction(sum, Decimal(38, 12)),
    input_tokens        SimpleAggregateFunction(sum, UInt64),
    output_tokens       SimpleAggregateFunction(sum, UInt64),
    cache_read_tokens   SimpleAggregateFunction(sum, UInt64),
    cache_write_tokens  SimpleAggregateFunction(sum, UInt64),
    reasoning_tokens    SimpleAggregateFunction(sum, UInt64),
    calls               SimpleAggregateFunction(sum, UInt64),
    errors              SimpleAggregateFunction(sum, UInt64),
    retries             SimpleAggregateFunction(sum, UInt64),
    unpriced_calls      SimpleAggregateFunction(sum, Int64),     -- signed: `spendtrace reprice` subtracts calls that became priced
    duration_quantiles  AggregateFunction(quantiles(0.5, 0.95, 0.99), UInt64)
)
ENGINE = {{engine_prefix}}AggregatingMergeTree{{engine_args}}
PARTITION BY toYYYYMM(hour)
ORDER BY (hour, service_name, agent_name, task_name, tool_name, provider, model, operation, kind)
{{ttl_hourly}}
SETTINGS non_replicated_deduplication_window = 100000
