// Proves both decoders read what the real OpenTelemetry JS serializers (protobuf and JSON) produce, identically, and reject malformed bodies with a reason.
import { describe, expect, it } from 'vitest';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { Pricer } from '@spendtrace/semconv';
import {
  decodeJsonRequest,
  decodeProtobufRequest,
  decodeProtobufRequestWithProtobufjs,
  OtlpDecodeError,
  otlpTypes,
  type TraceRequest,
} from '../src/otlp/index.ts';
import { requestToRows } from '../src/ingest/request-to-rows.ts';

async function makeSpans(): Promise<ReadableSpan[]> {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'decode-test', 'deployment.environment': 'test' }),
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });
  const tracer = provider.getTracer('spendtrace-test', '1.2.3');
  const root = tracer.startSpan('invoke_agent research', { kind: SpanKind.INTERNAL, attributes: { 'gen_ai.operation.name': 'invoke_agent' } });
  {
    const chat = tracer.startSpan(
      'chat gpt-4o-mini',
      {
        kind: SpanKind.CLIENT,
        startTime: [1_750_000_000, 123_456_789],
        attributes: {
          'gen_ai.operation.name': 'chat',
          'gen_ai.request.model': 'gpt-4o-mini',
          'gen_ai.usage.input_tokens': 1200,
          'gen_ai.usage.output_tokens': 345,
          'gen_ai.usage.cost.amount': 0.000387,
          'gen_ai.response.finish_reasons': ['stop'],
          'spendtrace.task.root': false,
          'big.int': 9_007_199_254_740_991,
        },
      },
      trace.setSpan(context.active(), root),
    );
    chat.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
    chat.end([1_750_000_001, 5]);
    root.end();
  }
  await provider.forceFlush();
  return exporter.getFinishedSpans();
}

function summary(req: TraceRequest) {
  return req.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans.map((sp) => ({ resource: r.resource, scope: s.scope, ...sp }))));
}

describe('OTLP decoding of real serializer output', async () => {
  const spans = await makeSpans();
  const proto = ProtobufTraceSerializer.serializeRequest(spans)!;
  const json = JsonTraceSerializer.serializeRequest(spans)!;

  it('decodes protobuf bytes from ProtobufTraceSerializer', () => {
    const got = summary(decodeProtobufRequest(proto));
    expect(got).toHaveLength(2);
    const chat = got.find((s) => s.name === 'chat gpt-4o-mini')!;
    const root = got.find((s) => s.name === 'invoke_agent research')!;
    expect(chat.traceId).toBe(spans[0]!.spanContext().traceId);
    expect(chat.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(chat.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(chat.parentSpanId).toBe(root.spanId);
    expect(root.parentSpanId).toBe('');
    expect(chat.kind).toBe(3);
    expect(chat.startTimeUnixNano).toBe(1_750_000_000_123_456_789n);
    expect(chat.endTimeUnixNano).toBe(1_750_000_001_000_000_005n);
    expect(chat.status).toEqual({ code: 2, message: 'boom' });
    expect(chat.scope).toEqual({ name: 'spendtrace-test', version: '1.2.3' });
    expect(chat.resource['service.name']).toBe('decode-test');
    expect(chat.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.usage.input_tokens': 1200,
      'gen_ai.usage.cost.amount': 0.000387,
      'gen_ai.response.finish_reasons': ['stop'],
      'spendtrace.task.root': false,
      'big.int': 9_007_199_254_740_991,
    });
  });

  it('decodes OTLP/JSON from JsonTraceSerializer to the same spans', () => {
    expect(summary(decodeJsonRequest(json))).toEqual(summary(decodeProtobufRequest(proto)));
  });

  it('accepts enum names, snake_case keys and string int64 in JSON', () => {
    const req = decodeJsonRequest(
      JSON.stringify({
        resource_spans: [
          {
            scope_spans: [
              {
                spans: [
                  {
                    trace_id: '0AF7651916CD43DD8448EB211C80319C',
                    span_id: 'B7AD6B7169203331',
                    name: 'x',
                    kind: 'SPAN_KIND_CLIENT',
                    start_time_unix_nano: '1750000000000000001',
                    status: { code: 'STATUS_CODE_ERROR' },
                    attributes: [
                      { key: 'n', value: { intValue: '42' } },
                      { key: 'd', value: { doubleValue: 'NaN' } },
                    ],
                  },
                ],
              },
            ],
          },
        ],
      }),
    );
    const s = req.resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
    expect(s.traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(s.kind).toBe(3);
    expect(s.status.code).toBe(2);
    expect(s.startTimeUnixNano).toBe(1_750_000_000_000_000_001n);
    expect(s.attributes.n).toBe(42);
    expect(Number.isNaN(s.attributes.d)).toBe(true);
  });

  it.each([
    ['truncated protobuf', () => decodeProtobufRequest(proto.subarray(0, proto.length - 7)), /protobuf/],
    ['garbage protobuf', () => decodeProtobufRequest(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f])), /protobuf/],
    ['invalid JSON', () => decodeJsonRequest('{"resourceSpans": ['), /invalid JSON/],
    ['JSON of the wrong shape', () => decodeJsonRequest('{"resourceSpans": {"a": 1}}'), /resourceSpans: expected an array/],
    ['JSON not an object', () => decodeJsonRequest('[1,2]'), /request: expected an object/],
  ])('rejects %s with a typed error and a reason', (_name, run, reason) => {
    let err: unknown;
    try {
      run();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OtlpDecodeError);
    expect((err as OtlpDecodeError).reason).toMatch(reason);
  });

  it('survives deeply nested attribute values', () => {
    let v: unknown = { stringValue: 'leaf' };
    for (let i = 0; i < 50; i++) v = { arrayValue: { values: [v] } };
    const req = decodeJsonRequest(JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ attributes: [{ key: 'deep', value: v }] }] }] }] }));
    expect(JSON.stringify(req.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.attributes.deep)).toContain('nested too deep');
    // and the same through protobuf (protobufjs itself refuses to build deeper messages)
    v = { stringValue: 'leaf' };
    for (let i = 0; i < 20; i++) v = { arrayValue: { values: [v] } };
    const t = otlpTypes().request;
    const bytes = t.encode(t.fromObject({ resourceSpans: [{ scopeSpans: [{ spans: [{ name: 'd', attributes: [{ key: 'deep', value: v }] }] }] }] })).finish();
    expect(JSON.stringify(decodeProtobufRequest(bytes).resourceSpans[0]!.scopeSpans[0]!.spans[0]!.attributes.deep)).toContain('nested too deep');
  });
});

describe('an attribute keyed __proto__', () => {
  // The OTLP body that carries it, as JSON and as protobuf: a top-level `__proto__` whose kvlist holds
  // token counts (it would become the map's prototype: every lookup of a key the span lacks found
  // the hostile value), a string `__proto__` on the resource (a plain assignment drops it), and one
  // inside a kvlist value.
  const tokens = { kvlistValue: { values: [{ key: 'gen_ai.usage.input_tokens', value: { intValue: 999_999 } }] } };
  const body = {
    resourceSpans: [
      {
        resource: { attributes: [{ key: '__proto__', value: { stringValue: 'resource-proto' } }] },
        scopeSpans: [
          {
            scope: { name: 's' },
            spans: [
              {
                traceId: '0af7651916cd43dd8448eb211c80319c',
                spanId: 'b7ad6b7169203331',
                name: 'chat gpt-4o-mini',
                kind: 3,
                startTimeUnixNano: '1750000000000000000',
                endTimeUnixNano: '1750000001000000000',
                attributes: [
                  { key: 'gen_ai.operation.name', value: { stringValue: 'chat' } },
                  { key: 'gen_ai.request.model', value: { stringValue: 'gpt-4o-mini' } },
                  { key: '__proto__', value: tokens },
                  { key: 'nested', value: { kvlistValue: { values: [{ key: '__proto__', value: { stringValue: 'inner' } }] } } },
                ],
              },
            ],
          },
        ],
      },
    ],
  };
  const t = otlpTypes().request;
  const toPb = (o: unknown) => {
    // protobufjs wants bytes for ids, not hex.
    const c = structuredClone(o) as typeof body;
    const sp = c.resourceSpans[0]!.scopeSpans[0]!.spans[0]! as unknown as Record<string, unknown>;
    sp.traceId = Buffer.from(body.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.traceId, 'hex');
    sp.spanId = Buffer.from(body.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.spanId, 'hex');
    return t.encode(t.fromObject(c)).finish();
  };
  const decoders: [string, () => TraceRequest][] = [
    ['OTLP/JSON', () => decodeJsonRequest(JSON.stringify(body))],
    ['protobuf (wire decoder)', () => decodeProtobufRequest(toPb(body))],
    ['protobuf (protobufjs reference)', () => decodeProtobufRequestWithProtobufjs(toPb(body))],
  ];

  it.each(decoders)('%s keeps it as an own key and never as a prototype', (_, decode) => {
    const req = decode();
    const attrs = req.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.attributes;
    expect(Object.getPrototypeOf(attrs)).toBe(Object.prototype);
    expect(Object.keys(attrs)).toContain('__proto__');
    expect(attrs['gen_ai.usage.input_tokens']).toBeUndefined();
    expect(Object.getOwnPropertyDescriptor(attrs, '__proto__')?.value).toEqual({ 'gen_ai.usage.input_tokens': 999_999 });
    const nested = attrs.nested as Record<string, unknown>;
    expect(Object.getPrototypeOf(nested)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(nested, '__proto__')?.value).toBe('inner');
    const resource = req.resourceSpans[0]!.resource;
    expect(Object.getOwnPropertyDescriptor(resource, '__proto__')?.value).toBe('resource-proto');
  });

  it.each(decoders)('%s: the stored row reads no tokens from it and keeps it in the attribute maps', (_, decode) => {
    const { rows, rejected } = requestToRows(decode(), new Pricer());
    expect(rejected).toBe(0);
    const row = rows[0]!;
    expect(row.input_tokens).toBe(0);
    expect(Object.getPrototypeOf(row.attributes)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(row.attributes, '__proto__')?.value).toBe('{"gen_ai.usage.input_tokens":999999}');
    expect(Object.getOwnPropertyDescriptor(row.resource_attributes, '__proto__')?.value).toBe('resource-proto');
    expect(JSON.parse(JSON.stringify(row.attributes))).toHaveProperty(['__proto__']);
  });
});
