/**
 * OTLP/HTTP protobuf request bodies for the ingest benchmark, made by the real pieces: spans from
 * the OTel SDK's tracer, encoded by the OTLP exporters' own serializer (ProtobufTraceSerializer),
 * in batches of 512 as BatchSpanProcessor sends them. Encoded once by the runner into a file of
 * length-prefixed bodies, so every child process ingests the same bytes.
 *
 * The span mix is an agent fleet's: per task a root (`invoke_agent`), three chat calls on priced
 * models (OpenAI and Anthropic, with cached input on some) and one paid tool call. The chat spans
 * carry tokens but no cost, as peers' spans arrive, so the service prices every inference span:
 * the most work per span it ever does.
 */
import { closeSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { context, SpanKind, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';

export const SPANS_PER_TASK = 5;
/** Chat spans per task: each lands in hourly_costs as one call. */
export const CALLS_PER_TASK = 3;
export const SPANS_PER_REQUEST = 512;

const MODELS: Array<[provider: string, request: string, response: string]> = [
  ['openai', 'gpt-4o-mini', 'gpt-4o-mini-2024-07-18'],
  ['openai', 'gpt-4o', 'gpt-4o-2024-08-06'],
  ['anthropic', 'claude-sonnet-4-20250514', 'claude-sonnet-4-20250514'],
  ['openai', 'o3-mini', 'o3-mini-2025-01-31'],
];
const AGENTS = ['research-agent', 'triage-agent', 'nightly-summarizer', 'retry-agent'];

/** Encodes `tasks` tasks (5 spans each) into protobuf bodies of at most 512 spans. */
export async function buildRequests(tasks: number, service = 'bench-fleet'): Promise<Uint8Array[]> {
  const bodies: Uint8Array[] = [];
  const memory = new InMemorySpanExporter();
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': service, 'service.version': '1.4.2', 'deployment.environment.name': 'bench' }),
    spanProcessors: [new SimpleSpanProcessor({ exporter: memory })],
  });
  const tracer = provider.getTracer('@spendtrace/instrumentation', '0.1.0');
  let pending: ReturnType<InMemorySpanExporter['getFinishedSpans']> = [];
  // Full bodies of 512 spans, as a busy BatchSpanProcessor sends them; the rest waits for more.
  const drain = (final: boolean) => {
    pending = pending.concat(memory.getFinishedSpans());
    memory.reset();
    while (pending.length >= SPANS_PER_REQUEST || (final && pending.length)) {
      bodies.push(ProtobufTraceSerializer.serializeRequest(pending.slice(0, SPANS_PER_REQUEST))!);
      pending = pending.slice(SPANS_PER_REQUEST);
    }
  };
  for (let t = 0; t < tasks; t++) {
    const agent = AGENTS[t % AGENTS.length]!;
    const taskName = `${agent.split('-')[0]}-task`;
    const common = { 'spendtrace.task.name': taskName, 'gen_ai.agent.name': agent, 'user.id': `u-${t % 97}` };
    const root = tracer.startSpan(`invoke_agent ${agent}`, {
      kind: SpanKind.INTERNAL,
      attributes: {
        ...common,
        'gen_ai.operation.name': 'invoke_agent',
        'spendtrace.task.root': true,
        'spendtrace.task.outcome': t % 10 === 0 ? 'failure' : 'success',
      },
    });
    const ctx = trace.setSpan(context.active(), root);
    for (let c = 0; c < CALLS_PER_TASK; c++) {
      const [providerName, model, responseModel] = MODELS[(t + c) % MODELS.length]!;
      const input = 800 + ((t * 37 + c * 211) % 6000);
      const output = 50 + ((t * 13 + c * 7) % 900);
      const attributes: Record<string, string | number | string[]> = {
        ...common,
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': providerName,
        'gen_ai.request.model': model,
        'gen_ai.response.model': responseModel,
        'gen_ai.response.id': `chatcmpl-${t}-${c}`,
        'gen_ai.response.finish_reasons': ['stop'],
        'gen_ai.request.temperature': 0.2,
        'gen_ai.request.max_tokens': 1024,
        'gen_ai.usage.input_tokens': input,
        'gen_ai.usage.output_tokens': output,
        'server.address': providerName === 'openai' ? 'api.openai.com' : 'api.anthropic.com',
        'server.port': 443,
        'spendtrace.request.hash': (t * 2654435761 + c).toString(16).padStart(16, '0').slice(-16),
      };
      if (c === 1) attributes['gen_ai.usage.cache_read.input_tokens'] = Math.floor(input / 2);
      if (model === 'o3-mini') attributes['gen_ai.usage.reasoning.output_tokens'] = Math.floor(output / 2);
      tracer.startSpan(`chat ${model}`, { kind: SpanKind.CLIENT, attributes }, ctx).end();
    }
    tracer
      .startSpan(
        'execute_tool web_search',
        {
          kind: SpanKind.INTERNAL,
          attributes: { ...common, 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'web_search', 'spendtrace.tool.cost.amount': 0.005 },
        },
        ctx,
      )
      .end();
    root.end();
    if (memory.getFinishedSpans().length >= SPANS_PER_REQUEST * 8) drain(false);
  }
  await provider.forceFlush();
  drain(true);
  await provider.shutdown();
  return bodies;
}

/** Bodies as one file: [u32 length][bytes]... */
export function writeRequests(path: string, bodies: Uint8Array[]): void {
  const parts: Buffer[] = [];
  for (const b of bodies) {
    const len = Buffer.alloc(4);
    len.writeUInt32LE(b.byteLength);
    parts.push(len, Buffer.from(b.buffer, b.byteOffset, b.byteLength));
  }
  writeFileSync(path, Buffer.concat(parts));
}

export function readRequests(path: string): Buffer[] {
  const all = readFileSync(path);
  const bodies: Buffer[] = [];
  for (let at = 0; at < all.length;) {
    const len = all.readUInt32LE(at);
    bodies.push(all.subarray(at + 4, at + 4 + len));
    at += 4 + len;
  }
  return bodies;
}

/** Bodies `first` .. `first + count - 1` of a file made by writeRequests, reading only those (and the length words before them). */
export function readRequestRange(path: string, first: number, count: number): Buffer[] {
  const fd = openSync(path, 'r');
  try {
    const len = Buffer.alloc(4);
    const out: Buffer[] = [];
    for (let at = 0, i = 0; i < first + count; i++) {
      if (readSync(fd, len, 0, 4, at) < 4) break;
      const n = len.readUInt32LE(0);
      if (i >= first) {
        const b = Buffer.allocUnsafe(n);
        readSync(fd, b, 0, n, at + 4);
        out.push(b);
      }
      at += 4 + n;
    }
    return out;
  } finally {
    closeSync(fd);
  }
}
