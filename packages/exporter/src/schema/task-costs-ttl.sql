-- Applies the task rollup TTL to an existing store (see spans-ttl.sql).
ALTER TABLE {{database}}.task_costs{{local}} {{on_cluster}}
MODIFY {{ttl_task}}
