-- One row per inference, tool or task span (and any other span of a GenAI trace).
-- Money is Decimal(38, 12): exact pico-USD, so sums equal the sum of the parts.
CREATE TABLE IF NOT EXISTS {{database}}.spans{{local}} {{on_cluster}}
(
    trace_id            String CODEC(ZSTD(1)),                 -- hex, 32 chars
    span_id             String CODEC(ZSTD(1)),                 -- hex, 16 chars
    parent_span_id      String CODEC(ZSTD(1)),
    start_time          DateTime64(9) CODEC(Delta, ZSTD(1)),
    end_time            DateTime64(9) CODEC(Delta, ZSTD(1)),
    duration_ns         UInt64 CODEC(ZSTD(1)),
    service_name        LowCardinality(String),
    span_name           LowCardinality(String),
    span_kind           LowCardinality(String),                -- OTLP kind: client, internal, ...
    kind                LowCardinality(String),                -- spendtrace class: inference | tool | task | other
    task_id             String CODEC(ZSTD(1)),                 -- spendtrace.task.id, else the trace id
    task_name           LowCardinality(String),
    agent_name          LowCardinality(String),
    user_id             String CODEC(ZSTD(1)),
    tool_name           LowCardinality(String),                -- the tool of a tool span, or the tool an LLM call ran inside
    operation           LowCardinality(String),                -- gen_ai.operation.name
    provider            LowCardinality(String),                -- gen_ai.provider.name
    request_model       LowCardinality(String),
    response_model      LowCardinality(String),
    input_tokens        UInt64,                                -- includes cache read and write
    output_tokens       UInt64,                                -- includes reasoning
    cache_read_tokens   UInt64,
    cache_write_tokens  UInt64,
    reasoning_tokens    UInt64,
    cost                Decimal(38, 12),                       -- USD this span carries: inference or tool cost
    cost_input          Decimal(38, 12),                       -- uncached input
    cost_output         Decimal(38, 12),                       -- output other than reasoning
    cost_cache_read     Decimal(38, 12),
    cost_cache_write    Decimal(38, 12),
    cost_reasoning      Decimal(38, 12),
    cost_source         LowCardinality(String),                -- provider | local (instrumentation) | exporter | '' (no cost)
    unpriced            UInt8,                                 -- an inference with tokens but no known price
    usage_estimated     UInt8,                                 -- tokens counted locally
    pricing_version     LowCardinality(String),
    status_code         LowCardinality(String),                -- unset | ok | error
    error_type          LowCardinality(String),
    outcome             LowCardinality(String),                -- task outcome on task roots: success | failure | ''
    retry_attempt       UInt16,                                -- SDK-internal retries before this call's final attempt
    request_repeat      UInt16,                                -- identical requests (same request_hash) earlier in the task
    request_hash        String CODEC(ZSTD(1)),
    attributes          Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    resource_attributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    ingested_at         DateTime64(3) DEFAULT now64(3)
)
ENGINE = {{engine_prefix}}MergeTree{{engine_args}}
PARTITION BY toDate(start_time)
ORDER BY (service_name, task_id, start_time, span_id)
{{ttl}}
SETTINGS non_replicated_deduplication_window = 100000
