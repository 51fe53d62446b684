CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.task_costs_mv {{on_cluster}}
TO {{database}}.task_costs{{local}}
AS SELECT
    s.task_id,
    max(s.service_name)                                   AS service_name,
    max(s.agent_name)                                     AS agent_name,
    max(s.task_name)                                      AS task_name,
    max(s.user_id)                                        AS user_id,
    min(s.start_time)                                     AS first_seen,
    max(s.end_time)                                       AS last_seen,
    sum(s.cost)                                           AS cost,
    sumIf(s.cost, s.kind = 'inference')                     AS llm_cost,
    sumIf(s.cost, s.kind = 'tool')                          AS tool_cost,
    sumIf(s.cost, s.kind = 'inference' AND (s.status_code = 'error' OR s.request_repeat > 0))                      AS retry_cost,
    sum(s.input_tokens)                                   AS input_tokens,
    sum(s.output_tokens)                                  AS output_tokens,
    sum(s.cache_read_tokens)                              AS cache_read_tokens,
    sum(s.cache_write_tokens)                             AS cache_write_tokens,
    sum(s.reasoning_tokens)                               AS reasoning_tokens,
    countIf(s.kind = 'inference')                         AS llm_calls,
    countIf(s.kind = 'tool')                              AS tool_calls,
    countIf(s.status_code = 'error' AND s.kind IN ('inference', 'tool')) AS errors,
    countIf(s.retry_attempt > 0)                          AS retries,
    countIf(s.unpriced = 1)                               AS unpriced_calls,
    max(s.outcome)                                        AS outcome
FROM {{database}}.spans{{local}} AS s
WHERE s.kind != 'other'
GROUP BY task_id
