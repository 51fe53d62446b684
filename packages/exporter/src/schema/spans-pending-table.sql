-- The exactly-once writer's second step (created by the ingester, not by migrate): the rows of one
-- batch that `spans` lacked, kept on disk until they are in `spans` and every rollup. A crash
-- between the two leaves them here; the next start inserts them again under the same
-- insert_deduplication_token, which skips the tables that have the block and fills the ones that
-- don't (deduplicate_blocks_in_dependent_materialized_views), so no rollup misses or doubles them.
CREATE TABLE IF NOT EXISTS {{database}}.{{pending}} AS {{database}}.spans ENGINE = MergeTree ORDER BY tuple()
