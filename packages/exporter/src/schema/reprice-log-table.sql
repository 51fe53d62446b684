-- The journal of `spendtrace reprice`: one 'planned' row per batch (the exact rollup delta rows and
-- spans updates, as JSON), then a 'rollups' row once the deltas are in and a 'done' row once the
-- spans are rewritten. A run first finishes any batch a crashed run left without 'done', from its
-- recorded plan, so an interrupted batch is never priced or applied a second way.
-- Created by reprice on first use (not by migrate): stores that never reprice never get it.
CREATE TABLE IF NOT EXISTS {{database}}.reprice_log {{on_cluster}}
(
    token       String,                       -- the batch's insert_deduplication_token base
    step        LowCardinality(String),       -- planned | rollups | done
    plan        String CODEC(ZSTD(3)),        -- JSON, on 'planned' rows only
    created_at  DateTime64(3) DEFAULT now64(3)
)
ENGINE = {{engine_prefix}}MergeTree{{engine_args}}
ORDER BY (token, step)
