// The server path (ClickHouseStore -> @clickhouse/client -> HTTP -> ClickHouse) tested for real as far as this machine allows:
// no clickhouse-server can be installed here, so test/support/clickhouse-gateway.ts, in a child process on 127.0.0.1 with
// its own data directory, speaks ClickHouse's HTTP interface and runs every statement on a real ClickHouse engine (chDB).
//
// PROVES: the @clickhouse/client code path the store takes (URL params, settings, query parameters as `param_*`, JSONEachRow
// bodies, insert_deduplication_token + deduplicate_blocks_in_dependent_materialized_views passed as settings, exceptions
// parsed from `Code: N. DB::Exception` bodies, credentials in the URL, /ping, keep-alive, gzip both ways), the schema DDL
// and every SQL statement of store, ingester and reports on a real ClickHouse engine reached over HTTP, exact Decimal reads
// through the client's JSON, and the service end to end (real OTLP exporter -> startServer -> ClickHouseStore) exact and
// replay-safe, with the same reports as on chDB.
// DOES NOT PROVE: clickhouse-server's own HTTP handler (the gateway is ours, its behaviour a reading of the server's),
// server-side auth/RBAC/quotas (the gateway checks a password table), server defaults and profiles (settings defaults are the
// engine's, i.e. clickhouse-local's), multi-statement rejection (chDB runs `a; b`), ON CLUSTER / Replicated* engines / Keeper,
// TLS, and behaviour under real network faults. Use a real server (CLICKHOUSE_URL with store.test.ts) for those.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { formatPico, parsePico } from '@spendtrace/semconv';
import { ClickHouseStore, createStore, migrate, startServer, StoreError, type RunningServer, type Store } from '../src/index.ts';
import { fullReport } from '../src/reports/index.ts';
import { ClickHouseLogLevel, createClient } from '@clickhouse/client';
import { recorded, sendWith, startE2EServer, TASK_COST } from './support/one-task.ts';
import { describeStoreSuite } from './support/store-suite.ts';
import { startGatewayProcess, type GatewayProcess } from './support/gateway-process.ts';

let gw: GatewayProcess;
beforeAll(async () => {
  gw = await startGatewayProcess({ users: { default: '', spendtrace: 's3cr:et@' } });
});
afterAll(async () => {
  await gw?.stop();
});

// The shared Store contract suite, once more, over HTTP.
describeStoreSuite('clickhouse (HTTP gateway over chDB)', () => createStore({ clickhouseUrl: gw.url }));

describe('the gateway, through @clickhouse/client features the store does not use (yet)', () => {
  it('gzip both ways, sessions, multipart parameters, quoted and array parameters, GET is read-only', async () => {
    const c = createClient({ url: gw.url, compression: { request: true, response: true }, log: { level: ClickHouseLogLevel.OFF } });
    try {
      const params = { s: "it's\t\\x", a: ["q'x", 'b\\'], m: { k: "v'" } };
      const [row] = await (
        await c.query({ query: 'SELECT {s:String} AS s, {a:Array(String)} AS a, {m:Map(String, String)} AS m', query_params: params, format: 'JSONEachRow' })
      ).json();
      expect(row).toEqual(params);
      const ex = await c.exec({ query: 'SELECT number FROM system.numbers LIMIT 3 FORMAT JSONEachRow' });
      expect([ex.response_headers['content-encoding'], ex.response_headers['x-clickhouse-format']]).toEqual(['gzip', 'JSONEachRow']);
      ex.stream.destroy();
      await c.command({ query: 'CREATE TEMPORARY TABLE tmp (a UInt8)', session_id: 'gw-s1' });
      await c.command({ query: 'INSERT INTO tmp VALUES (7)', session_id: 'gw-s1' });
      expect(await (await c.query({ query: 'SELECT a FROM tmp', session_id: 'gw-s1', format: 'JSONEachRow' })).json()).toEqual([{ a: 7 }]);
      await expect(c.query({ query: 'SELECT a FROM tmp', format: 'JSONEachRow' })).rejects.toMatchObject({ type: 'UNKNOWN_TABLE' });
      await expect(c.command({ query: 'SELECT 1', clickhouse_settings: { no_such_setting: 1 } as never })).rejects.toMatchObject({
        code: '115',
        type: 'UNKNOWN_SETTING',
      });
      const mp = createClient({ url: gw.url, use_multipart_params: true, log: { level: ClickHouseLogLevel.OFF } });
      expect(await (await mp.query({ query: 'SELECT {v:String} AS v', query_params: { v: 'x'.repeat(10_000) }, format: 'JSONEachRow' })).json()).toEqual([
        { v: 'x'.repeat(10_000) },
      ]);
      await mp.close();
      const get = await fetch(`${gw.url}/?query=${encodeURIComponent('CREATE TABLE gw_ro (a UInt8) ENGINE = Memory')}`);
      expect([get.status, get.headers.get('x-clickhouse-exception-code')]).toEqual([500, '164']); // READONLY, as for GET on a server
    } finally {
      await c.close();
    }
  });
});

describe('ClickHouseStore over HTTP: the protocol edges', () => {
  it('the gateway runs a real ClickHouse engine and answers /ping like a server', async () => {
    expect(gw.engineVersion).toMatch(/^\d+\.\d+\./);
    const ping = await fetch(`${gw.url}/ping`);
    expect([ping.status, await ping.text()]).toEqual([200, 'Ok.\n']);
    const err = await fetch(`${gw.url}/?query=${encodeURIComponent('SELECT * FROM system.no_such_table')}`);
    expect(err.status).toBe(404);
    expect(err.headers.get('x-clickhouse-exception-code')).toBe('60');
    expect(await err.text()).toMatch(/^Code: 60\. DB::Exception: .*\(UNKNOWN_TABLE\) \(version /);
  });

  it('takes credentials from the URL (percent-encoded), and ping() checks them', async () => {
    const u = new URL(gw.url);
    u.username = 'spendtrace';
    u.password = encodeURIComponent('s3cr:et@');
    const ok = await createStore({ clickhouseUrl: u.toString() });
    await expect(ok.ping()).resolves.toBeUndefined();
    expect(await ok.query<{ u: string }>('SELECT 1 AS u')).toEqual([{ u: 1 }]);
    await ok.close();
    const bad = await createStore({ clickhouseUrl: gw.url, username: 'spendtrace', password: 'wrong' });
    // /ping does not authenticate on a ClickHouse server; a health check has to run a query.
    const e = await bad.ping().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(StoreError);
    expect(e).toMatchObject({ code: 'SPENDTRACE_STORE_CONNECT', clickhouseCode: 516 });
    await bad.close();
  });

  it('a closed store says so (SPENDTRACE_STORE_CLOSED), for every operation', async () => {
    const s = await createStore({ clickhouseUrl: gw.url });
    await s.close();
    for (const op of [() => s.ping(), () => s.query('SELECT 1'), () => s.command('SELECT 1'), () => s.insert('x.y', [{ a: 1 }])]) {
      await expect(op()).rejects.toMatchObject({ code: 'SPENDTRACE_STORE_CLOSED' });
    }
    await s.close(); // twice is fine
  });

  it('close() waits for operations in flight instead of cutting them off', async () => {
    const s = await createStore({ clickhouseUrl: gw.url });
    const db = `spendtrace_close_${process.pid}`;
    await migrate(s, { database: db });
    const insert = s.insert(`${db}.spans`, [{ trace_id: 'c'.repeat(32), span_id: '0000000000000001', task_id: 'close', cost: '1' }], { dedupToken: 'close-1' });
    await s.close();
    await expect(insert).resolves.toBeUndefined();
    const again = await createStore({ clickhouseUrl: gw.url });
    expect(await again.query(`SELECT count() AS n FROM ${db}.spans WHERE task_id = 'close'`)).toEqual([{ n: '1' }]);
    await again.command(`DROP DATABASE ${db}`);
    await again.close();
  });

  it('keeps the SQL (and the values in it) out of error messages unless query logging is on', async () => {
    const s = await createStore({ clickhouseUrl: gw.url });
    // The server's message for an unknown table quotes the query ("in scope SELECT ..."), a syntax error quotes the text after the error.
    for (const sql of ['SELECT * FROM system.no_such_table WHERE secret = 1', "SELECT 'secret' FROM system.one WHERE WHERE"]) {
      const e = (await s.query(sql).catch((x: unknown) => x)) as StoreError;
      expect(e.code).toBe('SPENDTRACE_STORE_QUERY');
      expect(e.clickhouseCode).toBeGreaterThan(0);
      expect(e.message).not.toContain('secret');
    }
    await s.close();
    const lines: string[] = [];
    const logged = await ClickHouseStore.open({ url: gw.url, logQueries: true, log: (l) => lines.push(l) });
    const e = (await logged.query('SELECT * FROM system.no_such_table WHERE secret = 1').catch((x: unknown) => x)) as StoreError;
    expect(e.message).toContain('secret');
    expect(lines.join('\n')).toContain('secret');
    await logged.close();
  });

  it('a server that is not there: SPENDTRACE_STORE_CONNECT', async () => {
    const s = await createStore({ clickhouseUrl: 'http://127.0.0.1:9' });
    await expect(s.ping()).rejects.toMatchObject({ code: 'SPENDTRACE_STORE_CONNECT' });
    await expect(s.query('SELECT 1')).rejects.toMatchObject({ code: 'SPENDTRACE_STORE_CONNECT' });
    await expect(s.insert('a.b', [{ a: 1 }])).rejects.toMatchObject({ code: 'SPENDTRACE_STORE_CONNECT' });
    await s.close();
  });
});

// --- The service end to end on the server path (as server.test.ts does on chDB). ---

describe('the service end to end on a ClickHouseStore over HTTP', () => {
  const DB = `spendtrace_e2e_${process.pid}`;
  let store: Store;
  let server: RunningServer;
  const start = () => startE2EServer(store, DB);
  beforeAll(async () => {
    store = await createStore({ clickhouseUrl: gw.url });
    expect(store.kind).toBe('clickhouse');
    await migrate(store, { database: DB });
    server = await start();
  });
  afterAll(async () => {
    await server?.close();
    await store?.command(`DROP DATABASE IF EXISTS ${DB}`).catch(() => undefined);
    await store?.close();
  });

  async function rollups() {
    await server.flush();
    const [tasks] = await store.query<Record<string, string>>(
      `SELECT toString(sum(cost)) AS cost, toString(sum(tool_cost)) AS tool_cost, sum(llm_calls) AS llm, sum(tool_calls) AS tools, sum(input_tokens) AS input, count(DISTINCT task_id) AS n FROM ${DB}.task_costs`,
    );
    const [hourly] = await store.query<Record<string, string>>(
      `SELECT toString(sum(cost)) AS cost, sum(calls) AS calls, sum(input_tokens) AS input FROM ${DB}.hourly_costs`,
    );
    const [spans] = await store.query<Record<string, string>>(`SELECT count() AS n, toString(sum(cost)) AS cost FROM ${DB}.spans`);
    return { tasks, hourly, spans };
  }
  async function taskCost(traceId: string): Promise<string> {
    await server.flush();
    const r = await store.query<{ cost: string }>(`SELECT toString(sum(cost)) AS cost FROM ${DB}.task_costs WHERE task_id = {id:String}`, { id: traceId });
    return r[0] ? formatPico(parsePico(r[0].cost)) : 'missing';
  }
  const post = (body: Uint8Array | string, headers: Record<string, string>) => fetch(`${server.url}/v1/traces`, { method: 'POST', body, headers });

  it('real OTLP exporters (protobuf, JSON, gzip) -> exact rolled-up cost per task', async () => {
    const ids = [
      await sendWith(new ProtoExporter({ url: `${server.url}/v1/traces` }), 'proto'),
      await sendWith(new JsonExporter({ url: `${server.url}/v1/traces`, compression: 'gzip' as never }), 'json-gzip'),
    ];
    for (const id of ids) expect(await taskCost(id)).toBe(TASK_COST);
    const r = await rollups();
    expect(parsePico(r.tasks!.cost!)).toBe(2n * parsePico(TASK_COST));
    expect(r.hourly!.cost).toBe(r.tasks!.cost);
    expect(r.spans!.cost).toBe(r.tasks!.cost);
    expect(r.tasks).toMatchObject({ tool_cost: '0.01', llm: '6', tools: '2', n: '2' });
  });

  it('replays (protobuf and JSON, also after a restart, with an empty replay window: the server-side exactly-once insert) leave every rollup unchanged', async () => {
    const spans = await recorded('replay');
    const proto = ProtobufTraceSerializer.serializeRequest(spans)!;
    const json = JsonTraceSerializer.serializeRequest(spans)!;
    expect((await post(proto, { 'content-type': 'application/x-protobuf' })).status).toBe(200);
    const before = await rollups();
    for (let i = 0; i < 2; i++) {
      expect((await post(proto, { 'content-type': 'application/x-protobuf' })).status).toBe(200);
      expect((await post(json, { 'content-type': 'application/json' })).status).toBe(200);
    }
    expect(await rollups()).toEqual(before);
    await server.close();
    server = await start();
    expect(server.ingester.seen.size).toBe(0);
    expect((await post(gzipSync(proto), { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' })).status).toBe(200);
    expect(await rollups()).toEqual(before);
  });

  it('a retried batch (same dedup token) changes nothing on the server, not even the materialized views', async () => {
    const before = await rollups();
    const [row] = await store.query<Record<string, unknown>>(`SELECT * EXCEPT (ingested_at) FROM ${DB}.spans WHERE kind = 'task' AND task_name = 'proto'`);
    // What the batcher does after a timeout it cannot tell from a failure: the same rows, the same token, again.
    await store.insert(`${DB}.spans`, [{ ...row, span_id: 'ffffffffffffff01', task_id: 'retry' }], { dedupToken: 'retry-token' });
    const once = await rollups();
    await store.insert(`${DB}.spans`, [{ ...row, span_id: 'ffffffffffffff01', task_id: 'retry' }], { dedupToken: 'retry-token' });
    expect(await rollups()).toEqual(once);
    expect(once.spans!.n).toBe(String(Number(before.spans!.n) + 1));
  });

  it('reports over HTTP equal the same reports on embedded chDB for the same spans', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spendtrace-chs-'));
    const local = await createStore({ dataDir: dir });
    const db = 'spendtrace';
    try {
      await migrate(local, { database: db });
      await migrate(store, { database: `${DB}_cmp` });
      const a = await startServer({ port: 0, store: local, database: db, log: () => {}, ingest: { batch: { maxBatchAgeMs: 5 } } });
      const b = await startServer({ port: 0, store, database: `${DB}_cmp`, log: () => {}, ingest: { batch: { maxBatchAgeMs: 5 } } });
      try {
        for (const name of ['cmp-1', 'cmp-2']) {
          const body = ProtobufTraceSerializer.serializeRequest(await recorded(name))!;
          for (const s of [a, b])
            expect((await fetch(`${s.url}/v1/traces`, { method: 'POST', body, headers: { 'content-type': 'application/x-protobuf' } })).status).toBe(200);
        }
        await a.flush();
        await b.flush();
        const viaHttp = await fullReport(store, { database: `${DB}_cmp`, since: 'all' });
        const embedded = await fullReport(local, { database: db, since: 'all' });
        // The ticker and the projection's day boundaries are read at query time: the two reads are seconds apart.
        const atQueryTime = (r: typeof viaHttp) => ({
          ...r,
          ticker: { ...r.ticker, at: '', projectedDay: '' },
          projection: { ...r.projection, days: r.projection.days.map((d) => ({ ...d, start: '' })) },
        });
        expect(atQueryTime(viaHttp)).toEqual(atQueryTime(embedded));
        expect(viaHttp.ticker.costToday).toBe(embedded.ticker.costToday);
        expect(JSON.stringify(viaHttp)).toContain('0.037306'); // 2 x 18653e-6
      } finally {
        await a.close();
        await b.close();
      }
    } finally {
      await store.command(`DROP DATABASE IF EXISTS ${DB}_cmp`).catch(() => undefined);
      await local.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
