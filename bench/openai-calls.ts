/**
 * Client CPU time per `chat.completions.create` through the real openai SDK, in one fresh process
 * per variant (harness.ts alternates them). Every variant has the same OTel set-up: a TracerProvider
 * with a BatchSpanProcessor exporting to a counting no-op exporter, an AsyncLocalStorage context
 * manager and W3C propagators; only the instrumentation differs:
 *   none           the SDK uninstrumented
 *   floor          a minimal hand-written wrapper: one span, 8 attributes, no pricing (OTel's own cost)
 *   spendtrace     SpendtraceInstrumentation (spans, usage, pricing)
 *   otel-contrib   @opentelemetry/instrumentation-openai
 *   traceloop      @traceloop/instrumentation-openai
 *   openinference  @arizeai/openinference-instrumentation-openai
 * Each instrumentation is constructed (which registers its require hook) and registered with
 * `registerInstrumentations` (tracer provider; the global no-op meter and logger providers, so no
 * variant pays for metrics or log events) before `openai` is required, as `NodeSDK` users get it;
 * if the hook did not patch, the peer's documented `manuallyInstrument(module)` is used. Modes:
 *   memory    the SDK's `fetch` option answers from memory (canned-openai.ts)
 *   loopback  the fake OpenAI server (in the runner's process) over 127.0.0.1
 *   stream    `stream: true` with include_usage, 200 content chunks, answered from memory
 * After set-up and a warm-up, each block (one sample; harness.ts `serveBlocks`) times `--calls`
 * calls plus `forceFlush()`, so span export is inside the timed region.
 */
import { createRequire } from 'node:module';
import { registerInstrumentations, type Instrumentation as OtelInstrumentation } from '@opentelemetry/instrumentation';
import { arg, serveBlocks, type Sample } from './harness.ts';
import { timedBlock } from './timed-block.ts';
import { completionFetch, streamFetch } from './canned-openai.ts';
import { chatCall, CountingExporter, installTracing } from './chat-workload.ts';
import { installFloor } from './floor.ts';

type Mode = 'memory' | 'loopback' | 'stream';
const variant = arg('variant');
const sdk = arg('sdk', 'v7');
const mode = arg('mode', 'memory') as Mode;
/** Calls per block (one sample). */
const calls = Number(arg('calls', mode === 'stream' ? '100' : mode === 'loopback' ? '300' : '1000'));
const warm = Number(arg('warm', String(calls * 2)));
const streamChunks = Number(arg('chunks', '200'));

interface Instrumentation {
  manuallyInstrument?(module: unknown): void;
}

/** Constructs the variant's instrumentation; `undefined` for none. Throws if the package will not load. */
async function instrumentation(): Promise<Instrumentation | undefined> {
  switch (variant) {
    case 'none':
      return undefined;
    case 'floor':
      return undefined;
    case 'spendtrace': {
      const { SpendtraceInstrumentation, manuallyInstrument } = await import('@spendtrace/instrumentation');
      const inst = new SpendtraceInstrumentation();
      return Object.assign(inst, { manuallyInstrument: (m: unknown) => manuallyInstrument({ openai: m }, inst) }) as unknown as Instrumentation;
    }
    case 'otel-contrib': {
      const { OpenAIInstrumentation } = await import('@opentelemetry/instrumentation-openai');
      return new OpenAIInstrumentation() as unknown as Instrumentation;
    }
    case 'traceloop': {
      const { OpenAIInstrumentation } = await import('@traceloop/instrumentation-openai');
      return new OpenAIInstrumentation() as unknown as Instrumentation;
    }
    case 'openinference': {
      const { OpenAIInstrumentation } = await import('@arizeai/openinference-instrumentation-openai');
      return new OpenAIInstrumentation() as unknown as Instrumentation;
    }
    default:
      throw new Error(`unknown variant ${variant}`);
  }
}

type OpenAIModule = typeof import('openai');
type Client = InstanceType<OpenAIModule['OpenAI']>;

const isWrapped = (f: unknown) => typeof f === 'function' && (f as { __wrapped?: boolean }).__wrapped === true;

async function setup(): Promise<{ block: () => Promise<Sample> } | { unavailable: string }> {
  const exporter = new CountingExporter();
  const provider = installTracing(exporter);

  let inst: Instrumentation | undefined;
  try {
    inst = await instrumentation();
    // As NodeSDK does: tracer provider, the global (no-op) meter and logger providers, enable().
    if (inst) registerInstrumentations({ instrumentations: [inst as unknown as OtelInstrumentation], tracerProvider: provider });
  } catch (e) {
    return { unavailable: `${variant} did not load: ${(e as Error).message.split('\n')[0]}` };
  }

  const require = createRequire(import.meta.url);
  const pkg = sdk === 'v6' ? 'openai-v6' : 'openai';
  const openai = require(pkg) as OpenAIModule;
  const sdkVersion = (require(`${pkg}/version`) as { VERSION: string }).VERSION;
  let patchedBy = inst ? 'require hook' : 'none';
  if (variant === 'floor') {
    installFloor(openai);
    patchedBy = 'floor wrapper';
  }
  if (inst && !isWrapped(openai.OpenAI.Chat.Completions.prototype.create)) {
    if (!inst.manuallyInstrument) return { unavailable: `${variant} did not patch openai@${sdkVersion} through its require hook and has no manual hook` };
    inst.manuallyInstrument(openai);
    patchedBy = 'manuallyInstrument';
    if (!isWrapped(openai.OpenAI.Chat.Completions.prototype.create))
      return { unavailable: `${variant} did not patch openai@${sdkVersion} (require hook or manuallyInstrument)` };
  }

  const client: Client = new openai.OpenAI({
    apiKey: 'bench-key',
    ...(mode === 'loopback'
      ? { baseURL: arg('url') }
      : { baseURL: 'https://api.openai.com/v1', fetch: mode === 'stream' ? streamFetch(streamChunks) : completionFetch() }),
  });
  let sink = 0;
  const once = chatCall(client, mode === 'stream');
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
  const priced = attrs['gen_ai.usage.cost.amount'] !== undefined || attrs['gen_ai.usage.cost'] !== undefined || attrs['llm.cost.total'] !== undefined;

  const timed = timedBlock(calls, call, provider, exporter);
  return {
    block: async () => ({ ...(await timed()), priced: priced ? 1 : 0, sdkVersion, patchedBy }),
  };
}

await serveBlocks(setup);
