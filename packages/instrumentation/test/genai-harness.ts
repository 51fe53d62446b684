/** Shared by the Anthropic and Google Gen AI tests: an in-memory tracer provider and the host the provider modules patch against. */
import { diag } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { Pricer, type CostDetail } from '@spendtrace/semconv';
import type { GenAIHost } from '../src/anthropic/index.ts';

/** USD for `tokens` at a published price per million tokens. */
export const usd = (tokens: number, perMtok: number) => (tokens * perMtok) / 1e6;
/** A USD amount in whole nano-dollars, so costs compare exactly. */
export const nano = (x: unknown) => Math.round((x as number) * 1e9);

/** `costDetail: 'full'` for suites that check the cost breakdown on the span. */
export function genAIHarness(options: { costDetail?: CostDetail } = {}) {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const contextManager = new AsyncLocalStorageContextManager();
  const host: GenAIHost = {
    get tracer() {
      return provider.getTracer('@spendtrace/instrumentation');
    },
    pricer: new Pricer(),
    diag,
    isEnabled: () => true,
    costDetail: options.costDetail,
  };
  async function spans(): Promise<ReadableSpan[]> {
    await provider.forceFlush();
    return exporter.getFinishedSpans();
  }
  return { exporter, provider, contextManager, host, spans };
}
