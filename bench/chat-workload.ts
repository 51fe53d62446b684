/**
 * What every per-call benchmark shares (openai-calls.ts, ab.ts): the OTel pipeline each process
 * gets, as an app with `NodeSDK` has it, and the one chat request the variants are timed on.
 */
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { BatchSpanProcessor, TracerProvider, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace';

/** Counts what the BatchSpanProcessor hands over; keeps the first span to check it is priced. */
export class CountingExporter implements SpanExporter {
  count = 0;
  first: ReadableSpan | undefined;
  export(spans: ReadableSpan[], done: (r: { code: number }) => void): void {
    this.count += spans.length;
    this.first ??= spans[0];
    done({ code: 0 });
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * A `TracerProvider` with a `BatchSpanProcessor` to `exporter`, an AsyncLocalStorage context
 * manager and W3C propagators, all registered globally.
 */
export function installTracing(exporter: SpanExporter): TracerProvider {
  const provider = new TracerProvider({ spanProcessors: [new BatchSpanProcessor({ exporter })] });
  trace.setGlobalTracerProvider(provider);
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }));
  return provider;
}

const messages = [
  { role: 'system' as const, content: 'You are a concise assistant.' },
  { role: 'user' as const, content: 'What is the capital of France? Answer in one sentence.' },
];

/** An `openai` client (openai 6 is loaded with the same types: the benchmark uses what both have). */
type ChatClient = InstanceType<(typeof import('openai'))['OpenAI']>;

/**
 * One timed request: a plain `chat.completions.create`, or a stream (`include_usage`) iterated to
 * the end. Returns a number taken from the result, so no work can be skipped.
 */
export function chatCall(client: ChatClient, stream: boolean): () => Promise<number> {
  return stream
    ? async () => {
        const s = await client.chat.completions.create({
          model: 'gpt-4o-mini',
          messages,
          temperature: 0.2,
          stream: true,
          stream_options: { include_usage: true },
        });
        let n = 0;
        for await (const chunk of s) n += chunk.choices.length;
        return n;
      }
    : async () => {
        const r = await client.chat.completions.create({ model: 'gpt-4o-mini', messages, temperature: 0.2, max_tokens: 100 });
        return r.usage?.total_tokens ?? 0;
      };
}
