// Proves the Batcher sends by size and by age, retries a failed batch with backoff under the same dedup token (so nothing is lost or doubled), and refuses new rows only when its bounded buffer is full.
import { describe, expect, it } from 'vitest';
import { Batcher, type Store } from '../src/index.ts';

class FakeStore implements Store {
  readonly kind = 'chdb' as const;
  inserts: Array<{ rows: object[]; token: string | undefined }> = [];
  failNext = 0;
  async ping() {}
  async query<T>(): Promise<T[]> { return []; }
  async command() {}
  async close() {}
  async insert(_table: string, rows: object[], opts?: { dedupToken?: string }) {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('store down');
    }
    this.inserts.push({ rows, token: opts?.dedupToken });
  }
}
const rows = (from: number, count: number) => Array.from({ length: count }, (_, i) => ({ id: String(from + i) }));

describe('Batcher', () => {
  it('seals a batch at maxBatchRows and inserts in order', async () => {
    const store = new FakeStore();
    const b = new Batcher<{ id: string }>({ store, table: 't', keyOf: (r) => r.id, maxBatchRows: 3, maxBatchAgeMs: 10_000 });
    b.add(rows(0, 7));
    await b.flush();
    expect(store.inserts.map((i) => i.rows.length)).toEqual([3, 3, 1]);
    expect(store.inserts.flatMap((i) => i.rows.map((r) => (r as { id: string }).id))).toEqual(rows(0, 7).map((r) => r.id));
    expect(b.pendingRows).toBe(0);
  });

  it('sends a partial batch after maxBatchAgeMs without a flush', async () => {
    const store = new FakeStore();
    const b = new Batcher<{ id: string }>({ store, table: 't', keyOf: (r) => r.id, maxBatchAgeMs: 20 });
    b.add(rows(0, 2));
    expect(store.inserts).toHaveLength(0);
    await new Promise((r) => setTimeout(r, 80));
    expect(store.inserts).toHaveLength(1);
  });

  it('retries a failed insert with the same token, keeps the rows, and reports unhealthy meanwhile', async () => {
    const store = new FakeStore();
    store.failNext = 3;
    const errors: number[] = [];
    const b = new Batcher<{ id: string }>({ store, table: 't', keyOf: (r) => r.id, maxBufferedRows: 4, retryInitialMs: 5, retryMaxMs: 20,
      onError: (_e, i) => errors.push(i.retryInMs) });
    b.add(rows(0, 3));
    const done = b.flush();
    await new Promise((r) => setTimeout(r, 1));
    expect(b.healthy).toBe(false);
    expect(b.canAccept(1)).toBe(true);
    expect(b.canAccept(2)).toBe(false);
    await done;
    expect(errors).toEqual([5, 10, 20]);
    expect(store.inserts).toHaveLength(1);
    expect(store.inserts[0]!.token).toMatch(/^spendtrace-[0-9a-f]{64}$/);
    expect(b.healthy).toBe(true);
    expect(b.insertedRows).toBe(3);
  });

  it('gives the same rows the same token and different rows another', async () => {
    const store = new FakeStore();
    const b = new Batcher<{ id: string }>({ store, table: 't', keyOf: (r) => r.id });
    b.add(rows(0, 2)); await b.flush();
    b.add(rows(0, 2)); await b.flush();
    b.add(rows(5, 2)); await b.flush();
    expect(store.inserts[0]!.token).toBe(store.inserts[1]!.token);
    expect(store.inserts[2]!.token).not.toBe(store.inserts[0]!.token);
  });

  it('close gives up on a store that stays down and says how many rows were left', async () => {
    const store = new FakeStore();
    store.failNext = 1e9;
    const b = new Batcher<{ id: string }>({ store, table: 't', keyOf: (r) => r.id, retryInitialMs: 5 });
    b.add(rows(0, 4));
    await expect(b.close(50)).resolves.toBe(4);
    expect(b.canAccept(1)).toBe(false);
  });
});
