/**
 * Runs benchmark variants each in its own Node process, alternating variants round by round so
 * drift on a shared machine hits all of them alike, and reports medians. Each child prints one
 * JSON line `{ "metric": number, ... }` on stdout (the last line starting with `{` counts), or
 * `{ "unavailable": "reason" }` when the variant cannot run here (a peer that will not load): the
 * variant is then reported as unavailable with that reason, never silently dropped.
 *
 * Two schedules:
 * - `runAlternating`: one fresh process per variant per round (rounds of seconds; for the ingest
 *   benchmark, where every sample needs its own data directory).
 * - `runInterleaved`: one long-lived process per variant, set up and warmed up once, then told to
 *   run one block at a time, variant after variant, for many rounds. Neighbouring blocks of
 *   different variants run a fraction of a second apart, so load from other work on the machine
 *   hits them alike and per-round pairs are tight. Fresh process sets repeat it, so one unlucky
 *   process (memory layout, JIT decisions) cannot decide the result.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { createInterface } from 'node:readline';
import { GCProfiler, getHeapStatistics } from 'node:v8';
import type { Readable, Writable } from 'node:stream';

/** A child's result: numbers to take medians of, plus labels (versions, how it was patched). */
export type Sample = Record<string, number | string>;

export interface VariantResult {
  variant: string;
  samples: Sample[];
  /** Set when the child said it cannot run, or failed; later rounds skip the variant. */
  unavailable?: string;
}

export interface RunOptions {
  /** Extra arguments for every child. */
  args?: string[];
  /** A child running longer than this is killed and the variant marked failed. @default 120_000 */
  timeoutMs?: number;
  /** Called after each child, e.g. for progress dots. */
  onSample?: (variant: string, round: number, sample: Sample | undefined) => void;
}

interface ChildOutcome {
  sample?: Sample;
  unavailable?: string;
}

function runChild(script: string, args: string[], timeoutMs: number): Promise<ChildOutcome> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      // A clean environment for the child: no inherited --import hooks, no SDK switched off.
      env: { ...process.env, OTEL_SDK_DISABLED: undefined, NODE_OPTIONS: '' },
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = out
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .pop();
      const tail = err.trim().split('\n').slice(-6).join('\n');
      if (code !== 0 || !line) {
        const why = signal === 'SIGKILL' ? `timed out after ${timeoutMs} ms` : `exited with ${code ?? signal}`;
        resolve({ unavailable: `failed: ${why}${tail ? `: ${tail}` : ''}` });
        return;
      }
      const parsed = JSON.parse(line) as Record<string, unknown>;
      if (typeof parsed.unavailable === 'string') resolve({ unavailable: parsed.unavailable });
      else resolve({ sample: parsed as Sample });
    });
  });
}

/**
 * Runs `script --variant=<v> ...args` once per variant per round. The order rotates every round,
 * so no variant always runs first (cold caches, a quiet machine) or last.
 */
export async function runAlternating(script: string, variants: string[], rounds: number, options: RunOptions = {}): Promise<VariantResult[]> {
  const results: VariantResult[] = variants.map((variant) => ({ variant, samples: [] }));
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < variants.length; i++) {
      const res = results[(i + r) % variants.length]!;
      if (res.unavailable) continue;
      const o = await runChild(script, [`--variant=${res.variant}`, ...(options.args ?? [])], options.timeoutMs ?? 120_000);
      if (o.unavailable) res.unavailable = o.unavailable;
      else res.samples.push(o.sample!);
      options.onSample?.(res.variant, r, o.sample);
    }
  }
  return results;
}

/** A child kept alive between blocks: it answers each `run` line on stdin with one JSON line. */
class BlockChild {
  private readonly proc: ChildProcessByStdio<Writable, Readable, Readable>;
  private readonly lines: string[] = [];
  private readonly waiters: Array<(line: string | undefined) => void> = [];
  private closed = false;
  stderr = '';

  constructor(script: string, args: string[]) {
    this.proc = spawn(process.execPath, [script, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, OTEL_SDK_DISABLED: undefined, NODE_OPTIONS: '' },
    });
    createInterface({ input: this.proc.stdout }).on('line', (l) => {
      if (!l.startsWith('{')) return;
      const w = this.waiters.shift();
      if (w) w(l);
      else this.lines.push(l);
    });
    this.proc.stderr.setEncoding('utf8').on('data', (c: string) => (this.stderr = (this.stderr + c).slice(-4000)));
    this.proc.on('close', () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w(undefined);
    });
  }

  /** The next JSON line, or undefined when the child died or took longer than `timeoutMs`. */
  next(timeoutMs: number): Promise<Record<string, unknown> | undefined> {
    const ready = this.lines.shift();
    if (ready) return Promise.resolve(JSON.parse(ready) as Record<string, unknown>);
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(done);
        if (i >= 0) this.waiters.splice(i, 1);
        this.proc.kill('SIGKILL');
        resolve(undefined);
      }, timeoutMs);
      const done = (line: string | undefined) => {
        clearTimeout(timer);
        resolve(line === undefined ? undefined : (JSON.parse(line) as Record<string, unknown>));
      };
      this.waiters.push(done);
    });
  }

  send(command: string): void {
    if (!this.closed) this.proc.stdin.write(`${command}\n`);
  }

  failure(): string {
    const tail = this.stderr.trim().split('\n').slice(-6).join('\n');
    return `failed: ${this.closed ? `exited with ${this.proc.exitCode ?? this.proc.signalCode}` : 'no answer in time'}${tail ? `: ${tail}` : ''}`;
  }

  async stop(): Promise<void> {
    if (this.closed) return;
    this.send('exit');
    this.proc.stdin.end();
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.proc.kill('SIGKILL');
        resolve();
      }, 10_000);
      this.proc.once('close', () => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}

export interface InterleaveOptions extends RunOptions {
  /** Fresh process sets, one after another. @default 2 */
  sets?: number;
  /** Rounds of blocks per process set. */
  blocks: number;
}

/**
 * Starts one process per variant (`script --variant=<v> ...args`), waits for each to say
 * `{ "ready": ... }` (or `{ "unavailable": ... }`), then runs `blocks` rounds: in each, every
 * variant runs one block in turn, the order rotating every round. Repeats with fresh processes
 * `sets` times. The children are driven by `serveBlocks`.
 */
export async function runInterleaved(script: string, variants: string[], options: InterleaveOptions): Promise<VariantResult[]> {
  const results: VariantResult[] = variants.map((variant) => ({ variant, samples: [] }));
  const timeoutMs = options.timeoutMs ?? 120_000;
  for (let set = 0; set < (options.sets ?? 2); set++) {
    const live = results.filter((r) => !r.unavailable);
    // Start them one at a time: set-up (loading, warm-up) must not overlap another's.
    const children = new Map<VariantResult, BlockChild>();
    for (const r of live) {
      const child = new BlockChild(script, [`--variant=${r.variant}`, ...(options.args ?? [])]);
      const hello = await child.next(timeoutMs);
      if (!hello || typeof hello.unavailable === 'string') {
        r.unavailable = hello ? String(hello.unavailable) : child.failure();
        await child.stop();
        continue;
      }
      children.set(r, child);
    }
    const running = [...children.keys()];
    for (let b = 0; b < options.blocks; b++) {
      for (let i = 0; i < running.length; i++) {
        const r = running[(i + b + set) % running.length]!;
        const child = children.get(r)!;
        if (r.unavailable) continue;
        child.send('run');
        const sample = await child.next(timeoutMs);
        if (!sample || typeof sample.unavailable === 'string') {
          r.unavailable = sample ? String(sample.unavailable) : child.failure();
          await child.stop();
        } else r.samples.push(sample as Sample);
        options.onSample?.(r.variant, b, sample as Sample | undefined);
      }
    }
    for (const child of children.values()) await child.stop();
  }
  return results;
}

/**
 * The child side of `runInterleaved`: prepares once (`setup` loads, patches and warms up), says
 * ready, then runs one block per `run` line on stdin and prints its sample. Run by hand (stdin a
 * terminal), it runs `--blocks=N` (default 5) blocks and prints each.
 */
export async function serveBlocks(setup: () => Promise<{ block: () => Promise<Sample> } | { unavailable: string }>): Promise<void> {
  const prepared = await setup();
  if ('unavailable' in prepared) {
    report({ unavailable: prepared.unavailable });
    return;
  }
  if (process.stdin.isTTY || flag('direct')) {
    for (let i = 0, n = Number(arg('blocks', '5')); i < n; i++) report(await prepared.block());
    process.exit(0);
  }
  report({ ready: 1 });
  for await (const line of createInterface({ input: process.stdin })) {
    if (line.trim() !== 'run') break;
    report(await prepared.block());
  }
  process.exit(0);
}

export function median(xs: number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * A distribution-free 95% confidence interval for the median: the order statistics k and n-k+1,
 * with k the largest rank such that P(Binomial(n, 1/2) < k) <= 2.5%. Needs n >= 6.
 */
export function medianCi(xs: number[]): [number, number] {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  const n = s.length;
  if (n < 6) return [NaN, NaN];
  let k = 0;
  let cdf = 0;
  let pmf = 0.5 ** n; // P(X = 0)
  while (cdf + pmf <= 0.025) {
    cdf += pmf;
    pmf = (pmf * (n - k)) / (k + 1);
    k++;
  }
  // P(X < k) <= 2.5%: the k-th smallest (1-based) is the lower bound.
  return [s[Math.max(k, 1) - 1]!, s[n - Math.max(k, 1)]!];
}

export function values(r: VariantResult, metric: string): number[] {
  return r.samples.map((s) => s[metric]).filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
}

export function medianOf(r: VariantResult, metric: string): number {
  return median(values(r, metric));
}

/**
 * Median of the per-round ratios variant/baseline. Rounds pair the two runs that were closest in
 * time, so this ratio is steadier than the ratio of medians when the machine's load drifts.
 */
export function pairedRatio(v: VariantResult, base: VariantResult, metric: string): number {
  const n = Math.min(v.samples.length, base.samples.length);
  const ratios: number[] = [];
  for (let i = 0; i < n; i++) ratios.push(Number(v.samples[i]![metric]) / Number(base.samples[i]![metric]));
  return median(ratios.filter((x) => Number.isFinite(x)));
}

/** Relative half-spread (p75 - p25) / 2 / median, in percent: how noisy a median is. */
export function spreadPct(xs: number[]): number {
  if (xs.length < 2) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => {
    const at = (s.length - 1) * p;
    const lo = Math.floor(at);
    return s[lo]! + (s[Math.min(lo + 1, s.length - 1)]! - s[lo]!) * (at - lo);
  };
  return ((q(0.75) - q(0.25)) / 2 / median(s)) * 100;
}

export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells
    .map((r) =>
      r
        .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** A number for a table: fixed decimals, or '-' when there is none. */
export function fmt(x: number, digits = 1): string {
  if (!Number.isFinite(x)) return '-';
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** CPU time (user + system, all threads) of this process in microseconds. */
export function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/**
 * CPU time of the main thread only (no GC helper threads, no libuv pool) in microseconds:
 * steadier than the process's, but it misses work the runtime moves off the main thread.
 */
export function threadCpuMicros(): number {
  const u = (process as unknown as { threadCpuUsage(): NodeJS.CpuUsage }).threadCpuUsage();
  return u.user + u.system;
}

/**
 * What `run` did to the V8 heap, from `v8.GCProfiler`'s before/after figures of each collection
 * in between:
 * - `bytes` allocated: the heap's growth between collections, summed;
 * - `promotedBytes`: the old generation's growth across young-generation collections, i.e. the
 *   objects that lived long enough to be copied out of the young generation. Short-lived garbage
 *   is nearly free in V8; objects kept alive across a collection are not, and this shows them;
 * - `gcMicros`: the main-thread time of those collections.
 */
export async function heapActivity<T>(run: () => Promise<T>): Promise<{ result: T; bytes: number; promotedBytes: number; gcMicros: number; majorGcs: number }> {
  const profiler = new GCProfiler();
  const used0 = getHeapStatistics().used_heap_size;
  profiler.start();
  const result = await run();
  const used1 = getHeapStatistics().used_heap_size;
  const gcs = profiler.stop()?.statistics ?? [];
  let bytes = 0;
  let promotedBytes = 0;
  let gcMicros = 0;
  let majorGcs = 0;
  let after = used0;
  for (const gc of gcs) {
    gcMicros += gc.cost;
    if (gc.gcType === 'MarkSweepCompact') majorGcs++;
    bytes += Math.max(0, gc.beforeGC.heapStatistics.usedHeapSize - after);
    after = gc.afterGC.heapStatistics.usedHeapSize;
    if (gc.gcType === 'Scavenge' || gc.gcType === 'MinorMarkSweep') promotedBytes += Math.max(0, oldGeneration(gc.afterGC) - oldGeneration(gc.beforeGC));
  }
  bytes += Math.max(0, used1 - after);
  return { result, bytes, promotedBytes, gcMicros, majorGcs };
}

function oldGeneration(h: { heapSpaceStatistics: Array<{ spaceName: string; spaceUsedSize: number }> }): number {
  let n = 0;
  for (const s of h.heapSpaceStatistics) if (s.spaceName === 'old_space' || s.spaceName === 'lo_space') n += s.spaceUsedSize;
  return n;
}

export function arg(name: string, fallback?: string): string {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  if (hit) return hit.slice(name.length + 3);
  if (fallback === undefined) throw new Error(`missing --${name}=`);
  return fallback;
}

export function flag(name: string): boolean {
  return process.argv.includes(`--${name}`);
}

/** Prints the child's result line (the harness reads the last JSON line on stdout). */
export function report(result: Record<string, number | string>): void {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
