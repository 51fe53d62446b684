/**
 * The spine, end to end through real pieces: the real `openai` SDK -> a fake OpenAI server on
 * 127.0.0.1 -> SpendtraceInstrumentation under NodeSDK -> the official OTLP/HTTP exporter ->
 * `spendtrace serve` (startServer) -> embedded ClickHouse (chDB) -> task_costs / hourly_costs.
 * Shared by the protobuf and JSON variants (one NodeSDK per test file: it registers globals).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor, InMemorySpanExporter, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace';
import { startFakeOpenAI, type FakeOpenAIServer } from '@spendtrace/fake-providers';
import { createStore, migrate, startServer, type RunningServer, type Store } from '@spendtrace/exporter';
import { recordToolCost, setTaskOutcome, SpendtraceInstrumentation, withTask, withTool } from '@spendtrace/instrumentation';
import { Pricer } from '@spendtrace/semconv';

/** Published OpenAI prices, USD per 1M tokens (openai.com/api/pricing). */
export const PRICES = {
  'gpt-4.1': { input: 2.0, cached: 0.5, output: 8.0 },
  'gpt-4o-mini': { input: 0.15, cached: 0.075, output: 0.6 },
  'o3-mini': { input: 1.1, cached: 0.55, output: 4.4 },
} as const;
type Model = keyof typeof PRICES;

/** Exact pico-USD of one call from published per-million prices. */
export function callPico(model: Model, prompt: number, cached: number, completion: number): bigint {
  const p = PRICES[model];
  const micro = (usdPerM: number) => BigInt(Math.round(usdPerM * 1e6)); // pico-USD per token
  return BigInt(prompt - cached) * micro(p.input) + BigInt(cached) * micro(p.cached) + BigInt(completion) * micro(p.output);
}

export const WEB_SEARCH_FEE = 0.005;
export const FEE_PICO = 5_000_000_000n;

export interface Spine {
  store: Store;
  server: RunningServer;
  fake: FakeOpenAIServer;
  sdk: NodeSDK;
  client: any;
  /** Every span the app produced, kept to replay them later as a retrying Collector would. */
  memory: InMemorySpanExporter;
  close(): Promise<void>;
}

export async function startSpine(makeExporter: (url: string) => SpanExporter): Promise<Spine> {
  const dir = mkdtempSync(join(tmpdir(), 'spendtrace-e2e-'));
  const store = await createStore({ dataDir: dir });
  await migrate(store, { database: 'spendtrace' });
  const server = await startServer({ port: 0, store, pricer: new Pricer(), database: 'spendtrace', log: () => {}, ingest: { batch: { maxBatchAgeMs: 20 } } });
  const fake = await startFakeOpenAI();
  const memory = new InMemorySpanExporter();
  const sdk = new NodeSDK({
    serviceName: 'e2e-agents',
    spanProcessors: [
      new BatchSpanProcessor({ exporter: makeExporter(`${server.url}/v1/traces`), scheduledDelayMillis: 50 }),
      new SimpleSpanProcessor({ exporter: memory }),
    ],
    instrumentations: [new SpendtraceInstrumentation()],
  });
  sdk.start();
  // Loaded after the SDK started, through Node's require: the instrumentation's module hook patches
  // it exactly as in a CommonJS app (vitest's own loader would bypass the hook).
  const { OpenAI } = createRequire(import.meta.url)('openai');
  const client = new OpenAI({ baseURL: fake.url, apiKey: 'test-key', maxRetries: 2 });
  return {
    store,
    server,
    fake,
    sdk,
    client,
    memory,
    close: async () => {
      await sdk.shutdown();
      await fake.close();
      await server.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const behavior = (b: object) => ({ headers: { 'x-fake-behavior': JSON.stringify(b) } });

/**
 * A multi-step research task: a plan on gpt-4.1, two paid web searches, a cached summary on
 * gpt-4o-mini (inside the search tool), a reasoning check on o3-mini and a streamed answer on
 * gpt-4.1. Returns its task id and the hand-computed cost.
 */
export async function researchTask(client: any): Promise<{ taskId: string; pico: bigint; llmPico: bigint }> {
  const msgs = (t: string) => [{ role: 'user', content: t }];
  const taskId = await withTask({ name: 'research', agent: 'research-agent', userId: 'u-42' }, async (task) => {
    await client.chat.completions.create({ model: 'gpt-4.1', messages: msgs('plan') }, behavior({ promptTokens: 1200, completionTokens: 300 }));
    for (const q of ['clickhouse rollups', 'otel genai conventions']) {
      await withTool('web_search', async () => {
        recordToolCost(WEB_SEARCH_FEE);
        await client.chat.completions.create(
          { model: 'gpt-4o-mini', messages: msgs(`summarise ${q}`) },
          behavior({ promptTokens: 5000, cachedTokens: 4096, completionTokens: 400 }),
        );
      });
    }
    await client.chat.completions.create(
      { model: 'o3-mini', messages: msgs('check') },
      behavior({ promptTokens: 700, completionTokens: 2000, reasoningTokens: 1500 }),
    );
    const stream = await client.chat.completions.create(
      { model: 'gpt-4.1', messages: msgs('answer'), stream: true, stream_options: { include_usage: true } },
      behavior({ promptTokens: 2500, cachedTokens: 2048, completionTokens: 800 }),
    );
    for await (const _chunk of stream) {
      /* consume */
    }
    setTaskOutcome('success');
    return task.id;
  });
  const llmPico =
    callPico('gpt-4.1', 1200, 0, 300) +
    2n * callPico('gpt-4o-mini', 5000, 4096, 400) +
    callPico('o3-mini', 700, 0, 2000) +
    callPico('gpt-4.1', 2500, 2048, 800);
  return { taskId, llmPico, pico: llmPico + 2n * FEE_PICO };
}

/** A triage task on the cheap model that hits a 429 (the SDK retries) and is marked failed. */
export async function failedTriageTask(client: any, fake: FakeOpenAIServer): Promise<{ taskId: string; pico: bigint }> {
  const taskId = await withTask({ name: 'triage', agent: 'triage-agent' }, async (task) => {
    fake.enqueue({ fail: { status: 429, retryAfter: 0 } }, { promptTokens: 300, completionTokens: 5 });
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'classify' }] });
    setTaskOutcome('failure', { reason: 'low confidence' });
    return task.id;
  });
  return { taskId, pico: callPico('gpt-4o-mini', 300, 0, 5) };
}

/** A 10-step agent whose context grows each step: step i sends all previous turns. */
export async function growingContextTask(client: any): Promise<{ taskId: string; prompts: number[]; pico: bigint }> {
  const prompts: number[] = [];
  let pico = 0n;
  const taskId = await withTask({ name: 'nightly-summary', agent: 'summarizer' }, async (task) => {
    for (let step = 1; step <= 10; step++) {
      const prompt = 1000 * step; // each step carries every previous step's context
      prompts.push(prompt);
      pico += callPico('gpt-4o-mini', prompt, 0, 100);
      await client.chat.completions.create(
        { model: 'gpt-4o-mini', messages: [{ role: 'user', content: `step ${step}` }] },
        behavior({ promptTokens: prompt, completionTokens: 100 }),
      );
    }
    setTaskOutcome('success');
    return task.id;
  });
  return { taskId, prompts, pico };
}
