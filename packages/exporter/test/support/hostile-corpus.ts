/**
 * Hostile OTLP bodies for the fault harness's fuzz run, JSON and protobuf (the OTel SDK's spans
 * encoded by the exporters' own ProtobufTraceSerializer): emoji and lone surrogates at every
 * truncation boundary, 120 days of spans in one request, huge shared resource attributes, absurd
 * token counts and costs, a peer's $0, invalid and repeated ids. Every span id is new.
 */
import { randomBytes } from 'node:crypto';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { LIMITS } from '../../src/ingest/limits.ts';

export interface HostileBody {
  body: Uint8Array | string;
  contentType: 'application/json' | 'application/x-protobuf';
  spans: number;
}

const hex = (n: number) => randomBytes(n).toString('hex');
const EMOJI = '😀';

/** Strings with an emoji or a lone surrogate straddling each limit. */
function boundaryStrings(): string[] {
  const out: string[] = [];
  for (const limit of [LIMITS.maxLabelChars, LIMITS.maxValueChars, LIMITS.maxKeyChars]) {
    for (let d = -2; d <= 1; d++) {
      out.push(
        'a'.repeat(limit + d) + EMOJI + 'z',
        'b'.repeat(limit + d) + '\ud83d',
        'c'.repeat(limit + d) + '\ude00' + 'q',
        EMOJI.repeat(Math.ceil((limit + d) / 2)),
      );
    }
  }
  return out;
}

const ABSURD: Array<Record<string, unknown>> = [
  { 'gen_ai.usage.input_tokens': 1e12, 'gen_ai.usage.output_tokens': 5e11 },
  { 'gen_ai.usage.input_tokens': -5, 'gen_ai.usage.output_tokens': 'NaN' },
  { 'gen_ai.usage.input_tokens': 19_999_999, 'gen_ai.usage.output_tokens': 19_999_999, 'gen_ai.request.model': 'o1-pro' },
  { 'gen_ai.usage.input_tokens': 100, 'gen_ai.usage.cost': 1e9 },
  { 'gen_ai.usage.input_tokens': 100, 'gen_ai.usage.cost': 'Infinity' },
  { 'gen_ai.usage.input_tokens': 1000, 'gen_ai.usage.output_tokens': 10, 'gen_ai.usage.cost': 0 },
  { 'gen_ai.usage.input_tokens': '99999999999999999999999', 'spendtrace.retry.attempt': 1e9 },
];

type V = string | number;
const jsonValue = (v: unknown) =>
  typeof v === 'number' ? (Number.isInteger(v) && Math.abs(v) < 2 ** 53 ? { intValue: String(v) } : { doubleValue: v }) : { stringValue: String(v) };

function jsonBody(
  spans: Array<{ traceId?: string; spanId?: string; name: string; startMs: number; attrs: Record<string, unknown> }>,
  resource: Record<string, V> = {},
): HostileBody {
  const req = {
    resourceSpans: [
      {
        resource: { attributes: Object.entries({ 'service.name': 'hostile', ...resource }).map(([key, v]) => ({ key, value: jsonValue(v) })) },
        scopeSpans: [
          {
            scope: { name: 'fuzz' },
            spans: spans.map((s) => ({
              traceId: s.traceId ?? hex(16),
              spanId: s.spanId ?? hex(8),
              name: s.name,
              kind: 3,
              startTimeUnixNano: (BigInt(Math.round(s.startMs)) * 1_000_000n).toString(),
              endTimeUnixNano: (BigInt(Math.round(s.startMs + 5)) * 1_000_000n).toString(),
              attributes: Object.entries(s.attrs).map(([key, v]) => ({ key, value: jsonValue(v) })),
            })),
          },
        ],
      },
    ],
  };
  return { body: JSON.stringify(req), contentType: 'application/json', spans: spans.length };
}

const CHAT = {
  'gen_ai.operation.name': 'chat',
  'gen_ai.provider.name': 'openai',
  'gen_ai.request.model': 'gpt-4o-mini',
  'gen_ai.usage.input_tokens': 10,
  'gen_ai.usage.output_tokens': 5,
};

/** `n` hostile bodies, about half JSON and half protobuf. */
export function hostileCorpus(n: number): HostileBody[] {
  const strings = boundaryStrings();
  const out: HostileBody[] = [];
  const now = Date.now();
  const protoSpans: Array<{ name: string; startMs: number; attrs: Record<string, unknown>; resource: string }> = [];
  for (let i = 0; out.length + protoSpans.length / 4 < n; i++) {
    const kind = i % 6;
    const s = strings[i % strings.length]!;
    const spec =
      kind === 0
        ? { name: s, startMs: now, attrs: { ...CHAT, [s.slice(0, 300)]: s, 'gen_ai.request.model': s, 'gen_ai.agent.name': s } }
        : kind === 1
          ? { name: 'chat', startMs: now - (i % 130) * 86_400_000, attrs: { ...CHAT } }
          : kind === 2
            ? { name: 'chat', startMs: now, attrs: { ...CHAT, ...ABSURD[i % ABSURD.length] } }
            : kind === 3
              ? { name: 'chat', startMs: now, attrs: { ...CHAT, huge: 'h'.repeat(200_000), many: JSON.stringify(Array.from({ length: 2000 }, (_, k) => k)) } }
              : kind === 4
                ? { name: `chat ${EMOJI}`, startMs: now, attrs: { ...CHAT, 'user.id': s } }
                : { name: 'chat', startMs: now, attrs: { ...CHAT } };
    if (i % 2 === 0) {
      protoSpans.push({ ...spec, resource: kind === 4 && i % 24 === 4 ? 'big' : 'small' });
      continue;
    }
    if (i % 120 === 1) {
      // 120 days in one request.
      out.push(jsonBody(Array.from({ length: 120 }, (_, d) => ({ name: 'chat', startMs: now - d * 86_400_000, attrs: { ...CHAT } }))));
    } else if (i % 120 === 5) {
      // A huge shared resource attribute on many spans, plus an invalid and a repeated id.
      const spanId = hex(8);
      out.push(
        jsonBody(
          [
            ...Array.from({ length: 200 }, () => ({ name: 'chat', startMs: now, attrs: { ...CHAT } })),
            { traceId: 'zz', name: 'bad ids', startMs: now, attrs: {} },
            { spanId, name: 'twice', startMs: now, attrs: {} },
            { spanId, name: 'twice', startMs: now, attrs: {} },
          ],
          { big: 'R'.repeat(2_000_000), [EMOJI.repeat(200)]: '\udfff' },
        ),
      );
    } else {
      out.push(jsonBody([spec, { ...spec, attrs: { ...spec.attrs, lone: `x\ud800${s.slice(0, 20)}` } }]));
    }
  }
  // Protobuf: the SDK's spans, 4 to a body, on a small or a 1 MB resource.
  for (const res of ['small', 'big'] as const) {
    const memory = new InMemorySpanExporter();
    const provider = new TracerProvider({
      resource: resourceFromAttributes({
        'service.name': 'hostile-proto',
        ...(res === 'big' ? { big: 'P'.repeat(1_000_000), emoji: EMOJI.repeat(20_000) } : {}),
      }),
      spanProcessors: [new SimpleSpanProcessor({ exporter: memory })],
    });
    const tracer = provider.getTracer('fuzz');
    for (const p of protoSpans.filter((x) => x.resource === res)) {
      tracer.startSpan(p.name, { kind: SpanKind.CLIENT, startTime: p.startMs, attributes: p.attrs as Record<string, string | number> }).end(p.startMs + 5);
    }
    const spans = memory.getFinishedSpans();
    for (let i = 0; i < spans.length; i += 4) {
      const chunk = spans.slice(i, i + 4);
      out.push({ body: ProtobufTraceSerializer.serializeRequest(chunk)!, contentType: 'application/x-protobuf', spans: chunk.length });
    }
  }
  return out;
}
