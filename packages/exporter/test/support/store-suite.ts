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
