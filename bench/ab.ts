/**
 * In-process A/B: spendtrace's share of a call with the machine's noise cancelled.
 *
 * Two private copies of the same `openai` package are loaded from temporary directories into ONE
 * process: copy A instrumented by `SpendtraceInstrumentation` (`manuallyInstrument`), copy B
 * uninstrumented (`--against=none`), patched by the floor wrapper (`--against=floor`, floor.ts),
 * or by a peer instrumentation (`--against=otel-contrib|traceloop|openinference`, openai 6: the
 * peer's own patch function applied to copy B, as its require hook would apply it). Blocks of calls alternate A, B, B, A, ... so both copies see the same machine, the
 * same heap and the same OTel pipeline, and each round gives one paired difference. Separate
 * processes (run.ts) are the honest end-to-end figure; this is the locator when the machine moves
 * more between processes than the effect being looked for. Run under `--cpu-prof` to split the
 * difference by function: the copies' frames have different paths.
 *
 *   node bench/ab.ts [--sdk=v6|v7] [--mode=memory|stream] [--against=none|floor|otel-contrib|traceloop|openinference] [--rounds=100]
 *                    [--calls=200 | 20 for streams] [--chunks=200]
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { manuallyInstrument, SpendtraceInstrumentation } from '@spendtrace/instrumentation';
import { completionFetch, streamFetch } from './canned-openai.ts';
import { chatCall, CountingExporter, installTracing } from './chat-workload.ts';
import { installFloor } from './floor.ts';
import { arg, fmt, heapActivity, median, medianCi } from './harness.ts';

type OpenAIModule = typeof import('openai');

const sdk = arg('sdk', 'v6');
const mode = arg('mode', 'memory');
const against = arg('against', mode === 'stream' ? 'none' : 'floor');
const rounds = Number(arg('rounds', '100'));
const calls = Number(arg('calls', mode === 'stream' ? '20' : '200'));
const chunks = Number(arg('chunks', '200'));
const warmRounds = Math.max(2, Math.round(rounds / 10));

const exporter = new CountingExporter();
const provider = installTracing(exporter);
const inst = new SpendtraceInstrumentation();
registerInstrumentations({ instrumentations: [inst], tracerProvider: provider });

// Two copies of the package, each with its own classes. Not under a `node_modules/openai` path:
// the instrumentation's require hook would patch both copies.
const require = createRequire(import.meta.url);
const pkg = sdk === 'v6' ? 'openai-v6' : 'openai';
const source = dirname(require.resolve(`${pkg}/version`));
const version = (require(`${pkg}/version`) as { VERSION: string }).VERSION;
const tmp = mkdtempSync(join(tmpdir(), 'spendtrace-ab-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const load = (name: string): OpenAIModule => {
  const dir = join(tmp, `openai-${name}`);
  cpSync(source, dir, { recursive: true, dereference: true });
  return require(dir) as OpenAIModule;
};
const A = load('a');
const B = load('b');
const isWrapped = (m: OpenAIModule) => (m.OpenAI.Chat.Completions.prototype.create as { __wrapped?: boolean }).__wrapped === true;
if (isWrapped(A) || isWrapped(B)) throw new Error('a copy was patched on require: the comparison would be void');
manuallyInstrument({ openai: A }, inst);
if (against === 'floor') installFloor(B);
else if (against !== 'none') await installPeer(against, B);

/**
 * Patches copy B with a peer instrumentation, registered like spendtrace (tracer provider, the
 * global no-op meter and logger). Its require hook never sees the copy, so the patch function of
 * its module definition (what the hook would run) is applied to the copy, else its
 * `manuallyInstrument`.
 */
async function installPeer(name: string, module: OpenAIModule): Promise<void> {
  type Peer = { getModuleDefinitions?(): Array<{ patch?(m: unknown, v?: string): unknown }>; manuallyInstrument?(m: unknown): void };
  const peers: Record<string, () => Promise<Peer>> = {
    'otel-contrib': async () => new (await import('@opentelemetry/instrumentation-openai')).OpenAIInstrumentation() as unknown as Peer,
    traceloop: async () => new (await import('@traceloop/instrumentation-openai')).OpenAIInstrumentation() as unknown as Peer,
    openinference: async () => new (await import('@arizeai/openinference-instrumentation-openai')).OpenAIInstrumentation() as unknown as Peer,
  };
  const make = peers[name];
  if (!make) throw new Error(`--against must be none, floor or one of ${Object.keys(peers).join(', ')}, not ${name}`);
  const peer = await make();
  registerInstrumentations({ instrumentations: [peer as never], tracerProvider: provider });
  for (const def of peer.getModuleDefinitions?.() ?? []) def.patch?.(module, version);
  if (!isWrapped(module)) peer.manuallyInstrument?.(module);
  if (!isWrapped(module)) throw new Error(`${name} did not patch openai ${version}`);
}

const client = (m: OpenAIModule) =>
  new m.OpenAI({ apiKey: 'ab-key', baseURL: 'https://api.openai.com/v1', fetch: mode === 'stream' ? streamFetch(chunks) : completionFetch() });
const a = client(A);
const b = client(B);
let sink = 0;
const callA = chatCall(a, mode === 'stream');
const callB = chatCall(b, mode === 'stream');

interface Block {
  cpuUs: number;
  allocKb: number;
  promotedKb: number;
}
async function block(one: () => Promise<number>): Promise<Block> {
  const t0 = process.cpuUsage();
  const heap = await heapActivity(async () => {
    for (let i = 0; i < calls; i++) sink += await one();
    await provider.forceFlush();
  });
  const d = process.cpuUsage(t0);
  return { cpuUs: (d.user + d.system) / calls, allocKb: heap.bytes / 1024 / calls, promotedKb: heap.promotedBytes / 1024 / calls };
}

const pairs: Array<{ a: Block; b: Block }> = [];
for (let r = 0; r < warmRounds + rounds; r++) {
  // A, B then B, A: neither copy always runs first.
  const first = r % 2 ? await block(callA) : await block(callB);
  const second = r % 2 ? await block(callB) : await block(callA);
  if (r >= warmRounds) pairs.push(r % 2 ? { a: first, b: second } : { a: second, b: first });
}
if (sink === 0 || exporter.count === 0) throw new Error('no calls were made or no span was exported');

const diffs = pairs.map((p) => p.a.cpuUs - p.b.cpuUs);
const [lo, hi] = medianCi(diffs);
const bMedian = median(pairs.map((p) => p.b.cpuUs));
const col = (k: keyof Block, digits = 1) => `A ${fmt(median(pairs.map((p) => p.a[k])), digits)} / B ${fmt(median(pairs.map((p) => p.b[k])), digits)}`;
process.stdout.write(
  `openai ${version} ${mode}: A = spendtrace, B = ${against}; ${rounds} rounds of ${calls} ${mode === 'stream' ? `${chunks}-chunk streams` : 'calls'} per copy\n` +
    `  CPU us/${mode === 'stream' ? 'stream' : 'call'}: ${col('cpuUs')}; A - B = ${diffs.length ? `${fmt(median(diffs))} (95% CI ${fmt(lo)}..${fmt(hi)}), ${fmt((median(diffs) / bMedian) * 100)}% of B` : '-'}\n` +
    `  heap KB allocated: ${col('allocKb')}; promoted KB: ${col('promotedKb', 2)}\n`,
);
