-- On a cluster only: `spans` is a Distributed table over the replicated `spans_local` of every
-- shard, sharded by task id, so every span of a task lands on one shard and that shard's
-- materialized views see the whole task. The exporter inserts here, and reads fan out to all shards.
CREATE TABLE IF NOT EXISTS {{database}}.spans {{on_cluster}}
AS {{database}}.spans_local
ENGINE = Distributed('{{cluster}}', '{{database}}', 'spans_local', cityHash64(task_id))
