-- Applies --ttl-days to a store created without it (or with another value). ClickHouse then
-- rewrites the existing parts to drop expired rows (materialize_ttl_after_modify).
ALTER TABLE {{database}}.spans{{local}} {{on_cluster}}
MODIFY {{ttl}}
