/**
 * Exporter ingest, one variant per process with its own chDB data directory (chDB binds one per
 * process), driven block by block by harness.ts `runInterleaved`. The request file holds a warm-up
 * chunk and then one chunk of OTLP bodies per block, so every block ingests spans never seen before.
 * Variants:
 *   service   the chunk's OTLP/HTTP protobuf bodies POSTed over loopback to `startServer` (decode,
 *             classify, normalize, price, replay filter, batch, insert), 4 in flight on keep-alive;
 *             timed from the first POST until `flush()` says every row is inserted.
 *   service-log  the same as service with the write-ahead log on (each answer waits for its
 *             rows to be fsync'ed, group commit), as `spendtrace serve` runs: the cost of durability
 *             is service-log against service, measured in the same run.
 *   raw       the same rows (made in set-up, untimed) inserted straight through the Store in
 *             batches of the Batcher's size with a deduplication token, as the service inserts:
 *             the floor set by chDB and the materialized views.
 *   pipeline  CPU time of protobuf decode alone, and of decode + classify + price (requestToRows),
 *             per span, with no HTTP and no store.
 * After each block (untimed) service and raw count the rows in spans and both rollups and fail
 * the variant if any span, call or task is missing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pricer } from '@spendtrace/semconv';
import { createStore, decodeProtobufRequest, migrate, requestToRows, startServer, type SpanRow, type Store } from '@spendtrace/exporter';
import { arg, cpuMicros, serveBlocks, type Sample } from './harness.ts';
import { readRequests } from './otlp-requests.ts';

const DB = 'spendtrace';
/** The Batcher's default rows per insert, so raw inserts are shaped like the service's. */
const BATCH_ROWS = 5000;

const variant = arg('variant');
const bodiesPerBlock = Number(arg('bodies-per-block', '10'));
const concurrency = Number(arg('concurrency', '4'));

interface Chunk {
  bodies: Buffer[];
  spans: number;
  chatSpans: number;
  traceIds: Set<string>;
}

/** The file's bodies in chunks: the first for warm-up, then one per block. */
function chunks(): Chunk[] {
  const all = readRequests(arg('requests'));
  const out: Chunk[] = [];
  for (let i = 0; i + bodiesPerBlock <= all.length; i += bodiesPerBlock) {
    const c: Chunk = { bodies: all.slice(i, i + bodiesPerBlock), spans: 0, chatSpans: 0, traceIds: new Set() };
    for (const b of c.bodies) {
      for (const rs of decodeProtobufRequest(b).resourceSpans) {
        for (const ss of rs.scopeSpans) {
          for (const s of ss.spans) {
            c.spans++;
            if (s.name.startsWith('chat ')) c.chatSpans++;
            c.traceIds.add(s.traceId);
          }
        }
      }
    }
    out.push(c);
  }
  return out;
}

/** Checks that every span sent so far is in spans, every chat call in hourly_costs and every task in task_costs. */
function verifier(store: Store) {
  const want = { spans: 0, calls: 0, tasks: new Set<string>() };
  return async (c: Chunk) => {
    want.spans += c.spans;
    want.calls += c.chatSpans;
    for (const t of c.traceIds) want.tasks.add(t);
    const [s] = await store.query<{ n: string }>(`SELECT count() AS n FROM ${DB}.spans`);
    const [h] = await store.query<{ n: string }>(`SELECT sum(calls) AS n FROM ${DB}.hourly_costs WHERE kind = 'inference'`);
    const [t] = await store.query<{ n: string }>(`SELECT count(DISTINCT task_id) AS n FROM ${DB}.task_costs`);
    const got = { spans: Number(s?.n ?? 0), calls: Number(h?.n ?? 0), tasks: Number(t?.n ?? 0) };
    if (got.spans !== want.spans || got.calls !== want.calls || got.tasks !== want.tasks.size) {
      throw new Error(`row check failed: got ${JSON.stringify(got)}, expected spans ${want.spans}, calls ${want.calls}, tasks ${want.tasks.size}`);
    }
  };
}

async function openStore(): Promise<Store> {
  const dir = mkdtempSync(join(tmpdir(), 'spendtrace-bench-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const store = await createStore({ dataDir: dir });
  await migrate(store, { database: DB });
  return store;
}

type Prepared = { block: () => Promise<Sample> } | { unavailable: string };

/** Hands out chunk 1, 2, ... (chunk 0 is the warm-up); a block past the end is an error, not a replay. */
function nextChunk(list: Chunk[]) {
  let i = 1;
  return () => {
    const c = list[i++];
    if (!c) throw new Error(`request file has only ${list.length - 1} blocks of ${bodiesPerBlock} bodies`);
    return c;
  };
}

async function service(withLog = false): Promise<Prepared> {
  const list = chunks();
  const store = await openStore();
  const walDir = mkdtempSync(join(tmpdir(), 'spendtrace-bench-wal-'));
  process.on('exit', () => rmSync(walDir, { recursive: true, force: true }));
  const server = await startServer({
    port: 0,
    store,
    database: DB,
    pricer: new Pricer(),
    log: (l) => process.stderr.write(`${l}\n`),
    ...(withLog ? { ingest: { wal: { dir: walDir } } } : {}),
  });
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  let retries = 0;
  const post = (body: Buffer): Promise<void> =>
    new Promise((resolve, reject) => {
      const req = request(
        `${server.url}/v1/traces`,
        { method: 'POST', agent, headers: { 'content-type': 'application/x-protobuf', 'content-length': body.length } },
        (res) => {
          res.resume();
          res.on('end', () => {
            if (res.statusCode === 200) resolve();
            else if (res.statusCode === 429 || res.statusCode === 503) {
              // Backpressure is part of the service: wait and resend, as the OTLP exporters do.
              retries++;
              setTimeout(() => post(body).then(resolve, reject), 20);
            } else reject(new Error(`POST /v1/traces answered ${res.statusCode}`));
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const send = async (c: Chunk) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < c.bodies.length) await post(c.bodies[next++]!);
      }),
    );
    await server.flush();
  };
  const verify = verifier(store);
  await send(list[0]!);
  await verify(list[0]!);
  const take = nextChunk(list);
  return {
    block: async () => {
      const c = take();
      const retries0 = retries;
      const cpu0 = cpuMicros();
      const t0 = performance.now();
      await send(c);
      const ms = performance.now() - t0;
      const cpu = cpuMicros() - cpu0;
      await verify(c);
      return { spans: c.spans, ms, spansPerSec: (c.spans / ms) * 1000, cpuUsPerSpan: cpu / c.spans, retries: retries - retries0 };
    },
  };
}

async function raw(): Promise<Prepared> {
  const list = chunks();
  const pricer = new Pricer();
  const rows = list.map((c) => c.bodies.flatMap((b) => requestToRows(decodeProtobufRequest(b), pricer).rows));
  const store = await openStore();
  let token = 0;
  const insert = async (r: SpanRow[]) => {
    for (let i = 0; i < r.length; i += BATCH_ROWS) {
      await store.insert(`${DB}.spans`, r.slice(i, i + BATCH_ROWS), { dedupToken: `bench-raw-${token++}` });
    }
  };
  const verify = verifier(store);
  await insert(rows[0]!);
  await verify(list[0]!);
  const take = nextChunk(list);
  return {
    block: async () => {
      const c = take();
      const r = rows[list.indexOf(c)]!;
      const cpu0 = cpuMicros();
      const t0 = performance.now();
      await insert(r);
      const ms = performance.now() - t0;
      const cpu = cpuMicros() - cpu0;
      await verify(c);
      return { spans: r.length, ms, spansPerSec: (r.length / ms) * 1000, cpuUsPerSpan: cpu / r.length };
    },
  };
}

async function pipeline(): Promise<Prepared> {
  const list = chunks();
  const pricer = new Pricer();
  // Warm-up: JIT and the pricer's model cache, as in a service that has been running.
  for (const b of list[0]!.bodies) requestToRows(decodeProtobufRequest(b), pricer);
  const take = nextChunk(list);
  return {
    block: async () => {
      const c = take();
      let sink = 0;
      let c0 = cpuMicros();
      for (const b of c.bodies) sink += decodeProtobufRequest(b).resourceSpans.length;
      const decodeCpu = cpuMicros() - c0;
      c0 = cpuMicros();
      for (const b of c.bodies) sink += requestToRows(decodeProtobufRequest(b), pricer).rows.length;
      const rowsCpu = cpuMicros() - c0;
      if (sink < c.spans) throw new Error('rows missing');
      return { spans: c.spans, decodeUsPerSpan: decodeCpu / c.spans, decodeClassifyPriceUsPerSpan: rowsCpu / c.spans };
    },
  };
}

const setup = ({ service: () => service(false), 'service-log': () => service(true), raw, pipeline } as Record<string, () => Promise<Prepared>>)[variant];
if (!setup) throw new Error(`unknown variant ${variant}`);
await serveBlocks(setup);
