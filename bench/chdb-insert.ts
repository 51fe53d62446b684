/**
 * chDB's insert paths and formats for the same rows, on spendtrace's schema (spans and both
 * materialized views), one variant per process with its own data directory, driven block by block
 * by harness.ts `runInterleaved`.
 *
 * The rows are the engine's own: `prepareFloorPayloads` (run once, in its own process) writes the
 * ingest mix into a store the way the service does (Store.insert, 5,000-row batches, dedup tokens),
 * then SELECTs them back `FORMAT x`, batch by batch, into payload files. Each variant then opens a
 * fresh store with the same DDL and inserts those payloads:
 *   store@N             the project's Store.insert of the SpanRow objects (JSONEachRow built in JS), N rows per insert
 *   <format>@N          the engine's payloads as one Buffer per insert: session.insert({ values, format })
 *                       (chdb 3.4's raw path takes the text formats JSONEachRow, JSONCompactEachRow, CSV, TSV)
 *   <binary format>@N   RowBinary, Native, ArrowStream, Parquet: chdb 3.4 has no Buffer path for them, so the
 *                       payload is written to a tmpfs file and inserted with INSERT ... FROM INFILE (write included)
 *   ...:mv=none|task|hourly  the same with both / the hourly / the task materialized view dropped, keeping only
 *                       what the suffix names ("none" keeps neither): the views' cost
 * Every insert carries its own insert_deduplication_token, as the service's do. Each block inserts
 * BLOCK_ROWS rows; after it (untimed) the rows in spans are counted.
 *
 * The reusable part for an end-to-end figure: `exportFloorPayloads` on the data directory the
 * service wrote (closed), then `floorInsert` of those payloads into a fresh store in another process.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Session } from 'chdb';
import { Pricer } from '@spendtrace/semconv';
import { createStore, decodeProtobufRequest, migrate, requestToRows, type SpanRow, type Store } from '@spendtrace/exporter';
import { arg, cpuMicros, serveBlocks, type Sample } from './harness.ts';
import { readRequests } from './otlp-requests.ts';

const DB = 'spendtrace';
export const BLOCK_ROWS = 100_000;
export const BATCHES = [5_000, 25_000, 100_000] as const;
export const TEXT_FORMATS = ['JSONEachRow', 'JSONCompactEachRow', 'CSV', 'TSV'] as const;
export const BINARY_FORMATS = ['RowBinary', 'Native', 'ArrowStream', 'Parquet'] as const;
export type FloorFormat = (typeof TEXT_FORMATS)[number] | (typeof BINARY_FORMATS)[number];
const ORDER = 'service_name, task_id, start_time, span_id';

/** Exact decimals and 64-bit integers round-trip through the text formats. */
const SESSION_ARGS = ['--output_format_json_quote_decimals=1', '--output_format_json_quote_64bit_integers=1', '--output_format_decimal_trailing_zeros=1'];

/** migrate() needs only `command`; this runs it on a bare session. */
function commandStore(s: Session): Store {
  return {
    command: async (sql: string) => {
      await s.queryAsync(sql, { format: 'Null' });
    },
  } as unknown as Store;
}

/** SpanRows of the ingest mix, from a request file made by otlp-requests.ts. */
export function rowsFromRequests(file: string, count: number): SpanRow[] {
  const pricer = new Pricer();
  const rows: SpanRow[] = [];
  for (const b of readRequests(file)) {
    rows.push(...requestToRows(decodeProtobufRequest(b), pricer).rows);
    if (rows.length >= count) break;
  }
  if (rows.length < count) throw new Error(`request file holds ${rows.length} spans, ${count} needed`);
  return rows.slice(0, count);
}

/**
 * Writes `rows` into a new store as the service does, then exports them with exportFloorPayloads.
 * Needs a process of its own (one chDB data directory per process).
 */
export async function prepareFloorPayloads(rows: SpanRow[], dir: string, formats: readonly FloorFormat[], batches: readonly number[]): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'spendtrace-floor-src-'));
  try {
    const store = await createStore({ dataDir });
    await migrate(store, { database: DB });
    for (let i = 0; i < rows.length; i += 5000) await store.insert(`${DB}.spans`, rows.slice(i, i + 5000), { dedupToken: `floor-src-${i}` });
    await store.close();
    await exportFloorPayloads(dataDir, dir, formats, batches, rows.length);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * SELECTs the first `count` rows of `spans` in a closed store's data directory (e.g. the one a
 * service benchmark just wrote) back out in every format, `batch` rows per payload file:
 * `<dir>/<format>@<batch>/<i>.bin`, ready for floorInsert in a fresh process.
 */
export async function exportFloorPayloads(
  dataDir: string,
  dir: string,
  formats: readonly FloorFormat[],
  batches: readonly number[],
  count: number,
): Promise<void> {
  const s = new Session(dataDir, { connectionArgs: SESSION_ARGS });
  try {
    for (const format of formats) {
      for (const batch of batches) {
        const out = join(dir, `${format}@${batch}`);
        mkdirSync(out, { recursive: true });
        for (let i = 0; i * batch < count; i++) {
          const r = await s.queryAsync(
            `SELECT * FROM ${DB}.spans ORDER BY ${ORDER} LIMIT ${Math.min(batch, count - i * batch)} OFFSET ${i * batch} FORMAT ${format}`,
            { format },
          );
          writeFileSync(join(out, `${i}.bin`), r.bytes());
        }
      }
    }
  } finally {
    s.close();
  }
}

/**
 * Inserts each payload (one insert per payload, its own dedup token) into `table` on a fresh
 * store's session; binary formats go through a tmpfs file and FROM INFILE, as chdb 3.4 has no
 * Buffer path for them. Returns the wall time taken.
 */
export async function floorInsert(s: Session, table: string, format: FloorFormat, payloads: Buffer[], tokenPrefix: string): Promise<{ ms: number }> {
  const binary = (BINARY_FORMATS as readonly string[]).includes(format);
  const file = join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), `spendtrace-floor-${process.pid}.bin`);
  const t0 = performance.now();
  try {
    for (let i = 0; i < payloads.length; i++) {
      const token = `${tokenPrefix}-${i}`;
      if (binary) {
        writeFileSync(file, payloads[i]!);
        await s.queryAsync(
          `INSERT INTO ${table} FROM INFILE '${file}' SETTINGS insert_deduplication_token = '${token}', deduplicate_blocks_in_dependent_materialized_views = 1 FORMAT ${format}`,
          { format: 'Null' },
        );
      } else {
        await s.insert({
          table,
          values: payloads[i]!,
          format: format as (typeof TEXT_FORMATS)[number],
          settings: { insert_deduplication_token: token, deduplicate_blocks_in_dependent_materialized_views: 1 },
        });
      }
    }
  } finally {
    if (binary) rmSync(file, { force: true });
  }
  return { ms: performance.now() - t0 };
}

function loadPayloads(dir: string, format: string, batch: number): Buffer[] {
  const d = join(dir, `${format}@${batch}`);
  const files = readdirSync(d).sort((a, b) => parseInt(a, 10) - parseInt(b, 10));
  const out = files.map((f) => readFileSync(join(d, f)));
  const need = BLOCK_ROWS / batch;
  if (out.length < need) throw new Error(`${d}: ${out.length} payloads, ${need} needed`);
  return out.slice(0, need);
}

async function variantMain(): Promise<void> {
  const variant = arg('variant');
  const m = /^([A-Za-z]+)@(\d+)(?::mv=(none|task|hourly))?$/.exec(variant);
  if (!m) throw new Error(`bad variant ${variant}`);
  const [, format, batchText, keep] = m;
  const batch = Number(batchText);
  const dataDir = mkdtempSync(join(tmpdir(), 'spendtrace-floor-'));
  process.on('exit', () => rmSync(dataDir, { recursive: true, force: true }));
  let blockNo = 0;
  let inserted = 0;

  await serveBlocks(async () => {
    if (format === 'store') {
      const rows = rowsFromRequests(arg('requests'), BLOCK_ROWS);
      const store = await createStore({ dataDir });
      await migrate(store, { database: DB });
      const insertAll = async () => {
        const b = blockNo++;
        for (let i = 0; i < rows.length; i += batch) await store.insert(`${DB}.spans`, rows.slice(i, i + batch), { dedupToken: `floor-${b}-${i}` });
      };
      const count = async () => Number((await store.query<{ n: string }>(`SELECT count() AS n FROM ${DB}.spans`))[0]!.n);
      await insertAll();
      inserted += rows.length;
      return { block: () => timed(insertAll, count, rows.length) };
    }
    const payloads = loadPayloads(arg('payloads'), format!, batch);
    const s = new Session(dataDir, { connectionArgs: SESSION_ARGS });
    await migrate(commandStore(s), { database: DB });
    if (keep) {
      if (keep !== 'task') await s.queryAsync(`DROP VIEW ${DB}.task_costs_mv`, { format: 'Null' });
      if (keep !== 'hourly') await s.queryAsync(`DROP VIEW ${DB}.hourly_costs_mv`, { format: 'Null' });
    }
    const insertAll = async () => {
      await floorInsert(s, `${DB}.spans`, format as FloorFormat, payloads, `floor-${blockNo++}`);
    };
    const count = async () => Number((await s.queryAsync(`SELECT count() FROM ${DB}.spans`, { format: 'TSV' })).text().trim());
    await insertAll(); // warm-up
    inserted += BLOCK_ROWS;
    return { block: () => timed(insertAll, count, BLOCK_ROWS) };
  });

  async function timed(run: () => Promise<void>, count: () => Promise<number>, rows: number): Promise<Sample> {
    const cpu0 = cpuMicros();
    const t0 = performance.now();
    await run();
    const ms = performance.now() - t0;
    const cpu = cpuMicros() - cpu0;
    inserted += rows;
    const n = await count();
    if (n !== inserted) throw new Error(`row check failed: ${n} rows in spans, ${inserted} inserted`);
    return { rows, ms, rowsPerSec: (rows / ms) * 1000, cpuUsPerRow: cpu / rows };
  }
}

async function prepareMain(): Promise<void> {
  const rows = rowsFromRequests(arg('requests'), BLOCK_ROWS);
  await prepareFloorPayloads(rows, arg('payloads'), [...TEXT_FORMATS, ...BINARY_FORMATS], BATCHES);
  process.stdout.write('{"prepared":1}\n');
}

if (process.argv[1]?.endsWith('chdb-insert.ts')) {
  if (process.argv.includes('--prepare')) await prepareMain();
  else await variantMain();
}
