/**
 * The Store contract suite (query with bound params, exact Decimal reads, dedup-token inserts through
 * the MVs, typed errors, the TTL schema), shared by every backend: store.test.ts runs it on chDB (and
 * on CLICKHOUSE_URL when set), clickhouse-server.test.ts on a ClickHouseStore over HTTP.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePico } from '@spendtrace/semconv';
import { migrate, StoreError, type Store } from '../../src/index.ts';
import { SPAN_COLUMNS, type SpanRow } from '../../src/ingest/span-row.ts';

/** `open` gets a fresh temporary directory (removed after the suite) for backends that need one. */
export function describeStoreSuite(kind: string, open: (dir: string) => Promise<Store>): void {
  describe(`Store on ${kind}`, () => {
    let dir = '';
    let store: Store;
    // Unique per run, so a shared server keeps runs apart.
    const db = `spendtrace_store_test_${process.pid}_${Date.now() % 100000}`;
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'spendtrace-store-'));
      store = await open(dir);
      await migrate(store, { database: db });
    });
    afterAll(async () => {
      await store.command(`DROP DATABASE IF EXISTS ${db}`).catch(() => undefined);
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('pings', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });

    it('migrate is idempotent and can be switched off', async () => {
      await expect(migrate(store, { database: db })).resolves.toHaveLength(6);
      await expect(migrate(store, { database: db, createSchema: false })).resolves.toEqual([]);
      const tables = await store.query<{ name: string }>('SELECT name FROM system.tables WHERE database = {db:String} ORDER BY name', { db });
      expect(tables.map((t) => t.name)).toEqual(['hourly_costs', 'hourly_costs_mv', 'spans', 'task_costs', 'task_costs_mv']);
    });

    const row = (spanId: string, cost: string, extra: object = {}) => ({
      trace_id: 'a'.repeat(32),
      span_id: spanId,
      start_time: '1750000000.123456789',
      end_time: '1750000001.000000001',
      duration_ns: '876543212',
      service_name: 'svc',
      kind: 'inference',
      task_id: 't1',
      provider: 'openai',
      request_model: 'gpt-4o',
      input_tokens: 1000,
      output_tokens: 10,
      cost,
      attributes: { 'x.y': 'z' },
      ...extra,
    });

    it('inserts exact Decimals and reads them back as strings; a repeated dedup token changes nothing', async () => {
      const batch = [row('0000000000000001', '0.000000000001'), row('0000000000000002', '12345678.123456789012')];
      await store.insert(`${db}.spans`, batch, { dedupToken: 'batch-1' });
      await store.insert(`${db}.spans`, batch, { dedupToken: 'batch-1' });
      const spans = await store.query<{ n: string; total: string; t: string }>(
        `SELECT count() AS n, toString(sum(cost)) AS total, toString(min(start_time)) AS t FROM ${db}.spans WHERE task_id = {task:String}`,
        { task: 't1' },
      );
      expect(spans).toEqual([{ n: '2', total: '12345678.123456789013', t: '2025-06-15 15:06:40.123456789' }]);
      const tasks = await store.query<{ cost: string; llm_calls: string }>(
        `SELECT sum(cost) AS cost, sum(llm_calls) AS llm_calls FROM ${db}.task_costs WHERE task_id = 't1'`,
      );
      expect(parsePico(tasks[0]!.cost)).toBe(12_345_678_123_456_789_013n);
      expect(tasks[0]!.llm_calls).toBe('2');
      const hourly = await store.query<{ cost: string; calls: string }>(`SELECT sum(cost) AS cost, sum(calls) AS calls FROM ${db}.hourly_costs`);
      expect(hourly).toEqual([{ cost: '12345678.123456789013', calls: '2' }]);
    });

    it('a different token inserts again (the token, not the content, decides)', async () => {
      await store.insert(`${db}.spans`, [row('0000000000000003', '1', { task_id: 't2' })], { dedupToken: 'batch-2' });
      await store.insert(`${db}.spans`, [row('0000000000000003', '1', { task_id: 't2' })], { dedupToken: 'batch-3' });
      const r = await store.query<{ n: string }>(`SELECT count() AS n FROM ${db}.spans WHERE task_id = 't2'`);
      expect(r[0]!.n).toBe('2');
    });

    it("insertColumns (the span writer's bulk format) stores exactly what insert stores, edge values included", async () => {
      const full = (spanId: string, extra: Partial<SpanRow>): SpanRow => ({
        trace_id: 'b'.repeat(32),
        span_id: spanId,
        parent_span_id: '',
        start_time: '1750000000.000000001',
        end_time: '1750000000.999999999',
        duration_ns: '999999998',
        service_name: 'svc',
        span_name: 'chat gpt-4o',
        span_kind: 'client',
        kind: 'inference',
        task_id: 'bulk',
        task_name: 'résumé ✓',
        agent_name: '',
        user_id: 'u'.repeat(300),
        tool_name: '',
        operation: 'chat',
        provider: 'openai',
        request_model: 'gpt-4o',
        response_model: 'gpt-4o-2024-08-06',
        input_tokens: 2 ** 53 - 1,
        output_tokens: 0,
        cache_read_tokens: 3,
        cache_write_tokens: 4,
        reasoning_tokens: 5,
        cost: '0.000000000000',
        cost_input: '0.000000000001',
        cost_output: '12345678901234567890123456.123456789012',
        cost_cache_read: '-1.500000000000',
        cost_cache_write: '999.999999999999',
        cost_reasoning: '0.000000000000',
        cost_source: 'exporter',
        unpriced: 0,
        usage_estimated: 1,
        pricing_version: 'v1',
        status_code: 'error',
        error_type: 'tab\there\nnewline \\ quote\' "dq"',
        outcome: '',
        retry_attempt: 65535,
        request_repeat: 1,
        request_hash: 'h',
        attributes: { 'a.b': 'x'.repeat(200), emoji: '😀 \u0000 nul', '': 'empty key' },
        resource_attributes: {},
        ...extra,
      });
      const rows = [
        full('1000000000000001', {}),
        full('1000000000000002', { start_time: '1000000000.000000000', end_time: '4102444800.123456789', duration_ns: '18446744073709551615', attributes: {} }),
      ];
      await store.command(`CREATE TABLE ${db}.bulk_a AS ${db}.spans ENGINE = MergeTree ORDER BY span_id`);
      await store.command(`CREATE TABLE ${db}.bulk_b AS ${db}.spans ENGINE = MergeTree ORDER BY span_id`);
      await store.insert(`${db}.bulk_a`, rows);
      await store.insertColumns(`${db}.bulk_b`, SPAN_COLUMNS, rows);
      const read = (t: string) => store.query(`SELECT * EXCEPT ingested_at FROM ${db}.${t} ORDER BY span_id`);
      const a = await read('bulk_a');
      expect(a).toHaveLength(2);
      expect(await read('bulk_b')).toEqual(a);
      expect(a[0]!.cost_output).toBe('12345678901234567890123456.123456789012');
      expect(a[0]!.cost_cache_read).toBe('-1.5');
      expect(a[1]!.duration_ns).toBe('18446744073709551615');
      // With a dedup token the rollups fill too, exactly.
      await store.insertColumns(`${db}.spans`, SPAN_COLUMNS, [full('1000000000000003', { cost: '0.000000000007', task_id: 'bulk-mv' })], {
        dedupToken: 'bulk-1',
      });
      await store.insertColumns(`${db}.spans`, SPAN_COLUMNS, [full('1000000000000003', { cost: '0.000000000007', task_id: 'bulk-mv' })], {
        dedupToken: 'bulk-1',
      });
      const t = await store.query<{ cost: string; n: string }>(
        `SELECT toString(sum(cost)) AS cost, toString(sum(llm_calls)) AS n FROM ${db}.task_costs WHERE task_id = 'bulk-mv'`,
      );
      expect(t).toEqual([{ cost: '0.000000000007', n: '1' }]);
      await store.command(`DROP TABLE ${db}.bulk_a`);
      await store.command(`DROP TABLE ${db}.bulk_b`);
    });

    it('SPAN_COLUMNS is spans-table.sql: every column but ingested_at, in order, each of its type', async () => {
      const cols = await store.query<{ name: string; type: string }>(
        `SELECT name, type FROM system.columns WHERE database = {db:String} AND table = 'spans' ORDER BY position`,
        { db },
      );
      const plain = (t: string) => t.replace(/LowCardinality\((\w+)\)/g, '$1');
      expect(cols.filter((c) => c.name !== 'ingested_at').map((c) => [c.name, plain(c.type)])).toEqual(SPAN_COLUMNS.map((c) => [c.name, c.type]));
    });

    it('fails with a typed StoreError that keeps the cause and hides the SQL by default', async () => {
      const err = await store.query('SELECT * FROM no_such_db.no_such_table WHERE secret = 1').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect((err as StoreError).code).toBe('SPENDTRACE_STORE_QUERY');
      expect((err as StoreError).cause).toBeDefined();
      expect((err as StoreError).message).not.toContain('secret');
      // The engine quotes the query in some messages ("... in scope SELECT ..."): values stay out.
      const quoted = await store.query("SELECT no_such_column FROM system.one WHERE 'hunter2' != ''").catch((e: unknown) => e);
      expect((quoted as StoreError).code).toBe('SPENDTRACE_STORE_QUERY');
      expect((quoted as StoreError).message).toMatch(/no_such_column|UNKNOWN_IDENTIFIER|47/);
      expect((quoted as StoreError).message).not.toContain('hunter2');
      const ins = await store.insert(`${db}.no_table`, [{ a: 1 }]).catch((e: unknown) => e);
      expect((ins as StoreError).code).toBe('SPENDTRACE_STORE_INSERT');
    });

    it('applies the TTL variant of the schema too', async () => {
      await expect(migrate(store, { database: `${db}_ttl`, ttlDays: 30, taskTtlDays: 90, hourlyTtlDays: 365 })).resolves.toHaveLength(9); // 6 creates + one ALTER ... MODIFY TTL per table
      await store.command(`DROP DATABASE IF EXISTS ${db}_ttl`);
    });
  });
}
