/**
 * In-process A/B of spendtrace on the other SDKs it makes its own spans for: `@google/genai`
 * (`models.generateContent`) and `@anthropic-ai/sdk` 1.x (`messages.create`, native tracing off:
 * spendtrace's own span; `--sdk=anthropic-native`: the SDK's native span, priced by spendtrace,
 * against the same SDK tracing natively without spendtrace). Set-up (a) of ab.ts: answers come from
 * memory (the SDK's `fetch` option, or the global fetch for `@google/genai`, which has none), so the
 * difference is the instrumentation's own CPU. Copy A instrumented, copy B bare, blocks alternating
 * A B B A, paired medians with a 95% interval (harness.ts).
 *
 *   node bench/ab-providers.ts [--sdk=gemini|anthropic|anthropic-native] [--rounds=60] [--calls=200]
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { manuallyInstrument, SpendtraceInstrumentation } from '@spendtrace/instrumentation';
import { CountingExporter, installTracing } from './chat-workload.ts';
import { arg, fmt, median, medianCi } from './harness.ts';

const sdk = arg('sdk', 'gemini');
const rounds = Number(arg('rounds', '60'));
const calls = Number(arg('calls', '200'));
const warmRounds = Math.max(2, Math.round(rounds / 10));

const exporter = new CountingExporter();
const provider = installTracing(exporter);
const inst = new SpendtraceInstrumentation();
registerInstrumentations({ instrumentations: [inst], tracerProvider: provider });

// Two copies of the package, each with its own classes, beside the original in pnpm's store so
// they resolve its dependencies; never under its own name, or the require hook would patch both.
const require = createRequire(import.meta.url);
const pkg = sdk === 'gemini' ? '@google/genai' : '@anthropic-ai/sdk';
// The package's own folder: `@google/genai` exports no `./package.json`.
const source = join(
  require.resolve.paths(pkg)!.find((dir) => existsSync(join(dir, pkg, 'package.json')))!,
  pkg,
);
const version = (JSON.parse(readFileSync(join(source, 'package.json'), 'utf8')) as { version: string }).version;
const tmp = mkdtempSync(join(realpathSync(source), '..', '..', 'spendtrace-ab-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const entry = sdk === 'gemini' ? 'dist/node/index.cjs' : '';
const load = (name: string) => {
  const dir = join(tmp, name);
  cpSync(source, dir, { recursive: true, dereference: true });
  return require(join(dir, entry));
};
const A = load('a');
const B = load('b');
manuallyInstrument(sdk === 'gemini' ? { googleGenAI: A } : { anthropic: A }, inst);

type Call = () => Promise<number>;
function makeCalls(): [Call, Call] {
  if (sdk === 'gemini') {
    const body = new TextEncoder().encode(
      JSON.stringify({
        candidates: [{ content: { role: 'model', parts: [{ text: 'Paris is the capital of France.' }] }, finishReason: 'STOP', index: 0 }],
        usageMetadata: { promptTokenCount: 1200, candidatesTokenCount: 300, cachedContentTokenCount: 1024, totalTokenCount: 1500 },
        modelVersion: 'gemini-2.5-flash',
        responseId: 'r1',
      }),
    );
    globalThis.fetch = (async () => new Response(body, { status: 200, headers: { 'content-type': 'application/json' } })) as typeof fetch;
    const call = (M: any): Call => {
      const ai = new M.GoogleGenAI({ apiKey: 'ab-key' });
      return async () =>
        (await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'Capital of France?', config: { maxOutputTokens: 100 } })).usageMetadata
          .candidatesTokenCount;
    };
    return [call(A), call(B)];
  }
  const body = new TextEncoder().encode(
    JSON.stringify({
      id: 'msg_1',
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-6',
      content: [{ type: 'text', text: 'Paris is the capital of France.' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: 1200, output_tokens: 300, cache_read_input_tokens: 1024, cache_creation_input_tokens: 0, service_tier: 'standard' },
    }),
  );
  const fetch = (async () =>
    new Response(body, { status: 200, headers: { 'content-type': 'application/json', 'request-id': 'req_1' } })) as typeof globalThis.fetch;
  const native = sdk === 'anthropic-native';
  const call = (M: any): Call => {
    const client = new M.Anthropic({
      apiKey: 'ab-key',
      baseURL: 'https://api.anthropic.com',
      fetch,
      maxRetries: 0,
      ...(native ? {} : { openTelemetry: false }),
    });
    return async () =>
      (await client.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 100, messages: [{ role: 'user', content: 'Capital of France?' }] })).usage
        .output_tokens;
  };
  return [call(A), call(B)];
}
const [callA, callB] = makeCalls();

let sink = 0;
async function block(one: Call): Promise<number> {
  const t0 = process.cpuUsage();
  for (let i = 0; i < calls; i++) sink += await one();
  await provider.forceFlush();
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / calls;
}

const pairs: Array<{ a: number; b: number }> = [];
for (let r = 0; r < warmRounds + rounds; r++) {
  const first = r % 2 ? await block(callA) : await block(callB);
  const second = r % 2 ? await block(callB) : await block(callA);
  if (r >= warmRounds) pairs.push(r % 2 ? { a: first, b: second } : { a: second, b: first });
}
if (sink === 0 || exporter.count === 0) throw new Error('no calls were made or no span was exported');
const diffs = pairs.map((p) => p.a - p.b);
const [lo, hi] = medianCi(diffs);
process.stdout.write(
  `${pkg} ${version} ${sdk}: A = spendtrace, B = bare${sdk === 'anthropic-native' ? ' (both trace natively)' : ''}; ${rounds} rounds of ${calls} calls per copy\n` +
    `  CPU us/call: A ${fmt(median(pairs.map((p) => p.a)))} / B ${fmt(median(pairs.map((p) => p.b)))}; A - B = ${fmt(median(diffs))} (95% CI ${fmt(lo)}..${fmt(hi)})\n`,
);
