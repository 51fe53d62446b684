/** Shared by the Anthropic and Google Gen AI tests: an in-memory tracer provider and the host the provider modules patch against. */
import { context, createNoopMeter, diag, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { Pricer, type CostDetail } from '@spendtrace/semconv';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { InstrumentationBase } from '@opentelemetry/instrumentation';
import type { GenAIHost } from '../src/anthropic/index.ts';
import type { Wrapper } from '../src/wrapping.ts';
import { GenAIMetrics } from '../src/metrics.ts';

/** USD for `tokens` at a published price per million tokens. */
export const usd = (tokens: number, perMtok: number) => (tokens * perMtok) / 1e6;
/** A USD amount in whole nano-dollars, so costs compare exactly. */
export const nano = (x: unknown) => Math.round((x as number) * 1e9);

/** The instrumentation's own `_wrap` / `_unwrap`, as SpendtraceInstrumentation hands them to the provider modules. */
class Wrapping extends InstrumentationBase {
  constructor() {
    super('spendtrace-test-wrapping', '0.0.0', { enabled: false });
  }
  protected init() {
    return [];
  }
  readonly wrapper: Wrapper = {
    wrap: (t, n, w) => void this._wrap(t as Record<string, any>, n, w),
    unwrap: (t, n) => this._unwrap(t as Record<string, any>, n),
  };
}

/** `costDetail: 'full'` for suites that check the cost breakdown on the span. */
export function genAIHarness(options: { costDetail?: CostDetail } = {}) {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const contextManager = new AsyncLocalStorageContextManager();
  const host: GenAIHost = {
    get callTracer() {
      return provider.getTracer('@spendtrace/instrumentation');
    },
    metrics: new GenAIMetrics(createNoopMeter()),
    pricer: new Pricer(),
    diag,
    isEnabled: () => true,
    wrapper: new Wrapping().wrapper,
    costDetail: options.costDetail,
  };
  async function spans(): Promise<ReadableSpan[]> {
    await provider.forceFlush();
    return exporter.getFinishedSpans();
  }
  return { exporter, provider, contextManager, host, spans };
}

interface FakeServer {
  url: string;
  reset(): void;
  close(): Promise<void>;
}

/**
 * A provider suite's life in vitest hooks: the harness's provider and context manager made
 * global, the SDK patched and a fake server started before all tests; spans and the fake's
 * requests cleared after each; everything undone after all. `fake` is the running server.
 */
export function providerSuite<F extends FakeServer>(
  h: ReturnType<typeof genAIHarness>,
  setup: { patch(): void; unpatch(): void; startFake(): Promise<F> },
): { readonly fake: F } {
  let fake: F | undefined;
  beforeAll(async () => {
    context.setGlobalContextManager(h.contextManager.enable());
    trace.setGlobalTracerProvider(h.provider);
    setup.patch();
    fake = await setup.startFake();
  });
  afterEach(() => {
    h.exporter.reset();
    fake?.reset();
  });
  afterAll(async () => {
    setup.unpatch();
    await fake?.close();
    trace.disable();
    context.disable();
  });
  return {
    get fake(): F {
      if (!fake) throw new Error('the fake server starts in beforeAll');
      return fake;
    },
  };
}
