-- The exactly-once writer's inbox (created by the ingester, not by migrate): each batch lands here
-- first, then only the rows that `spans` lacks are copied on, so the rollups never see a replay.
-- One per writer (`{{staging}}` names the instance): a single serialized writer owns it.
-- Memory engine: it holds one batch at a time and is truncated before each.
CREATE TABLE IF NOT EXISTS {{database}}.{{staging}} AS {{database}}.spans ENGINE = Memory
