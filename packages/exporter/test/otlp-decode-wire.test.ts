// Proves the purpose-built protobuf decoder gives exactly what the protobufjs reference gives: on real ProtobufTraceSerializer output of many shapes, on hand-encoded edge cases (unknown fields, wrong wire types, repeated and merged fields, groups, odd varints, bad UTF-8, depth), and on thousands of random mutations, where both accept or both reject, and it only ever throws OtlpDecodeError.
import { describe, expect, it } from 'vitest';
import { context, SpanKind, SpanStatusCode, trace, type Link } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { decodeProtobufRequest, decodeProtobufRequestWithProtobufjs, OtlpDecodeError, type TraceRequest } from '../src/otlp/index.ts';

type Outcome = { ok: true; value: TraceRequest } | { ok: false; error: unknown };
function run(decode: (b: Uint8Array) => TraceRequest, body: Uint8Array): Outcome {
  try {
    return { ok: true, value: decode(body) };
  } catch (error) {
    return { ok: false, error };
  }
}

/** Both decoders on one body: the same value, or both an OtlpDecodeError. Returns whether it decoded. */
function same(body: Uint8Array, label = ''): boolean {
  const ref = run(decodeProtobufRequestWithProtobufjs, body);
  const got = run(decodeProtobufRequest, body);
  if (!got.ok && !(got.error instanceof OtlpDecodeError)) throw new Error(`${label}: threw ${String(got.error)}`);
  if (ref.ok !== got.ok) {
    const why = ref.ok
      ? `wire decoder threw ${(got as { error: Error }).error.message}`
      : `reference threw ${(ref.error as Error).message}, wire decoder accepted`;
    throw new Error(`${label}: ${why} on ${Buffer.from(body).toString('hex')}`);
  }
  if (ref.ok && got.ok) expect(got.value, label).toEqual(ref.value);
  return got.ok;
}

// ---- real serializer output

const BIG = 2n ** 63n - 1n;

async function sdkSpans(): Promise<ReadableSpan[]> {
  const exporter = new InMemorySpanExporter();
  const out: ReadableSpan[] = [];
  for (const [service, extra] of [
    ['wire-a', { 'host.names': ['a', 'b'], 'process.pid': 4242, ratio: 0.5, ok: true }],
    ['wire-b', {}],
  ] as const) {
    const provider = new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': service, ...extra }),
      spanProcessors: [new SimpleSpanProcessor({ exporter })],
    });
    const t1 = provider.getTracer('scope-one', '1.0.0');
    const t2 = provider.getTracer('scope-two', undefined, { schemaUrl: 'https://opentelemetry.io/schemas/1.30.0' });
    const root = t1.startSpan('invoke_agent fleet', {
      kind: SpanKind.SERVER,
      attributes: { 'gen_ai.operation.name': 'invoke_agent', 'spendtrace.task.root': true },
    });
    const ctx = trace.setSpan(context.active(), root);
    const link: Link = { context: root.spanContext(), attributes: { 'link.why': 'retry', n: 3 } };
    const chat = t1.startSpan(
      'chat gpt-4o',
      {
        kind: SpanKind.CLIENT,
        startTime: [1_750_000_000, 999_999_999],
        links: [link],
        attributes: {
          'gen_ai.request.model': 'gpt-4o',
          'gen_ai.usage.input_tokens': 1200,
          'gen_ai.usage.output_tokens': 0,
          neg: -7,
          big: Number.MAX_SAFE_INTEGER,
          frac: 1e-12,
          'gen_ai.response.finish_reasons': ['stop', 'length'],
          nums: [1, 2.5, -3],
          flags: [true, false],
          empty: '',
          unicode: 'café — 漢字 🚀',
          'empty.array': [],
        },
      },
      ctx,
    );
    chat.addEvent('gen_ai.content.prompt', { 'gen_ai.prompt': 'hi', tokens: 3 });
    chat.addEvent('bare');
    chat.recordException(new Error('upstream 500'));
    chat.setStatus({ code: SpanStatusCode.ERROR, message: 'boom ✗' });
    chat.end([1_750_000_001, 5]);
    const tool = t2.startSpan('', { kind: SpanKind.PRODUCER }, ctx);
    tool.setStatus({ code: SpanStatusCode.OK });
    tool.end();
    t2.startSpan('consumer', { kind: SpanKind.CONSUMER, startTime: 0 }, ctx).end(0);
    root.end();
    await provider.forceFlush();
  }
  out.push(...exporter.getFinishedSpans());
  return out;
}

/** A copy of a real span with attribute values the SDK would sanitise away but the serializer encodes. */
function withAttributes(span: ReadableSpan, attributes: Record<string, unknown>): ReadableSpan {
  return Object.assign(Object.create(Object.getPrototypeOf(span) as object) as ReadableSpan, span, { attributes, spanContext: () => span.spanContext() });
}

function nested(depth: number, make: (inner: unknown) => unknown): unknown {
  let v: unknown = 'leaf';
  for (let i = 0; i < depth; i++) v = make(v);
  return v;
}

describe('wire decoder = protobufjs reference', async () => {
  const spans = await sdkSpans();
  const odd = withAttributes(spans[1]!, {
    bytes: new Uint8Array([0, 1, 2, 250, 255]),
    'bytes.empty': new Uint8Array(0),
    kv: { a: 1, b: 'two', c: [1, { d: true }], e: null, f: { g: { h: 1.5 } } },
    'kv.empty': {},
    'array.mixed': ['s', 1, 2.25, false, null, [1, [2, [3]]], { k: 'v' }, new Uint8Array([9])],
    nothing: null,
    'deep.array': nested(12, (x) => [x]),
    'deep.kv': nested(12, (x) => ({ x })),
    'deep.mixed': nested(9, (x) => [{ x }]),
    nan: Number.NaN,
    inf: Number.POSITIVE_INFINITY,
    negzero: -0,
    huge: 1e300,
    '': 'empty key is dropped',
  });

  const bodies: Array<[string, Uint8Array]> = [
    ['all spans, two resources, two scopes', ProtobufTraceSerializer.serializeRequest(spans)!],
    ['one span', ProtobufTraceSerializer.serializeRequest([spans[0]!])!],
    ['no spans', ProtobufTraceSerializer.serializeRequest([])!],
    ['every AnyValue kind, nested, bytes, nulls', ProtobufTraceSerializer.serializeRequest([odd, ...spans])!],
  ];

  it.each(bodies)('decodes %s exactly as protobufjs does', (label, body) => {
    expect(same(body, label)).toBe(true);
  });

  it('keeps what spendtrace reads from those bodies', () => {
    const req = decodeProtobufRequest(bodies[3]![1]);
    const all = req.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans));
    const a = all[0]!.attributes;
    expect(a.bytes).toBe(Buffer.from([0, 1, 2, 250, 255]).toString('base64'));
    expect(a.kv).toEqual({ a: 1, b: 'two', c: [1, { d: true }], e: null, f: { g: { h: 1.5 } } });
    expect(JSON.stringify(a['deep.array'])).toContain('[nested too deep]');
    expect(JSON.stringify(a['deep.kv'])).toContain('{nested too deep}');
    expect('' in a).toBe(false);
    const chat = all.find((s) => s.name === 'chat gpt-4o')!;
    expect(chat.startTimeUnixNano).toBe(1_750_000_000_999_999_999n);
    expect(chat.status).toEqual({ code: 2, message: 'boom ✗' });
    expect(chat.attributes.unicode).toBe('café — 漢字 🚀');
    expect(all.some((s) => s.name === '' && s.kind === 4)).toBe(true);
  });

  // ---- hand-encoded edge cases

  it.each(handMade())('%s', (label, body, decodes) => {
    expect(same(body, label)).toBe(decodes);
  });

  // ---- fuzz: random mutations of valid requests

  it('random mutations: both decoders accept the same bodies with the same result, or both reject', () => {
    const seeds = [
      ...bodies.map(([, b]) => Buffer.from(b)),
      ...handMade()
        .filter(([, , ok]) => ok)
        .map(([, b]) => b),
    ];
    const rand = prng(0x5eed);
    let accepted = 0;
    let rejected = 0;
    for (let i = 0; i < 6000; i++) {
      const body = mutate(seeds[i % seeds.length]!, rand, seeds);
      if (same(body, `mutation ${i}`)) accepted++;
      else rejected++;
    }
    // Mutations must exercise both outcomes, or the test shows nothing.
    expect(accepted).toBeGreaterThan(300);
    expect(rejected).toBeGreaterThan(300);
  });

  it('hostile bodies end in OtlpDecodeError, not a crash or a hang', () => {
    const hostile: Buffer[] = [
      Buffer.alloc(1 << 20, 0x80), // a megabyte of unterminated varint
      Buffer.concat([Buffer.from([0x0a]), Buffer.from([0xff, 0xff, 0xff, 0xff, 0x07])]), // 2 GB length
      Buffer.concat([Buffer.from([0xf8, 0x07]), Buffer.alloc(1 << 16, 0xff)]), // unknown varint of 64 KB
      Buffer.alloc(200_000, 0x0b), // groups nested 200k deep
      Buffer.concat(Array.from({ length: 120 }, () => Buffer.from([0x0a, 0x7f]))), // lengths past the end, nested
    ];
    for (const body of hostile) {
      const got = run(decodeProtobufRequest, body);
      expect(got.ok).toBe(false);
      expect((got as { error: unknown }).error).toBeInstanceOf(OtlpDecodeError);
      expect(same(body, 'hostile')).toBe(false);
    }
  });
});

// ---- a tiny protobuf writer for hand-made bodies

type Part = Buffer | number[];
const cat = (...parts: Part[]) => Buffer.concat(parts.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(p))));
function varint(n: number | bigint): number[] {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  do {
    const b = Number(v & 127n);
    v >>= 7n;
    out.push(v ? b | 128 : b);
  } while (v);
  return out;
}
const key = (field: number, wt: number) => varint((field << 3) | wt);
const vint = (field: number, n: number | bigint) => cat(key(field, 0), varint(n));
const ld = (field: number, ...parts: Part[]) => {
  const body = cat(...parts);
  return cat(key(field, 2), varint(body.length), body);
};
const str = (field: number, s: string | Buffer) => ld(field, Buffer.isBuffer(s) ? s : Buffer.from(s));
const f64 = (field: number, n: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(n);
  return cat(key(field, 1), b);
};
const dbl = (field: number, n: number) => {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(n);
  return cat(key(field, 1), b);
};
const f32 = (field: number, n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return cat(key(field, 5), b);
};
const group = (field: number, ...parts: Part[]) => cat(key(field, 3), ...parts, key(field, 4));

/** request -> resource_spans -> scope_spans -> span, wrapping span fields. */
const inSpan = (...spanParts: Part[]) => ld(1, ld(2, ld(2, ...spanParts)));
const attr = (k: string, ...anyValueParts: Part[]) => ld(9, str(1, k), ld(2, ...anyValueParts));
const tid = Buffer.from('0af7651916cd43dd8448eb211c80319c', 'hex');
const sid = Buffer.from('b7ad6b7169203331', 'hex');

function handMade(): Array<[string, Buffer, boolean]> {
  const unknownEverywhere = (n: number) => [vint(n, 7), f32(n + 1, 9), f64(n + 2, 5n), str(n + 3, 'x'), group(n + 4, vint(1, 1), str(2, 'g'))];
  return [
    [
      'unknown fields of every wire type in every message',
      cat(
        ...unknownEverywhere(100),
        ld(
          1,
          ...unknownEverywhere(200),
          ld(1, ...unknownEverywhere(300), ld(1, str(1, 'service.name'), ...unknownEverywhere(400), ld(2, str(1, 'svc'), ...unknownEverywhere(500)))),
          ld(
            2,
            ...unknownEverywhere(600),
            ld(1, str(1, 'scope'), ...unknownEverywhere(700)),
            ld(
              2,
              str(1, tid),
              str(2, sid),
              str(5, 'n'),
              ...unknownEverywhere(800),
              ld(15, vint(3, 2), ...unknownEverywhere(900)),
              ld(11, f64(1, 1n), str(2, 'event'), ld(3, str(1, 'k'), ld(2, str(1, 'v')))), // span event: not in trace.proto, skipped
              ld(13, str(1, tid), str(2, sid)), // link, likewise
              ld(9, str(1, 'k'), ...unknownEverywhere(1000), ld(2, vint(3, 5), ...unknownEverywhere(1100))),
            ),
          ),
        ),
      ),
      true,
    ],
    [
      'known fields with another wire type are skipped',
      inSpan(vint(1, 5), f32(5, 1), str(6, 'x'), str(7, 'x'), vint(15, 1), str(16, 'x'), f64(9, 1n), str(5, 'kept')),
      true,
    ],
    [
      'a repeated singular field: the last wins, an empty one clears',
      inSpan(
        str(1, tid),
        str(1, Buffer.alloc(0)),
        str(2, sid),
        str(2, Buffer.from('0102', 'hex')),
        str(5, 'first'),
        str(5, 'second'),
        vint(6, 3),
        vint(6, 0),
        f64(7, 1n),
        f64(7, 2n),
      ),
      true,
    ],
    [
      'message fields merge: status, scope, resource, an attribute value',
      cat(
        ld(
          1,
          ld(1, ld(1, str(1, 'a'), ld(2, str(1, '1')))),
          ld(1, ld(1, str(1, 'b'), ld(2, vint(3, 2)))),
          ld(
            2,
            ld(1, str(1, 's'), str(2, 'v1')),
            ld(1, str(2, 'v2')),
            ld(2, ld(15, vint(3, 2)), ld(15, str(2, 'msg')), ld(9, str(1, 'k'), ld(2, ld(5, ld(1, str(1, 'x')))), ld(2, ld(5, ld(1, vint(3, 1)))))),
          ),
        ),
      ),
      true,
    ],
    [
      'the AnyValue oneof: the last member wins, arrays restart after another member',
      inSpan(
        attr('a', str(1, 's'), vint(3, 1)),
        attr('b', vint(3, 1), str(1, 's')),
        attr('c', ld(5, ld(1, str(1, 'x'))), str(1, 's'), ld(5, ld(1, str(1, 'y')))),
        attr('d', ld(5, ld(1, str(1, 'x'))), ld(5, ld(1, str(1, 'y')))),
        attr('e', ld(6, ld(1, str(1, 'p'), ld(2, vint(2, 1)))), ld(6, ld(1, str(1, 'q'), ld(2, dbl(4, -0))))),
        attr('f', vint(2, 2n ** 32n), vint(2, 0)),
        attr('g', vint(2, 2n ** 32n)),
        attr('h'),
        attr('i', ld(7)),
        attr('j', str(1, '')),
        ld(9, str(1, 'no-value')),
        ld(9, ld(2, str(1, 'no-key'))),
        attr('dup', str(1, 'one')),
        attr('dup', str(1, 'two')),
      ),
      true,
    ],
    [
      'int64: negative, beyond 2^53, 10-byte encodings',
      inSpan(
        attr('a', vint(3, -1)),
        attr('b', vint(3, BIG)),
        attr('c', vint(3, -BIG - 1n)),
        attr('d', vint(3, 2n ** 53n)),
        attr('e', vint(3, -(2n ** 53n) + 1n)),
        attr('f', [0x18, 0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7f]),
      ),
      true,
    ],
    ['fixed64 times up to 2^64-1', inSpan(f64(7, 2n ** 64n - 1n), f64(8, 1_750_000_000_000_000_123n)), true],
    [
      'non-canonical varints for tags, lengths and enums',
      (() => {
        const inner = ld(2, ld(2, [0xb0, 0x80, 0x80, 0x00, 0x83, 0x80, 0x80, 0x80, 0x00])); // kind = 3: a 4-byte tag, a 5-byte value
        return cat([0x8a, 0x00], [(inner.length & 127) | 128, 0x80, 0x00], inner); // a 2-byte tag, a 3-byte length
      })(),
      true,
    ],
    ['kind and status code of 10 bytes (negative int32)', inSpan(vint(6, -1), ld(15, vint(3, -2))), true],
    ['invalid UTF-8 in a kept string', inSpan(str(5, Buffer.from([0x61, 0xc3, 0x28]))), false],
    ['invalid UTF-8 in a skipped string (trace_state)', inSpan(str(3, Buffer.from([0xed, 0xa0, 0x80]))), false],
    ['invalid UTF-8 in a scope attribute', ld(1, ld(2, ld(1, ld(3, str(1, 'k'), ld(2, str(1, Buffer.from([0xff]))))))), false],
    ['a byte-order mark is kept', inSpan(str(5, Buffer.from([0xef, 0xbb, 0xbf, 0x41]))), true],
    ['long non-ASCII strings', inSpan(str(5, 'é'.repeat(100)), attr('k', str(1, '🚀'.repeat(50)))), true],
    ['field number 0', cat([0x00, 0x01]), false],
    ['end-group tag with no group', cat([0x0c]), false],
    ['a group whose end tag names another field', cat(key(9, 3), vint(1, 1), key(8, 4)), false],
    ['wire type 6 and 7', cat([0x0e]), false],
    ['a length past the end of its message', cat(ld(1, [0x12, 0x05, 0x01])), false],
    ['a length of 2^31', cat([0x0a, 0x80, 0x80, 0x80, 0x80, 0x08]), false],
    ['an 11-byte varint in a kept field', inSpan([0x30, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]), false],
    ['an 11-byte varint in an unknown field is skipped', cat([0xf8, 0x07, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]), true],
    ['a 5-byte tag above 2^32', cat([0x8a, 0x80, 0x80, 0x80, 0x10]), false],
    ['a 6-byte tag', cat([0x8a, 0x80, 0x80, 0x80, 0x80, 0x00]), false],
    ['a truncated fixed64', inSpan([0x39, 1, 2, 3]), false],
    ['attribute values nested to the limit', inSpan(ld(9, str(1, 'deep'), nestArrays(47))), true],
    ['attribute values nested past the limit', inSpan(ld(9, str(1, 'deep'), nestArrays(48))), false],
    ['a skipped value nested past the limit (scope attribute)', ld(1, ld(2, ld(1, ld(3, str(1, 'deep'), nestArrays(48))))), false],
    ['groups nested past the limit', cat(...Array.from({ length: 102 }, () => key(1, 3)), ...Array.from({ length: 102 }, () => key(1, 4))), false],
    ['groups nested within the limit', cat(...Array.from({ length: 101 }, () => key(1, 3)), ...Array.from({ length: 101 }, () => key(1, 4))), true],
  ];
}

/** A KeyValue's value field: `n` arrays nested around a string. */
function nestArrays(n: number): Buffer {
  let any = str(1, 'leaf');
  for (let i = 0; i < n; i++) any = ld(5, ld(1, any));
  return ld(2, any);
}

// ---- mutations

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const INTERESTING = [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x07, 0x08, 0x0a, 0x0b, 0x0c, 0x7f, 0x80, 0xff, 0xc3, 0xed, 0xf0];

function mutate(seed: Buffer, rand: () => number, all: Buffer[]): Buffer {
  let b = Buffer.from(seed);
  const n = 1 + Math.floor(rand() * 3);
  const at = () => Math.floor(rand() * (b.length + 1));
  for (let k = 0; k < n; k++) {
    const op = Math.floor(rand() * 8);
    if (op === 0 && b.length)
      b[Math.min(at(), b.length - 1)]! ^= 1 << Math.floor(rand() * 8); // bit flip
    else if (op === 1 && b.length) b[Math.min(at(), b.length - 1)] = INTERESTING[Math.floor(rand() * INTERESTING.length)]!;
    else if (op === 2)
      b = b.subarray(0, at()); // truncate
    else if (op === 3) {
      const i = at();
      b = Buffer.concat([b.subarray(0, i), Buffer.from([INTERESTING[Math.floor(rand() * INTERESTING.length)]!]), b.subarray(i)]);
    } else if (op === 4) {
      const i = at();
      const j = Math.min(b.length, i + 1 + Math.floor(rand() * 8));
      b = Buffer.concat([b.subarray(0, i), b.subarray(j)]);
    } // delete
    else if (op === 5) {
      const i = at();
      const j = Math.min(b.length, i + 1 + Math.floor(rand() * 16));
      b = Buffer.concat([b.subarray(0, j), b.subarray(i, j), b.subarray(j)]);
    } // duplicate
    else if (op === 6) {
      const o = all[Math.floor(rand() * all.length)]!;
      const i = Math.floor(rand() * o.length);
      const chunk = o.subarray(i, i + 1 + Math.floor(rand() * 32));
      const j = at();
      b = Buffer.concat([b.subarray(0, j), chunk, b.subarray(j)]);
    } // splice
    else if (b.length) {
      const i = Math.min(at(), b.length - 1);
      b[i] = (b[i]! + (rand() < 0.5 ? 1 : -1)) & 255;
    } // length +-1
  }
  return b;
}
