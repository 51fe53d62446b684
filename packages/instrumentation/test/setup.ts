/** Shared by the in-process tests: one SDK, one instrumentation, the real openai SDK (CJS) patched by hand, a fake server. */
import { createRequire } from 'node:module';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { startFakeOpenAI, type FakeOpenAIServer } from '@spendtrace/fake-providers';
import { manuallyInstrument, SpendtraceInstrumentation, type SpendtraceInstrumentationConfig } from '../src/index.ts';

// vitest's module loader bypasses require hooks, so the SDK is loaded with require and patched by hand.
const require = createRequire(import.meta.url);
export const openaiModule = require('openai') as typeof import('openai');
export const { OpenAI } = openaiModule;
export type OpenAIClient = InstanceType<typeof OpenAI>;

export interface Harness {
  exporter: InMemorySpanExporter;
  instrumentation: SpendtraceInstrumentation;
  fake: FakeOpenAIServer;
  client: OpenAIClient;
  /** Finished spans named like `chat ...` / all. */
  chatSpans(): ReadableSpan[];
  spans(): ReadableSpan[];
  close(): Promise<void>;
}

export async function setup(config: SpendtraceInstrumentationConfig = {}): Promise<Harness> {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  trace.setGlobalTracerProvider(provider);
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }));
  const instrumentation = new SpendtraceInstrumentation(config);
  instrumentation.setTracerProvider(provider);
  manuallyInstrument({ openai: openaiModule }, instrumentation);
  const fake = await startFakeOpenAI();
  const client = new OpenAI({ baseURL: fake.url, apiKey: 'test-key', maxRetries: 2 });
  return {
    exporter,
    instrumentation,
    fake,
    client,
    spans: () => exporter.getFinishedSpans(),
    chatSpans: () => exporter.getFinishedSpans().filter((s) => s.name.startsWith('chat ')),
    close: async () => {
      instrumentation.disable();
      await fake.close();
      await provider.shutdown();
    },
  };
}

/**
 * The usual test file prelude: one harness for the file, started before its tests and closed
 * after them, with finished spans and the fake server's requests and queue cleared before each
 * test. The returned object is filled in by the time the tests run.
 */
export function useHarness(config: SpendtraceInstrumentationConfig = {}): Harness {
  const h = {} as Harness;
  beforeAll(async () => {
    Object.assign(h, await setup(config));
  });
  afterAll(() => h.close());
  beforeEach(() => {
    h.exporter.reset();
    h.fake.reset();
  });
  return h;
}

/** Published USD per 1M tokens -> exact USD for `tokens` (pico-dollar integer arithmetic, back to a double). */
export function usd(tokens: number, perMillion: number): number {
  return Number(BigInt(tokens) * BigInt(Math.round(perMillion * 1e6))) / 1e12;
}

/** Waits for spans that end asynchronously (local token counting). */
export async function waitFor<T>(fn: () => T | undefined, ms = 3000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
}
