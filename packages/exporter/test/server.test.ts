// Proves the service end to end over real HTTP on chDB: real OTLP exporters (protobuf, JSON, gzip) -> spans/task_costs/hourly_costs with exact sums; replays (also across a restart) change no rollup; bad input gets a clear 4xx while data before and after is kept; a failing store gets 503 + Retry-After and loses nothing.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { formatPico, parsePico } from '@spendtrace/semconv';
import { createStore, migrate, startServer, type RunningServer, type Store } from '../src/index.ts';
import { recorded, sendWith, startE2EServer, TASK_COST } from './support/one-task.ts';

const DB = 'spendtrace';
let dir: string;
let store: Store;
let server: RunningServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'spendtrace-server-'));
  store = await createStore({ dataDir: dir });
  await migrate(store, { database: DB });
  server = await startE2EServer(store, DB);
});
afterAll(async () => {
  await server?.close();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function rollups(db = DB) {
  await server.flush();
  const [tasks] = await store.query<Record<string, string>>(
    `SELECT toString(sum(cost)) AS cost, toString(sum(tool_cost)) AS tool_cost, sum(llm_calls) AS llm, sum(tool_calls) AS tools, sum(input_tokens) AS input, count(DISTINCT task_id) AS n FROM ${db}.task_costs`,
  );
  const [hourly] = await store.query<Record<string, string>>(
    `SELECT toString(sum(cost)) AS cost, sum(calls) AS calls, sum(input_tokens) AS input FROM ${db}.hourly_costs`,
  );
  const [spans] = await store.query<Record<string, string>>(`SELECT count() AS n, toString(sum(cost)) AS cost FROM ${db}.spans`);
  return { tasks, hourly, spans };
}

async function taskCost(traceId: string): Promise<string> {
  await server.flush();
  const r = await store.query<{ cost: string }>(`SELECT toString(sum(cost)) AS cost FROM ${DB}.task_costs WHERE task_id = {id:String}`, { id: traceId });
  // Decimal text without trailing zeros -> back to 12 digits, so comparisons are exact and readable.
  return r[0] ? formatPico(parsePico(r[0].cost)) : 'missing';
}

const post = (body: Uint8Array | string, headers: Record<string, string>, url = server.url) => fetch(`${url}/v1/traces`, { method: 'POST', body, headers });

describe('the service end to end', () => {
  it('real OTLP exporters (protobuf, JSON, gzip) -> exact rolled-up cost per task', async () => {
    const ids = [
      await sendWith(new ProtoExporter({ url: `${server.url}/v1/traces` }), 'proto'),
      await sendWith(new JsonExporter({ url: `${server.url}/v1/traces` }), 'json'),
      await sendWith(new ProtoExporter({ url: `${server.url}/v1/traces`, compression: 'gzip' as never }), 'proto-gzip'),
      await sendWith(new JsonExporter({ url: `${server.url}/v1/traces`, compression: 'gzip' as never }), 'json-gzip'),
    ];
    for (const id of ids) expect(await taskCost(id)).toBe(TASK_COST);
    const r = await rollups();
    expect(parsePico(r.tasks!.cost!)).toBe(4n * parsePico(TASK_COST));
    expect(r.hourly!.cost).toBe(r.tasks!.cost);
    expect(r.spans!.cost).toBe(r.tasks!.cost);
    expect(r.tasks).toMatchObject({ tool_cost: '0.02', llm: '12', tools: '4', n: '4' });
    const [row] = await store.query<Record<string, string>>(
      `SELECT kind, cost_source, task_name, agent_name, outcome FROM ${DB}.spans WHERE kind = 'task' AND task_name = 'proto'`,
    );
    expect(row).toEqual({ kind: 'task', cost_source: '', task_name: 'proto', agent_name: 'research-agent', outcome: 'success' });
  });

  it('replaying the same request (protobuf and JSON, also after a restart) leaves every rollup unchanged', async () => {
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
    // A new process: its replay window is empty, the store's exactly-once insert still holds.
    await server.close();
    server = await startServer({ port: 0, store, database: DB, maxBodyBytes: 1024 * 1024, log: () => {}, ingest: { batch: { maxBatchAgeMs: 20 } } });
    expect(server.ingester.seen.size).toBe(0);
    expect((await post(gzipSync(proto), { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' })).status).toBe(200);
    expect(await rollups()).toEqual(before);
  });

  it('bad input gets a clear 4xx, the service stays up, and good data before and after is all there', async () => {
    const good1 = await recorded('good-before');
    const good2 = await recorded('good-after');
    expect((await post(ProtobufTraceSerializer.serializeRequest(good1)!, { 'content-type': 'application/x-protobuf' })).status).toBe(200);

    const proto = ProtobufTraceSerializer.serializeRequest(await recorded('bad'))!;
    const cases: Array<[string, Response, number, RegExp]> = [
      ['truncated protobuf', await post(proto.subarray(0, proto.length - 9), { 'content-type': 'application/x-protobuf' }), 400, /protobuf/],
      ['wrong content type', await post('hello', { 'content-type': 'text/plain' }), 415, /unsupported content type/],
      ['invalid JSON', await post('{"resourceSpans": [', { 'content-type': 'application/json' }), 400, /invalid JSON/],
      ['JSON of the wrong shape', await post('{"resourceSpans": 7}', { 'content-type': 'application/json' }), 400, /expected an array/],
      ['oversized body', await post(Buffer.alloc(2 * 1024 * 1024, 1), { 'content-type': 'application/x-protobuf' }), 413, /exceeds the limit/],
      [
        'gzip bomb',
        await post(gzipSync(Buffer.alloc(8 * 1024 * 1024)), { 'content-type': 'application/json', 'content-encoding': 'gzip' }),
        413,
        /decompressed body exceeds/,
      ],
      ['broken gzip', await post(Buffer.from('not gzip'), { 'content-type': 'application/json', 'content-encoding': 'gzip' }), 400, /invalid gzip/],
      ['GET on /v1/traces', await fetch(`${server.url}/v1/traces`, { headers: { 'content-type': 'application/json' } }), 405, /use POST/],
    ];
    for (const [name, res, status, reason] of cases) {
      expect(res.status, name).toBe(status);
      const text = await res.text();
      expect(text, name).toMatch(reason);
    }
    expect((await fetch(`${server.url}/nope`)).status).toBe(404);

    // Absurd attribute values: accepted with a partial-success message, the span stored with the values clamped.
    const absurd = {
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'x'.repeat(100_000) } }] },
          scopeSpans: [
            {
              spans: [
                {
                  traceId: 'ab'.repeat(16),
                  spanId: 'cd'.repeat(8),
                  name: 'chat',
                  startTimeUnixNano: '-5',
                  endTimeUnixNano: 'soon',
                  attributes: [
                    { key: 'gen_ai.operation.name', value: { stringValue: 'chat' } },
                    { key: 'gen_ai.request.model', value: { stringValue: 'gpt-4o-mini' } },
                    { key: 'gen_ai.usage.input_tokens', value: { intValue: '99999999999999999999999' } },
                    { key: 'gen_ai.usage.output_tokens', value: { doubleValue: 'NaN' } },
                    { key: 'gen_ai.usage.cost.amount', value: { doubleValue: 'Infinity' } },
                    { key: 'huge', value: { stringValue: 'y'.repeat(500_000) } },
                  ],
                },
                { traceId: 'not-hex', spanId: '', name: 'broken' },
              ],
            },
          ],
        },
      ],
    };
    const res = await post(JSON.stringify(absurd), { 'content-type': 'application/json' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { partialSuccess: { rejectedSpans: string; errorMessage: string } };
    expect(body.partialSuccess.rejectedSpans).toBe('1');
    expect(body.partialSuccess.errorMessage).toMatch(/invalid trace id.*clamped|clamped.*invalid trace id/s);

    expect((await post(JsonTraceSerializer.serializeRequest(good2)!, { 'content-type': 'application/json' })).status).toBe(200);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    await server.flush();
    expect(await taskCost(good1[0]!.spanContext().traceId)).toBe(TASK_COST);
    expect(await taskCost(good2[0]!.spanContext().traceId)).toBe(TASK_COST);
    const [a] = await store.query<Record<string, string>>(
      `SELECT input_tokens, output_tokens, unpriced, length(attributes['huge']) AS huge, attributes['spendtrace.ingest.warnings'] AS w FROM ${DB}.spans WHERE span_id = {id:String}`,
      { id: 'cd'.repeat(8) },
    );
    expect(a).toMatchObject({ input_tokens: '0', output_tokens: '0', unpriced: 1 });
    expect(Number(a!.huge)).toBeLessThan(17_000);
    expect(a!.w).toMatch(/not a token count/);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it('a store that fails for a while: 503 + Retry-After when the buffer is full, and no accepted span is lost', async () => {
    const db = 'spendtrace_flaky';
    await migrate(store, { database: db });
    let failing = true;
    const flaky: Store = {
      kind: store.kind,
      ping: () => store.ping(),
      query: (sql, params, opts) => store.query(sql, params, opts),
      command: (sql) => store.command(sql),
      close: async () => {},
      insert: async (table, rows, opts) => {
        if (failing) throw new Error('simulated: ClickHouse unreachable');
        return store.insert(table, rows, opts);
      },
      insertColumns: async (table, columns, rows, opts) => {
        if (failing) throw new Error('simulated: ClickHouse unreachable');
        return store.insertColumns(table, columns, rows, opts);
      },
    };
    const s = await startServer({
      port: 0,
      store: flaky,
      database: db,
      log: () => {},
      ingest: { batch: { maxBatchAgeMs: 5, maxMemoryRows: 6, retryInitialMs: 10, retryMaxMs: 40 } },
    });
    try {
      const first = await recorded('flaky-1'); // 5 spans
      const second = await recorded('flaky-2');
      expect((await post(ProtobufTraceSerializer.serializeRequest(first)!, { 'content-type': 'application/x-protobuf' }, s.url)).status).toBe(200);
      // The first insert must have failed before the store counts as down (under load that takes
      // more than a fixed pause): until then a full buffer is 429 busy, not 503.
      for (let i = 0; i < 400 && s.ingester.stats().storeHealthy; i++) await new Promise((r) => setTimeout(r, 25));
      const refused = await post(ProtobufTraceSerializer.serializeRequest(second)!, { 'content-type': 'application/x-protobuf' }, s.url);
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
      const health = (await (await fetch(`${s.url}/healthz`)).json()) as { status: string; storeHealthy: boolean; memoryRows: number };
      expect(health).toMatchObject({ status: 'degraded', storeHealthy: false, memoryRows: 5 });
      failing = false;
      await s.flush();
      // What the Collector does after a 503: send again.
      expect((await post(ProtobufTraceSerializer.serializeRequest(second)!, { 'content-type': 'application/x-protobuf' }, s.url)).status).toBe(200);
      await s.flush();
      const [t] = await store.query<{ n: string; cost: string }>(`SELECT count(DISTINCT task_id) AS n, toString(sum(cost)) AS cost FROM ${db}.task_costs`);
      expect(t).toEqual({ n: '2', cost: '0.037306' }); // 2 x 18653e-6
      const [sp] = await store.query<{ n: string }>(`SELECT count() AS n FROM ${db}.spans`);
      expect(sp!.n).toBe('10');
    } finally {
      failing = false;
      await s.close();
    }
  });
});
