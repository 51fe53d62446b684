/**
 * The write-ahead log that makes a 2xx (or a gRPC OK) a promise: an append resolves only once its
 * record is fsync'ed. Appends that arrive while a sync is running wait for the next one and share
 * it (group commit), so one fdatasync covers every request of that moment and throughput follows
 * the disk's sync rate times the group size, not the request rate.
 *
 * Fsync policy: every acknowledged record is on stable storage (fdatasync of the segment file;
 * a new segment file also syncs its directory). Nothing is acknowledged from memory.
 *
 * Layout: `<dir>/<first lsn, 20 digits>.wal` segments, each a run of records
 *   u32 payload length | u32 crc32(payload) | f64 append time (ms) | f64 lsn | payload (UTF-8 JSON)
 * and `<dir>/checkpoint` (the highest lsn known to be in the store, rewritten by rename). A torn
 * tail (a crash mid-write) fails its length or crc check and is cut off at open. The checkpoint
 * need not be synced: a stale one only replays records the store already holds, which the
 * exactly-once insert (span-writer.ts) skips.
 */
import { closeSync, fsyncSync, openSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, stat, truncate, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';

const HEADER = 24;
const SEGMENT_RE = /^(\d{20})\.wal$/;

export interface WalOptions {
  dir: string;
  /** A new segment starts once the current one holds this many bytes. @default 16 MiB */
  segmentBytes?: number;
  /** Disk budget: appends beyond it are refused (WalFullError). @default 1 GiB */
  maxBytes?: number;
}

export interface WalRecord<T> {
  lsn: number;
  /** When it was appended (ms since the epoch). */
  at: number;
  value: T;
}

/** The log holds its disk budget: the caller answers 503 / UNAVAILABLE until the store drains it. */
export class WalFullError extends Error {
  readonly code = 'SPENDTRACE_WAL_FULL' as const;
}

interface Segment {
  firstLsn: number;
  path: string;
  bytes: number;
  /** Highest lsn in it (firstLsn - 1 while empty). */
  lastLsn: number;
  /** Append time of its first record (for the oldest entry's age). */
  firstAt: number;
}

interface Pending {
  buf: Buffer;
  lsn: number;
  resolve: (lsn: number) => void;
  reject: (e: unknown) => void;
}

export class WriteAheadLog<T> {
  readonly dir: string;
  private readonly segmentBytes: number;
  readonly maxBytes: number;
  private segments: Segment[] = [];
  private fh: FileHandle | undefined;
  private nextLsn = 1;
  /** Highest lsn on stable storage. */
  durableLsn = 0;
  /** Highest lsn the store holds (everything up to it may be deleted). */
  checkpointLsn = 0;
  private queue: Pending[] = [];
  private syncing = false;
  private queuedBytes = 0;
  private closed = false;
  /** fdatasync calls and records they covered, since open (the group-commit ratio). */
  syncs = 0;
  syncedRecords = 0;

  private constructor(o: WalOptions) {
    this.dir = o.dir;
    this.maxBytes = o.maxBytes ?? 1024 * 1024 * 1024;
    // Several segments fit in the budget, so stored ones can be freed while the rest waits.
    this.segmentBytes = Math.min(o.segmentBytes ?? 16 * 1024 * 1024, Math.max(64 * 1024, Math.floor(this.maxBytes / 8)));
  }

  /** Opens (or creates) the log, cutting a torn tail. Records after the checkpoint are what `read` returns first. */
  static async open<T>(o: WalOptions): Promise<WriteAheadLog<T>> {
    const wal = new WriteAheadLog<T>(o);
    await mkdir(o.dir, { recursive: true });
    try {
      wal.checkpointLsn = Number((await readFile(join(o.dir, 'checkpoint'), 'utf8')).trim()) || 0;
    } catch {
      /* no checkpoint yet */
    }
    const names = (await readdir(o.dir)).filter((n) => SEGMENT_RE.test(n)).sort();
    for (const name of names) {
      const path = join(o.dir, name);
      const firstLsn = Number(SEGMENT_RE.exec(name)![1]);
      const buf = await readFile(path);
      const { end, lastLsn, firstAt } = scan(buf, firstLsn);
      if (end < buf.length) await truncate(path, end);
      wal.segments.push({ firstLsn, path, bytes: end, lastLsn, firstAt });
    }
    // Segments go only once the checkpoint covers them; one starting above it means the
    // checkpoint's rename did not survive (power loss): what came before is stored.
    const first = wal.segments[0];
    if (first && wal.checkpointLsn < first.firstLsn - 1) wal.checkpointLsn = first.firstLsn - 1;
    const last = wal.segments.at(-1);
    wal.nextLsn = Math.max(last ? last.lastLsn + 1 : 1, wal.checkpointLsn + 1);
    wal.durableLsn = wal.nextLsn - 1;
    await wal.dropCheckpointed();
    return wal;
  }

  /** Bytes on disk. */
  get bytes(): number {
    let n = 0;
    for (const s of this.segments) n += s.bytes;
    return n + this.queuedBytes;
  }

  /** Highest lsn appended (durable or not). */
  get lastLsn(): number {
    return this.nextLsn - 1;
  }

  /** Records appended and not yet in the store. */
  get backlog(): number {
    return this.durableLsn - this.checkpointLsn;
  }

  /** Age in ms of the oldest record not yet in the store (0 when none). */
  oldestAgeMs(now = Date.now()): number {
    if (this.backlog <= 0) return 0;
    const s = this.segments.find((x) => x.lastLsn > this.checkpointLsn);
    return s ? Math.max(0, now - s.firstAt) : 0;
  }

  /** Resolves with the record's lsn once it is on stable storage. Throws WalFullError over the budget. */
  append(value: T): Promise<number> {
    if (this.closed) return Promise.reject(new Error('write-ahead log is closed'));
    const payload = Buffer.from(JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)));
    if (this.bytes + payload.length + HEADER > this.maxBytes) {
      return Promise.reject(new WalFullError(`write-ahead log at its disk budget (${this.bytes} of ${this.maxBytes} bytes) while the store catches up`));
    }
    const lsn = this.nextLsn++;
    const buf = Buffer.allocUnsafe(HEADER + payload.length);
    buf.writeUInt32LE(payload.length, 0);
    buf.writeUInt32LE(crc32(payload), 4);
    buf.writeDoubleLE(Date.now(), 8);
    buf.writeDoubleLE(lsn, 16);
    payload.copy(buf, HEADER);
    this.queuedBytes += buf.length;
    return new Promise((resolve, reject) => {
      this.queue.push({ buf, lsn, resolve, reject });
      if (!this.syncing) void this.commit();
    });
  }

  /** Writes and syncs everything queued, as one group, until the queue is empty. */
  private async commit(): Promise<void> {
    this.syncing = true;
    while (this.queue.length) {
      const group = this.queue;
      this.queue = [];
      let bytes = 0;
      for (const p of group) bytes += p.buf.length;
      try {
        const seg = await this.segmentFor(group[0]!.lsn, group[0]!.buf.readDoubleLE(8));
        await this.fh!.writev(group.map((p) => p.buf));
        await this.fh!.datasync();
        seg.bytes += bytes;
        seg.lastLsn = group.at(-1)!.lsn;
        this.queuedBytes -= bytes;
        this.durableLsn = seg.lastLsn;
        this.syncs++;
        this.syncedRecords += group.length;
        for (const p of group) p.resolve(p.lsn);
      } catch (e) {
        // The disk failed: nothing of this group is acknowledged. Later lsns must not follow a
        // gap, so the group's lsns are given back and the segment is cut to what was synced.
        this.queuedBytes -= bytes;
        this.nextLsn = group[0]!.lsn;
        for (const p of this.queue) {
          this.queuedBytes -= p.buf.length;
          p.reject(e);
        }
        this.queue = [];
        const seg = this.segments.at(-1);
        if (seg) await truncate(seg.path, seg.bytes).catch(() => undefined);
        for (const p of group) p.reject(e);
      }
    }
    this.syncing = false;
  }

  private async segmentFor(lsn: number, at: number): Promise<Segment> {
    let seg = this.segments.at(-1);
    if (seg && this.fh && seg.bytes < this.segmentBytes) return seg;
    await this.fh?.close();
    if (!seg || seg.bytes >= this.segmentBytes) {
      seg = { firstLsn: lsn, path: join(this.dir, `${String(lsn).padStart(20, '0')}.wal`), bytes: 0, lastLsn: lsn - 1, firstAt: at };
      this.segments.push(seg);
      this.fh = await open(seg.path, 'a');
      syncDir(this.dir);
    } else {
      this.fh = await open(seg.path, 'a');
    }
    return seg;
  }

  /**
   * Durable records fromLsn, fromLsn + 1, … in order, up to about maxBytes of payload (at least
   * one): always a gapless run, possibly shorter than what is durable (the caller reads on from
   * where it stopped). Reads from disk: the drainer uses it for what it does not hold in memory (a
   * restart, a backlog).
   *
   * Gapless matters because appends go on meanwhile: a segment's bytes may be taken before its
   * last records land, and by the time the next segment is read it holds newer ones. Moving on to
   * it skipped the records in between, and the drainer checkpointed past them: the kill -9
   * harness's lost requests (ingest-wal-races.test.ts).
   */
  async read(fromLsn: number, maxBytes: number): Promise<Array<WalRecord<T>>> {
    const out: Array<WalRecord<T>> = [];
    let total = 0;
    let want = fromLsn;
    for (const seg of this.segments) {
      if (seg.lastLsn < want) continue;
      const buf = await readFile(seg.path);
      let off = 0;
      while (off + HEADER <= buf.length) {
        const len = buf.readUInt32LE(off);
        if (off + HEADER + len > buf.length) break;
        const lsn = buf.readDoubleLE(off + 16);
        if (lsn > this.durableLsn) return out;
        if (lsn >= want) {
          if (lsn !== want) return out;
          const payload = buf.subarray(off + HEADER, off + HEADER + len);
          out.push({ lsn, at: buf.readDoubleLE(off + 8), value: JSON.parse(payload.toString('utf8')) as T });
          want++;
          total += len;
          if (total >= maxBytes) return out;
        }
        off += HEADER + len;
      }
      // This segment's bytes ended before records it holds by now: they are read next time.
      if (seg.lastLsn >= want) return out;
    }
    return out;
  }

  /** Records everything up to `lsn` as stored; segments wholly below it are deleted. */
  async checkpoint(lsn: number): Promise<void> {
    if (lsn <= this.checkpointLsn) return;
    this.checkpointLsn = lsn;
    const tmp = join(this.dir, 'checkpoint.tmp');
    await writeFile(tmp, `${lsn}\n`);
    await rename(tmp, join(this.dir, 'checkpoint'));
    await this.dropCheckpointed();
  }

  private async dropCheckpointed(): Promise<void> {
    // Keep the newest segment (appends go there); older ones go once fully stored.
    while (this.segments.length > 1 && this.segments[0]!.lastLsn <= this.checkpointLsn) {
      const s = this.segments.shift()!;
      await unlink(s.path).catch(() => undefined);
    }
    const only = this.segments[0];
    if (this.segments.length === 1 && only && only.lastLsn <= this.checkpointLsn && only.bytes > 0 && !this.syncing && !this.queue.length) {
      // All stored and no append under way: its bytes are free; the next append starts a new file.
      // Forgotten before the first await, so an append arriving meanwhile never writes (and is
      // acknowledged) into the file being deleted.
      const fh = this.fh;
      this.fh = undefined;
      this.segments = [];
      await fh?.close();
      await unlink(only.path).catch(() => undefined);
    }
  }

  /** Waits for queued appends, then closes the file. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.syncing) await new Promise((r) => setTimeout(r, 5));
    await this.fh?.close();
    this.fh = undefined;
  }

  /** For tests and /healthz: segment files and their sizes. */
  async files(): Promise<Array<{ path: string; bytes: number }>> {
    return Promise.all(this.segments.map(async (s) => ({ path: s.path, bytes: (await stat(s.path)).size })));
  }
}

/** The valid prefix of a segment: where the last whole record ends, its lsn, the first record's time. */
function scan(buf: Buffer, firstLsn: number): { end: number; lastLsn: number; firstAt: number } {
  let off = 0;
  let lastLsn = firstLsn - 1;
  let firstAt = 0;
  while (off + HEADER <= buf.length) {
    const len = buf.readUInt32LE(off);
    if (off + HEADER + len > buf.length) break;
    const payload = buf.subarray(off + HEADER, off + HEADER + len);
    if (crc32(payload) !== buf.readUInt32LE(off + 4)) break;
    const lsn = buf.readDoubleLE(off + 16);
    if (lsn !== lastLsn + 1) break;
    if (!firstAt) firstAt = buf.readDoubleLE(off + 8);
    lastLsn = lsn;
    off += HEADER + len;
  }
  return { end: off, lastLsn, firstAt };
}

/** A new file's directory entry must be durable too, or the file may vanish after a crash. */
function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
