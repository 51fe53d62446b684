CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.hourly_costs_mv {{on_cluster}}
TO {{database}}.hourly_costs{{local}}
AS SELECT
    toStartOfHour(s.start_time)                            AS hour,
    s.service_name,
    s.agent_name,
    s.task_name,
    s.tool_name,
    s.provider,
    if(s.response_model != '', s.response_model, s.request_model) AS model,
    s.operation,
    s.kind,
    sum(s.cost)                                            AS cost,
    sumIf(s.cost, s.kind = 'inference' AND (s.status_code = 'error' OR s.request_repeat > 0))                       AS retry_cost,
    sum(s.input_tokens)                                    AS input_tokens,
    sum(s.output_tokens)                                   AS output_tokens,
    sum(s.cache_read_tokens)                               AS cache_read_tokens,
    sum(s.cache_write_tokens)                              AS cache_write_tokens,
    sum(s.reasoning_tokens)                                AS reasoning_tokens,
    count()                                              AS calls,
    countIf(s.status_code = 'error')                       AS errors,
    countIf(s.retry_attempt > 0)                           AS retries,
    countIf(s.unpriced = 1)                                AS unpriced_calls,
    quantilesState(0.5, 0.95, 0.99)(s.duration_ns)         AS duration_quantiles
FROM {{database}}.spans{{local}} AS s
WHERE s.kind IN ('inference', 'tool')
GROUP BY hour, service_name, agent_name, task_name, tool_name, provider, model, operation, kind
