/**
 * OTLP/JSON -> TraceRequest, per the OTLP JSON mapping: ids are hex strings (not base64),
 * enums may be integers or their names, 64-bit integers may be strings, keys are lowerCamelCase
 * (snake_case accepted too, as protobuf JSON parsers do). Structure that is not an object or
 * array where the spec has one is a 400; odd scalar values are left for ingest to judge per span.
 */
import { OtlpDecodeError } from './errors.ts';
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

type Json = Record<string, unknown>;

const SPAN_KINDS: Record<string, number> = {
  SPAN_KIND_UNSPECIFIED: 0,
  SPAN_KIND_INTERNAL: 1,
  SPAN_KIND_SERVER: 2,
  SPAN_KIND_CLIENT: 3,
  SPAN_KIND_PRODUCER: 4,
  SPAN_KIND_CONSUMER: 5,
};
const STATUS_CODES: Record<string, number> = { STATUS_CODE_UNSET: 0, STATUS_CODE_OK: 1, STATUS_CODE_ERROR: 2 };

export function decodeJsonRequest(body: Uint8Array | string): TraceRequest {
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof body === 'string' ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  } catch (cause) {
    throw new OtlpDecodeError(`invalid JSON: ${(cause as Error).message}`, { cause });
  }
  const root = object(parsed, 'request');
  return { resourceSpans: array(field(root, 'resourceSpans', 'resource_spans'), 'resourceSpans').map((rs, i) => resourceSpans(rs, `resourceSpans[${i}]`)) };
}

function resourceSpans(v: unknown, path: string): OtlpResourceSpans {
  const rs = object(v, path);
  const resource = field(rs, 'resource');
  return {
    resource:
      resource === undefined || resource === null ? {} : attributes(field(object(resource, `${path}.resource`), 'attributes'), `${path}.resource.attributes`),
    scopeSpans: array(field(rs, 'scopeSpans', 'scope_spans'), `${path}.scopeSpans`).map((ss, j): OtlpScopeSpans => {
      const p = `${path}.scopeSpans[${j}]`;
      const o = object(ss, p);
      const scope = field(o, 'scope');
      const so = scope === undefined || scope === null ? {} : object(scope, `${p}.scope`);
      return {
        scope: { name: str(so.name), version: str(so.version) },
        spans: array(field(o, 'spans'), `${p}.spans`).map((s, k) => span(s, `${p}.spans[${k}]`)),
      };
    }),
  };
}

function span(v: unknown, path: string): OtlpSpan {
  const s = object(v, path);
  const status = field(s, 'status');
  const st = status === undefined || status === null ? {} : object(status, `${path}.status`);
  return {
    traceId: str(field(s, 'traceId', 'trace_id')).toLowerCase(),
    spanId: str(field(s, 'spanId', 'span_id')).toLowerCase(),
    parentSpanId: str(field(s, 'parentSpanId', 'parent_span_id')).toLowerCase(),
    name: str(s.name),
    kind: enumValue(s.kind, SPAN_KINDS),
    startTimeUnixNano: u64(field(s, 'startTimeUnixNano', 'start_time_unix_nano')),
    endTimeUnixNano: u64(field(s, 'endTimeUnixNano', 'end_time_unix_nano')),
    attributes: attributes(s.attributes, `${path}.attributes`),
    status: { code: enumValue(st.code, STATUS_CODES), message: str(st.message) },
  };
}

function attributes(v: unknown, path: string): Attributes {
  const out: Attributes = {};
  if (v === undefined || v === null) return out;
  for (const kv of array(v, path)) {
    if (!kv || typeof kv !== 'object') continue;
    const key = (kv as Json).key;
    if (typeof key === 'string' && key) putAttr(out, key, anyValue((kv as Json).value, 0));
  }
  return out;
}

function anyValue(v: unknown, depth: number): AttrValue {
  if (!v || typeof v !== 'object') return null;
  const o = v as Json;
  if ('stringValue' in o || 'string_value' in o) return str(field(o, 'stringValue', 'string_value'));
  if ('boolValue' in o || 'bool_value' in o) return field(o, 'boolValue', 'bool_value') === true;
  if ('intValue' in o || 'int_value' in o) {
    const raw = field(o, 'intValue', 'int_value');
    const n = typeof raw === 'number' ? raw : Number(raw);
    return Number.isSafeInteger(n) ? n : typeof raw === 'string' ? raw : null;
  }
  if ('doubleValue' in o || 'double_value' in o) {
    const raw = field(o, 'doubleValue', 'double_value');
    // The JSON mapping writes NaN / Infinity as strings.
    return typeof raw === 'number' ? raw : typeof raw === 'string' ? Number(raw) : null;
  }
  if ('bytesValue' in o || 'bytes_value' in o) return str(field(o, 'bytesValue', 'bytes_value'));
  if ('arrayValue' in o || 'array_value' in o) {
    if (depth >= MAX_VALUE_DEPTH) return '[nested too deep]';
    const av = field(o, 'arrayValue', 'array_value') as Json | null;
    const values = av && Array.isArray(av.values) ? av.values : [];
    return values.map((x) => anyValue(x, depth + 1));
  }
  if ('kvlistValue' in o || 'kvlist_value' in o) {
    if (depth >= MAX_VALUE_DEPTH) return '{nested too deep}';
    const kl = field(o, 'kvlistValue', 'kvlist_value') as Json | null;
    const out: Record<string, AttrValue> = {};
    for (const kv of kl && Array.isArray(kl.values) ? kl.values : []) {
      if (kv && typeof kv === 'object' && typeof (kv as Json).key === 'string')
        putAttr(out, (kv as Json).key as string, anyValue((kv as Json).value, depth + 1));
    }
    return out;
  }
  return null;
}

function field(o: Json, camel: string, snake?: string): unknown {
  return o[camel] !== undefined ? o[camel] : snake ? o[snake] : undefined;
}

function object(v: unknown, path: string): Json {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new OtlpDecodeError(`${path}: expected an object`);
  return v as Json;
}

function array(v: unknown, path: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new OtlpDecodeError(`${path}: expected an array`);
  return v;
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function enumValue(v: unknown, names: Record<string, number>): number {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string') return names[v] ?? (/^\d+$/.test(v) ? Number(v) : 0);
  return 0;
}

/** Nanosecond times: decimal strings (the mapping's int64 form) or numbers; anything else -> 0n, judged by ingest. */
function u64(v: unknown): bigint {
  if (typeof v === 'string' && /^\d{1,20}$/.test(v)) return BigInt(v);
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return BigInt(Math.trunc(v));
  return 0n;
}
