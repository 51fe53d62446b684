/**
 * Client CPU time per call through the real `@anthropic-ai/sdk` 1.x (`messages.create`) and
 * `@google/genai` (`models.generateContent` / `generateContentStream`), one fresh process per
 * variant, with the same OTel set-up as openai-calls.ts (a TracerProvider with a
 * BatchSpanProcessor to a counting no-op exporter, AsyncLocalStorage context manager, W3C
 * propagators), answers from memory (canned-providers.ts). Variants:
 *   none              the SDK uninstrumented (Anthropic: `openTelemetry: false`)
 *   spendtrace        SpendtraceInstrumentation with its defaults (Anthropic: the SDK traces natively
 *                     and spendtrace prices its span in place)
 *   spendtrace-own    Anthropic with native tracing off: spendtrace's own span
 *   native            Anthropic's own tracing alone (its default when a tracer provider is set), no spendtrace
 *   traceloop         @traceloop/instrumentation-anthropic (native tracing off)
 *   openinference     @arizeai/openinference-instrumentation-anthropic (native tracing off)
 * Each instrumentation is constructed and registered with `registerInstrumentations` before the
 * SDK is required, as `NodeSDK` users get it; spendtrace falls back to `manuallyInstrument` if its
 * hook did not patch. Modes: memory (plain call), stream (200 text chunks iterated to the end).
 *
 *   node bench/provider-calls.ts --sdk=anthropic|gemini --variant=spendtrace [--mode=stream] --direct
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { registerInstrumentations, type Instrumentation as OtelInstrumentation } from '@opentelemetry/instrumentation';
import { ANTHROPIC_MODEL, anthropicFetch, GEMINI_MODEL, installGeminiFetch } from './canned-providers.ts';
import { CountingExporter, installTracing } from './chat-workload.ts';
import { arg, serveBlocks, type Sample } from './harness.ts';
import { timedBlock } from './timed-block.ts';

const variant = arg('variant');
const sdk = arg('sdk', 'anthropic') as 'anthropic' | 'gemini';
const stream = arg('mode', 'memory') === 'stream';
const calls = Number(arg('calls', stream ? '40' : '400'));
const warm = Number(arg('warm', String(calls * 5)));
const chunks = Number(arg('chunks', '200'));
const pkg = sdk === 'gemini' ? '@google/genai' : '@anthropic-ai/sdk';

async function instrumentation(): Promise<OtelInstrumentation | undefined> {
  switch (variant) {
    case 'none':
    case 'native':
      return undefined;
    case 'spendtrace':
    case 'spendtrace-own': {
      const { SpendtraceInstrumentation } = await import('@spendtrace/instrumentation');
      return new SpendtraceInstrumentation();
    }
    case 'traceloop': {
      const { AnthropicInstrumentation } = await import('@traceloop/instrumentation-anthropic');
      return new AnthropicInstrumentation() as unknown as OtelInstrumentation;
    }
    case 'openinference': {
      const { AnthropicInstrumentation } = await import('@arizeai/openinference-instrumentation-anthropic');
      return new AnthropicInstrumentation() as unknown as OtelInstrumentation;
    }
    default:
      throw new Error(`unknown variant ${variant}`);
  }
}

const isWrapped = (f: unknown) => typeof f === 'function' && (f as { __wrapped?: boolean }).__wrapped === true;

async function setup(): Promise<{ block: () => Promise<Sample> } | { unavailable: string }> {
  if (sdk === 'gemini' && !['none', 'spendtrace'].includes(variant)) return { unavailable: `${variant} does not instrument @google/genai` };
  const exporter = new CountingExporter();
  const provider = installTracing(exporter);
  let inst: OtelInstrumentation | undefined;
  try {
    inst = await instrumentation();
    if (inst) registerInstrumentations({ instrumentations: [inst], tracerProvider: provider });
  } catch (e) {
    return { unavailable: `${variant} did not load: ${(e as Error).message.split('\n')[0]}` };
  }
  const require = createRequire(import.meta.url);
  let mod: any;
  try {
    mod = require(pkg);
  } catch (e) {
    return { unavailable: `${variant}: requiring ${pkg} with it registered threw: ${(e as Error).message.split('\n')[0]}` };
  }
  // Neither package exports its package.json: read it beside the entry point.
  let dir = dirname(require.resolve(pkg));
  while (!dir.endsWith(join('node_modules', pkg))) dir = dirname(dir);
  const sdkVersion = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;

  const target = sdk === 'gemini' ? mod.Models.prototype : mod.Anthropic.Messages.prototype;
  const wrapped = () => Object.getOwnPropertyNames(target).some((k) => isWrapped(target[k]));
  let patchedBy = inst ? 'require hook' : variant === 'native' ? 'SDK tracing' : 'none';
  if (inst && !wrapped()) {
    if (!variant.startsWith('spendtrace')) return { unavailable: `${variant} did not patch ${pkg}@${sdkVersion} through its require hook` };
    const { manuallyInstrument } = await import('@spendtrace/instrumentation');
    manuallyInstrument(sdk === 'gemini' ? { googleGenAI: mod } : { anthropic: mod }, inst as never);
    patchedBy = 'manuallyInstrument';
    if (!wrapped()) return { unavailable: `${variant} did not patch ${pkg}@${sdkVersion}` };
  }

  let sink = 0;
  let once: () => Promise<number>;
  if (sdk === 'gemini') {
    installGeminiFetch(chunks);
    const ai = new mod.GoogleGenAI({ apiKey: 'bench-key' });
    const request = {
      model: GEMINI_MODEL,
      contents: 'What is the capital of France? Answer in one sentence.',
      config: { maxOutputTokens: 100, temperature: 0.2 },
    };
    once = stream
      ? async () => {
          let n = 0;
          for await (const c of await ai.models.generateContentStream(request)) n += c.candidates?.length ?? 0;
          return n;
        }
      : async () => (await ai.models.generateContent(request)).usageMetadata?.totalTokenCount ?? 0;
  } else {
    const native = variant === 'native' || variant === 'spendtrace';
    const client = new mod.Anthropic({
      apiKey: 'bench-key',
      baseURL: 'https://api.anthropic.com',
      fetch: anthropicFetch(chunks),
      maxRetries: 0,
      ...(native ? {} : { openTelemetry: false }),
    });
    const request = {
      model: ANTHROPIC_MODEL,
      max_tokens: 100,
      temperature: 0.2,
      system: 'You are a concise assistant.',
      messages: [{ role: 'user', content: 'What is the capital of France? Answer in one sentence.' }],
    };
    once = stream
      ? async () => {
          let n = 0;
          for await (const e of await client.messages.create({ ...request, stream: true })) n += e.type === 'content_block_delta' ? 1 : 0;
          return n;
        }
      : async () => (await client.messages.create(request)).usage.output_tokens;
  }
  const call = async () => {
    sink += await once();
  };
  try {
    for (let i = 0; i < warm; i++) await call();
    await provider.forceFlush();
  } catch (e) {
    return { unavailable: `${variant} failed during warm-up: ${(e as Error).message.split('\n')[0]}` };
  }
  if (sink === 0) throw new Error('calls returned nothing');
  const attrs = exporter.first?.attributes ?? {};
  const priced = attrs['gen_ai.usage.cost.amount'] !== undefined || attrs['llm.cost.total'] !== undefined;
  if (variant !== 'none' && exporter.count === 0) return { unavailable: `${variant} exported no span` };
  const timed = timedBlock(calls, call, provider, exporter);
  return { block: async () => ({ ...(await timed()), priced: priced ? 1 : 0, sdkVersion, patchedBy }) };
}

await serveBlocks(setup);
