/**
 * `pnpm bench`: every benchmark, each variant in its own Node process, variants alternating round
 * by round (harness.ts), medians and ratios to a baseline measured in the same run. Prints one
 * table per benchmark with a line on how it was measured, and writes everything (every sample) to
 * bench/results/latest.json.
 *
 *   pnpm bench                  full run (~5 minutes on 2 cores)
 *   pnpm bench --quick          smoke run (~1 minute): one process set, fewer blocks, no peers-on-loopback
 *   pnpm bench --only=ingest,decode,floor,openai,peers,anthropic,gemini   a subset (floor: chDB insert formats, not in the default run)
 *   --floor-payloads=DIR (reuse prepared payloads)  --floor-variants=a,b  --floor-blocks=N
 *   --sets=N (fresh process sets)  --blocks=N (per-call rounds per set)  --ingest-blocks=N (ingest rounds per set)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeOpenAI } from '@spendtrace/fake-providers';
import { arg, flag, fmt, median, medianCi, medianOf, runInterleaved, spreadPct, table, values, type VariantResult } from './harness.ts';
import { buildRequests, SPANS_PER_REQUEST, SPANS_PER_TASK, writeRequests } from './otlp-requests.ts';
import { BLOCK_ROWS as FLOOR_BLOCK_ROWS } from './chdb-insert.ts';

const here = dirname(fileURLToPath(import.meta.url));
const quick = flag('quick');
const only = new Set(
  arg('only', 'ingest,decode,openai,peers,anthropic,gemini')
    .split(',')
    .map((s) => s.trim()),
);
const sets = Number(arg('sets', quick ? '1' : '2'));
/** Rounds of blocks per process set for the per-call benchmarks (short blocks, many rounds). */
const blocks = Number(arg('blocks', quick ? '8' : '25'));
/** The same for ingest, whose blocks are longer. */
const ingestBlocks = Number(arg('ingest-blocks', quick ? '4' : '10'));
/** These variants instead of each per-call benchmark's own (the baseline `none` always runs), e.g. `--variants=floor,spendtrace`. */
const onlyVariants = process.argv.some((a) => a.startsWith('--variants='))
  ? [
      'none',
      ...arg('variants')
        .split(',')
        .map((s) => s.trim()),
    ]
  : undefined;
/** Only these modes of the per-call benchmarks: memory, loopback, stream. */
const onlyModes = new Set(
  arg('modes', 'memory,loopback,stream')
    .split(',')
    .map((s) => s.trim()),
);
const started = Date.now();

interface Section {
  title: string;
  how: string;
  table: string;
  data: unknown;
}
const sections: Section[] = [];

function progress(label: string) {
  process.stderr.write(`${label} `);
  return (variant: string, round: number, sample: unknown) => process.stderr.write(sample ? '.' : 'x');
}

function print(s: Section) {
  sections.push(s);
  process.stdout.write(`\n## ${s.title}\n${s.table}\n  how measured: ${s.how}\n`);
}

function unavailableRows(results: VariantResult[]): (string | number)[][] {
  return results.filter((r) => r.unavailable && !r.samples.length).map((r) => [r.variant, 'unavailable*']);
}

/** One line per variant that could not run, with the reason it gave (or the tail of its stderr). */
function unavailableNotes(results: VariantResult[]): string {
  return results
    .filter((r) => r.unavailable)
    .map(
      (r) => `\n* ${r.variant}${r.samples.length ? ` (stopped after ${r.samples.length} rounds)` : ''}: ${r.unavailable!.replace(/\s+/g, ' ').slice(0, 400)}`,
    )
    .join('');
}

/** Per-round pairs with the baseline: medians of the differences and of the ratios. */
function paired(v: VariantResult, base: VariantResult, metric: string) {
  const n = Math.min(v.samples.length, base.samples.length);
  const diffs: number[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < n; i++) {
    const a = Number(v.samples[i]![metric]);
    const b = Number(base.samples[i]![metric]);
    diffs.push(a - b);
    ratios.push(a / b);
  }
  return { added: median(diffs), ratio: median(ratios), diffs, ratios };
}

/** The 95% confidence interval of a median, as text. */
function ci(xs: number[], digits = 1, signed = false): string {
  const [lo, hi] = medianCi(xs);
  const f = (x: number) => `${signed && x >= 0 ? '+' : ''}${fmt(x, digits)}`;
  return Number.isFinite(lo) ? `${f(lo)}..${f(hi)}` : '-';
}

function summarize(results: VariantResult[], baseline: string, metrics: string[]) {
  const base = results.find((r) => r.variant === baseline)!;
  return Object.fromEntries(
    results.map((r) => [
      r.variant,
      {
        unavailable: r.unavailable,
        samplesTaken: r.samples.length,
        medians: Object.fromEntries(metrics.map((m) => [m, medianOf(r, m)])),
        spreadPct: Object.fromEntries(metrics.map((m) => [m, spreadPct(values(r, m))])),
        vsBaseline: r.samples.length && base.samples.length ? Object.fromEntries(metrics.map((m) => [m, paired(r, base, m)])) : undefined,
        labels: Object.fromEntries(Object.entries(r.samples[0] ?? {}).filter(([, v]) => typeof v === 'string')),
        samples: r.samples,
      },
    ]),
  );
}

// 1. Exporter ingest ------------------------------------------------------------------------------
async function ingestBench(): Promise<void> {
  const bodiesPerBlock = quick ? 6 : 10;
  const ingestSets = sets;
  // A warm-up chunk and one chunk per block, every span new to the process that ingests it.
  const bodiesNeeded = (ingestBlocks + 1) * bodiesPerBlock;
  const tasks = Math.ceil((bodiesNeeded * SPANS_PER_REQUEST) / SPANS_PER_TASK);
  const dir = mkdtempSync(join(tmpdir(), 'spendtrace-bench-req-'));
  const file = join(dir, 'requests.bin');
  try {
    const bodies = await buildRequests(tasks);
    writeRequests(file, bodies);
    const results = await runInterleaved(join(here, 'ingest.ts'), ['raw', 'service', 'service-log', 'pipeline'], {
      sets: ingestSets,
      blocks: ingestBlocks,
      args: [`--requests=${file}`, `--bodies-per-block=${bodiesPerBlock}`],
      timeoutMs: 180_000,
      onSample: progress('ingest'),
    });
    process.stderr.write('\n');
    const raw = results.find((r) => r.variant === 'raw')!;
    const service = results.find((r) => r.variant === 'service')!;
    const serviceLog = results.find((r) => r.variant === 'service-log')!;
    const pipeline = results.find((r) => r.variant === 'pipeline')!;
    const rows: (string | number)[][] = [raw, service, serviceLog]
      .filter((r) => r.samples.length)
      .map((r) => {
        const p = paired(r, raw, 'spansPerSec');
        return [
          r.variant === 'raw'
            ? 'raw: Store.insert (baseline)'
            : r.variant === 'service'
              ? 'service: OTLP/HTTP -> rollups, log off'
              : 'service-log: the same, log on (fsync before 2xx)',
          fmt(medianOf(r, 'spansPerSec'), 0),
          `±${fmt(spreadPct(values(r, 'spansPerSec')))}%`,
          fmt(p.ratio, 2),
          r === raw ? '' : ci(p.ratios, 2),
          fmt(medianOf(r, 'cpuUsPerSpan')),
        ];
      });
    rows.push(...unavailableRows([raw, service, serviceLog, pipeline]));
    const durability = serviceLog.samples.length && service.samples.length ? paired(serviceLog, service, 'spansPerSec') : undefined;
    const spansPerBlock = Number(service.samples[0]?.spans ?? raw.samples[0]?.spans ?? 0);
    print({
      title: 'Exporter ingest (embedded chDB)',
      how:
        `one process (own chDB data directory) per variant, a warm-up chunk, then ${ingestBlocks} rounds of blocks of ${bodiesPerBlock} OTLP protobuf bodies ` +
        `(${fmt(spansPerBlock, 0)} new spans; <=512 spans per body, OTel SDK spans encoded by ProtobufTraceSerializer), variants taking turns block by block, ` +
        `x ${ingestSets} fresh process sets; service: 4 POSTs in flight on keep-alive, timed from the first POST to flush() (rows in spans, task_costs, hourly_costs), ` +
        `then every span, call and task counted in the tables; raw: the same rows through Store.insert in batches of 5000 with a dedup token; ` +
        `ratio = median of per-round ratios to raw, with its 95% CI; ± = half the interquartile range; CPU = whole process (chDB threads included)`,
      table:
        table(['variant', 'spans/s', 'spread', 'x raw', '95% CI', 'CPU us/span'], rows) +
        (durability
          ? `\ncost of durability: log on / log off = ${fmt(durability.ratio, 2)}x spans/s (95% CI ${ci(durability.ratios, 2)}), ` +
            `CPU ${fmt(medianOf(serviceLog, 'cpuUsPerSpan'))} vs ${fmt(medianOf(service, 'cpuUsPerSpan'))} us/span`
          : '') +
        `\ndecode + classify + price alone: ${fmt(medianOf(pipeline, 'decodeClassifyPriceUsPerSpan'), 2)} us CPU per span ` +
        `(of which protobuf decode ${fmt(medianOf(pipeline, 'decodeUsPerSpan'), 2)} us), ±${fmt(spreadPct(values(pipeline, 'decodeClassifyPriceUsPerSpan')))}%` +
        unavailableNotes(results),
      data: {
        tasks,
        spansPerTask: SPANS_PER_TASK,
        bodies: bodies.length,
        bytes: bodies.reduce((n, b) => n + b.byteLength, 0),
        bodiesPerBlock,
        sets: ingestSets,
        blocks: ingestBlocks,
        variants: summarize(results, 'raw', ['spansPerSec', 'cpuUsPerSpan', 'decodeUsPerSpan', 'decodeClassifyPriceUsPerSpan']),
      },
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// 1b. OTLP protobuf decode alone ------------------------------------------------------------------
async function decodeBench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'spendtrace-bench-dec-'));
  const file = join(dir, 'requests.bin');
  const decodeBlocks = quick ? 6 : 20;
  try {
    const bodies = await buildRequests(Math.ceil((20 * SPANS_PER_REQUEST) / SPANS_PER_TASK));
    writeRequests(file, bodies);
    const results = await runInterleaved(join(here, 'decode.ts'), ['protobufjs', 'wire'], {
      sets,
      blocks: decodeBlocks,
      args: [`--requests=${file}`],
      onSample: progress('decode'),
    });
    process.stderr.write('\n');
    const base = results.find((r) => r.variant === 'protobufjs')!;
    const rows: (string | number)[][] = results
      .filter((r) => r.samples.length)
      .map((r) => {
        const p = paired(r, base, 'cpuUsPerSpan');
        return [
          r.variant === 'protobufjs' ? 'protobufjs + walk (baseline)' : 'wire (decode-protobuf.ts)',
          fmt(medianOf(r, 'cpuUsPerSpan'), 2),
          `±${fmt(spreadPct(values(r, 'cpuUsPerSpan')))}%`,
          fmt(medianOf(r, 'threadCpuUsPerSpan'), 2),
          fmt(p.ratio, 3),
          r === base ? '' : ci(p.ratios, 3),
          fmt(medianOf(r, 'allocBytesPerSpan'), 0),
        ];
      });
    rows.push(...unavailableRows(results));
    print({
      title: 'OTLP protobuf decode alone',
      how:
        `one process per decoder, ${bodies.length} ProtobufTraceSerializer bodies (${fmt(Number(base.samples[0]?.spans ?? 0), 0)} spans, the ingest mix) decoded per block into the TraceRequest ingest consumes, ` +
        `${decodeBlocks} rounds x ${sets} process sets, decoders taking turns block by block; both checked equal on these bodies in set-up; ` +
        `CPU = process.cpuUsage (all threads, GC helpers included), main = the main thread alone; x = median of per-round ratios to protobufjs with its 95% CI; alloc from v8.GCProfiler` +
        unavailableNotes(results),
      table: table(['decoder', 'CPU us/span', 'spread', 'main us/span', 'x protobufjs', '95% CI', 'alloc B/span'], rows),
      data: {
        bodies: bodies.length,
        blocks: decodeBlocks,
        sets,
        variants: summarize(results, 'protobufjs', ['cpuUsPerSpan', 'threadCpuUsPerSpan', 'wallUsPerSpan', 'allocBytesPerSpan']),
      },
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// 1c. chDB insert paths, formats, batch sizes, materialized views (the raw floor) ----------------
async function floorBench(): Promise<void> {
  const given = process.argv.some((a) => a.startsWith('--floor-payloads='));
  const dir = given ? arg('floor-payloads') : mkdtempSync(join(tmpdir(), 'spendtrace-bench-floor-'));
  const requests = join(dir, 'requests.bin');
  const floorBlocks = Number(arg('floor-blocks', quick ? '2' : '4'));
  const variants = process.argv.some((a) => a.startsWith('--floor-variants='))
    ? arg('floor-variants')
        .split(',')
        .map((v) => v.trim())
    : [
        'store@5000',
        'store@25000',
        'store@100000',
        ...['JSONEachRow', 'JSONCompactEachRow', 'CSV', 'TSV', 'RowBinary', 'Native', 'ArrowStream', 'Parquet'].map((f) => `${f}@25000`),
        'JSONEachRow@5000',
        'JSONEachRow@100000',
        'Native@5000',
        'Native@100000',
        'RowBinary@5000',
        'RowBinary@100000',
        'Native@25000:mv=none',
        'Native@25000:mv=task',
        'Native@25000:mv=hourly',
      ];
  try {
    if (!existsSync(requests)) {
      writeRequests(requests, await buildRequests(Math.ceil(FLOOR_BLOCK_ROWS / SPANS_PER_TASK) + 200));
      process.stderr.write('floor: preparing payloads (rows written as the service does, then SELECT ... FORMAT x) ');
      const prep = spawnSync(process.execPath, [join(here, 'chdb-insert.ts'), '--prepare', `--requests=${requests}`, `--payloads=${dir}`], {
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      if (prep.status !== 0) throw new Error('floor: preparing the payloads failed');
    }
    const results: VariantResult[] = [];
    // At most six chDB processes at once.
    for (let i = 0; i < variants.length; i += 6) {
      results.push(
        ...(await runInterleaved(join(here, 'chdb-insert.ts'), variants.slice(i, i + 6), {
          sets: 1,
          blocks: floorBlocks,
          args: [`--requests=${requests}`, `--payloads=${dir}`],
          timeoutMs: 300_000,
          onSample: progress('floor'),
        })),
      );
    }
    process.stderr.write('\n');
    const base = results.find((r) => r.variant === variants[0])!;
    const rows: (string | number)[][] = results
      .filter((r) => r.samples.length)
      .map((r) => {
        const p = paired(r, base, 'rowsPerSec');
        return [
          r.variant,
          fmt(medianOf(r, 'rowsPerSec'), 0),
          `±${fmt(spreadPct(values(r, 'rowsPerSec')))}%`,
          fmt(p.ratio, 2),
          r === base ? '' : ci(p.ratios, 2),
          fmt(medianOf(r, 'cpuUsPerRow')),
        ];
      });
    rows.push(...unavailableRows(results));
    print({
      title: 'chDB insert paths and formats (spans + both materialized views)',
      how:
        `one process (fresh chDB data directory, spendtrace DDL) per variant; rows of the ingest mix written once as the service writes them, then SELECTed back FORMAT x per batch; ` +
        `each block inserts ${fmt(FLOOR_BLOCK_ROWS, 0)} rows as ${fmt(FLOOR_BLOCK_ROWS, 0)}/N inserts of N rows (variant@N), each with its own dedup token; store = the project's Store.insert of SpanRow objects (JSONEachRow built in JS); ` +
        `text formats as one Buffer per insert (session.insert), binary ones through a tmpfs file and INSERT ... FROM INFILE; :mv=none|task|hourly keeps only that view; ` +
        `${floorBlocks} rounds after a warm-up block, variants (six at a time) taking turns; x = median of per-round ratios to ${variants[0]}; CPU = whole process (chDB threads included)` +
        unavailableNotes(results),
      table: table(['variant', 'rows/s', 'spread', `x ${variants[0]}`, '95% CI', 'CPU us/row'], rows),
      data: { blockRows: FLOOR_BLOCK_ROWS, blocks: floorBlocks, variants: summarize(results, variants[0]!, ['rowsPerSec', 'cpuUsPerRow']) },
    });
  } finally {
    if (!given) rmSync(dir, { recursive: true, force: true });
  }
}

// 2 + 3. Per-call overhead -----------------------------------------------------------------------
interface CallSetup {
  name: string;
  /** openai-calls.ts (v6 / v7) or provider-calls.ts (anthropic / gemini). */
  sdk: 'v6' | 'v7' | 'anthropic' | 'gemini';
  mode: 'memory' | 'loopback' | 'stream';
  variants: string[];
  calls: number;
  warm: number;
  /** Rounds relative to --blocks: the stream's percentages need more pairs to resolve a few percent. */
  roundsFactor: number;
}

async function callBench(setups: CallSetup[], fakeUrl: string | undefined): Promise<void> {
  for (const s of setups) {
    if (!onlyModes.has(s.mode)) continue;
    if (onlyVariants) s.variants = onlyVariants;
    const args = [`--sdk=${s.sdk}`, `--mode=${s.mode}`, `--calls=${s.calls}`, `--warm=${s.warm}`];
    if (s.mode === 'loopback') args.push(`--url=${fakeUrl}`);
    const rounds = Math.round(blocks * s.roundsFactor);
    const script = s.sdk === 'anthropic' || s.sdk === 'gemini' ? 'provider-calls.ts' : 'openai-calls.ts';
    const results = await runInterleaved(join(here, script), s.variants, { sets, blocks: rounds, args, onSample: progress(s.name) });
    process.stderr.write('\n');
    const base = results.find((r) => r.variant === 'none')!;
    const rows: (string | number)[][] = results
      .filter((r) => r.samples.length)
      .map((r) => {
        const p = paired(r, base, 'cpuUsPerCall');
        const t = paired(r, base, 'threadCpuUsPerCall');
        const a = paired(r, base, 'allocKbPerCall');
        const g = paired(r, base, 'promotedKbPerCall');
        const first = r.samples[0]!;
        return [
          r.variant === 'none' ? 'none (baseline)' : r.variant,
          fmt(medianOf(r, 'cpuUsPerCall')),
          `±${fmt(spreadPct(values(r, 'cpuUsPerCall')))}%`,
          r.variant === 'none' ? '' : `${p.added >= 0 ? '+' : ''}${fmt(p.added)}`,
          r.variant === 'none' ? '' : ci(p.diffs, 1, true),
          r.variant === 'none' ? '' : `${p.ratio >= 1 ? '+' : ''}${fmt((p.ratio - 1) * 100)}%`,
          fmt(p.ratio, 3),
          r.variant === 'none' ? fmt(medianOf(r, 'threadCpuUsPerCall')) : `${t.added >= 0 ? '+' : ''}${fmt(t.added)}`,
          r.variant === 'none' ? fmt(medianOf(r, 'allocKbPerCall')) : `${a.added >= 0 ? '+' : ''}${fmt(a.added)}`,
          r.variant === 'none' ? fmt(medianOf(r, 'promotedKbPerCall'), 2) : `${g.added >= 0 ? '+' : ''}${fmt(g.added, 2)}`,
          fmt(medianOf(r, 'majorGcs'), 1),
          fmt(medianOf(r, 'p99Ms'), 2),
          r.variant === 'none' ? fmt(medianOf(r, 'retainedMb'), 1) : `${delta(r, base, 'retainedMb')}`,
          r.variant === 'none' ? fmt(medianOf(r, 'rssMb'), 0) : `${delta(r, base, 'rssMb', 0)}`,
          fmt(medianOf(r, 'spansPerCall'), 2),
          r.variant === 'none' ? '' : medianOf(r, 'priced') === 1 ? 'yes' : 'no',
          String(first.patchedBy ?? ''),
        ];
      });
    rows.push(...unavailableRows(results));
    const version = String(base.samples[0]?.sdkVersion ?? s.sdk);
    const sdkName = s.sdk === 'anthropic' ? '@anthropic-ai/sdk' : s.sdk === 'gemini' ? '@google/genai' : 'openai';
    const what =
      s.sdk === 'anthropic' || s.sdk === 'gemini'
        ? s.mode === 'memory'
          ? `plain ${s.sdk === 'anthropic' ? 'messages.create' : 'generateContent'}, answered from memory`
          : `stream of 200 text chunks from memory (one read per SSE event), iterated to the end`
        : s.mode === 'memory'
          ? 'plain create, fetch option answering from memory'
          : s.mode === 'loopback'
            ? 'plain create against the fake OpenAI server on 127.0.0.1 (server in the runner process, not counted)'
            : 'stream: true + include_usage, 200 content chunks from memory (one read per SSE event), iterated to the end';
    print({
      title: `${s.name}: ${sdkName} ${version}, ${what}`,
      how:
        `one process per variant, ${s.warm} warm-up calls, then ${rounds} rounds of blocks of ${s.calls} calls, variants taking turns block by block ` +
        `(order rotating), x ${sets} fresh process sets = ${sets * rounds} samples each; CPU = process.cpuUsage (user+system, all threads) around the block ` +
        `+ forceFlush of a BatchSpanProcessor to a no-op exporter; main thread = process.threadCpuUsage; ` +
        `added and ratio = medians of per-round pairs with none (95% CI of the added median, distribution-free); main thr. = the same for main-thread CPU; heap KB = V8 heap allocated per call, promoted KB = of it, kept alive across a young-generation GC (v8.GCProfiler), the same way; major GCs/block = mark-compacts during a block (median), p99 ms = of the block's calls' wall latency (median over blocks), retained MB / RSS MB = heap used after a full GC at the block's end / process RSS, as the difference of medians to none; ± = half the interquartile range of the samples`,
      table:
        table(
          [
            'variant',
            'CPU us/call',
            'spread',
            'added us',
            '95% CI',
            'added %',
            'x none',
            'main thr. us',
            'heap KB',
            'promoted KB',
            'major GCs/block',
            'p99 ms',
            'retained MB',
            'RSS MB',
            'spans/call',
            'cost on span',
            'patched by',
          ],
          rows,
        ) + unavailableNotes(results),
      data: {
        ...s,
        sets,
        rounds,
        version,
        variants: summarize(results, 'none', [
          'cpuUsPerCall',
          'threadCpuUsPerCall',
          'wallUsPerCall',
          'allocKbPerCall',
          'promotedKbPerCall',
          'gcUsPerCall',
          'majorGcs',
          'p99Ms',
          'retainedMb',
          'rssMb',
          'spansPerCall',
          'priced',
        ]),
      },
    });
  }
}

/** The difference of two variants' medians, signed. */
function delta(r: VariantResult, base: VariantResult, key: string, digits = 1): string {
  const d = medianOf(r, key) - medianOf(base, key);
  return `${d >= 0 ? '+' : ''}${fmt(d, digits)}`;
}

async function main(): Promise<void> {
  process.stderr.write(
    `spendtrace bench: ${quick ? 'quick' : 'full'} run, ${sets} process sets, ingest ${ingestBlocks} rounds, per-call ${blocks} rounds, ${cpus().length} cores, load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}\n`,
  );
  if (only.has('ingest')) await ingestBench();
  if (only.has('decode')) await decodeBench();
  if (only.has('floor')) await floorBench();

  const peers = ['none', 'floor', 'spendtrace', 'otel-contrib', 'traceloop', 'openinference'];
  // Calls per block: ~50-100 ms of CPU, so neighbouring blocks of different variants see the same machine.
  const memory = { mode: 'memory', calls: 400, warm: 2000, roundsFactor: 1 } as const;
  const loopback = { mode: 'loopback', calls: 120, warm: 600, roundsFactor: 1 } as const;
  const stream = { mode: 'stream', calls: 40, warm: 200, roundsFactor: 2 } as const;
  const setups: CallSetup[] = [];
  if (only.has('openai')) {
    const variants = ['none', 'spendtrace'];
    setups.push(
      { name: 'Overhead (a) in-memory fetch', sdk: 'v7', variants: ['none', 'floor', 'spendtrace'], ...memory },
      { name: 'Overhead (b) loopback fake server', sdk: 'v7', variants, ...loopback },
      { name: 'Overhead, 200-chunk stream', sdk: 'v7', variants, ...stream },
    );
  }
  if (only.has('anthropic')) {
    const variants = ['none', 'spendtrace', 'spendtrace-own', 'native', 'traceloop', 'openinference'];
    setups.push(
      { name: 'Anthropic (a) in-memory fetch', sdk: 'anthropic', variants, ...memory },
      { name: 'Anthropic, 200-chunk stream', sdk: 'anthropic', variants, ...stream },
    );
  }
  if (only.has('gemini')) {
    setups.push(
      { name: 'Gemini (a) in-memory fetch', sdk: 'gemini', variants: ['none', 'spendtrace'], ...memory },
      // A Gemini stream costs ~8 ms of the SDK's own CPU: fewer per block.
      { name: 'Gemini, 200-chunk stream', sdk: 'gemini', variants: ['none', 'spendtrace'], ...stream, calls: 10, warm: 60 },
    );
  }
  if (only.has('peers')) {
    setups.push(
      { name: 'Peers (a) in-memory fetch', sdk: 'v6', variants: peers, ...memory },
      { name: 'Peers, 200-chunk stream', sdk: 'v6', variants: peers.filter((v) => v !== 'floor'), ...stream },
    );
    if (!quick) setups.push({ name: 'Peers (b) loopback fake server', sdk: 'v6', variants: peers.filter((v) => v !== 'floor'), ...loopback });
  }
  const fake = setups.some((s) => s.mode === 'loopback') ? await startFakeOpenAI({ recordLimit: 0 }) : undefined;
  try {
    await callBench(setups, fake?.url);
  } finally {
    await fake?.close();
  }

  const out = join(here, 'results', 'latest.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    `${JSON.stringify(
      {
        startedAt: new Date(started).toISOString(),
        seconds: Math.round((Date.now() - started) / 1000),
        quick,
        sets,
        blocks,
        ingestBlocks,
        machine: { cores: cpus().length, cpu: cpus()[0]?.model, node: process.version, loadAtEnd: loadavg() },
        benchmarks: sections.map((s) => ({ title: s.title, how: s.how, table: s.table, ...(s.data as object) })),
      },
      null,
      2,
    )}\n`,
  );
  process.stdout.write(`\nfull results: ${out} (${Math.round((Date.now() - started) / 1000)} s)\n`);
}

await main();
