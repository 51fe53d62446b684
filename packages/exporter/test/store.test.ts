// Proves the Store contract (query with bound params, exact Decimal reads, dedup-token inserts through the MVs, typed errors) on chDB — and on a server when CLICKHOUSE_URL is set — plus the schema DDL rendered plain, on a cluster and with TTLs.
import { describe, expect, it } from 'vitest';
import { createStore, renderSchema, SchemaConfigError, validateStoreConfig, type Store } from '../src/index.ts';
import { describeStoreSuite } from './support/store-suite.ts';

describe.each([
  ['plain', {}, [/ENGINE = MergeTree\s/, /ENGINE = AggregatingMergeTree\s/], [/ON CLUSTER/, /Replicated/, /TTL/, /\{\{/]],
  [
    'cluster',
    { cluster: 'prod' },
    [
      /CREATE DATABASE IF NOT EXISTS spendtrace ON CLUSTER `prod`/,
      /ENGINE = ReplicatedMergeTree\('\/clickhouse\/tables\/\{shard\}\/\{database\}\/\{table\}', '\{replica\}'\)/,
      /ENGINE = ReplicatedAggregatingMergeTree\(/,
      /task_costs_mv ON CLUSTER `prod`/,
    ],
    [/TTL/, /\{\{/],
  ],
  [
    'ttl',
    { database: 'costs', ttlDays: 30, taskTtlDays: 400, hourlyTtlDays: 800 },
    [
      /TTL toDateTime\(start_time\) \+ INTERVAL 30 DAY/,
      /TTL toDateTime\(last_seen\) \+ INTERVAL 400 DAY/,
      /TTL hour \+ INTERVAL 800 DAY/,
      /CREATE TABLE IF NOT EXISTS costs\.spans/,
    ],
    [/ON CLUSTER/, /\{\{/, /spendtrace\.spans/],
  ],
])('schema DDL, %s', (_name, opts, present, absent) => {
  const text = renderSchema(opts)
    .map((s) => s.sql)
    .join('\n;\n');
  it.each(present.map((r) => [r]))('contains %s', (r) => expect(text).toMatch(r));
  it.each(absent.map((r) => [r]))('does not contain %s', (r) => expect(text).not.toMatch(r));
});

describe('schema and store config validation', () => {
  it('reports every schema problem at once', () => {
    expect(() => renderSchema({ database: 'bad-name', cluster: 'x y', ttlDays: -1 })).toThrow(SchemaConfigError);
    try {
      renderSchema({ database: 'bad-name', cluster: 'x y', ttlDays: -1 });
    } catch (e) {
      expect((e as Error).message).toMatch(/database:.*cluster:.*ttlDays:/);
    }
  });
  it('reports every store config problem at once', () => {
    expect(validateStoreConfig({ clickhouseUrl: 'ftp://x', dataDir: '/tmp/x' })).toHaveLength(2);
    expect(validateStoreConfig({})).toEqual([]);
  });
});

const backends: Array<[string, (dir: string) => Promise<Store>]> = [];
backends.push(['chdb', (dir) => createStore({ dataDir: dir })]);
if (process.env.CLICKHOUSE_URL) backends.push(['clickhouse', () => createStore({ clickhouseUrl: process.env.CLICKHOUSE_URL })]);
for (const [kind, open] of backends) describeStoreSuite(kind, open);
