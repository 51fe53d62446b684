-- On a cluster only: reports read `hourly_costs` through this table. Each shard holds partial sums
-- for an hour, and reads re-aggregate (GROUP BY with sum or quantilesMerge), so the split is invisible.
-- Direct inserts (`spendtrace reprice` deltas) are spread by task name: any key is correct.
CREATE TABLE IF NOT EXISTS {{database}}.hourly_costs {{on_cluster}}
AS {{database}}.hourly_costs_local
ENGINE = Distributed('{{cluster}}', '{{database}}', 'hourly_costs_local', cityHash64(task_name))
