/**
 * One ingest measurement in a fresh process with its own chDB data directory (chDB binds one per
 * process). Variants:
 *   service   OTLP/HTTP protobuf bodies POSTed over loopback to `startServer` (decode, classify,
 *             normalize, price, replay filter, batch, insert); timed from the first POST until
 *             `flush()` says every row is inserted, then the rows are counted in spans and rollups.
 *   raw       the same rows (made beforehand, untimed) inserted straight through the Store in
 *             batches of the Batcher's size: the floor set by chDB and the materialized views.
 *   pipeline  CPU time of decode alone, and of decode + classify + price (requestToRows), per span,
 *             with no HTTP and no store.
 * Prints one JSON line (see harness.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pricer } from '@spendtrace/semconv';
import { createStore, decodeProtobufRequest, migrate, requestToRows, startServer, type SpanRow, type Store } from '@spendtrace/exporter';
import { arg, cpuMicros, report } from './harness.ts';
import { CALLS_PER_TASK, readRequests, SPANS_PER_TASK } from './otlp-requests.ts';

const DB = 'spendtrace';
/** The Batcher's default rows per insert, so raw inserts are shaped like the service's. */
const BATCH_ROWS = 5000;

const variant = arg('variant');
const bodies = readRequests(arg('requests'));
const warmBodies = Number(arg('warm', '4'));
const concurrency = Number(arg('concurrency', '4'));

function spansIn(body: Buffer): number {
  let n = 0;
  for (const rs of decodeProtobufRequest(body).resourceSpans) for (const ss of rs.scopeSpans) n += ss.spans.length;
  return n;
}

async function counts(store: Store): Promise<{ spans: number; calls: number; tasks: number }> {
  const [s] = await store.query<{ n: string }>(`SELECT count() AS n FROM ${DB}.spans`);
  const [h] = await store.query<{ n: string }>(`SELECT sum(calls) AS n FROM ${DB}.hourly_costs WHERE kind = 'inference'`);
  const [t] = await store.query<{ n: string }>(`SELECT count(DISTINCT task_id) AS n FROM ${DB}.task_costs`);
  return { spans: Number(s?.n ?? 0), calls: Number(h?.n ?? 0), tasks: Number(t?.n ?? 0) };
}

/** Every span made it into spans, and every chat call and task into the rollups. */
function verify(got: { spans: number; calls: number; tasks: number }, totalSpans: number): void {
  const tasks = totalSpans / SPANS_PER_TASK;
  const want = { spans: totalSpans, calls: tasks * CALLS_PER_TASK, tasks };
  if (got.spans !== want.spans || got.calls !== want.calls || got.tasks !== want.tasks) {
    throw new Error(`row check failed: got ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
  }
}

async function withStore<T>(fn: (store: Store) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'spendtrace-bench-'));
  const store = await createStore({ dataDir: dir });
  try {
    await migrate(store, { database: DB });
    return await fn(store);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function service(): Promise<Record<string, number>> {
  return withStore(async (store) => {
    const server = await startServer({ port: 0, store, database: DB, pricer: new Pricer(), log: (l) => process.stderr.write(`${l}\n`) });
    const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
    let retries = 0;
    const post = (body: Buffer): Promise<void> =>
      new Promise((resolve, reject) => {
        const req = request(`${server.url}/v1/traces`, { method: 'POST', agent, headers: { 'content-type': 'application/x-protobuf', 'content-length': body.length } }, (res) => {
          res.resume();
          res.on('end', () => {
            if (res.statusCode === 200) resolve();
            else if (res.statusCode === 429 || res.statusCode === 503) {
              retries++;
              setTimeout(() => post(body).then(resolve, reject), 20);
            } else reject(new Error(`POST /v1/traces answered ${res.statusCode}`));
          });
        });
        req.on('error', reject);
        req.end(body);
      });
    const sendAll = async (list: Buffer[]) => {
      let next = 0;
      await Promise.all(Array.from({ length: concurrency }, async () => {
        while (next < list.length) await post(list[next++]!);
      }));
    };
    const warm = bodies.slice(0, warmBodies);
    const timed = bodies.slice(warmBodies);
    await sendAll(warm);
    await server.flush();
    const spans = timed.reduce((n, b) => n + spansIn(b), 0);
    const cpu0 = cpuMicros();
    const t0 = performance.now();
    await sendAll(timed);
    await server.flush();
    const ms = performance.now() - t0;
    const cpu = cpuMicros() - cpu0;
    agent.destroy();
    await server.close();
    verify(await counts(store), bodies.reduce((n, b) => n + spansIn(b), 0));
    return { spans, ms, spansPerSec: (spans / ms) * 1000, cpuUsPerSpan: cpu / spans, retries };
  });
}

async function raw(): Promise<Record<string, number>> {
  const pricer = new Pricer();
  const rowsOf = (list: Buffer[]) => list.flatMap((b) => requestToRows(decodeProtobufRequest(b), pricer).rows);
  const batches = (rows: SpanRow[]) => {
    const out: SpanRow[][] = [];
    for (let i = 0; i < rows.length; i += BATCH_ROWS) out.push(rows.slice(i, i + BATCH_ROWS));
    return out;
  };
  return withStore(async (store) => {
    const warm = rowsOf(bodies.slice(0, warmBodies));
    const timed = rowsOf(bodies.slice(warmBodies));
    let token = 0;
    // Same settings as the service's inserts: a deduplication token that reaches the views.
    const insert = async (rows: SpanRow[]) => {
      for (const b of batches(rows)) await store.insert(`${DB}.spans`, b, { dedupToken: `bench-raw-${token++}` });
    };
    await insert(warm);
    const cpu0 = cpuMicros();
    const t0 = performance.now();
    await insert(timed);
    const ms = performance.now() - t0;
    const cpu = cpuMicros() - cpu0;
    verify(await counts(store), warm.length + timed.length);
    return { spans: timed.length, ms, spansPerSec: (timed.length / ms) * 1000, cpuUsPerSpan: cpu / timed.length };
  });
}

async function pipeline(): Promise<Record<string, number>> {
  const pricer = new Pricer();
  const spans = bodies.reduce((n, b) => n + spansIn(b), 0);
  // Warm-up: JIT and the pricer's model cache, as in a service that has been running.
  for (const b of bodies.slice(0, warmBodies * 4)) requestToRows(decodeProtobufRequest(b), pricer);
  let sink = 0;
  let c0 = cpuMicros();
  for (const b of bodies) sink += decodeProtobufRequest(b).resourceSpans.length;
  const decodeCpu = cpuMicros() - c0;
  c0 = cpuMicros();
  for (const b of bodies) sink += requestToRows(decodeProtobufRequest(b), pricer).rows.length;
  const rowsCpu = cpuMicros() - c0;
  if (sink === 0) throw new Error('nothing decoded');
  return { spans, decodeUsPerSpan: decodeCpu / spans, decodeClassifyPriceUsPerSpan: rowsCpu / spans };
}

const run = { service, raw, pipeline }[variant];
if (!run) throw new Error(`unknown variant ${variant}`);
report(await run());
