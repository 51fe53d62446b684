// Proves every statement `spendtrace migrate --print` emits is parsed by the ClickHouse engine (plain, cluster, TTL variants), that the cluster DDL puts Distributed tables sharded by task id over the replicated locals the views feed, and that TTL options reach a store that already exists (spans and both rollups).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../src/cli/index.ts';
import { createStore, migrate, type Store } from '../src/index.ts';

let dir: string;

async function cli(argv: string[]) {
  let out = '';
  let err = '';
  const code = await run(argv, { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) }, env: {}, cwd: dir });
  return { code, out, err };
}

/** `migrate --print` output -> [file, statement] (each statement is headed by `-- file` and ends with `;`). */
function statements(printed: string): Array<[string, string]> {
  return printed
    .split(/^-- (\S+\.sql)\n/m)
    .slice(1)
    .reduce<Array<[string, string]>>((acc, part, i, all) => {
      if (i % 2 === 0) acc.push([part, all[i + 1]!.trim().replace(/;$/, '')]);
      return acc;
    }, []);
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'spendtrace-ddl-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CREATES = ['database.sql', 'spans-table.sql', 'task-costs-table.sql', 'hourly-costs-table.sql', 'task-costs-mv.sql', 'hourly-costs-mv.sql'];
const DISTRIBUTED = ['spans-distributed.sql', 'task-costs-distributed.sql', 'hourly-costs-distributed.sql'];
const TTLS = ['spans-ttl.sql', 'task-costs-ttl.sql', 'hourly-costs-ttl.sql'];
const TTL_FLAGS = ['--ttl-days', '30', '--task-ttl-days', '400', '--hourly-ttl-days', '800'];

// [variant, flags, files in order, text the engine's own formatting of the statements must contain]
const VARIANTS: Array<[string, string[], string[], RegExp[]]> = [
  ['plain', [], CREATES, [/CREATE TABLE IF NOT EXISTS costs\.spans\n/, /ENGINE = AggregatingMergeTree\n/, /TO costs\.task_costs\n/]],
  [
    'cluster',
    ['--cluster', 'prod-eu'],
    [...CREATES, ...DISTRIBUTED],
    [
      /CREATE DATABASE IF NOT EXISTS costs ON CLUSTER `prod-eu`/,
      /CREATE TABLE IF NOT EXISTS costs\.spans_local ON CLUSTER `prod-eu`/,
      /ENGINE = ReplicatedMergeTree\('\/clickhouse\/tables\/\{shard\}\/\{database\}\/\{table\}', '\{replica\}'\)/,
      /CREATE MATERIALIZED VIEW IF NOT EXISTS costs\.task_costs_mv ON CLUSTER `prod-eu` TO costs\.task_costs_local/,
      /FROM costs\.spans_local AS s/,
      /CREATE TABLE IF NOT EXISTS costs\.spans ON CLUSTER `prod-eu` AS costs\.spans_local\nENGINE = Distributed\('prod-eu', 'costs', 'spans_local', cityHash64\(task_id\)\)/,
      /CREATE TABLE IF NOT EXISTS costs\.task_costs ON CLUSTER `prod-eu` AS costs\.task_costs_local\nENGINE = Distributed\('prod-eu', 'costs', 'task_costs_local', cityHash64\(task_id\)\)/,
      /CREATE TABLE IF NOT EXISTS costs\.hourly_costs ON CLUSTER `prod-eu` AS costs\.hourly_costs_local\nENGINE = Distributed\('prod-eu', 'costs', 'hourly_costs_local', /,
    ],
  ],
  [
    'ttl',
    TTL_FLAGS,
    [...CREATES, ...TTLS],
    [
      /TTL toDateTime\(start_time\) \+ toIntervalDay\(30\)/,
      /TTL toDateTime\(last_seen\) \+ toIntervalDay\(400\)/,
      /TTL hour \+ toIntervalDay\(800\)/,
      /ALTER TABLE costs\.spans\n\s+\(MODIFY TTL toDateTime\(start_time\) \+ toIntervalDay\(30\)\)/,
      /ALTER TABLE costs\.hourly_costs\n\s+\(MODIFY TTL hour \+ toIntervalDay\(800\)\)/,
    ],
  ],
  [
    'cluster + ttl',
    ['--cluster', 'prod-eu', ...TTL_FLAGS],
    [...CREATES, ...DISTRIBUTED, ...TTLS],
    [
      /ALTER TABLE costs\.spans_local ON CLUSTER `prod-eu`\n\s+\(MODIFY TTL toDateTime\(start_time\) \+ toIntervalDay\(30\)\)/,
      /ALTER TABLE costs\.task_costs_local ON CLUSTER `prod-eu`\n\s+\(MODIFY TTL toDateTime\(last_seen\) \+ toIntervalDay\(400\)\)/,
    ],
  ],
];

describe('migrate --print: every statement parses in ClickHouse', () => {
  let engine: Store;
  beforeAll(async () => {
    engine = await createStore({ dataDir: join(dir, 'parser') });
  });
  afterAll(async () => engine?.close());

  describe.each(VARIANTS)('%s', (_name, flags, files, expected) => {
    let printed: Array<[string, string]>;
    let formatted: string[];
    beforeAll(async () => {
      const r = await cli(['migrate', '--print', '--database', 'costs', ...flags, '--data', join(dir, 'never-created')]);
      expect(r.code, r.err).toBe(0);
      printed = statements(r.out);
      formatted = [];
      for (const [, sql] of printed) {
        // EXPLAIN AST parses without executing (no cluster, no ZooKeeper needed); formatQuery shows what was understood.
        const ast = await engine.query<{ explain: string }>(`EXPLAIN AST ${sql}`);
        expect(ast[0]?.explain).toMatch(/^(CreateQuery|AlterQuery)/);
        const [f] = await engine.query<{ q: string }>('SELECT formatQuery({sql:String}) AS q', { sql });
        formatted.push(f!.q);
      }
    });

    it('emits the files in order, one statement each, no template left', () => {
      expect(printed.map(([f]) => f)).toEqual(files);
      for (const [file, sql] of printed) {
        expect(sql, file).not.toMatch(/\{\{|;/);
      }
    });

    it.each(expected.map((r) => [r]))('the parsed DDL contains %s', (r) => {
      expect(formatted.join('\n\n')).toMatch(r);
    });
  });
});

describe('on a cluster the service and the reports use the Distributed tables', () => {
  it('every table the ingester writes or the reports read is Distributed over its *_local table, which the views feed', async () => {
    const src = (f: string) => readFileSync(new URL(`../src/${f}`, import.meta.url), 'utf8');
    const used = new Set([...`${src('reports/costs.ts')}\n${src('ingest/ingester.ts')}`.matchAll(/\$\{(?:db|this\.database)\}\.(\w+)/g)].map((m) => m[1]!));
    expect([...used].sort()).toEqual(['hourly_costs', 'spans', 'task_costs']);
    const ddl = statements((await cli(['migrate', '--print', '--cluster', 'c1', '--data', join(dir, 'never-created')])).out);
    for (const name of used) {
      const create = ddl.find(([, sql]) => sql.includes(`CREATE TABLE IF NOT EXISTS spendtrace.${name} `));
      expect(create?.[1], name).toMatch(new RegExp(`AS spendtrace\\.${name}_local\\nENGINE = Distributed\\('c1', 'spendtrace', '${name}_local', `));
    }
    const views = ddl.filter(([f]) => f.endsWith('-mv.sql')).map(([, sql]) => sql);
    expect(views.map((v) => [/TO spendtrace\.(\w+)/.exec(v)![1], /FROM spendtrace\.(\w+)/.exec(v)![1]])).toEqual([
      ['task_costs_local', 'spans_local'],
      ['hourly_costs_local', 'spans_local'],
    ]);
  });
});

describe('TTL options on a store that already exists', () => {
  it('--ttl-days, --task-ttl-days and --hourly-ttl-days alter the tables and expire old rows', async () => {
    const data = join(dir, 'existing');
    let store = await createStore({ dataDir: data });
    await migrate(store, { database: 'spendtrace' });
    const ago = (days: number) => ((Date.now() - days * 86_400_000) / 1000).toFixed(3);
    const row = (id: string, days: number) => ({
      trace_id: id.repeat(32),
      span_id: id.repeat(16),
      start_time: ago(days),
      end_time: ago(days),
      service_name: 'svc',
      kind: 'inference',
      task_id: `task-${id}`,
      provider: 'openai',
      request_model: 'gpt-4o-mini',
      input_tokens: 10,
      cost: '0.000001',
    });
    await store.insert('spendtrace.spans', [row('a', 60), row('b', 1)]);
    await store.close();

    const r = await cli(['migrate', '--data', data, '--ttl-days', '30', '--task-ttl-days', '30', '--hourly-ttl-days', '30']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/9 statements applied: creates are IF NOT EXISTS; TTL set on 3 tables/);

    store = await createStore({ dataDir: data });
    try {
      const tables = await store.query<{ name: string; q: string }>(
        "SELECT name, create_table_query AS q FROM system.tables WHERE database = 'spendtrace' AND name IN ('spans', 'task_costs', 'hourly_costs') ORDER BY name",
      );
      expect(tables.map((t) => [t.name, /TTL .*toIntervalDay\(30\)/.test(t.q)])).toEqual([
        ['hourly_costs', true],
        ['spans', true],
        ['task_costs', true],
      ]);
      // The TTL is materialized on the existing parts by a mutation that runs in the background.
      const counts = async () =>
        (
          await store.query<Record<string, string>>(`SELECT
          (SELECT count() FROM spendtrace.spans) AS spans,
          (SELECT count(DISTINCT task_id) FROM spendtrace.task_costs) AS tasks,
          (SELECT count(DISTINCT hour) FROM spendtrace.hourly_costs) AS hours`)
        )[0];
      const deadline = Date.now() + 20_000;
      const done = (c: Record<string, string> | undefined) => c?.spans === '1' && c.tasks === '1' && c.hours === '1';
      while (Date.now() < deadline && !done(await counts())) await new Promise((res) => setTimeout(res, 200));
      // Merges apply the TTL too, in case a mutation has not reached a rollup part yet.
      await store.command('OPTIMIZE TABLE spendtrace.task_costs FINAL');
      await store.command('OPTIMIZE TABLE spendtrace.hourly_costs FINAL');
      expect(await counts()).toEqual({ spans: '1', tasks: '1', hours: '1' });
    } finally {
      await store.close();
    }
  }, 60_000);
});
