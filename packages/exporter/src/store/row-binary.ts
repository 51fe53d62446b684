/**
 * Rows into ClickHouse's RowBinary format, one Buffer per batch: the format chDB parses at a
 * fraction of JSONEachRow's cost, and nothing per row goes through JSON.stringify (bench/README.md,
 * "chDB insert paths" and "Insert format"). Values arrive as the rows hold them for JSONEachRow:
 * 64-bit integers, DateTime64(9) and Decimal(38, 12) as exact decimal text, so no figure passes
 * through a float: digits become integers, integers become little-endian words.
 */
import { IDENTIFIER } from '../database-name.ts';
import type { ColumnKind, InsertColumn } from './store.ts';

const TWO_32 = 2 ** 32;
/** Integers below this have at most 15 digits and are exact as doubles. */
const EXACT_DIGITS = 15;

/** "seconds.nanoseconds" (nsText) or "sec.<12 digits>" (formatPico) as one integer's digits: the fraction's digits are fixed. */
function scaledDigits(text: string, scale: number, what: string): string {
  const dot = text.indexOf('.');
  if (dot < 0) return text + '0'.repeat(scale);
  const frac = text.length - dot - 1;
  if (frac > scale) throw new RangeError(`${what}: more than ${scale} fractional digits in ${text}`);
  const digits = text.slice(0, dot) + text.slice(dot + 1) + '0'.repeat(scale - frac);
  return digits === '-' + '0'.repeat(digits.length - 1) ? '0' : digits;
}

function checkDigits(s: string, what: string): string {
  if (!/^-?\d+$/.test(s)) throw new RangeError(`${what}: not an integer: ${JSON.stringify(s)}`);
  return s;
}

class Writer {
  buf: Buffer;
  pos = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
  varint(n: number): void {
    this.ensure(10);
    while (n >= 0x80) {
      this.buf[this.pos++] = (n & 0x7f) | 0x80;
      n = Math.floor(n / 128);
    }
    this.buf[this.pos++] = n;
  }
  string(s: string): void {
    const len = s.length;
    if (len < 0x80) {
      // Short (nearly every value): ASCII is copied char by char, which beats a Buffer.write call
      // per value by several times; anything else is encoded by Buffer.write after the fact.
      this.ensure(len * 3 + 2);
      const buf = this.buf;
      const start = this.pos + 1;
      let i = 0;
      for (; i < len; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[start + i] = c;
      }
      if (i === len) {
        buf[this.pos] = len;
        this.pos = start + len;
        return;
      }
    }
    const n = Buffer.byteLength(s, 'utf8');
    this.varint(n);
    this.ensure(n);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }
  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }
  u16(v: number): void {
    this.ensure(2);
    this.buf.writeUInt16LE(v, this.pos);
    this.pos += 2;
  }
  /** A non-negative safe integer as 64 bits. */
  u64(v: number): void {
    this.ensure(8);
    this.buf.writeUInt32LE(v % TWO_32, this.pos);
    this.buf.writeUInt32LE(Math.floor(v / TWO_32), this.pos + 4);
    this.pos += 8;
  }
  /** A signed integer given as decimal digits (optional leading '-'), as `bytes` little-endian bytes. */
  intText(digits: string, bytes: 8 | 16): void {
    this.ensure(bytes);
    const neg = digits.charCodeAt(0) === 45;
    if (!neg && digits.length <= EXACT_DIGITS) {
      const v = Number(digits);
      this.buf.writeUInt32LE(v % TWO_32, this.pos);
      this.buf.writeUInt32LE(Math.floor(v / TWO_32), this.pos + 4);
      if (bytes === 16) this.buf.fill(0, this.pos + 8, this.pos + 16);
    } else {
      let v = BigInt.asUintN(bytes * 8, BigInt(digits));
      for (let i = 0; i < bytes; i += 8) {
        this.buf.writeBigUInt64LE(BigInt.asUintN(64, v), this.pos + i);
        v >>= 64n;
      }
    }
    this.pos += bytes;
  }
  string_(v: unknown): void {
    this.string(typeof v === 'string' ? v : v == null ? '' : String(v));
  }
  uint64(v: unknown, name: string): void {
    if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) this.u64(v);
    else this.intText(checkDigits(String(v ?? 0), name), 8);
  }
  dateTime64(v: unknown, name: string): void {
    this.intText(checkDigits(scaledDigits(String(v), 9, name), name), 8);
  }
  decimal(v: unknown, name: string): void {
    // Most spans carry no money: "0.000000000000".
    if (v === '0.000000000000' || v === '0' || v == null) {
      this.ensure(16);
      this.buf.fill(0, this.pos, this.pos + 16);
      this.pos += 16;
    } else this.intText(checkDigits(scaledDigits(String(v), 12, name), name), 16);
  }
  map(v: unknown): void {
    const m = (v ?? {}) as Record<string, unknown>;
    const keys = Object.keys(m);
    this.varint(keys.length);
    for (const k of keys) {
      this.string(k);
      this.string_(m[k]);
    }
  }
}

const METHOD: Record<ColumnKind, string> = {
  String: 'string_',
  UInt8: 'u8',
  UInt16: 'u16',
  UInt64: 'uint64',
  'DateTime64(9)': 'dateTime64',
  'Decimal(38, 12)': 'decimal',
  'Map(String, String)': 'map',
};

type RowEncoder = (rows: readonly object[], w: Writer) => void;
const compiled = new WeakMap<readonly InsertColumn[], RowEncoder>();

/**
 * One function per column list, reading each column as a plain property: a loop over names with
 * `row[name]` is a keyed lookup per value and took three times as long (bench/README.md).
 */
function compile(columns: readonly InsertColumn[]): RowEncoder {
  let fn = compiled.get(columns);
  if (fn) return fn;
  const body = columns
    .map((c) => {
      if (!IDENTIFIER.test(c.name)) throw new Error(`row-binary: not a column name: ${JSON.stringify(c.name)}`);
      const m = METHOD[c.type];
      if (!m) throw new Error(`row-binary: no encoding for column type ${String(c.type)}`);
      if (m === 'u8' || m === 'u16') return `w.${m}(+(r.${c.name} ?? 0));`;
      return `w.${m}(r.${c.name}, ${JSON.stringify(c.name)});`;
    })
    .join('\n');
  fn = new Function('rows', 'w', `for (let j = 0; j < rows.length; j++) {\nconst r = rows[j];\n${body}\n}`) as RowEncoder;
  compiled.set(columns, fn);
  return fn;
}

/**
 * The rows' `columns` as one RowBinary payload. Throws RangeError for a value its column cannot
 * hold (the store would refuse the batch; the writer's bisection then isolates the row).
 */
export function encodeRowBinary(rows: readonly object[], columns: readonly InsertColumn[]): Buffer {
  const encode = compile(columns);
  const w = new Writer(Math.max(4096, rows.length * 768));
  encode(rows, w);
  return w.buf.subarray(0, w.pos);
}
