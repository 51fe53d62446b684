// Proves the pieces under the durable path on a real chDB store: the write-ahead log (group commit,
// a torn tail cut at open, the disk budget, freed once stored); the exactly-once writer (a replay
// after more newer spans than the replay window holds changes nothing; a batch with a row the store
// refuses is bisected, the row dead-lettered, the rest inserted; one insert per day partition, so
// 120 days in one request go in); and span-to-row's limits (code-point truncation, money caps, a
// peer's $0 priced).
import { mkdtempSync, readFileSync, rmSync, appendFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pricer } from '@spendtrace/semconv';
import { createStore, migrate, requestToRows, SpanWriter, startServer, WalFullError, WriteAheadLog, type SpanRow, type Store } from '../src/index.ts';
import { goodBody } from './support/ledger-load.ts';
import { decodeJsonRequest } from '../src/otlp/decode-json.ts';
import { ServiceMetrics } from '../src/metrics.ts';

let dir: string;
let store: Store;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'spendtrace-durable-'));
  store = await createStore({ dataDir: join(dir, 'ch') });
});
afterAll(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('WriteAheadLog', () => {
  it('shares an fsync among concurrent appends, reads back in order, cuts a torn tail, refuses over budget and frees what is stored', async () => {
    const d = join(dir, 'wal-1');
    const wal = await WriteAheadLog.open<number[]>({ dir: d, maxBytes: 64 * 1024 });
    const lsns = await Promise.all(Array.from({ length: 50 }, (_, i) => wal.append([i])));
    expect(lsns).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(wal.syncs).toBeLessThan(50);
    await wal.close();
    // A crash mid-write: half a record at the end.
    const seg = readdirSync(d).find((n) => n.endsWith('.wal'))!;
    appendFileSync(join(d, seg), Buffer.from([200, 0, 0, 0, 1, 2, 3]));
    const again = await WriteAheadLog.open<number[]>({ dir: d, maxBytes: 64 * 1024 });
    expect(again.durableLsn).toBe(50);
    expect((await again.read(48, 1 << 20)).map((r) => r.value)).toEqual([[47], [48], [49]]);
    expect(await again.append([50])).toBe(51);
    await expect(again.append(Array.from({ length: 40_000 }, () => 1))).rejects.toBeInstanceOf(WalFullError);
    await again.checkpoint(51);
    expect(again.bytes).toBe(0);
    expect(readFileSync(join(d, 'checkpoint'), 'utf8').trim()).toBe('51');
    await again.close();
  });
});

describe('exactly-once writer', () => {
  it('a replay after more newer spans than the replay window holds, and after a restart, changes no rollup', async () => {
    const db = 'spendtrace_window';
    await migrate(store, { database: db });
    const start = () => startServer({ port: 0, store, database: db, log: () => {}, ingest: { seenWindow: 100, batch: { maxBatchAgeMs: 10 } } });
    let server = await start();
    const post = (text: string) => fetch(`${server.url}/v1/traces`, { method: 'POST', body: text, headers: { 'content-type': 'application/json' } });
    const first = goodBody(50);
    expect((await post(first.text)).status).toBe(200);
    const newer = Array.from({ length: 6 }, () => goodBody(50));
    for (const b of newer) expect((await post(b.text)).status).toBe(200);
    await server.flush();
    const totals = async () =>
      (
        await store.query(
          `SELECT (SELECT count() FROM ${db}.spans) n, (SELECT toString(sum(cost)) FROM ${db}.task_costs) c, (SELECT sum(calls) FROM ${db}.hourly_costs) h`,
        )
      )[0];
    const before = await totals();
    expect(
      server.ingester.seen.has(
        JSON.parse(first.text).resourceSpans[0].scopeSpans[0].spans[0].traceId + JSON.parse(first.text).resourceSpans[0].scopeSpans[0].spans[0].spanId,
      ),
    ).toBe(false);
    expect((await post(first.text)).status).toBe(200);
    await server.flush();
    expect(await totals()).toEqual(before);
    await server.close();
    server = await start();
    for (const b of [first, ...newer]) expect((await post(b.text)).status).toBe(200);
    await server.flush();
    expect(await totals()).toEqual(before);
    expect(before).toMatchObject({ n: '350', h: '350' });
    await server.close();
  });

  it('counts every span dropped as a duplicate in /metrics and /healthz: replay-window hits and rows the store already held, across a restart', async () => {
    const db = 'spendtrace_dedup_metrics';
    await migrate(store, { database: db });
    const metrics = new ServiceMetrics({ processMetrics: false });
    const start = () =>
      startServer({
        port: 0,
        store,
        database: db,
        log: () => {},
        metrics,
        ingest: { seenWindow: 100, batch: { maxBatchAgeMs: 10 }, onInsert: (i) => metrics.observeInsert(i) },
      });
    let server = await start();
    const post = async (b: { text: string }) =>
      expect((await fetch(`${server.url}/v1/traces`, { method: 'POST', body: b.text, headers: { 'content-type': 'application/json' } })).status).toBe(200);
    const [a, b, c] = [goodBody(50), goodBody(50), goodBody(50)];
    for (const x of [a, b, c]) await post(x);
    await post(c); // the window holds b and c: answered from it
    await post(a); // evicted from the window: the store's anti-join drops it
    await server.flush();
    const dedup = (h: Record<string, unknown>) => h.spansDeduplicated;
    expect(dedup(server.ingester.stats())).toBe(100);
    await server.close();
    server = await start();
    for (const x of [a, b, c]) await post(x); // a new window: all three reach the store, which has them
    await server.flush();
    expect(dedup(server.ingester.stats())).toBe(150);
    await server.close();
    const text = (await metrics.render()).body;
    const value = (series: string) => Number(new RegExp(`^${series.replace(/[{}"]/g, (ch) => `\\${ch}`)} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    expect(value('spendtrace_spans_deduplicated_total{protocol="http",stage="window"}')).toBe(50);
    expect(value('spendtrace_spans_deduplicated_total{stage="store"}')).toBe(200);
    expect(value('spendtrace_spans_inserted_total')).toBe(150);
    const [t] = await store.query<{ n: string }>(`SELECT count() n FROM ${db}.spans`);
    expect(t!.n).toBe('150');
  });

  it('a row the store refuses is bisected out to the dead-letter file; the rest of its batch, 120 days of it, goes in', async () => {
    const db = 'spendtrace_poison';
    await migrate(store, { database: db });
    const day = 86_400_000;
    const rows: SpanRow[] = Array.from(
      { length: 120 },
      (_, i) => requestToRows(decodeJsonRequest(Buffer.from(goodBody(1, i * day).text)), new Pricer()).rows[0]!,
    );
    const bad = { ...rows[7]!, span_id: 'badbadbadbadbad1', start_time: rows[7]!.start_time, input_tokens: 'not a number' as unknown as number };
    const dead = join(dir, 'dead');
    const writer = new SpanWriter({ store, database: db, deadLetterDir: dead, writerId: 'poison' });
    await writer.write([...rows, bad]);
    await writer.write([...rows, bad]); // a replay of all of it: nothing new, the bad row refused again
    const [t] = await store.query<{ n: string; d: string }>(`SELECT count() n, uniqExact(toDate(start_time)) d FROM ${db}.spans`);
    expect(t).toEqual({ n: '120', d: '120' });
    expect(writer.deadLettered).toBe(2);
    const lines = readFileSync(join(dead, 'dead-letter.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { row: SpanRow; reason: string });
    expect(lines[0]!.row.span_id).toBe('badbadbadbadbad1');
    expect(lines[0]!.reason).toMatch(/input_tokens|parse/i);
  });
});

describe('span-to-row limits', () => {
  const span = (attrs: Record<string, unknown>, name = 'chat') => ({
    resourceSpans: [
      {
        resource: {
          attributes: [
            { key: 'service.name', value: { stringValue: 's' } },
            { key: 'big', value: { stringValue: 'r'.repeat(1_000_000) } },
          ],
        },
        scopeSpans: [
          {
            spans: [
              {
                traceId: 'ab'.repeat(16),
                spanId: 'cd'.repeat(8),
                name,
                startTimeUnixNano: '1750000000000000000',
                endTimeUnixNano: '1750000001000000000',
                attributes: Object.entries(attrs).map(([key, v]) => ({ key, value: typeof v === 'number' ? { doubleValue: v } : { stringValue: v } })),
              },
            ],
          },
        ],
      },
    ],
  });
  const rowOf = (req: object) => requestToRows(decodeJsonRequest(Buffer.from(JSON.stringify(req))), new Pricer());
  const chat = { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o-mini' };

  it('cuts on a code point: an emoji across the limit goes whole, a lone surrogate becomes U+FFFD; a resource is kept small', () => {
    const r = rowOf(span({ ...chat, note: `${'a'.repeat(16_383)}😀tail`, lone: 'x\ud800y' }, `${'n'.repeat(511)}😀`));
    const row = r.rows[0]!;
    expect(row.span_name).toBe('n'.repeat(511));
    expect(row.attributes.note!.startsWith(`${'a'.repeat(16_383)}…`)).toBe(true);
    expect(row.attributes.lone).toBe('x\ufffdy');
    expect(JSON.stringify(row.resource_attributes).length).toBeLessThan(20_000);
  });

  it("token counts above 20M and costs above $5,000 for one call never reach the rollups; a peer's $0 with tokens is priced", () => {
    const huge = rowOf(span({ ...chat, 'gen_ai.usage.input_tokens': 1e10, 'gen_ai.usage.output_tokens': 10, 'gen_ai.usage.cost': 7_500_000 }));
    expect(huge.rows[0]).toMatchObject({ input_tokens: 0, output_tokens: 10 });
    expect(Number(huge.rows[0]!.cost)).toBeLessThan(1);
    expect(huge.clamped).toBe(1);
    expect(huge.messages.join(' ')).toMatch(/not a token count/);
    const o1 = rowOf(
      span({
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': 'o1-pro',
        'gen_ai.usage.input_tokens': 19_000_000,
        'gen_ai.usage.output_tokens': 19_000_000,
      }),
    );
    expect(o1.rows[0]).toMatchObject({ unpriced: 1, cost: '0.000000000000' });
    const peer = rowOf(span({ ...chat, 'gen_ai.usage.input_tokens': 1000, 'gen_ai.usage.output_tokens': 100, 'gen_ai.usage.cost': 0 }));
    expect(peer.rows[0]).toMatchObject({ cost_source: 'exporter', unpriced: 0 });
    expect(Number(peer.rows[0]!.cost)).toBeGreaterThan(0);
    const provider = rowOf(
      span({ ...chat, 'gen_ai.usage.input_tokens': 1000, 'gen_ai.usage.output_tokens': 100, 'gen_ai.usage.cost': 0, 'gen_ai.usage.cost.source': 'provider' }),
    );
    expect(provider.rows[0]).toMatchObject({ cost: '0.000000000000', cost_source: 'provider' });
  });
});
