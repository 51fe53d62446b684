/**
 * The one internal shape both OTLP encodings decode to. It keeps the request's hierarchy
 * (resource -> scope -> span) so ingest can walk it top to bottom. Values are checked for
 * structure only; what a span's ids and times mean is ingest's to judge, span by span.
 */

/** An OTLP AnyValue: int64 becomes a number when exact, else its decimal string; bytes become base64. */
export type AttrValue = string | number | boolean | null | AttrValue[] | { [key: string]: AttrValue };
export type Attributes = Record<string, AttrValue>;

/**
 * Stores one decoded key/value. A plain `into[key] = value` with the key `__proto__` would set the
 * object's prototype (a hostile kvlist then shadows every attribute lookup) or silently drop a
 * string; the key is kept as an own property instead. Plain objects stay plain (fast) objects:
 * `Object.create(null)` would put every attribute map in dictionary mode.
 */
export function putAttr(into: Record<string, AttrValue>, key: string, value: AttrValue): void {
  if (key === '__proto__') Object.defineProperty(into, key, { value, enumerable: true, writable: true, configurable: true });
  else into[key] = value;
}

/** Max nesting of array/kvlist attribute values kept; deeper values become a marker string. */
export const MAX_VALUE_DEPTH = 8;

export interface OtlpSpan {
  /** Lower-case hex; 32 chars when valid (ingest rejects anything else). */
  traceId: string;
  /** Lower-case hex; 16 chars when valid. */
  spanId: string;
  /** Lower-case hex or '' for a root. */
  parentSpanId: string;
  name: string;
  /** OTLP SpanKind number: 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  /** 0n when absent. */
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  attributes: Attributes;
  /** OTLP StatusCode number: 0 unset, 1 ok, 2 error. */
  status: { code: number; message: string };
}

export interface OtlpScopeSpans {
  scope: { name: string; version: string };
  spans: OtlpSpan[];
}

export interface OtlpResourceSpans {
  resource: Attributes;
  scopeSpans: OtlpScopeSpans[];
}

export interface TraceRequest {
  resourceSpans: OtlpResourceSpans[];
}

export const SPAN_KIND_NAMES = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'] as const;
export const STATUS_CODE_NAMES = ['unset', 'ok', 'error'] as const;

/** Counts spans in a decoded request (for partial-success replies). */
export function countSpans(req: TraceRequest): number {
  let n = 0;
  for (const r of req.resourceSpans) for (const s of r.scopeSpans) n += s.spans.length;
  return n;
}
