// The write-ahead log read back while appends go on: the interleavings that lost acknowledged
// records in the kill -9 harness, made deterministic. `readFile` is wrapped so a test can run
// appends between the moment a segment's bytes were read and the moment the reader sees them,
// which is what happens on a loaded machine when the drainer catches up after a restart.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Pricer } from '@spendtrace/semconv';
import { createStore, decodeJsonRequest, Ingester, migrate, requestToRows, WriteAheadLog, type SpanRow, type Store } from '../src/index.ts';
import { goodBody } from './support/ledger-load.ts';

const hook: { afterRead?: (path: string) => Promise<void> } = {};
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const readFile = (async (...args: Parameters<typeof real.readFile>) => {
    const buf = await real.readFile(...args);
    const h = hook.afterRead;
    if (h && typeof args[0] === 'string') await h(args[0]);
    return buf;
  }) as typeof real.readFile;
  return { ...real, default: { ...real, readFile }, readFile };
});

const dirs: string[] = [];
let store: Store;
beforeAll(async () => {
  store = await createStore({ dataDir: tmp() });
});
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'spendtrace-wal-races-'));
  dirs.push(d);
  return d;
};
afterAll(async () => {
  hook.afterRead = undefined;
  await store?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const record = (i: number) => Array.from({ length: 40 }, (_, k) => `${i}-${k}-padding-to-make-a-record-of-some-size`);

describe('WriteAheadLog.read while appends go on', () => {
  it('never skips records that landed in a segment after its bytes were read, when a newer segment exists by then', async () => {
    const wal = await WriteAheadLog.open<string[]>({ dir: tmp(), segmentBytes: 8 * 1024, maxBytes: 64 * 1024 * 1024 });
    // Segment A holds lsn 1..3 when the reader takes its bytes.
    for (let i = 1; i <= 3; i++) await wal.append(record(i));
    let fired = false;
    hook.afterRead = async () => {
      if (fired) return;
      fired = true;
      // Before the reader looks at A's (stale) bytes: more records fill A and roll over to B.
      const before = (await wal.files()).length;
      let i = 4;
      while ((await wal.files()).length === before) await wal.append(record(i++));
      await wal.append(record(i));
    };
    const got = (await wal.read(1, 1 << 30)).map((r) => r.lsn);
    hook.afterRead = undefined;
    expect(fired).toBe(true);
    expect(wal.durableLsn).toBeGreaterThan(got.length);
    // A contiguous run from lsn 1: the reader may stop early, never jump.
    expect(got).toEqual(Array.from({ length: got.length }, (_, k) => k + 1));
    // And what it left is read next, from where it stopped.
    const rest = (await wal.read(got.length + 1, 1 << 30)).map((r) => r.lsn);
    expect([...got, ...rest]).toEqual(Array.from({ length: wal.durableLsn }, (_, k) => k + 1));
    await wal.close();
  });
});

describe('WriteAheadLog.open', () => {
  it('a checkpoint older than the first segment (its rename lost) replays from that segment instead of waiting for records long deleted', async () => {
    const dir = tmp();
    const wal = await WriteAheadLog.open<string[]>({ dir, segmentBytes: 8 * 1024 });
    for (let i = 1; i <= 6; i++) await wal.append(record(i));
    const names = readdirSync(dir)
      .filter((n) => n.endsWith('.wal'))
      .sort();
    expect(names.length).toBeGreaterThan(1);
    await wal.checkpoint(Number(names[1]!.slice(0, 20)) - 1);
    await wal.close();
    expect(readdirSync(dir).filter((n) => n.endsWith('.wal'))).toEqual(names.slice(1));
    writeFileSync(join(dir, 'checkpoint'), '0\n');
    const again = await WriteAheadLog.open<string[]>({ dir, segmentBytes: 8 * 1024 });
    const first = Number(names[1]!.slice(0, 20));
    expect(again.checkpointLsn).toBe(first - 1);
    expect((await again.read(again.checkpointLsn + 1, 1 << 30)).map((r) => r.lsn)).toEqual(Array.from({ length: 7 - first }, (_, k) => first + k));
    await again.close();
  });
});

describe('catching up after a kill -9 while requests keep coming', () => {
  it('stores every acknowledged span once when the log rolls over to a new segment during the catch-up read (real chDB)', async () => {
    const db = 'spendtrace_catchup';
    await migrate(store, { database: db });
    const dir = tmp();
    const pricer = new Pricer();
    const req = (n: number) => decodeJsonRequest(Buffer.from(goodBody(n).text));
    // The process before the kill: 2 requests fsync'ed (acknowledged), not in the store yet, in a
    // segment with room for 2 more (a record is ~5 KB).
    const before = await WriteAheadLog.open<SpanRow[]>({ dir, segmentBytes: 16 * 1024 });
    for (let i = 0; i < 2; i++) await before.append(requestToRows(req(5), pricer).rows);
    await before.close();
    let acknowledged = 10;

    const ingester = new Ingester({ store, pricer, database: db, wal: { dir, segmentBytes: 16 * 1024 }, writerId: 'catchup', batch: { maxBatchAgeMs: 10 } });
    let started = false;
    let fired = false;
    hook.afterRead = async (path) => {
      if (!started || fired || !path.endsWith('.wal')) return;
      fired = true;
      // The clients' retries arrive while the drainer holds the log's old bytes: their records
      // fill the segment and start a new one before the drainer looks at what it read.
      const segments = () => readdirSync(dir).filter((n) => n.endsWith('.wal')).length;
      const at = segments();
      while (segments() === at) {
        await ingester.ingest(req(5));
        acknowledged += 5;
      }
      await ingester.ingest(req(5));
      acknowledged += 5;
    };
    expect(await ingester.start()).toBe(2);
    started = true;
    await new Promise((r) => setTimeout(r, 200));
    await ingester.flush();
    hook.afterRead = undefined;
    expect(fired).toBe(true);
    const [t] = await store.query<{ n: string; u: string; calls: string }>(
      `SELECT (SELECT count() FROM ${db}.spans) n, (SELECT uniqExact(trace_id, span_id) FROM ${db}.spans) u, (SELECT sum(llm_calls) FROM ${db}.task_costs) calls`,
    );
    expect(t).toEqual({ n: String(acknowledged), u: String(acknowledged), calls: String(acknowledged) });
    expect(await ingester.close()).toBe(0);
  });
});
