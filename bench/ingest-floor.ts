/**
 * The end-to-end ingest figure against the engine's floor, in one run (`node bench/ingest-floor.ts`):
 *
 *   service  `startServer` on a fresh chDB store with the write-ahead log on (every 2xx after
 *            fdatasync), OTLP/HTTP protobuf bodies POSTed over loopback, 4 in flight on keep-alive,
 *            timed from the first POST until every row is in spans, task_costs and hourly_costs
 *            (flush()); the acknowledgement latency of every POST, the process's RSS.
 *   floor    chDB alone: the same number of rows, taken from a store the service wrote (SELECT ...
 *            FORMAT Native of its `spans`), inserted into a fresh store with the same DDL in
 *            inserts of one block each (the best batch size and format of bench/README.md 1c:
 *            Native, through a tmpfs file and INSERT ... FROM INFILE), each with a dedup token.
 *
 * Set-up: OTel SDK spans of the ingest mix encoded by ProtobufTraceSerializer (otlp-requests.ts);
 * `--prepare` runs the service over all of them once in its own process and exports the payloads.
 * Then one process per variant, blocks taking turns (harness.ts runInterleaved), every block's
 * spans new to the process. After each block (untimed) the tables are counted.
 *
 *   node bench/ingest-floor.ts [--blocks=6] [--bodies-per-block=98] [--batch-rows=N] [--sets=1]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Session } from 'chdb';
import { Pricer } from '@spendtrace/semconv';
import { createStore, decodeProtobufRequest, migrate, startServer, type Store } from '@spendtrace/exporter';
import { exportFloorPayloads, floorInsert } from './chdb-insert.ts';
import {
  arg,
  cpuMicros,
  fmt,
  median,
  medianCi,
  medianOf,
  runInterleaved,
  serveBlocks,
  spreadPct,
  table,
  values,
  type Sample,
  type VariantResult,
} from './harness.ts';
import { buildRequests, readRequestRange, SPANS_PER_REQUEST, SPANS_PER_TASK, writeRequests } from './otlp-requests.ts';

const DB = 'spendtrace';
const here = fileURLToPath(new URL('.', import.meta.url));
const bodiesPerBlock = Number(arg('bodies-per-block', '98'));
const blocks = Number(arg('blocks', '6'));
const concurrency = Number(arg('concurrency', '4'));
/** The drainer's rows per insert; unset: the service's default. */
const batchRows = process.argv.some((a) => a.startsWith('--batch-rows=')) ? Number(arg('batch-rows')) : undefined;

interface Chunk {
  bodies: Buffer[];
  spans: number;
  chatSpans: number;
  traceIds: Set<string>;
}

function chunk(file: string, i: number): Chunk {
  const c: Chunk = { bodies: readRequestRange(file, i * bodiesPerBlock, bodiesPerBlock), spans: 0, chatSpans: 0, traceIds: new Set() };
  if (c.bodies.length < bodiesPerBlock) throw new Error(`request file has no block ${i}`);
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
  return c;
}

/** Every span sent so far in spans, every chat call in hourly_costs, every task in task_costs. */
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

/** The service with the log on, over a fresh data directory; `send` POSTs a chunk and waits until it is stored. */
async function openService(dataDir: string) {
  const walDir = mkdtempSync(join(tmpdir(), 'spendtrace-bench-wal-'));
  process.on('exit', () => rmSync(walDir, { recursive: true, force: true }));
  const store = await createStore({ dataDir });
  await migrate(store, { database: DB });
  const server = await startServer({
    port: 0,
    store,
    database: DB,
    pricer: new Pricer(),
    log: (l) => process.stderr.write(`${l}\n`),
    ingest: { wal: { dir: walDir }, ...(batchRows ? { batch: { maxBatchRows: batchRows } } : {}) },
  });
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  let retries = 0;
  const acks: number[] = [];
  const post = (body: Buffer): Promise<void> =>
    new Promise((resolve, reject) => {
      const t0 = performance.now();
      const req = request(
        `${server.url}/v1/traces`,
        { method: 'POST', agent, headers: { 'content-type': 'application/x-protobuf', 'content-length': body.length } },
        (res) => {
          res.resume();
          res.on('end', () => {
            if (res.statusCode === 200) {
              acks.push(performance.now() - t0);
              resolve();
            } else if (res.statusCode === 429 || res.statusCode === 503) {
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
  return {
    store,
    send,
    acks,
    retries: () => retries,
    close: async () => {
      agent.destroy();
      await server.close();
      await store.close();
    },
  };
}

async function service(): Promise<{ block: () => Promise<Sample> }> {
  const file = arg('requests');
  const dataDir = mkdtempSync(join(tmpdir(), 'spendtrace-bench-'));
  process.on('exit', () => rmSync(dataDir, { recursive: true, force: true }));
  const svc = await openService(dataDir);
  const verify = verifier(svc.store);
  const warm = chunk(file, 0);
  await svc.send(warm);
  await verify(warm);
  let next = 1;
  return {
    block: async () => {
      const c = chunk(file, next++);
      svc.acks.length = 0;
      const retries0 = svc.retries();
      let rssMax = 0;
      const rssTimer = setInterval(() => (rssMax = Math.max(rssMax, process.memoryUsage.rss())), 50);
      const cpu0 = cpuMicros();
      const t0 = performance.now();
      await svc.send(c);
      const ms = performance.now() - t0;
      const cpu = cpuMicros() - cpu0;
      clearInterval(rssTimer);
      rssMax = Math.max(rssMax, process.memoryUsage.rss());
      await verify(c);
      const acks = [...svc.acks].sort((a, b) => a - b);
      const q = (p: number) => acks[Math.min(acks.length - 1, Math.floor(p * acks.length))]!;
      return {
        spans: c.spans,
        ms,
        spansPerSec: (c.spans / ms) * 1000,
        cpuUsPerSpan: cpu / c.spans,
        ackP50Ms: q(0.5),
        ackP99Ms: q(0.99),
        rssMb: rssMax / 2 ** 20,
        retries: svc.retries() - retries0,
      };
    },
  };
}

async function floor(): Promise<{ block: () => Promise<Sample> }> {
  const dir = join(
    arg('payloads'),
    readdirSync(arg('payloads')).find((d) => d.startsWith('Native@'))!,
  );
  const files = readdirSync(dir).sort((a, b) => parseInt(a, 10) - parseInt(b, 10));
  const dataDir = mkdtempSync(join(tmpdir(), 'spendtrace-bench-floor-'));
  process.on('exit', () => rmSync(dataDir, { recursive: true, force: true }));
  const s = new Session(dataDir, { connectionArgs: ['--output_format_json_quote_64bit_integers=1'] });
  await migrate({ command: async (q: string) => void (await s.queryAsync(q, { format: 'Null' })) } as unknown as Store, { database: DB });
  const count = async () => Number((await s.queryAsync(`SELECT count() FROM ${DB}.spans`, { format: 'TSV' })).text().trim());
  let next = 0;
  let inserted = 0;
  const take = () => {
    const f = files[next++];
    if (!f) throw new Error(`${dir}: no payload ${next - 1}`);
    return readFileSync(join(dir, f));
  };
  // A Native payload's row count is in its block header; counting after the insert is simpler.
  const rowsOf = async () => {
    const before = inserted;
    inserted = await count();
    return inserted - before;
  };
  const warm = take();
  await floorInsert(s, `${DB}.spans`, 'Native', [warm], `floor-warm`);
  await rowsOf();
  return {
    block: async () => {
      const p = take();
      const cpu0 = cpuMicros();
      const { ms } = await floorInsert(s, `${DB}.spans`, 'Native', [p], `floor-${next}`);
      const cpu = cpuMicros() - cpu0;
      const rows = await rowsOf();
      if (!rows) throw new Error('floor insert stored no rows');
      return { spans: rows, ms, spansPerSec: (rows / ms) * 1000, cpuUsPerSpan: cpu / rows };
    },
  };
}

/** Runs the service over every block once (its own process), then exports its spans as Native payloads of one block each. */
async function prepare(): Promise<void> {
  const file = arg('requests');
  const total = Number(arg('chunks'));
  const dataDir = mkdtempSync(join(tmpdir(), 'spendtrace-bench-src-'));
  try {
    const svc = await openService(dataDir);
    let spans = 0;
    for (let i = 0; i < total; i++) {
      const c = chunk(file, i);
      await svc.send(c);
      spans += c.spans;
    }
    await svc.close();
    const blockRows = bodiesPerBlock * SPANS_PER_REQUEST;
    mkdirSync(arg('payloads'), { recursive: true });
    await exportFloorPayloads(dataDir, arg('payloads'), ['Native'], [blockRows], spans);
    process.stdout.write(`${JSON.stringify({ prepared: spans })}\n`);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function ratios(v: VariantResult, base: VariantResult, metric: string): number[] {
  const n = Math.min(v.samples.length, base.samples.length);
  return Array.from({ length: n }, (_, i) => Number(v.samples[i]![metric]) / Number(base.samples[i]![metric]));
}

async function main(): Promise<void> {
  const started = Date.now();
  const sets = Number(arg('sets', '1'));
  const chunks = blocks + 1;
  const dir = mkdtempSync(join(tmpdir(), 'spendtrace-bench-e2e-'));
  const file = join(dir, 'requests.bin');
  const payloads = join(dir, 'payloads');
  const load0 = loadavg();
  try {
    process.stderr.write(`e2e: building ${fmt(chunks * bodiesPerBlock * SPANS_PER_REQUEST, 0)} spans of OTLP requests `);
    writeRequests(file, await buildRequests(Math.ceil((chunks * bodiesPerBlock * SPANS_PER_REQUEST) / SPANS_PER_TASK) + 50));
    process.stderr.write('\ne2e: preparing the floor payloads (the service writes every block once, then SELECT ... FORMAT Native)\n');
    // Each set's processes take blocks 0..blocks; the prepare pass writes the same bodies once.
    const prep = spawnSync(
      process.execPath,
      [
        fileURLToPath(import.meta.url),
        '--prepare',
        `--requests=${file}`,
        `--payloads=${payloads}`,
        `--chunks=${blocks + 1}`,
        `--bodies-per-block=${bodiesPerBlock}`,
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    if (prep.status !== 0) throw new Error('e2e: preparing the payloads failed');
    process.stderr.write('e2e ');
    const results = await runInterleaved(join(here, 'ingest-floor.ts'), ['floor', 'service'], {
      sets,
      blocks,
      args: [`--requests=${file}`, `--payloads=${payloads}`, `--bodies-per-block=${bodiesPerBlock}`, ...(batchRows ? [`--batch-rows=${batchRows}`] : [])],
      timeoutMs: 600_000,
      onSample: (_v, _r, s) => process.stderr.write(s ? '.' : 'x'),
    });
    process.stderr.write('\n');
    const fl = results.find((r) => r.variant === 'floor')!;
    const sv = results.find((r) => r.variant === 'service')!;
    for (const r of results) if (r.unavailable) process.stdout.write(`${r.variant}: ${r.unavailable}\n`);
    const rs = ratios(sv, fl, 'spansPerSec');
    const [lo, hi] = medianCi(rs);
    const rows = [
      [
        'floor: chDB Native, one insert per block (baseline)',
        fmt(medianOf(fl, 'spansPerSec'), 0),
        `±${fmt(spreadPct(values(fl, 'spansPerSec')))}%`,
        '1.00',
        '',
        fmt(medianOf(fl, 'cpuUsPerSpan')),
      ],
      [
        'service: OTLP/HTTP protobuf -> rollups, log on',
        fmt(medianOf(sv, 'spansPerSec'), 0),
        `±${fmt(spreadPct(values(sv, 'spansPerSec')))}%`,
        fmt(median(rs), 2),
        Number.isFinite(lo) ? `${fmt(lo, 2)}..${fmt(hi, 2)}` : '-',
        fmt(medianOf(sv, 'cpuUsPerSpan')),
      ],
    ];
    const load1 = loadavg();
    process.stdout.write(
      `\n## Ingest end to end against the chDB floor\n${table(['variant', 'spans/s', 'spread', 'x floor', '95% CI', 'CPU us/span'], rows)}\n` +
        `service: ack latency p50 ${fmt(medianOf(sv, 'ackP50Ms'))} ms, p99 ${fmt(medianOf(sv, 'ackP99Ms'))} ms (medians over blocks); ` +
        `RSS max ${fmt(Math.max(...values(sv, 'rssMb')), 0)} MB; backpressure retries ${values(sv, 'retries').reduce((a, b) => a + b, 0)}\n` +
        `  how measured: ${fmt(Number(sv.samples[0]?.spans ?? 0), 0)} new spans per block (${bodiesPerBlock} bodies of <=${SPANS_PER_REQUEST}), ${blocks} rounds x ${sets} sets after a warm-up block, ` +
        `variants taking turns block by block; service batch ${batchRows ?? 'default'} rows; ratio = median of per-round ratios with its 95% CI; ` +
        `CPU = whole process (chDB threads and the in-process load generator included); ${cpus().length} cores, load ${load0.map((l) => l.toFixed(1)).join(' ')} -> ${load1
          .map((l) => l.toFixed(1))
          .join(' ')}; ${Math.round((Date.now() - started) / 1000)} s\n`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv.includes('--prepare')) await prepare();
else if (process.argv.some((a) => a.startsWith('--variant='))) {
  const v = arg('variant');
  await serveBlocks(v === 'service' ? service : v === 'floor' ? floor : () => Promise.resolve({ unavailable: `unknown variant ${v}` }));
} else await main();
