-- On a cluster only: reports read `task_costs` through this table. A task's rows live on the shard
-- its spans went to (same key), so GROUP BY task_id merges them (`spendtrace reprice` deltas follow the same key).
CREATE TABLE IF NOT EXISTS {{database}}.task_costs {{on_cluster}}
AS {{database}}.task_costs_local
ENGINE = Distributed('{{cluster}}', '{{database}}', 'task_costs_local', cityHash64(task_id))
