/**
 * Collects rows into batches (by size or age) and inserts them one batch at a time, in order.
 * A failed insert is retried with backoff, with the same deduplication token, so a batch that
 * reached ClickHouse before the failure was reported is not counted twice. The buffer is bounded:
 * when it is full, `canAccept` says no and the receiver answers 429/503 so the sender retries;
 * rows already accepted are never dropped while the process lives.
 */
import { createHash } from 'node:crypto';
import type { Store } from '../store/store.ts';

export interface BatcherOptions<Row> {
  store: Store;
  /** Fully qualified table, e.g. spendtrace.spans. */
  table: string;
  /** Identity of a row (for the batch's deduplication token). */
  keyOf: (row: Row) => string;
  /** Rows per insert. @default 5000 */
  maxBatchRows?: number;
  /** A batch is sent at the latest this long after its first row arrived. @default 200 */
  maxBatchAgeMs?: number;
  /** Rows held (waiting or being retried) before `canAccept` refuses. @default 200_000 */
  maxBufferedRows?: number;
  /** First retry delay; doubles up to `retryMaxMs`. @default 100 */
  retryInitialMs?: number;
  /** @default 5000 */
  retryMaxMs?: number;
  /** Told about every failed insert attempt (the batch stays queued). */
  onError?: (error: unknown, info: { rows: number; attempt: number; retryInMs: number }) => void;
}

interface Batch<Row> {
  rows: Row[];
  token: string;
  attempts: number;
}

export class BatcherClosedError extends Error {
  readonly code = 'SPENDTRACE_BATCHER_CLOSED' as const;
}

export class Batcher<Row extends object> {
  private readonly o: Required<Omit<BatcherOptions<Row>, 'onError'>> & Pick<BatcherOptions<Row>, 'onError'>;
  private open: Row[] = [];
  private openTimer: NodeJS.Timeout | undefined;
  private readonly queue: Array<Batch<Row>> = [];
  private buffered = 0;
  private pumping = false;
  private closed = false;
  private idleWaiters: Array<() => void> = [];
  private sleepTimer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  /** Rows inserted since start. */
  insertedRows = 0;
  /** Failed insert attempts since start. */
  failedAttempts = 0;
  /** The last insert error, cleared by the next success. */
  lastError: unknown;

  constructor(options: BatcherOptions<Row>) {
    this.o = {
      maxBatchRows: 5000, maxBatchAgeMs: 200, maxBufferedRows: 200_000, retryInitialMs: 100, retryMaxMs: 5000,
      ...options,
    };
  }

  /** Rows accepted and not yet inserted. */
  get pendingRows(): number {
    return this.buffered;
  }

  /** False while inserts are failing (the store is down or refusing). */
  get healthy(): boolean {
    return this.lastError === undefined;
  }

  canAccept(rows: number): boolean {
    return !this.closed && this.buffered + rows <= this.o.maxBufferedRows;
  }

  /** Accepts rows; the caller checks `canAccept` first (this never refuses rows it was offered). */
  add(rows: Row[]): void {
    if (this.closed) throw new BatcherClosedError('batcher is closed');
    for (const row of rows) {
      this.open.push(row);
      this.buffered++;
      if (this.open.length >= this.o.maxBatchRows) this.seal();
    }
    if (this.open.length && !this.openTimer) {
      this.openTimer = setTimeout(() => this.seal(), this.o.maxBatchAgeMs);
      this.openTimer.unref();
    }
  }

  /** Resolves when every row added before the call is inserted. */
  flush(): Promise<void> {
    this.seal();
    if (!this.queue.length) return Promise.resolve();
    // Skip a pending backoff: a flush means someone is waiting now.
    this.wake?.();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Flushes, then refuses new rows. With a timeout, gives up waiting (a store that stays down)
   * and returns the number of rows left uninserted.
   */
  async close(timeoutMs = 10_000): Promise<number> {
    let timer: NodeJS.Timeout | undefined;
    const done = await Promise.race([
      this.flush().then(() => true),
      new Promise<boolean>((r) => { timer = setTimeout(() => r(false), timeoutMs); }),
    ]);
    clearTimeout(timer);
    this.closed = true;
    if (!done) {
      clearTimeout(this.sleepTimer);
      this.wake?.();
    }
    return this.buffered;
  }

  private seal(): void {
    clearTimeout(this.openTimer);
    this.openTimer = undefined;
    if (!this.open.length) return;
    const rows = this.open;
    this.open = [];
    const h = createHash('sha256');
    for (const r of rows) h.update(this.o.keyOf(r)).update('\n');
    this.queue.push({ rows, token: `spendtrace-${h.digest('hex')}`, attempts: 0 });
    void this.pump();
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.queue.length && !(this.closed && this.lastError !== undefined)) {
        const batch = this.queue[0]!;
        try {
          await this.o.store.insert(this.o.table, batch.rows, { dedupToken: batch.token });
        } catch (error) {
          batch.attempts++;
          this.failedAttempts++;
          this.lastError = error;
          const retryInMs = Math.min(this.o.retryMaxMs, this.o.retryInitialMs * 2 ** Math.min(batch.attempts - 1, 20));
          this.o.onError?.(error, { rows: batch.rows.length, attempt: batch.attempts, retryInMs });
          if (this.closed) break;
          await new Promise<void>((resolve) => {
            this.wake = resolve;
            this.sleepTimer = setTimeout(resolve, retryInMs);
          });
          this.wake = undefined;
          continue;
        }
        this.queue.shift();
        this.buffered -= batch.rows.length;
        this.insertedRows += batch.rows.length;
        this.lastError = undefined;
      }
    } finally {
      this.pumping = false;
      if (!this.queue.length) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const w of waiters) w();
      }
    }
  }
}
