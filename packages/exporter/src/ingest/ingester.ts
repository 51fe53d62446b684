/**
 * From a decoded request to rows on their way into the store: rows (request-to-rows), the replay
 * shortcut (SeenWindow), the write-ahead log (durable before `ingest` resolves), then the drainer
 * that inserts them exactly once (span-writer.ts). Both receivers (OTLP/HTTP, OTLP/gRPC) call
 * `ingest` and answer OK only once its promise resolves: a 2xx means on disk.
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type { Pricer } from '@spendtrace/semconv';
import type { TraceRequest } from '../otlp/span.ts';
import type { Store } from '../store/store.ts';
import { Drainer, type DrainerOptions } from './drainer.ts';
import { requestToRows } from './request-to-rows.ts';
import { SeenWindow } from './seen-window.ts';
import type { SpanRow } from './span-row.ts';
import { SpanWriter, type SpanWriterOptions } from './span-writer.ts';
import { WalFullError, WriteAheadLog } from './write-ahead-log.ts';
import { DEFAULT_DATABASE } from '../database-name.ts';

export interface IngesterOptions {
  store: Store;
  pricer: Pricer;
  /** @default 'spendtrace' */
  database?: string;
  /**
   * Span ids remembered to answer immediate replays without logging them. Only a shortcut (the
   * store's exactly-once insert is the guarantee), so small: ~15 MB at 100k. @default 100_000
   */
  seenWindow?: number;
  /**
   * The write-ahead log. Without it (undefined) an acknowledgement means "in memory", as for
   * in-process tests and the benchmark's log-off variant; the service always gives one.
   */
  wal?: { dir: string; maxBytes?: number; segmentBytes?: number };
  /** Dead-letter file directory (rows the store refuses). @default the log's directory */
  deadLetterDir?: string;
  /** Names this instance's staging table (one writer per staging table). @default host name + a hash of the log's directory */
  writerId?: string;
  /** Creates the schema before the first insert; retried with inserts while the store is down. */
  ensureSchema?: () => Promise<void>;
  /** Told about every batch insert (self-metrics). */
  onInsert?: SpanWriterOptions['onInsert'];
  batch?: DrainerOptions;
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

/** Nothing from the request was taken; the sender should retry later (HTTP 503/429, gRPC UNAVAILABLE/RESOURCE_EXHAUSTED). */
export class BackpressureError extends Error {
  readonly code = 'SPENDTRACE_BACKPRESSURE' as const;
  /** True when the store is failing or the log is at its budget (503 / UNAVAILABLE), false when merely busy (429). */
  readonly storeDown: boolean;
  readonly retryAfterSeconds: number;
  constructor(storeDown: boolean, retryAfterSeconds: number, message: string) {
    super(message);
    this.storeDown = storeDown;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** The service is stopping: the receiver answers 503 so the sender retries elsewhere or later. */
export class IngesterClosedError extends BackpressureError {}

export class Ingester {
  readonly seen: SeenWindow;
  readonly writer: SpanWriter;
  private drainer: Drainer | undefined;
  private wal: WriteAheadLog<SpanRow[]> | undefined;
  private readonly o: IngesterOptions;
  private readonly pricer: Pricer;
  private nextLsn = 1;
  private closed = false;
  /** Spans taken (logged), answered as duplicates by the window, refused for backpressure. */
  spansAccepted = 0;
  spansDuplicate = 0;
  spansRefused = 0;

  constructor(o: IngesterOptions) {
    this.o = o;
    this.pricer = o.pricer;
    this.seen = new SeenWindow(o.seenWindow ?? 100_000);
    this.writer = new SpanWriter({
      store: o.store,
      database: o.database ?? DEFAULT_DATABASE,
      ...((o.deadLetterDir ?? o.wal?.dir) ? { deadLetterDir: o.deadLetterDir ?? o.wal!.dir } : {}),
      // One writer per staging table: two services on one host (and one ClickHouse) differ by their log.
      ...((o.writerId ?? o.wal)
        ? { writerId: o.writerId ?? `${hostname()}_${createHash('sha256').update(resolve(o.wal!.dir)).digest('hex').slice(0, 8)}` }
        : {}),
      ...(o.ensureSchema ? { ensureSchema: o.ensureSchema } : {}),
      ...(o.onInsert ? { onInsert: o.onInsert } : {}),
    });
  }

  /** Opens the log and starts draining what it holds (never waits for the store). Returns the records found unstored. */
  async start(): Promise<number> {
    if (this.o.wal) this.wal = await WriteAheadLog.open<SpanRow[]>(this.o.wal);
    this.drainer = new Drainer(this.writer, this.wal, this.o.batch);
    this.drainer.start();
    return this.drainer.backlogRecords;
  }

  private get d(): Drainer {
    if (!this.drainer) throw new Error('Ingester.start() was not called');
    return this.drainer;
  }

  /** Resolves once the request's new spans are durable (in the log), with the partial-success details. */
  async ingest(req: TraceRequest): Promise<IngestResult> {
    const d = this.d;
    if (this.closed) throw new IngesterClosedError(true, 1, 'the service is stopping');
    const r = requestToRows(req, this.pricer);
    const fresh = r.rows.filter((row) => !this.seen.has(SeenWindow.key(row.trace_id, row.span_id)));
    const result = { accepted: fresh.length, duplicates: r.rows.length - fresh.length, rejected: r.rejected, clamped: r.clamped, messages: r.messages };
    this.spansDuplicate += result.duplicates;
    if (!fresh.length) return result;
    let lsn: number;
    let at = Date.now();
    if (this.wal) {
      try {
        lsn = await this.wal.append(fresh);
      } catch (e) {
        this.spansRefused += fresh.length;
        if (e instanceof WalFullError) throw new BackpressureError(true, 5, e.message);
        throw e;
      }
      at = Date.now();
    } else {
      if (!d.fits(fresh.length)) {
        this.spansRefused += fresh.length;
        const down = !d.healthy;
        throw new BackpressureError(down, down ? 5 : 1, `${down ? 'store unavailable' : 'busy'}; ${d.memoryRows} spans waiting to be inserted`);
      }
      lsn = this.nextLsn++;
    }
    for (const row of fresh) this.seen.add(SeenWindow.key(row.trace_id, row.span_id));
    this.spansAccepted += fresh.length;
    d.push({ lsn, at, rows: fresh });
    return result;
  }

  /** Resolves when every span accepted so far is in the store. */
  flush(): Promise<void> {
    return this.d.flush();
  }

  /** Refuses new requests, flushes for up to `timeoutMs`, leaves the rest in the log. Returns the records left. */
  async close(timeoutMs = 10_000): Promise<number> {
    this.closed = true;
    if (!this.drainer) return 0;
    const left = await this.drainer.stop(timeoutMs);
    await this.wal?.close();
    return left;
  }

  /** What /healthz and /metrics show. */
  stats() {
    const d = this.drainer;
    const w = this.writer;
    return {
      storeHealthy: d?.healthy ?? true,
      lastError: d?.lastError === undefined ? undefined : String((d.lastError as Error)?.message ?? d.lastError),
      spansAccepted: this.spansAccepted,
      // Every span dropped as a duplicate: replay-window hits and rows the store already held.
      spansDeduplicated: this.spansDuplicate + w.duplicates,
      spansRefused: this.spansRefused,
      spansInserted: d?.insertedRows ?? 0,
      spansDeadLettered: w.deadLettered,
      insertFailures: d?.failedAttempts ?? 0,
      inserts: w.inserts,
      insertSecondsTotal: w.insertMs / 1000,
      lastInsertMs: w.lastInsertMs,
      memoryRows: d?.memoryRows ?? 0,
      backlogRecords: d?.backlogRecords ?? 0,
      log: this.wal
        ? {
            enabled: true,
            bytes: this.wal.bytes,
            maxBytes: this.wal.maxBytes,
            oldestAgeMs: d?.oldestAgeMs() ?? 0,
            syncs: this.wal.syncs,
            syncedRecords: this.wal.syncedRecords,
          }
        : { enabled: false, bytes: 0, maxBytes: 0, oldestAgeMs: d?.oldestAgeMs() ?? 0, syncs: 0, syncedRecords: 0 },
    };
  }
}
