// Proves that reads cannot starve writes on the embedded store: with reports running and queued,
// an insert (and a write-lane query) is served at once, reads run one at a time, and every result
// stays exact. On the real chDB engine; ordering of completions, not timings, is asserted.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChdbStore } from '../src/store/index.ts';

// ~2 s of engine time per read: long enough that "the write finished while it ran" is not luck.
const SLOW_READ = `SELECT 'lane-probe' AS m, sum(sleepEachRow(0.05)) AS z, count() AS n FROM numbers(40) SETTINGS max_block_size = 1`;
const RUNNING_PROBES = `SELECT count() AS n FROM system.processes WHERE query LIKE '%lane-probe%' AND query NOT LIKE '%system.processes%'`;

describe('chDB store: writes never wait behind reads', () => {
  let dir: string;
  let store: ChdbStore;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spendtrace-lanes-'));
    store = await ChdbStore.open({ dataDir: dir });
    await store.command('CREATE TABLE default.lane_rows (x UInt32, cost Decimal(38, 12)) ENGINE = MergeTree ORDER BY x');
  });
  afterAll(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('an insert issued behind a running read and two queued reads completes before any of them; reads run one at a time', async () => {
    const done: string[] = [];
    const reads = [0, 1, 2].map((i) =>
      store.query<{ z: string; n: string }>(SLOW_READ).then((r) => {
        done.push(`read-${i}`);
        return r;
      }),
    );
    const running = () => store.query<{ n: string }>(RUNNING_PROBES, undefined, { lane: 'write' }).then((r) => Number(r[0]!.n));

    // Wait (on the write lane) until the first read is running in the engine.
    let seen = 0;
    while (seen === 0 && done.length === 0) seen = await running();
    expect(seen).toBe(1);

    await store.insert('default.lane_rows', [
      { x: 1, cost: '0.000000000001' },
      { x: 2, cost: '123456789.123456789012' },
    ]);
    done.push('insert');
    const [row] = await store.query<{ n: string; total: string }>('SELECT count() AS n, toString(sum(cost)) AS total FROM default.lane_rows', undefined, {
      lane: 'write',
    });
    done.push('write-query');
    expect(row).toEqual({ n: '2', total: '123456789.123456789013' });

    // While reads remain, never more than one of them is in the engine at a time.
    let most = seen;
    while (done.filter((d) => d.startsWith('read-')).length < 3) most = Math.max(most, await running());
    const results = await Promise.all(reads);

    expect(done).toEqual(['insert', 'write-query', 'read-0', 'read-1', 'read-2']);
    expect(most).toBe(1);
    for (const r of results) expect(r).toEqual([{ m: 'lane-probe', z: '0', n: '40' }]);
  });

  it('a read started after a write settled sees it (the lanes share one engine)', async () => {
    await store.insert('default.lane_rows', [{ x: 3, cost: '1' }]);
    const [row] = await store.query<{ n: string }>('SELECT count() AS n FROM default.lane_rows');
    expect(row!.n).toBe('3');
  });

  it('close() waits for both lanes, then refuses', async () => {
    const other = await ChdbStore.open({ dataDir: dir });
    const read = other.query<{ n: string }>('SELECT sum(sleepEachRow(0.05)) AS z FROM numbers(10) SETTINGS max_block_size = 1');
    const write = other.insert('default.lane_rows', [{ x: 4, cost: '2' }]);
    await other.close();
    await expect(read).resolves.toHaveLength(1);
    await expect(write).resolves.toBeUndefined();
    await expect(other.query('SELECT 1')).rejects.toMatchObject({ code: 'SPENDTRACE_STORE_CLOSED' });
    await expect(other.insert('default.lane_rows', [{ x: 5, cost: '1' }])).rejects.toMatchObject({ code: 'SPENDTRACE_STORE_CLOSED' });
  });
});
