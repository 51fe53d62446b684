/**
 * From a decoded request to rows on their way into the store: rows (request-to-rows), then the
 * replay filter (SeenWindow), then the bounded batcher. `ingest` answers synchronously whether the
 * spans were taken; it never waits for the store.
 */
import type { Pricer } from '@spendtrace/semconv';
import type { TraceRequest } from '../otlp/span.ts';
import type { Store } from '../store/store.ts';
import { Batcher, type BatcherOptions } from './batcher.ts';
import { requestToRows } from './request-to-rows.ts';
import { SeenWindow } from './seen-window.ts';
import type { SpanRow } from './span-row.ts';

export interface IngesterOptions {
  store: Store;
  pricer: Pricer;
  /** @default 'spendtrace' */
  database?: string;
  /** Span ids remembered against replays. @default 1_000_000 */
  seenWindow?: number;
  /** How far back `start()` preloads span ids from the store. @default 15 */
  preloadMinutes?: number;
  batch?: Omit<BatcherOptions<SpanRow>, 'store' | 'table' | 'keyOf'>;
}

export interface IngestResult {
  /** Rows taken (new spans). */
  accepted: number;
  /** Spans already seen: a replay, acknowledged but not stored again. */
  duplicates: number;
  rejected: number;
  clamped: number;
  messages: string[];
}

/** The buffer is full: nothing from the request was taken; the sender should retry later. */
export class BackpressureError extends Error {
  readonly code = 'SPENDTRACE_BACKPRESSURE' as const;
  /** True when the store is failing (503), false when merely busy (429). */
  readonly storeDown: boolean;
  readonly retryAfterSeconds: number;
  constructor(storeDown: boolean, retryAfterSeconds: number, pending: number) {
    super(storeDown ? `store unavailable; ${pending} spans waiting to be inserted` : `busy; ${pending} spans waiting to be inserted`);
    this.storeDown = storeDown;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export class Ingester {
  readonly batcher: Batcher<SpanRow>;
  readonly seen: SeenWindow;
  private readonly store: Store;
  private readonly pricer: Pricer;
  private readonly database: string;
  private readonly preloadMinutes: number;

  constructor(o: IngesterOptions) {
    this.store = o.store;
    this.pricer = o.pricer;
    this.database = o.database ?? 'spendtrace';
    this.preloadMinutes = o.preloadMinutes ?? 15;
    this.seen = new SeenWindow(o.seenWindow);
    this.batcher = new Batcher<SpanRow>({
      ...o.batch,
      store: o.store,
      table: `${this.database}.spans`,
      keyOf: (r) => SeenWindow.key(r.trace_id, r.span_id),
    });
  }

  /** Preloads recently stored span ids, so a replay that straddles a restart is still caught. Returns how many. */
  async start(): Promise<number> {
    const rows = await this.store.query<{ trace_id: string; span_id: string }>(
      `SELECT trace_id, span_id FROM ${this.database}.spans WHERE ingested_at >= now64(3) - toIntervalMinute({minutes:UInt32}) ORDER BY ingested_at LIMIT {limit:UInt64}`,
      { minutes: this.preloadMinutes, limit: this.seen.capacity },
    );
    for (const r of rows) this.seen.add(SeenWindow.key(r.trace_id, r.span_id));
    return rows.length;
  }

  ingest(req: TraceRequest): IngestResult {
    const r = requestToRows(req, this.pricer);
    const fresh = r.rows.filter((row) => !this.seen.has(SeenWindow.key(row.trace_id, row.span_id)));
    if (fresh.length && !this.batcher.canAccept(fresh.length)) {
      const down = !this.batcher.healthy;
      throw new BackpressureError(down, down ? 5 : 1, this.batcher.pendingRows);
    }
    for (const row of fresh) this.seen.add(SeenWindow.key(row.trace_id, row.span_id));
    this.batcher.add(fresh);
    return { accepted: fresh.length, duplicates: r.rows.length - fresh.length, rejected: r.rejected, clamped: r.clamped, messages: r.messages };
  }

  flush(): Promise<void> {
    return this.batcher.flush();
  }

  close(timeoutMs?: number): Promise<number> {
    return this.batcher.close(timeoutMs);
  }
}
