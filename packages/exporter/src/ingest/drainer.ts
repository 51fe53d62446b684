/**
 * Moves accepted records from the write-ahead log into the store, in order, one batch at a time:
 * records come from memory while they fit (`maxMemoryRows`), otherwise from the log on disk (a
 * backlog while the store was down, or what a restart found), so memory stays bounded however
 * long the store is away. After each batch is in the store the log is checkpointed past it.
 * A failing store is retried with backoff; rows are never dropped (refused rows are the writer's
 * dead letters). Without a log (benchmarks' log-off variant, in-process tests), the same path
 * runs from memory only and the ingester refuses what does not fit.
 */
import type { SpanRow } from './span-row.ts';
import type { SpanWriter } from './span-writer.ts';
import type { WriteAheadLog } from './write-ahead-log.ts';

export interface DrainerOptions {
  /** Rows per insert (whole records; a record larger than this is one batch). @default 5000 */
  maxBatchRows?: number;
  /** A batch is sent at the latest this long after its first record arrived. @default 200 */
  maxBatchAgeMs?: number;
  /** Rows held in memory; beyond, records are read back from the log. @default 200_000 */
  maxMemoryRows?: number;
  /** First retry delay; doubles up to `retryMaxMs`. @default 100 */
  retryInitialMs?: number;
  /** @default 5000 */
  retryMaxMs?: number;
  /** Told about every failed insert attempt (the batch stays queued). */
  onError?: (error: unknown, info: { rows: number; attempt: number; retryInMs: number }) => void;
}

export interface DrainRecord {
  lsn: number;
  at: number;
  rows: SpanRow[];
}

const READ_BYTES = 8 * 1024 * 1024;

export class Drainer {
  private readonly o: Required<Omit<DrainerOptions, 'onError'>> & Pick<DrainerOptions, 'onError'>;
  private readonly writer: SpanWriter;
  private readonly wal: WriteAheadLog<SpanRow[]> | undefined;
  private mem: DrainRecord[] = [];
  private memRowsHeld = 0;
  /** Rows of the batch being inserted (held in memory until the store has them). */
  private inflightRows = 0;
  /** First lsn held only on disk (undefined: everything is in memory). */
  private spillFrom: number | undefined;
  /** Highest lsn read back from the log: a push at or below it is already on its way. */
  private readLsn = 0;
  /** Highest lsn handed to `push`, and highest in the store. */
  private pushedLsn = 0;
  insertedLsn = 0;
  private running = false;
  private stopped = false;
  private flushing = 0;
  private wake: (() => void) | undefined;
  private waiters: Array<{ lsn: number; resolve: () => void }> = [];
  private pumpDone: Promise<void> = Promise.resolve();
  /** Rows inserted (handed to the writer successfully) since start. */
  insertedRows = 0;
  /** Failed insert attempts since start. */
  failedAttempts = 0;
  /** The last insert error, cleared by the next success. */
  lastError: unknown;
  /** Append time of the oldest record not yet in the store (0: none known). */
  private oldestAt = 0;

  constructor(writer: SpanWriter, wal: WriteAheadLog<SpanRow[]> | undefined, options: DrainerOptions = {}) {
    this.o = { maxBatchRows: 5000, maxBatchAgeMs: 200, maxMemoryRows: 200_000, retryInitialMs: 100, retryMaxMs: 5000, ...options };
    this.writer = writer;
    this.wal = wal;
    if (wal) {
      this.insertedLsn = wal.checkpointLsn;
      this.pushedLsn = wal.durableLsn;
      // What a previous process logged and did not see stored is read back first.
      if (wal.durableLsn > wal.checkpointLsn) this.spillFrom = wal.checkpointLsn + 1;
    }
  }

  /** Rows held in memory: waiting, or being inserted. */
  get memoryRows(): number {
    return this.memRowsHeld + this.inflightRows;
  }

  /** Records accepted and not yet in the store. */
  get backlogRecords(): number {
    return this.pushedLsn - this.insertedLsn;
  }

  /** Age of the oldest accepted record the store lacks, in ms. */
  oldestAgeMs(now = Date.now()): number {
    if (this.backlogRecords <= 0) return 0;
    const at = this.mem[0]?.at && this.spillFrom === undefined ? this.mem[0].at : this.oldestAt;
    return at ? Math.max(0, now - at) : (this.wal?.oldestAgeMs(now) ?? 0);
  }

  /** False while inserts are failing. */
  get healthy(): boolean {
    return this.lastError === undefined;
  }

  /** Without a log: whether `rows` more fit in memory. */
  fits(rows: number): boolean {
    return this.memoryRows + rows <= this.o.maxMemoryRows;
  }

  /** A durable record (or, without a log, an accepted one), in lsn order. */
  push(rec: DrainRecord): void {
    if (this.stopped) throw new Error('drainer is stopped');
    this.pushedLsn = Math.max(this.pushedLsn, rec.lsn);
    // The drainer may have read it from the log (and caught up) before the append's caller got here.
    if (rec.lsn <= this.readLsn) return;
    if (this.wal && (this.spillFrom !== undefined || !this.fits(rec.rows.length))) {
      this.spillFrom ??= rec.lsn;
    } else {
      this.mem.push(rec);
      this.memRowsHeld += rec.rows.length;
    }
    this.kick();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.pumpDone = this.pump().finally(() => {
      this.running = false;
    });
  }

  /** Resolves when every record pushed before the call is in the store. */
  flush(): Promise<void> {
    const lsn = this.pushedLsn;
    if (this.insertedLsn >= lsn) return Promise.resolve();
    this.flushing++;
    this.kick();
    return new Promise<void>((resolve) => this.waiters.push({ lsn, resolve })).finally(() => {
      this.flushing--;
    });
  }

  /** Flushes for up to `timeoutMs`, then stops (what is left stays in the log). Returns the records left. */
  async stop(timeoutMs: number): Promise<number> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.flush(),
      new Promise<void>((r) => {
        timer = setTimeout(r, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    this.stopped = true;
    this.kick();
    // The batch in flight settles (a store call is not abortable); bounded by the store's own timeout.
    await Promise.race([
      this.pumpDone,
      new Promise<void>((r) => {
        timer = setTimeout(r, Math.max(1000, timeoutMs));
      }),
    ]);
    clearTimeout(timer);
    return this.backlogRecords;
  }

  private kick(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  private async nextBatch(): Promise<DrainRecord[] | undefined> {
    if (this.mem.length) {
      const first = this.mem[0]!;
      const wait = first.at + this.o.maxBatchAgeMs - Date.now();
      if (this.memRowsHeld < this.o.maxBatchRows && !this.flushing && wait > 0) {
        await this.sleep(wait);
        return undefined;
      }
      const batch: DrainRecord[] = [];
      let rows = 0;
      while (this.mem.length && (rows === 0 || rows + this.mem[0]!.rows.length <= this.o.maxBatchRows)) {
        const r = this.mem.shift()!;
        rows += r.rows.length;
        batch.push(r);
      }
      this.memRowsHeld -= rows;
      return batch;
    }
    if (this.spillFrom !== undefined && this.wal) {
      // A gapless run from spillFrom (write-ahead-log.ts): a batch never skips a record.
      const recs = await this.wal.read(this.spillFrom, READ_BYTES);
      const batch = recs.map((r) => ({ lsn: r.lsn, at: r.at, rows: r.value }));
      if (batch.length) {
        this.spillFrom = batch.at(-1)!.lsn + 1;
        this.readLsn = batch.at(-1)!.lsn;
        this.oldestAt = batch[0]!.at;
      }
      // Caught up with the log: records pushed from now on are held in memory again.
      if (this.spillFrom > this.wal.durableLsn) this.spillFrom = undefined;
      if (batch.length) return batch;
      // The log's last bytes were read just before they landed: read again shortly.
      if (this.spillFrom !== undefined) await this.sleep(5);
      return undefined;
    }
    await this.sleep(60_000);
    return undefined;
  }

  private async pump(): Promise<void> {
    while (!this.stopped) {
      const batch = await this.nextBatch();
      if (!batch) continue;
      const rows = batch.length === 1 ? batch[0]!.rows : batch.flatMap((r) => r.rows);
      this.inflightRows = rows.length;
      for (let attempt = 1; ; attempt++) {
        try {
          await this.writer.write(rows);
          this.lastError = undefined;
          break;
        } catch (e) {
          // Anything but a row's fault (handled by the writer) is retried: the rows are in the log.
          this.failedAttempts++;
          this.lastError = e;
          const retryInMs = Math.min(this.o.retryMaxMs, this.o.retryInitialMs * 2 ** Math.min(attempt - 1, 20));
          this.o.onError?.(e, { rows: rows.length, attempt, retryInMs });
          if (this.stopped) return;
          await this.sleep(retryInMs);
          if (this.stopped) return;
        }
      }
      const last = batch.at(-1)!.lsn;
      this.inflightRows = 0;
      this.insertedLsn = last;
      this.insertedRows += rows.length;
      this.oldestAt = this.mem[0]?.at ?? 0;
      if (this.wal) await this.wal.checkpoint(last);
      const done = this.waiters.filter((w) => w.lsn <= last);
      if (done.length) {
        this.waiters = this.waiters.filter((w) => w.lsn > last);
        for (const w of done) w.resolve();
      }
    }
  }
}
