-- Applies the hourly rollup TTL to an existing store (see spans-ttl.sql).
ALTER TABLE {{database}}.hourly_costs{{local}} {{on_cluster}}
MODIFY {{ttl_hourly}}
