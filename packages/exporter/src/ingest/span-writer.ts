/**
 * Inserts span rows exactly once, whatever was inserted before: a replay a week later, a batch
 * retried after a crash, the log replayed at start. The guarantee lives in ClickHouse, so it holds
 * across restarts and needs no index of its own: each batch goes into a staging table, then only
 * the rows `spans` lacks go on to a pending table,
 *
 *   INSERT INTO pending SELECT * FROM staging
 *   WHERE (trace_id, span_id) NOT IN (SELECT trace_id, span_id FROM spans
 *                                     WHERE (service_name, task_id, start_time, span_id) IN (SELECT … FROM staging))
 *   LIMIT 1 BY trace_id, span_id
 *
 * and from there into spans under an insert_deduplication_token made from the pending rows. The
 * two steps matter: an INSERT into spans writes spans and each rollup as separate parts, so a
 * kill -9 between them left spans holding rows a rollup lacked, which the anti-join then skipped
 * forever (the first fault harness run: 600 spans in spans, missing from task_costs). A pending
 * batch is finished first after any start or failure, with the same token: ClickHouse skips the
 * tables that have the block and fills the ones that don't.
 *
 * The inner lookup is by the table's whole sorting key, so ClickHouse reads only the granules that
 * could hold the batch's spans (an insert touches at most MAX_PARTITIONS_PER_INSERT day partitions). The
 * materialized views fire on the copy, so they see only new rows. One writer per staging table,
 * serialized (this class runs one batch at a time): two writers racing could both find a span
 * missing. A replay is the same span (same ids, same start time), which is what the key matches.
 *
 * A batch the store refuses for its content (a ClickHouse error code while the store answers
 * pings) is bisected until the refused rows are alone; those go to a dead-letter file, counted,
 * and the rest are inserted. A store that is down is not a row's fault: the batch waits and retries.
 */
import { appendFile, mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderSql } from '../schema/render.ts';
import { StoreError, type Store } from '../store/store.ts';
import { SPAN_COLUMNS, type SpanRow } from './span-row.ts';

export interface SpanWriterOptions {
  store: Store;
  database: string;
  /** Where refused rows are written (JSON lines); undefined keeps them only counted in memory. */
  deadLetterDir?: string;
  /** Names this writer's staging table. @default from the host name */
  writerId?: string;
  /** Creates the schema before the first insert (retried with the insert while the store is down). */
  ensureSchema?: () => Promise<void>;
  /** Told about every batch insert: its time, whether it succeeded, and the new rows it stored (self-metrics). */
  onInsert?: (i: InsertInfo) => void;
}

export interface InsertInfo {
  ms: number;
  ok: boolean;
  /** Rows new to `spans` (replays already stored are not counted); 0 when it failed. */
  rows: number;
  /** Rows dropped as already in `spans` (or twice in the batch); 0 when it failed. */
  duplicates: number;
}

/** The store is unreachable (or failing for reasons that are not the rows'): retry later. */
export class StoreUnavailableError extends Error {
  readonly code = 'SPENDTRACE_STORE_UNAVAILABLE' as const;
}

const DAY_SECONDS = 86_400n;
/**
 * Day partitions per insert: well under ClickHouse's max_partitions_per_insert_block (100 by
 * default), which refused a request spanning 100+ days and, with it, every batch behind it.
 */
export const MAX_PARTITIONS_PER_INSERT = 50;

export class SpanWriter {
  private readonly o: SpanWriterOptions;
  private readonly staging: string;
  private readonly pending: string;
  private ready = false;
  /** False after a start or a failure: a batch may sit in the pending table, half inserted. */
  private clean = false;
  /** Rows handed to `write` (including replays the store already had). */
  rowsWritten = 0;
  /**
   * Rows the store already held (a replay the replay window no longer remembered, the log read
   * back after a restart), or twice in one batch: dropped by the anti-join, never stored again.
   */
  duplicates = 0;
  /** Rows refused by the store, set aside in the dead-letter file. */
  deadLettered = 0;
  /** Batch inserts (one per day partition) and their total time, for insert latency. */
  inserts = 0;
  insertMs = 0;
  lastInsertMs = 0;
  /** The last refused row's reason. */
  lastDeadLetter: string | undefined;

  constructor(o: SpanWriterOptions) {
    this.o = o;
    const id = (o.writerId ?? hostname()).replace(/[^A-Za-z0-9_]/g, '_').slice(0, 60);
    this.staging = `spans_staging_${id}`;
    this.pending = `spans_pending_${id}`;
  }

  private async prepare(): Promise<void> {
    if (this.ready) return;
    await this.o.ensureSchema?.();
    const vars = { database: this.o.database, staging: this.staging, pending: this.pending };
    for (const file of ['spans-staging-table.sql', 'spans-pending-table.sql']) {
      const template = readFileSync(fileURLToPath(new URL(`../schema/${file}`, import.meta.url)), 'utf8');
      await this.o.store.command(renderSql(template, vars).trim());
    }
    this.ready = true;
  }

  /** Inserts rows that `spans` does not hold yet, one day partition at a time. Throws StoreUnavailableError to be retried. */
  async write(rows: SpanRow[]): Promise<void> {
    if (!rows.length) return;
    try {
      await this.prepare();
      if (!this.clean) {
        // A batch a crash or a failure left half inserted: its rows count as inserted now.
        const t0 = performance.now();
        const rows = await this.finishPending();
        if (rows) this.o.onInsert?.({ ms: performance.now() - t0, ok: true, rows, duplicates: 0 });
      }
    } catch (e) {
      throw unavailable(e);
    }
    for (const group of byPartitions(rows, MAX_PARTITIONS_PER_INSERT)) await this.writeGroup(group);
    this.rowsWritten += rows.length;
  }

  private async writeGroup(rows: SpanRow[]): Promise<void> {
    try {
      await this.insertOnce(rows);
      return;
    } catch (e) {
      if (!(await this.rowsAtFault(e))) throw unavailable(e);
      if (rows.length === 1) {
        await this.deadLetter(rows[0]!, e);
        return;
      }
    }
    const mid = rows.length >> 1;
    await this.writeGroup(rows.slice(0, mid));
    await this.writeGroup(rows.slice(mid));
  }

  private async insertOnce(rows: SpanRow[]): Promise<void> {
    const db = this.o.database;
    const t0 = performance.now();
    const st = this.o.store;
    let inserted = 0;
    try {
      await st.command(`TRUNCATE TABLE ${db}.${this.staging}`);
      await st.insertColumns(`${db}.${this.staging}`, SPAN_COLUMNS, rows, { settings: { async_insert: 0 } });
      // The batch's new rows (in spans by the whole sorting key: only the granules that could
      // hold them are read), once each.
      await st.command(
        `INSERT INTO ${db}.${this.pending} SELECT * FROM ${db}.${this.staging} ` +
          `WHERE (trace_id, span_id) NOT IN (SELECT trace_id, span_id FROM ${db}.spans ` +
          `WHERE (service_name, task_id, start_time, span_id) IN (SELECT service_name, task_id, start_time, span_id FROM ${db}.${this.staging})) ` +
          `LIMIT 1 BY trace_id, span_id SETTINGS insert_deduplicate = 0`,
      );
      inserted = await this.finishPending();
    } catch (e) {
      this.clean = false;
      this.o.onInsert?.({ ms: performance.now() - t0, ok: false, rows: 0, duplicates: 0 });
      throw e;
    }
    const ms = performance.now() - t0;
    // The pending table was empty before this batch (write() finished any leftover first).
    const duplicates = rows.length - inserted;
    this.duplicates += duplicates;
    this.o.onInsert?.({ ms, ok: true, rows: inserted, duplicates });
    this.inserts++;
    this.insertMs += ms;
    this.lastInsertMs = ms;
  }

  /**
   * Moves the pending rows into spans (and so the rollups) under a token derived from the rows
   * themselves, so a repeat after a crash carries the same token, then empties the table.
   */
  private async finishPending(): Promise<number> {
    const db = this.o.database;
    const st = this.o.store;
    const [h] = await st.query<{ n: string; x: string; s: string }>(
      `SELECT count() AS n, toString(groupBitXor(cityHash64(trace_id, span_id))) AS x, toString(sum(sipHash64(span_id, trace_id))) AS s FROM ${db}.${this.pending}`,
      undefined,
      { lane: 'write' },
    );
    if (h && h.n !== '0') {
      await st.command(
        `INSERT INTO ${db}.spans SETTINGS insert_deduplication_token = 'spendtrace-${h.n}-${h.x}-${h.s}', ` +
          `deduplicate_blocks_in_dependent_materialized_views = 1 SELECT * FROM ${db}.${this.pending}`,
      );
      await st.command(`TRUNCATE TABLE ${db}.${this.pending}`);
    }
    this.clean = true;
    return Number(h?.n ?? 0);
  }

  /** A refusal is the rows' fault when ClickHouse gave an error code and still answers. */
  private async rowsAtFault(e: unknown): Promise<boolean> {
    if (!(e instanceof StoreError) || e.clickhouseCode === undefined || e.code === 'SPENDTRACE_STORE_CONNECT' || e.code === 'SPENDTRACE_STORE_CLOSED')
      return false;
    try {
      await this.o.store.ping();
      return true;
    } catch {
      return false;
    }
  }

  private async deadLetter(row: SpanRow, e: unknown): Promise<void> {
    const reason = (e as Error)?.message ?? String(e);
    this.deadLettered++;
    this.lastDeadLetter = reason;
    if (!this.o.deadLetterDir) return;
    await mkdir(this.o.deadLetterDir, { recursive: true });
    // A refused row is still money: kept whole, with why, for an operator to fix and replay.
    await appendFile(join(this.o.deadLetterDir, 'dead-letter.jsonl'), JSON.stringify({ at: new Date().toISOString(), reason, row }) + '\n');
  }
}

function unavailable(e: unknown): StoreUnavailableError {
  return new StoreUnavailableError(`store unavailable: ${(e as Error)?.message ?? e}`, { cause: e });
}

/** Rows in groups that each touch at most `maxDays` day partitions (UTC day of the start time). */
export function byPartitions(rows: SpanRow[], maxDays: number): SpanRow[][] {
  const days = byDay(rows);
  if (days.length <= maxDays) return [rows];
  const out: SpanRow[][] = [];
  for (let i = 0; i < days.length; i += maxDays) out.push(days.slice(i, i + maxDays).flat());
  return out;
}

/** Rows grouped by the UTC day of their start time (the `spans` partition), in first-seen order. */
export function byDay(rows: SpanRow[]): SpanRow[][] {
  const days = new Map<bigint, SpanRow[]>();
  for (const r of rows) {
    const secs = BigInt(r.start_time.split('.')[0]!);
    const d = secs / DAY_SECONDS;
    let list = days.get(d);
    if (!list) days.set(d, (list = []));
    list.push(r);
  }
  return [...days.values()];
}
