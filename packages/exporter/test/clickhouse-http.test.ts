// Proves ClickHouse's HTTP interface on the embedded store while the service owns it: the real @clickhouse/client (ping, select, query parameters, JSON and TSV, gzip) and plain HTTP as curl and Grafana send it read the live rollups; writes, settings, file access, INTO OUTFILE and a wrong token are refused with ClickHouse's codes.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Pricer } from '@spendtrace/semconv';
import { createStore, migrate, startServer, type RunningServer, type Store } from '../src/index.ts';
import { TokenAuth } from '../src/auth.ts';
import { openChdbReader, shapeOf, startClickHouseHttp, type ClickHouseHttpServer, type SqlReader } from '../src/clickhouse-http/index.ts';
import { sendWith, TASK_COST } from './support/one-task.ts';

const DB = 'spendtrace';
const TOKEN = 'ch-token-0123456789abcdef';
let dir: string;
let store: Store;
let server: RunningServer;
let reader: SqlReader;
let ch: ClickHouseHttpServer;
let client: ClickHouseClient;
let traceId: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'spendtrace-chhttp-'));
  store = await createStore({ dataDir: dir });
  await migrate(store, { database: DB });
  const auth = new TokenAuth({ tokens: [TOKEN] });
  server = await startServer({ port: 0, store, pricer: new Pricer(), database: DB, log: () => {}, auth, ingest: { batch: { maxBatchAgeMs: 20 } } });
  reader = openChdbReader(dir);
  ch = await startClickHouseHttp({ reader, database: DB, port: 0, auth });
  traceId = await sendWith(new JsonExporter({ url: `${server.url}/v1/traces`, headers: { authorization: `Bearer ${TOKEN}` } }), 'weekly-digest');
  await server.flush();
  client = createClient({ url: ch.url, password: TOKEN });
});
afterAll(async () => {
  await client?.close();
  await ch?.close();
  await reader?.close();
  await server?.close();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

const get = (query: string, extra: Record<string, string> = {}, headers: Record<string, string> = {}) =>
  fetch(`${ch.url}/?${new URLSearchParams({ query, ...extra })}`, {
    headers: { authorization: `Basic ${Buffer.from(`default:${TOKEN}`).toString('base64')}`, ...headers },
  });

describe('@clickhouse/client against the embedded store', () => {
  it('pings, selects the live rollups as JSON, binds query parameters', async () => {
    expect((await client.ping()).success).toBe(true);
    const rs = await client.query({
      query: 'SELECT task_id, task_name, toString(sum(cost)) AS cost FROM task_costs WHERE task_name = {name:String} GROUP BY task_id, task_name',
      query_params: { name: 'weekly-digest' },
      format: 'JSONEachRow',
    });
    const rows = await rs.json<{ task_id: string; task_name: string; cost: string }>();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.task_id).toBe(traceId);
    expect(Number(rows[0]!.cost).toFixed(12)).toBe(TASK_COST);
    const json = await (await client.query({ query: 'SELECT count() AS n FROM spans', format: 'JSON' })).json<{ n: string }>();
    expect(Number(json.data[0]!.n)).toBe(5);
    expect(json.meta?.[0]).toEqual({ name: 'n', type: 'UInt64' });
  });

  it('returns TSV as text, and gzip when the client asks for it', async () => {
    const tsv = await (
      await client.query({ query: "SELECT model, sum(calls) FROM hourly_costs WHERE model != '' GROUP BY model ORDER BY model", format: 'TabSeparated' })
    ).text();
    expect(tsv).toBe('gpt-4o\t2\ngpt-4o-mini\t1\n');
    const zipped = createClient({ url: ch.url, password: TOKEN, compression: { response: true } });
    try {
      expect(await (await zipped.query({ query: 'SELECT 40 + 2 AS x', format: 'TabSeparated' })).text()).toBe('42\n');
    } finally {
      await zipped.close();
    }
  });

  it('refuses a write, DDL and a setting (read-only, code 164) and keeps the data', async () => {
    for (const query of [`INSERT INTO spans (trace_id) VALUES ('x')`, 'DROP TABLE task_costs', 'TRUNCATE TABLE spans']) {
      await expect(client.command({ query })).rejects.toMatchObject({ code: '164', type: 'READONLY' });
    }
    await expect(client.query({ query: 'SELECT 1', clickhouse_settings: { max_threads: 1 }, format: 'JSON' })).rejects.toMatchObject({ code: '164' });
    const [n] = await store.query<{ n: string }>(`SELECT count() AS n FROM ${DB}.spans`);
    expect(n!.n).toBe('5');
  });

  it('refuses a wrong token, and no token', async () => {
    for (const password of ['wrong', '']) {
      const bad = createClient({ url: ch.url, password });
      try {
        await expect(bad.query({ query: 'SELECT 1', format: 'JSON' })).rejects.toMatchObject({ code: '516' });
      } finally {
        await bad.close();
      }
    }
  });
});

describe('plain HTTP, as curl and Grafana send it', () => {
  it('answers /ping without a token, GET ?query= with ClickHouse headers, default_format, X-ClickHouse-Format, database', async () => {
    expect(await (await fetch(`${ch.url}/ping`)).text()).toBe('Ok.\n');
    const r = await get('SELECT task_name FROM task_costs', { default_format: 'JSONCompact', database: DB });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/application\/json/);
    expect(r.headers.get('x-clickhouse-format')).toBe('JSONCompact');
    expect(JSON.parse(r.headers.get('x-clickhouse-summary')!)).toMatchObject({ written_rows: '0' });
    expect(((await r.json()) as { data: string[][] }).data).toEqual([['weekly-digest']]);
    const h = await get('SELECT 1 AS one', {}, { 'X-ClickHouse-Format': 'CSVWithNames' });
    expect(await h.text()).toBe('"one"\n1\n');
    const own = await get('SELECT 1 AS one FORMAT JSONEachRow', { default_format: 'CSV' });
    expect(own.headers.get('x-clickhouse-format')).toBe('JSONEachRow');
    expect(await own.text()).toBe('{"one":1}\n');
    const sys = await get('SELECT currentDatabase()', { database: 'system' });
    expect(await sys.text()).toBe('system\n');
    const key = await fetch(`${ch.url}/?query=SELECT%202`, { headers: { 'X-ClickHouse-User': 'grafana', 'X-ClickHouse-Key': TOKEN } });
    expect(await key.text()).toBe('2\n');
  });

  it('sends errors as ClickHouse does: Code: N. DB::Exception, X-ClickHouse-Exception-Code, the status for the code', async () => {
    const cases: Array<[string, number, string]> = [
      ['SELECT nope', 404, '47'],
      ['SELEC 1', 400, '62'],
      ['SELECT 1; SELECT 2', 400, '62'],
      ["SELECT * FROM file('/etc/hostname', 'LineAsString')", 403, '164'],
      ["SELECT 1 INTO OUTFILE '/tmp/spendtrace-outfile-test'", 403, '164'],
    ];
    for (const [query, status, code] of cases) {
      const r = await get(query);
      expect([query, r.status, r.headers.get('x-clickhouse-exception-code')]).toEqual([query, status, code]);
      expect(await r.text()).toMatch(new RegExp(`^Code: ${code}\\. DB::Exception: `));
    }
    expect(existsSync('/tmp/spendtrace-outfile-test')).toBe(false);
    const noToken = await fetch(`${ch.url}/?query=SELECT%201`);
    expect([noToken.status, noToken.headers.get('x-clickhouse-exception-code')]).toEqual([401, '516']);
  });

  it('reads the query from the body too, gzip-compressed or not, after the URL part', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    const post = await fetch(`${ch.url}/?default_format=TSV`, { method: 'POST', headers: auth, body: 'SELECT 3' });
    expect(await post.text()).toBe('3\n');
    const { gzipSync } = await import('node:zlib');
    const z = await fetch(`${ch.url}/?query=${encodeURIComponent('SELECT')}`, {
      method: 'POST',
      headers: { ...auth, 'content-encoding': 'gzip' },
      body: gzipSync(' 4 AS four FORMAT TSVWithNames'),
    });
    expect(await z.text()).toBe('four\n4\n');
  });
});

describe('query text', () => {
  it('sees FORMAT, statements and INTO OUTFILE outside literals and comments only', () => {
    expect(shapeOf('SELECT \'a; b\', "x;" FORMAT JSON')).toMatchObject({ format: 'JSON', multiStatement: false, intoOutfile: false });
    expect(shapeOf("SELECT 1 -- INTO OUTFILE 'x'\n/* ; SELECT 2 */;")).toMatchObject({ format: undefined, multiStatement: false, intoOutfile: false });
    expect(shapeOf("SELECT formatDateTime(now(), '%F') FORMAT TSV;  ")).toMatchObject({ format: 'TSV', multiStatement: false });
    expect(shapeOf('SELECT 1; DROP TABLE x').multiStatement).toBe(true);
    expect(shapeOf("select 1 into   outfile 'x'").intoOutfile).toBe(true);
    expect(shapeOf(' ;; ').empty).toBe(true);
  });
});
