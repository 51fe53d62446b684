/**
 * The one-task workload the service end-to-end tests send (server.test.ts on chDB,
 * clickhouse-server.test.ts over HTTP), with its exact cost, and the service they send it to.
 */
import { context, SpanKind, trace, type Tracer } from '@opentelemetry/api';
import { BatchSpanProcessor, InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { Pricer } from '@spendtrace/semconv';
import { startServer, type RunningServer, type Store } from '../../src/index.ts';

/** One task: a root, two LLM calls without cost (priced by the exporter) on two models, one with cost, one paid tool. */
export function runTask(tracer: Tracer, taskName: string) {
  const root = tracer.startSpan(`invoke_agent ${taskName}`, {
    attributes: { 'spendtrace.task.root': true, 'spendtrace.task.name': taskName, 'gen_ai.agent.name': 'research-agent', 'spendtrace.task.outcome': 'success' },
  });
  const ctx = trace.setSpan(context.active(), root);
  const llm = (model: string, input: number, output: number, extra: Record<string, number | string> = {}) => {
    const s = tracer.startSpan(
      `chat ${model}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'gen_ai.operation.name': 'chat',
          'gen_ai.provider.name': 'openai',
          'gen_ai.request.model': model,
          'gen_ai.usage.input_tokens': input,
          'gen_ai.usage.output_tokens': output,
          'spendtrace.task.name': taskName,
          'gen_ai.agent.name': 'research-agent',
          ...extra,
        },
      },
      ctx,
    );
    s.end();
  };
  llm('gpt-4o-mini', 12_000, 800); // 12000 x 0.15 + 800 x 0.60 = 1800 + 480 = 2280 e-6
  llm('gpt-4o', 3_000, 500, { 'gen_ai.usage.cache_read.input_tokens': 1_000 }); // 2000 x 2.5 + 1000 x 1.25 + 500 x 10 = 5000 + 1250 + 5000 = 11250 e-6
  llm('gpt-4o', 100, 10, { 'gen_ai.usage.cost.amount': 0.000123, 'gen_ai.usage.cost.source': 'local' }); // kept: 123 e-6
  const tool = tracer.startSpan(
    'execute_tool web_search',
    {
      attributes: {
        'gen_ai.operation.name': 'execute_tool',
        'gen_ai.tool.name': 'web_search',
        'spendtrace.tool.cost.amount': 0.005,
        'spendtrace.task.name': taskName,
      },
    },
    ctx,
  ); // 5000 e-6
  tool.end();
  root.end();
  return root.spanContext().traceId;
}
export const TASK_COST = '0.018653000000'; // 2280 + 11250 + 123 + 5000 = 18653 e-6 USD

/** Runs the task and exports it through `exporter` (a real OTLP exporter); returns its trace id. */
export async function sendWith(exporter: SpanExporter, taskName: string): Promise<string> {
  const provider = new TracerProvider({ resource: resourceFromAttributes({ 'service.name': 'e2e' }), spanProcessors: [new BatchSpanProcessor({ exporter })] });
  const id = runTask(provider.getTracer('e2e'), taskName);
  await provider.forceFlush();
  await provider.shutdown();
  return id;
}

/** The task's spans as an SDK would export them, for hand-built request bodies. */
export async function recorded(taskName: string): Promise<ReadableSpan[]> {
  const mem = new InMemorySpanExporter();
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'e2e' }),
    spanProcessors: [new SimpleSpanProcessor({ exporter: mem })],
  });
  runTask(provider.getTracer('e2e'), taskName);
  await provider.forceFlush();
  return mem.getFinishedSpans();
}

/** The service both files test: any free port, the published prices, 1 MiB bodies, batches flushed after 20 ms. */
export function startE2EServer(store: Store, database: string): Promise<RunningServer> {
  return startServer({ port: 0, store, pricer: new Pricer(), database, maxBodyBytes: 1024 * 1024, log: () => {}, ingest: { batch: { maxBatchAgeMs: 20 } } });
}
