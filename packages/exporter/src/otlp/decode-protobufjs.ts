/**
 * The reference OTLP protobuf decoder: protobufjs' generic reflection decoder over trace.proto,
 * then one walk into the internal shape (hex ids, bigint times, plain attribute values). The
 * service decodes with the purpose-built reader in decode-protobuf.ts; this one stays as the
 * oracle its differential and fuzz tests compare against and the baseline bench/ measures it by.
 */
import { OtlpDecodeError } from './errors.ts';
import { otlpTypes } from './proto-types.ts';
import {
  MAX_VALUE_DEPTH,
  putAttr,
  type Attributes,
  type AttrValue,
  type OtlpResourceSpans,
  type OtlpScopeSpans,
  type OtlpSpan,
  type TraceRequest,
} from './span.ts';

// protobufjs' decoded messages, as far as this file reads them.
interface PbKeyValue {
  key?: string;
  value?: PbAnyValue | null;
}
interface PbAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: unknown;
  doubleValue?: number;
  arrayValue?: { values?: PbAnyValue[] } | null;
  kvlistValue?: { values?: PbKeyValue[] } | null;
  bytesValue?: Uint8Array;
  value?: string;
}
interface PbSpan {
  traceId?: Uint8Array;
  spanId?: Uint8Array;
  parentSpanId?: Uint8Array;
  name?: string;
  kind?: number;
  startTimeUnixNano?: unknown;
  endTimeUnixNano?: unknown;
  attributes?: PbKeyValue[];
  status?: { code?: number; message?: string } | null;
}
interface PbRequest {
  resourceSpans?: Array<{
    resource?: { attributes?: PbKeyValue[] } | null;
    scopeSpans?: Array<{ scope?: { name?: string; version?: string } | null; spans?: PbSpan[] }>;
  }>;
}

export function decodeProtobufRequestWithProtobufjs(body: Uint8Array): TraceRequest {
  let msg: PbRequest;
  try {
    msg = otlpTypes().request.decode(body) as unknown as PbRequest;
  } catch (cause) {
    throw new OtlpDecodeError(`protobuf: ${(cause as Error).message}`, { cause });
  }
  try {
    return { resourceSpans: (msg.resourceSpans ?? []).map(resourceSpans) };
  } catch (cause) {
    throw new OtlpDecodeError(`protobuf: ${(cause as Error).message}`, { cause });
  }
}

function resourceSpans(rs: NonNullable<PbRequest['resourceSpans']>[number]): OtlpResourceSpans {
  return {
    resource: attributes(rs.resource?.attributes),
    scopeSpans: (rs.scopeSpans ?? []).map((ss): OtlpScopeSpans => ({
      scope: { name: ss.scope?.name ?? '', version: ss.scope?.version ?? '' },
      spans: (ss.spans ?? []).map(span),
    })),
  };
}

function span(s: PbSpan): OtlpSpan {
  return {
    traceId: hex(s.traceId),
    spanId: hex(s.spanId),
    parentSpanId: hex(s.parentSpanId),
    name: s.name ?? '',
    kind: s.kind ?? 0,
    startTimeUnixNano: u64(s.startTimeUnixNano),
    endTimeUnixNano: u64(s.endTimeUnixNano),
    attributes: attributes(s.attributes),
    status: { code: s.status?.code ?? 0, message: s.status?.message ?? '' },
  };
}

function hex(b: Uint8Array | undefined): string {
  return b && b.length ? Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex') : '';
}

/** fixed64 arrives as a Long (long.js); its unsigned decimal text is exact. */
function u64(v: unknown): bigint {
  if (v === undefined || v === null) return 0n;
  if (typeof v === 'number') return BigInt(Math.trunc(v));
  const text = String(v);
  return /^\d+$/.test(text) ? BigInt(text) : 0n;
}

export function attributes(kvs: PbKeyValue[] | undefined): Attributes {
  const out: Attributes = {};
  if (!kvs) return out;
  for (const kv of kvs) if (kv.key) putAttr(out, kv.key, anyValue(kv.value, 0));
  return out;
}

function anyValue(v: PbAnyValue | null | undefined, depth: number): AttrValue {
  if (!v) return null;
  // protobufjs sets the oneof's virtual `value` field to the name of the member present.
  switch (v.value) {
    case 'stringValue':
      return v.stringValue ?? '';
    case 'boolValue':
      return v.boolValue ?? false;
    case 'doubleValue':
      return v.doubleValue ?? 0;
    case 'intValue':
      return int64(v.intValue);
    case 'bytesValue':
      return Buffer.from(v.bytesValue ?? []).toString('base64');
    case 'arrayValue':
      if (depth >= MAX_VALUE_DEPTH) return '[nested too deep]';
      return (v.arrayValue?.values ?? []).map((x) => anyValue(x, depth + 1));
    case 'kvlistValue': {
      if (depth >= MAX_VALUE_DEPTH) return '{nested too deep}';
      const o: Record<string, AttrValue> = {};
      for (const kv of v.kvlistValue?.values ?? []) if (kv.key) putAttr(o, kv.key, anyValue(kv.value, depth + 1));
      return o;
    }
    default:
      return null;
  }
}

/** int64 -> number when exactly representable, else its decimal string (token counts never need that). */
function int64(v: unknown): number | string {
  if (typeof v === 'number') return v;
  const text = String(v);
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : text;
}
