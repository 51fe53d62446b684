/**
 * Traffic for the alert tests, sent as real OTLP/protobuf by the OpenTelemetry SDK: tasks of one or
 * more LLM calls at chosen times (hours back, for baselines), with exact costs carried on the spans
 * (`gen_ai.usage.cost.amount`, source local) so each rule's threshold is crossed, or not, by design.
 */
import { context, SpanKind, trace, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';

export interface Call {
  /** USD carried on the span; absent: the exporter prices the tokens (or flags the model unpriced). */
  cost?: number;
  model?: string;
  provider?: string;
  retries?: number;
  input?: number;
  output?: number;
}

export interface TaskSpec {
  agent: string;
  taskName: string;
  /** Epoch ms of the task's start. */
  at: number;
  user?: string;
  calls: Call[];
}

export function emitTask(tracer: Tracer, t: TaskSpec): void {
  const common = { 'gen_ai.agent.name': t.agent, 'spendtrace.task.name': t.taskName, ...(t.user ? { 'user.id': t.user } : {}) };
  const root = tracer.startSpan(`invoke_agent ${t.agent}`, {
    startTime: new Date(t.at),
    attributes: { 'spendtrace.task.root': true, 'spendtrace.task.outcome': 'success', ...common },
  });
  const ctx = trace.setSpan(context.active(), root);
  t.calls.forEach((c, i) => {
    const model = c.model ?? 'gpt-4o-mini';
    const start = t.at + 10 + i * 10;
    const s = tracer.startSpan(
      `chat ${model}`,
      {
        kind: SpanKind.CLIENT,
        startTime: new Date(start),
        attributes: {
          'gen_ai.operation.name': 'chat',
          'gen_ai.provider.name': c.provider ?? 'openai',
          'gen_ai.request.model': model,
          'gen_ai.usage.input_tokens': c.input ?? 100,
          'gen_ai.usage.output_tokens': c.output ?? 10,
          ...(c.cost !== undefined ? { 'gen_ai.usage.cost.amount': c.cost, 'gen_ai.usage.cost.source': 'local' } : {}),
          ...(c.retries ? { 'spendtrace.retry.attempt': c.retries } : {}),
          ...common,
        },
      },
      ctx,
    );
    s.end(new Date(start + 5));
  });
  root.end(new Date(t.at + 20 + t.calls.length * 10));
}

/** Sends tasks as one service (and version) through a real OTLP/protobuf exporter; resolves when exported. */
export async function send(endpoint: string, resource: Record<string, string>, tasks: TaskSpec[]): Promise<void> {
  const provider = new TracerProvider({
    resource: resourceFromAttributes(resource),
    spanProcessors: [
      new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: `${endpoint}/v1/traces` }), maxQueueSize: 10_000, maxExportBatchSize: 1000 }),
    ],
  });
  const tracer = provider.getTracer('alerts-e2e');
  for (const t of tasks) emitTask(tracer, t);
  await provider.forceFlush();
  await provider.shutdown();
}

export const MIN = 60_000;
export const HOUR = 3_600_000;
export const times = (n: number, f: (k: number) => TaskSpec): TaskSpec[] => Array.from({ length: n }, (_, k) => f(k));
