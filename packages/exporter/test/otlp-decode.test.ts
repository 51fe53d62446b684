// Proves both decoders read what the real OpenTelemetry JS serializers (protobuf and JSON) produce, identically, and reject malformed bodies with a reason.
import { describe, expect, it } from 'vitest';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { decodeJsonRequest, decodeProtobufRequest, OtlpDecodeError, otlpTypes, type TraceRequest } from '../src/otlp/index.ts';

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
