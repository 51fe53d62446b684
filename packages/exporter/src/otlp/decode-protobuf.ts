/**
 * OTLP/HTTP protobuf -> TraceRequest, read straight off the wire: only the fields spendtrace
 * keeps become values (ids go to hex, times to bigint, attributes to plain values); everything
 * else is checked and stepped over without allocating. It accepts exactly the bodies protobufjs 8
 * accepts for trace.proto and yields the same TraceRequest as the reference walk over its
 * messages (decode-protobufjs.ts): unknown fields and known fields of another wire type are
 * skipped, a repeated singular field overwrites (a message field merges), the last member of the
 * AnyValue oneof wins, strings must be valid UTF-8, and messages nest at most 100 deep. The
 * differential and fuzz tests hold it to that; bench/ measures why it exists (the generic
 * decoder builds and then walks a message tree per request).
 */
import { isUtf8 } from 'node:buffer';
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

/** protobufjs' (and protoc's) message nesting limit. */
const RECURSION_LIMIT = 100;

/**
 * Buffer's per-encoding slice methods (what `toString(encoding, start, end)` calls after checking
 * its arguments; protobufjs reads strings with `utf8Slice` the same way): present on every Node
 * Buffer, absent from its type declarations.
 */
type SliceBuffer = Buffer & {
  latin1Slice(start: number, end: number): string;
  hexSlice(start: number, end: number): string;
  base64Slice(start: number, end: number): string;
};

// The reader's state. One decode runs at a time (it is synchronous), so module state is safe and
// spares passing a reader object through every call.
let buf = Buffer.alloc(0) as SliceBuffer;
let pos = 0;
/** End of the message being read: no read may pass it. */
let lim = 0;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function decodeProtobufRequest(body: Uint8Array): TraceRequest {
  buf = (Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength)) as SliceBuffer;
  pos = 0;
  lim = buf.length;
  try {
    return request();
  } catch (cause) {
    if (cause instanceof OtlpDecodeError) throw cause;
    throw new OtlpDecodeError(`protobuf: ${(cause as Error).message}`, { cause });
  } finally {
    buf = EMPTY;
  }
}
const EMPTY = Buffer.alloc(0) as SliceBuffer;

function fail(what: string): never {
  throw new OtlpDecodeError(`protobuf: ${what} at byte ${pos}`);
}

// ---- wire primitives (each with protobufjs' limits, so both accept the same bytes)

/** A field tag: at most 5 bytes, value < 2^32. */
function tag(): number {
  let b = byte();
  if (b < 128) return b;
  let v = b & 127;
  b = byte();
  v |= (b & 127) << 7;
  if (b < 128) return v >>> 0;
  b = byte();
  v |= (b & 127) << 14;
  if (b < 128) return v >>> 0;
  b = byte();
  v |= (b & 127) << 21;
  if (b < 128) return v >>> 0;
  b = byte();
  if (b >= 128 || (b & 112) !== 0) fail('invalid tag encoding');
  return (v | (b << 28)) >>> 0;
}

/** A length: at most 5 bytes, value < 2^31. */
function size(): number {
  let b = byte();
  if (b < 128) return b;
  let v = b & 127;
  b = byte();
  v |= (b & 127) << 7;
  if (b < 128) return v >>> 0;
  b = byte();
  v |= (b & 127) << 14;
  if (b < 128) return v >>> 0;
  b = byte();
  v |= (b & 127) << 21;
  if (b < 128) return v >>> 0;
  b = byte();
  if (b > 7) fail('invalid length encoding');
  return (v | (b << 28)) >>> 0;
}

/** A varint (at most 10 bytes) as its low 32 bits. */
function uint32(): number {
  let b = byte();
  if (b < 128) return b;
  let v = b & 127;
  b = byte();
  v |= (b & 127) << 7;
  if (b < 128) return v >>> 0;
  b = byte();
  v |= (b & 127) << 14;
  if (b < 128) return v >>> 0;
  b = byte();
  v |= (b & 127) << 21;
  if (b < 128) return v >>> 0;
  b = byte();
  v |= (b & 15) << 28;
  if (b < 128) return v >>> 0;
  for (let i = 0; i < 5; i++) if (byte() < 128) return v >>> 0;
  return fail('invalid varint encoding');
}

function bool(): boolean {
  let value = false;
  for (let i = 0; i < 10; i++) {
    const b = byte();
    if (b & 127) value = true;
    if (b < 128) return value;
  }
  return fail('invalid varint encoding');
}

/** int64 as the reference gives it: a number when exactly representable, else its decimal string. */
function int64(): number | string {
  let lo = 0;
  let hi = 0;
  let b = 0;
  let done = false;
  for (let i = 0; i < 4; i++) {
    b = byte();
    lo |= (b & 127) << (i * 7);
    if (b < 128) {
      done = true;
      break;
    }
  }
  if (!done) {
    b = byte();
    lo |= (b & 127) << 28;
    hi = (b & 127) >> 4;
    if (b >= 128) {
      for (let i = 0; i < 5; i++) {
        b = byte();
        hi |= (b & 127) << (i * 7 + 3);
        if (b < 128) {
          done = true;
          break;
        }
      }
      if (!done) fail('invalid varint encoding');
    }
  }
  const n = (hi | 0) * 4294967296 + (lo >>> 0);
  if (Number.isSafeInteger(n)) return n;
  return BigInt.asIntN(64, (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0)).toString();
}

function byte(): number {
  if (pos >= lim) fail('truncated');
  return buf[pos++]!;
}

function skip(n: number): void {
  if (n > lim - pos) fail(`length ${n} past the end`);
  pos += n;
}

function skipVarint(): void {
  while (byte() & 128);
}

/** Steps over a field of wire type `wt` (an unknown field, or a known one of another wire type). */
function skipField(wt: number, depth: number, field: number): void {
  if (depth > RECURSION_LIMIT) fail('max depth exceeded');
  if (field === 0) fail('illegal tag: field number 0');
  switch (wt) {
    case 0:
      skipVarint();
      return;
    case 1:
      skip(8);
      return;
    case 2:
      skip(size());
      return;
    case 3:
      for (;;) {
        const t = tag();
        const f = t >>> 3;
        const w = t & 7;
        if (f === 0) fail('illegal tag: field number 0');
        if (w === 4) {
          if (f !== field) fail('invalid end group tag');
          return;
        }
        skipField(w, depth + 1, f);
      }
    case 5:
      skip(4);
      return;
    default:
      fail(`invalid wire type ${wt}`);
  }
}

/** Enters a length-delimited message; returns the enclosing limit to restore with `leave`. */
function enter(depth: number): number {
  const n = size();
  if (depth > RECURSION_LIMIT) fail('max depth exceeded');
  if (n > lim - pos) fail(`length ${n} past the end`);
  const outer = lim;
  lim = pos + n;
  return outer;
}

function string(): string {
  const n = size();
  if (n > lim - pos) fail(`length ${n} past the end`);
  const start = pos;
  const end = (pos += n);
  let h = n;
  for (let i = start; i < end; i++) {
    const b = buf[i]!;
    if (b >= 128) {
      try {
        return strictUtf8.decode(buf.subarray(start, end));
      } catch {
        pos = start;
        return fail('invalid UTF-8 in a string');
      }
    }
    h = Math.imul(h ^ b, 0x01000193);
  }
  return n <= INTERN_MAX ? interned(start, end, h) : buf.latin1Slice(start, end);
}

// Short ASCII strings (attribute keys, model names, span names) repeat across a request's spans:
// a direct-mapped cache hands back the same string, so no new string is made and the attribute
// objects are keyed by strings V8 has already internalized.
const INTERN_MAX = 48;
const INTERN_SLOTS = 4096;
const internBytes: Array<Uint8Array | undefined> = new Array(INTERN_SLOTS).fill(undefined);
const internStrings: string[] = new Array(INTERN_SLOTS).fill('');

function interned(start: number, end: number, h: number): string {
  const slot = (h >>> 0) & (INTERN_SLOTS - 1);
  const bytes = internBytes[slot];
  const n = end - start;
  if (bytes !== undefined && bytes.length === n) {
    let i = 0;
    while (i < n && bytes[i] === buf[start + i]) i++;
    if (i === n) return internStrings[slot]!;
  }
  const str = buf.latin1Slice(start, end);
  const copy = new Uint8Array(n);
  for (let i = 0; i < n; i++) copy[i] = buf[start + i]!;
  internBytes[slot] = copy;
  internStrings[slot] = str;
  return str;
}

/** A string field that is not kept: still checked to be UTF-8, as the reference does. */
function skipString(): void {
  const n = size();
  if (n > lim - pos) fail(`length ${n} past the end`);
  const start = pos;
  const end = (pos += n);
  for (let i = start; i < end; i++) {
    if (buf[i]! >= 128) {
      if (!isUtf8(buf.subarray(i, end))) {
        pos = start;
        fail('invalid UTF-8 in a string');
      }
      return;
    }
  }
}

/** A bytes field: advances past it and returns its start (its end is `pos`). */
function bytesStart(): number {
  const n = size();
  if (n > lim - pos) fail(`length ${n} past the end`);
  const start = pos;
  pos += n;
  return start;
}

// ---- messages (q = nesting depth, counted as protobufjs counts it)

function request(): TraceRequest {
  const resourceSpans: OtlpResourceSpans[] = [];
  while (pos < lim) {
    const t = tag();
    if (t === 0x0a) resourceSpans.push(resourceSpansMsg(1));
    else skipField(t & 7, 0, t >>> 3);
  }
  return { resourceSpans };
}

function resourceSpansMsg(q: number): OtlpResourceSpans {
  const outer = enter(q);
  let resource: Attributes | undefined;
  const scopeSpans: OtlpScopeSpans[] = [];
  while (pos < lim) {
    const t = tag();
    switch (t) {
      case 0x0a:
        resourceMsg(q + 1, (resource ??= {}));
        break; // resource (merged)
      case 0x12:
        scopeSpans.push(scopeSpansMsg(q + 1));
        break;
      case 0x1a:
        skipString();
        break; // schema_url
      default:
        skipField(t & 7, q, t >>> 3);
    }
  }
  lim = outer;
  return { resource: resource ?? {}, scopeSpans };
}

function resourceMsg(q: number, attrs: Attributes): void {
  const outer = enter(q);
  while (pos < lim) {
    const t = tag();
    switch (t) {
      case 0x0a:
        keyValue(q + 1, attrs, 0);
        break;
      case 0x10:
        uint32();
        break; // dropped_attributes_count
      default:
        skipField(t & 7, q, t >>> 3);
    }
  }
  lim = outer;
}

function scopeSpansMsg(q: number): OtlpScopeSpans {
  const outer = enter(q);
  const scope = { name: '', version: '' };
  const spans: OtlpSpan[] = [];
  while (pos < lim) {
    const t = tag();
    switch (t) {
      case 0x0a:
        scopeMsg(q + 1, scope);
        break; // scope (merged)
      case 0x12:
        spans.push(spanMsg(q + 1));
        break;
      case 0x1a:
        skipString();
        break; // schema_url
      default:
        skipField(t & 7, q, t >>> 3);
    }
  }
  lim = outer;
  return { scope, spans };
}

function scopeMsg(q: number, scope: { name: string; version: string }): void {
  const outer = enter(q);
  while (pos < lim) {
    const t = tag();
    switch (t) {
      case 0x0a:
        scope.name = string();
        break;
      case 0x12:
        scope.version = string();
        break;
      case 0x1a:
        keyValue(q + 1, null, 0);
        break; // scope attributes: checked, not kept
      case 0x20:
        uint32();
        break;
      default:
        skipField(t & 7, q, t >>> 3);
    }
  }
  lim = outer;
}

function spanMsg(q: number): OtlpSpan {
  const outer = enter(q);
  // Byte ranges of the last occurrence of each kept bytes/fixed64 field; turned into values once.
  let traceS = 0,
    traceE = 0,
    spanS = 0,
    spanE = 0,
    parentS = 0,
    parentE = 0,
    startAt = -1,
    endAt = -1;
  let name = '';
  let kind = 0;
  const attributes: Attributes = {};
  const status = { code: 0, message: '' };
  while (pos < lim) {
    const t = tag();
    switch (t) {
      case 0x0a:
        traceS = bytesStart();
        traceE = pos;
        break;
      case 0x12:
        spanS = bytesStart();
        spanE = pos;
        break;
      case 0x1a:
        skipString();
        break; // trace_state
      case 0x22:
        parentS = bytesStart();
        parentE = pos;
        break;
      case 0x2a:
        name = string();
        break;
      case 0x30:
        kind = uint32() | 0;
        break;
      case 0x39:
        skip(8);
        startAt = pos - 8;
        break;
      case 0x41:
        skip(8);
        endAt = pos - 8;
        break;
      case 0x4a:
        keyValue(q + 1, attributes, 0);
        break;
      case 0x50:
      case 0x60:
      case 0x70:
        uint32();
        break; // dropped attribute / event / link counts
      case 0x7a:
        statusMsg(q + 1, status);
        break; // status (merged)
      case 0x85:
        skip(4);
        break; // flags (field 16, fixed32)
      default:
        skipField(t & 7, q, t >>> 3);
    }
  }
  lim = outer;
  return {
    traceId: traceE > traceS ? buf.hexSlice(traceS, traceE) : '',
    spanId: spanE > spanS ? buf.hexSlice(spanS, spanE) : '',
    parentSpanId: parentE > parentS ? buf.hexSlice(parentS, parentE) : '',
    name,
    kind,
    startTimeUnixNano: startAt < 0 ? 0n : buf.readBigUInt64LE(startAt),
    endTimeUnixNano: endAt < 0 ? 0n : buf.readBigUInt64LE(endAt),
    attributes,
    status,
  };
}

function statusMsg(q: number, status: { code: number; message: string }): void {
  const outer = enter(q);
  while (pos < lim) {
    const t = tag();
    switch (t) {
      case 0x12:
        status.message = string();
        break;
      case 0x18:
        status.code = uint32() | 0;
        break;
      default:
        skipField(t & 7, q, t >>> 3);
    }
  }
  lim = outer;
}

/**
 * A KeyValue, stored into `into` under its key (when the key is not empty) with its value read
 * at value depth `vdepth`; `into` null checks it without keeping anything.
 */
function keyValue(q: number, into: Attributes | null, vdepth: number): void {
  const outer = enter(q);
  let key = '';
  let value: AttrValue = null;
  let kind = NONE;
  while (pos < lim) {
    const t = tag();
    if (t === 0x0a) {
      if (into) key = string();
      else skipString();
    } else if (t === 0x12) {
      value = anyValue(q + 1, vdepth, into !== null, kind, value);
      kind = lastKind;
    } else skipField(t & 7, q, t >>> 3);
  }
  lim = outer;
  if (into && key) putAttr(into, key, value);
}

// AnyValue oneof members, by field number.
const NONE = 0,
  STRING = 1,
  BOOL = 2,
  INT = 3,
  DOUBLE = 4,
  ARRAY = 5,
  KVLIST = 6,
  BYTES = 7;
/** The member an `anyValue` call ended on, read by its caller right after the call. */
let lastKind = NONE;

/**
 * An AnyValue merged onto (kind, value), as protobuf merges a repeated message field: a later
 * member replaces an earlier one, a second array or kvlist extends the first. `keep` false checks
 * it without building anything; arrays and kvlists at `vdepth` >= MAX_VALUE_DEPTH become markers.
 */
function anyValue(q: number, vdepth: number, keep: boolean, kind: number, value: AttrValue): AttrValue {
  const outer = enter(q);
  while (pos < lim) {
    const t = tag();
    switch (t) {
      case 0x0a:
        if (keep) value = string();
        else skipString();
        kind = STRING;
        break;
      case 0x10:
        value = bool();
        kind = BOOL;
        break;
      case 0x18:
        value = int64();
        kind = INT;
        break;
      case 0x21:
        skip(8);
        value = buf.readDoubleLE(pos - 8);
        kind = DOUBLE;
        break;
      case 0x2a: {
        const deep = !keep || vdepth >= MAX_VALUE_DEPTH;
        if (kind !== ARRAY) value = deep ? (keep ? '[nested too deep]' : null) : [];
        kind = ARRAY;
        arrayValue(q + 1, deep ? null : (value as AttrValue[]), vdepth + 1);
        break;
      }
      case 0x32: {
        const deep = !keep || vdepth >= MAX_VALUE_DEPTH;
        if (kind !== KVLIST) value = deep ? (keep ? '{nested too deep}' : null) : {};
        kind = KVLIST;
        kvlistValue(q + 1, deep ? null : (value as Attributes), vdepth + 1);
        break;
      }
      case 0x3a: {
        const start = bytesStart();
        if (keep) value = buf.base64Slice(start, pos);
        kind = BYTES;
        break;
      }
      default:
        skipField(t & 7, q, t >>> 3);
    }
  }
  lim = outer;
  lastKind = kind;
  return kind === NONE ? null : value;
}

function arrayValue(q: number, into: AttrValue[] | null, vdepth: number): void {
  const outer = enter(q);
  while (pos < lim) {
    const t = tag();
    if (t === 0x0a) {
      const v = anyValue(q + 1, vdepth, into !== null, NONE, null);
      if (into) into.push(v);
    } else skipField(t & 7, q, t >>> 3);
  }
  lim = outer;
}

function kvlistValue(q: number, into: Attributes | null, vdepth: number): void {
  const outer = enter(q);
  while (pos < lim) {
    const t = tag();
    if (t === 0x0a) keyValue(q + 1, into, vdepth);
    else skipField(t & 7, q, t >>> 3);
  }
  lim = outer;
}
