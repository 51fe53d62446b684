/**
 * `pnpm bench`: every benchmark, each variant in its own Node process, variants alternating round
 * by round (harness.ts), medians and ratios to a baseline measured in the same run. Prints one
 * table per benchmark with a line on how it was measured, and writes everything (every sample) to
 * bench/results/latest.json.
 *
 *   pnpm bench                  full run (~5 minutes on 2 cores)
 *   pnpm bench --quick          smoke run (~1 minute): fewer rounds, calls and spans
 *   pnpm bench --only=ingest,openai,peers   a subset
 *   --rounds=N (ingest processes per variant)  --sets=N --blocks=N (per-call: process sets, blocks per set)
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeOpenAI } from '@spendtrace/fake-providers';
import { arg, flag, fmt, median, medianOf, runAlternating, runInterleaved, spreadPct, table, values, type VariantResult } from './harness.ts';
import { buildRequests, writeRequests } from './otlp-requests.ts';

const here = dirname(fileURLToPath(import.meta.url));
const quick = flag('quick');
const only = new Set(arg('only', 'ingest,openai,peers').split(',').map((s) => s.trim()));
const rounds = Number(arg('rounds', quick ? '3' : '5'));
const sets = Number(arg('sets', quick ? '1' : '2'));
const blocks = Number(arg('blocks', quick ? '5' : '12'));
const started = Date.now();

interface Section { title: string; how: string; table: string; data: unknown }
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
  return results.filter((r) => r.unavailable)
    .map((r) => `\n* ${r.variant}${r.samples.length ? ` (stopped after ${r.samples.length} rounds)` : ''}: ${r.unavailable!.replace(/\s+/g, ' ').slice(0, 400)}`).join('');
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
  return { added: median(diffs), ratio: median(ratios) };
}

function summarize(results: VariantResult[], baseline: string, metrics: string[]) {
  const base = results.find((r) => r.variant === baseline)!;
  return Object.fromEntries(results.map((r) => [r.variant, {
    unavailable: r.unavailable,
    rounds: r.samples.length,
    medians: Object.fromEntries(metrics.map((m) => [m, medianOf(r, m)])),
    spreadPct: Object.fromEntries(metrics.map((m) => [m, spreadPct(values(r, m))])),
    vsBaseline: r.samples.length && base.samples.length ? Object.fromEntries(metrics.map((m) => [m, paired(r, base, m)])) : undefined,
    labels: Object.fromEntries(Object.entries(r.samples[0] ?? {}).filter(([, v]) => typeof v === 'string')),
    samples: r.samples,
  }]));
}

// 1. Exporter ingest ------------------------------------------------------------------------------
async function ingestBench(): Promise<void> {
  const tasks = quick ? 3000 : 10_000;
  const dir = mkdtempSync(join(tmpdir(), 'spendtrace-bench-req-'));
  const file = join(dir, 'requests.bin');
  try {
    const bodies = await buildRequests(tasks);
    writeRequests(file, bodies);
    const variants = ['raw', 'service', 'pipeline'];
    const results = await runAlternating(join(here, 'ingest.ts'), variants, rounds, { args: [`--requests=${file}`], timeoutMs: 180_000, onSample: progress('ingest') });
    process.stderr.write('\n');
    const summary = summarize(results, 'raw', ['spansPerSec', 'cpuUsPerSpan', 'decodeUsPerSpan', 'decodeClassifyPriceUsPerSpan']);
    const raw = results.find((r) => r.variant === 'raw')!;
    const service = results.find((r) => r.variant === 'service')!;
    const pipeline = results.find((r) => r.variant === 'pipeline')!;
    const rows: (string | number)[][] = [raw, service].filter((r) => r.samples.length).map((r) => [
      r.variant === 'raw' ? 'raw Store.insert (baseline)' : 'service: OTLP/HTTP -> rollups',
      fmt(medianOf(r, 'spansPerSec'), 0),
      `±${fmt(spreadPct(values(r, 'spansPerSec')))}%`,
      fmt(paired(r, raw, 'spansPerSec').ratio, 2),
      fmt(medianOf(r, 'cpuUsPerSpan')),
    ]);
    rows.push(...unavailableRows([raw, service, pipeline]));
    const timedSpans = Number(service.samples[0]?.spans ?? raw.samples[0]?.spans ?? 0);
    print({
      title: 'Exporter ingest (embedded chDB)',
      how: `${rounds} rounds x {raw, service, pipeline}, each a fresh process and data directory; ${fmt(timedSpans, 0)} spans timed after a warm-up, ` +
        `${bodies.length} OTLP protobuf bodies of <=512 spans (OTel SDK spans, ProtobufTraceSerializer), 4 POSTs in flight on keep-alive; ` +
        `service timed from first POST to flush() (rows in spans, task_costs, hourly_costs, then counted); raw inserts the same rows in batches of 5000 with a dedup token; ` +
        `ratio = median of per-round ratios to raw; ± = half the interquartile range; CPU = whole process (chDB threads included)`,
      table: table(['variant', 'spans/s', 'spread', 'x raw', 'CPU us/span'], rows) +
        `\ndecode + classify + price alone: ${fmt(medianOf(pipeline, 'decodeClassifyPriceUsPerSpan'), 2)} us CPU per span ` +
        `(of which protobuf decode ${fmt(medianOf(pipeline, 'decodeUsPerSpan'), 2)} us), ±${fmt(spreadPct(values(pipeline, 'decodeClassifyPriceUsPerSpan')))}%` +
        unavailableNotes(results),
      data: { tasks, spansPerTask: 5, bodies: bodies.length, bytes: bodies.reduce((n, b) => n + b.byteLength, 0), variants: summary },
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// 2 + 3. Per-call overhead -----------------------------------------------------------------------
interface CallSetup { name: string; sdk: 'v6' | 'v7'; mode: 'memory' | 'loopback' | 'stream'; variants: string[]; calls: number }

async function callBench(setups: CallSetup[], fakeUrl: string | undefined): Promise<void> {
  for (const s of setups) {
    const args = [`--sdk=${s.sdk}`, `--mode=${s.mode}`, `--calls=${s.calls}`, `--warm=${s.calls * 2}`];
    if (s.mode === 'loopback') args.push(`--url=${fakeUrl}`);
    const results = await runInterleaved(join(here, 'openai-calls.ts'), s.variants, { sets, blocks, args, onSample: progress(s.name) });
    process.stderr.write('\n');
    const base = results.find((r) => r.variant === 'none')!;
    const rows: (string | number)[][] = results.filter((r) => r.samples.length).map((r) => {
      const p = paired(r, base, 'cpuUsPerCall');
      const t = paired(r, base, 'threadCpuUsPerCall');
      const first = r.samples[0]!;
      return [
        r.variant === 'none' ? 'none (baseline)' : r.variant,
        fmt(medianOf(r, 'cpuUsPerCall')),
        `±${fmt(spreadPct(values(r, 'cpuUsPerCall')))}%`,
        r.variant === 'none' ? '' : `${p.added >= 0 ? '+' : ''}${fmt(p.added)}`,
        r.variant === 'none' ? '' : `${p.ratio >= 1 ? '+' : ''}${fmt((p.ratio - 1) * 100)}%`,
        fmt(p.ratio, 3),
        r.variant === 'none' ? fmt(medianOf(r, 'threadCpuUsPerCall')) : `${t.added >= 0 ? '+' : ''}${fmt(t.added)}`,
        fmt(medianOf(r, 'spansPerCall'), 2),
        r.variant === 'none' ? '' : medianOf(r, 'priced') === 1 ? 'yes' : 'no',
        String(first.patchedBy ?? ''),
      ];
    });
    rows.push(...unavailableRows(results));
    const version = String(base.samples[0]?.sdkVersion ?? s.sdk);
    const what = s.mode === 'memory' ? 'plain create, fetch option answering from memory'
      : s.mode === 'loopback' ? 'plain create against the fake OpenAI server on 127.0.0.1 (server in the runner process, not counted)'
        : 'stream: true + include_usage, 200 content chunks from memory (one read per SSE event), iterated to the end';
    print({
      title: `${s.name}: openai ${version}, ${what}`,
      how: `one process per variant, ${s.calls * 2} warm-up calls, then ${blocks} rounds of blocks of ${s.calls} calls, variants taking turns block by block ` +
        `(order rotating), x ${sets} fresh process sets = ${sets * blocks} samples each; CPU = process.cpuUsage (user+system, all threads) around the block ` +
        `+ forceFlush of a BatchSpanProcessor to a no-op exporter; main thread = process.threadCpuUsage; ` +
        `added and ratio = medians of per-round pairs with none; ± = half the interquartile range of the samples`,
      table: table(['variant', 'CPU us/call', 'spread', 'added us', 'added %', 'x none', 'main thr. us', 'spans/call', 'cost on span', 'patched by'], rows) + unavailableNotes(results),
      data: { ...s, sets, blocks, version, variants: summarize(results, 'none', ['cpuUsPerCall', 'threadCpuUsPerCall', 'wallUsPerCall', 'spansPerCall', 'priced']) },
    });
  }
}

async function main(): Promise<void> {
  process.stderr.write(`spendtrace bench: ${quick ? 'quick' : 'full'} run, ingest ${rounds} rounds, per-call ${sets} sets x ${blocks} blocks, ${cpus().length} cores, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
  if (only.has('ingest')) await ingestBench();

  const peers = ['none', 'spendtrace', 'otel-contrib', 'traceloop', 'openinference'];
  // Calls per block: a block is ~0.2-0.3 s of CPU, short enough that neighbouring blocks see the same machine.
  const n = (full: number) => (quick ? Math.ceil(full / 2) : full);
  const setups: CallSetup[] = [];
  if (only.has('openai')) {
    setups.push(
      { name: 'Overhead (a) in-memory fetch', sdk: 'v7', mode: 'memory', variants: ['none', 'spendtrace'], calls: n(1000) },
      { name: 'Overhead (b) loopback fake server', sdk: 'v7', mode: 'loopback', variants: ['none', 'spendtrace'], calls: n(300) },
      { name: 'Overhead, 200-chunk stream', sdk: 'v7', mode: 'stream', variants: ['none', 'spendtrace'], calls: n(100) },
    );
  }
  if (only.has('peers')) {
    setups.push(
      { name: 'Peers (a) in-memory fetch', sdk: 'v6', mode: 'memory', variants: peers, calls: n(1000) },
      { name: 'Peers, 200-chunk stream', sdk: 'v6', mode: 'stream', variants: peers, calls: n(100) },
    );
    if (!quick) setups.push({ name: 'Peers (b) loopback fake server', sdk: 'v6', mode: 'loopback', variants: peers, calls: n(300) });
  }
  const fake = setups.some((s) => s.mode === 'loopback') ? await startFakeOpenAI({ recordLimit: 0 }) : undefined;
  try {
    await callBench(setups, fake?.url);
  } finally {
    await fake?.close();
  }

  const out = join(here, 'results', 'latest.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify({
    startedAt: new Date(started).toISOString(),
    seconds: Math.round((Date.now() - started) / 1000),
    quick,
    rounds,
    sets,
    blocks,
    machine: { cores: cpus().length, cpu: cpus()[0]?.model, node: process.version, loadAtEnd: loadavg() },
    benchmarks: sections.map((s) => ({ title: s.title, how: s.how, table: s.table, ...(s.data as object) })),
  }, null, 2)}\n`);
  process.stdout.write(`\nfull results: ${out} (${Math.round((Date.now() - started) / 1000)} s)\n`);
}

await main();
