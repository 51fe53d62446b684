// Proves OTLP/gRPC and OTLP/HTTP behave alike on chDB: the real OTel JS exporters (grpc with gzip, http/protobuf, http/json) land exact costs, a replay over the other protocol changes nothing, partial success / bad bodies / a failing store get OTLP's codes, and tokens are required on both protocols.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import protobuf from 'protobufjs';
import { formatPico, parsePico, Pricer } from '@spendtrace/semconv';
import { createStore, migrate, startServer, type RunningServer, type Store } from '../src/index.ts';
import { TokenAuth } from '../src/auth.ts';
import { ServiceMetrics } from '../src/metrics.ts';
import { otlpTypes } from '../src/otlp/proto-types.ts';
import { recorded, sendWith, TASK_COST } from './support/one-task.ts';

const DB = 'spendtrace';
const TOKEN = 'tok-protocols-0123456789abcdef';
let dir: string;
let store: Store;
let server: RunningServer;
let metrics: ServiceMetrics;

const bearer = () => {
  const md = new grpc.Metadata();
  md.set('authorization', `Bearer ${TOKEN}`);
  return md;
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'spendtrace-protocols-'));
  store = await createStore({ dataDir: dir });
  await migrate(store, { database: DB });
  metrics = new ServiceMetrics({ processMetrics: false });
  server = await startServer({
    port: 0,
    grpcPort: 0,
    store,
    pricer: new Pricer(),
    database: DB,
    maxBodyBytes: 1024 * 1024,
    log: () => {},
    ingest: { batch: { maxBatchAgeMs: 20 }, onInsert: (i) => metrics.observeInsert(i) },
    auth: new TokenAuth({ tokens: ['old-token-still-valid', TOKEN] }),
    metrics,
  });
});
afterAll(async () => {
  await server?.close();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function taskCost(traceId: string): Promise<string> {
  await server.flush();
  const [r] = await store.query<{ cost: string }>(`SELECT toString(sum(cost)) AS cost FROM ${DB}.task_costs WHERE task_id = {id:String}`, { id: traceId });
  return r ? formatPico(parsePico(r.cost)) : 'missing';
}

function exportOnce(exporter: SpanExporter, spans: ReadableSpan[]): Promise<{ code: number; error?: Error }> {
  return new Promise((resolve) => exporter.export(spans, (r) => resolve(r)));
}

/** A raw unary Export call, for bodies no exporter would send. */
function rawExport(body: Uint8Array, md = bearer()): Promise<{ err: grpc.ServiceError | null; res: Buffer | undefined }> {
  const client = new grpc.Client(server.grpcAddress!, grpc.credentials.createInsecure());
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
      (b: Buffer) => b,
      (b: Buffer) => b,
      Buffer.from(body),
      md,
      (err, res) => {
        client.close();
        resolve({ err, res });
      },
    );
  });
}

describe('OTLP/gRPC beside OTLP/HTTP', () => {
  it('the real grpc exporter (gzip) lands the exact task cost', async () => {
    const id = await sendWith(new GrpcExporter({ url: `http://${server.grpcAddress}`, compression: 'gzip' as never, metadata: bearer() }), 'grpc-gzip');
    expect(await taskCost(id)).toBe(TASK_COST);
  });

  it('the real grpc exporter without compression, http/protobuf and http/json land the same cost', async () => {
    const headers = { authorization: `Bearer ${TOKEN}` };
    const ids = [
      await sendWith(new GrpcExporter({ url: `http://${server.grpcAddress}`, metadata: bearer() }), 'grpc-plain'),
      await sendWith(new ProtoExporter({ url: `${server.url}/v1/traces`, headers, compression: 'gzip' as never }), 'http-proto'),
      await sendWith(new JsonExporter({ url: `${server.url}/v1/traces`, headers }), 'http-json'),
    ];
    for (const id of ids) expect(await taskCost(id)).toBe(TASK_COST);
  });

  it('a replay over the other protocol changes nothing', async () => {
    const spans = await recorded('replayed');
    const id = spans[0]!.spanContext().traceId;
    expect((await exportOnce(new ProtoExporter({ url: `${server.url}/v1/traces`, headers: { authorization: `Bearer ${TOKEN}` } }), spans)).code).toBe(0);
    expect(await taskCost(id)).toBe(TASK_COST);
    expect((await exportOnce(new GrpcExporter({ url: `http://${server.grpcAddress}`, metadata: bearer() }), spans)).code).toBe(0);
    expect(await taskCost(id)).toBe(TASK_COST);
  });

  it('answers partial success for rejected spans, INVALID_ARGUMENT for a body that does not decode', async () => {
    const t = otlpTypes().request;
    const span = (traceId: Buffer) => ({
      traceId,
      spanId: Buffer.alloc(8, 7),
      name: 'chat gpt-4o',
      startTimeUnixNano: 1,
      endTimeUnixNano: 2,
      attributes: [{ key: 'gen_ai.operation.name', value: { stringValue: 'chat' } }],
    });
    const body = t.encode(t.create({ resourceSpans: [{ scopeSpans: [{ spans: [span(Buffer.alloc(3, 1)), span(Buffer.alloc(16, 9))] }] }] })).finish();
    const ok = await rawExport(body);
    expect(ok.err).toBeNull();
    const res = otlpTypes().response.toObject(otlpTypes().response.decode(ok.res!), { longs: String }) as {
      partialSuccess?: { rejectedSpans: string; errorMessage: string };
    };
    expect(res.partialSuccess?.rejectedSpans).toBe('1');
    expect(res.partialSuccess?.errorMessage).toMatch(/1 spans rejected/);

    const bad = await rawExport(Buffer.from([0x0a, 0xff, 0xff, 0x01]));
    expect(bad.err?.code).toBe(grpc.status.INVALID_ARGUMENT);
  });

  it('requires a token on both protocols, answers UNAUTHENTICATED / 401 without detail, takes either configured token', async () => {
    const spans = await recorded('unauthenticated');
    const wrong = new grpc.Metadata();
    wrong.set('authorization', 'Bearer nope');
    const g = await exportOnce(new GrpcExporter({ url: `http://${server.grpcAddress}`, metadata: wrong }), spans);
    expect(g.code).toBe(1);
    const raw = await rawExport(ProtobufTraceSerializer.serializeRequest(spans)!, new grpc.Metadata());
    expect(raw.err?.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(raw.err?.details).toBe('unauthenticated');

    const body = ProtobufTraceSerializer.serializeRequest(spans)!;
    for (const headers of [{}, { authorization: 'Bearer nope' }, { authorization: `Basic ${Buffer.from(`x:${TOKEN}x`).toString('base64')}` }]) {
      const r = await fetch(`${server.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf', ...headers }, body });
      expect(r.status).toBe(401);
      expect(await r.text()).toBe('{"error":"unauthenticated"}');
    }
    for (const path of ['/api/summary', '/metrics', '/']) expect((await fetch(`${server.url}${path}`)).status).toBe(401);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    const old = await fetch(`${server.url}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf', authorization: 'Bearer old-token-still-valid' },
      body,
    });
    expect(old.status).toBe(200);
    await server.flush();
    const [n] = await store.query<{ n: string }>(`SELECT count() AS n FROM ${DB}.spans WHERE task_name = 'unauthenticated'`);
    expect(n!.n).toBe(String(spans.length));
  });

  it('counts what both protocols received, accepted, deduplicated, rejected and inserted', async () => {
    await server.flush();
    const text = (await metrics.render()).body;
    const value = (series: string) => Number(new RegExp(`^${series.replace(/[{}"]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    // grpc: 5 spans x 2 tasks, the replay (5), the partial-success request (2)
    expect(value('spendtrace_spans_received_total{protocol="grpc"}')).toBe(17);
    expect(value('spendtrace_spans_accepted_total{protocol="grpc"}')).toBe(11);
    expect(value('spendtrace_spans_deduplicated_total{protocol="grpc",stage="window"}')).toBe(5);
    expect(value('spendtrace_spans_rejected_total{protocol="grpc",reason="invalid"}')).toBe(1);
    expect(value('spendtrace_otlp_requests_rejected_total{protocol="grpc",reason="malformed"}')).toBe(1);
    expect(value('spendtrace_otlp_requests_rejected_total{protocol="grpc",reason="unauthenticated"}')).toBe(2);
    expect(value('spendtrace_otlp_requests_rejected_total{protocol="http",reason="unauthenticated"}')).toBe(3);
    const [stored] = await store.query<{ n: string }>(`SELECT count() AS n FROM ${DB}.spans`);
    expect(value('spendtrace_spans_inserted_total')).toBe(Number(stored!.n));
    expect(value('spendtrace_store_insert_duration_seconds_count{outcome="ok"}')).toBeGreaterThan(0);
  });
});

describe('OTLP/gRPC while the store fails', () => {
  it('answers UNAVAILABLE with a google.rpc.RetryInfo once the buffer of a failing store is full', async () => {
    const failing = new Proxy(store, {
      get: (t, p) =>
        p === 'insert' || p === 'insertColumns'
          ? () => Promise.reject(new Error('store down (test)'))
          : ((Reflect.get(t, p, t) as () => unknown).bind?.(t) ?? Reflect.get(t, p, t)),
    });
    const s = await startServer({
      port: 0,
      grpcPort: 0,
      store: failing,
      pricer: new Pricer(),
      database: DB,
      log: () => {},
      ingest: { seenWindow: 100, batch: { maxMemoryRows: 5, maxBatchAgeMs: 10, retryInitialMs: 10 } },
    });
    try {
      const t = otlpTypes().request;
      const grpcAddress = s.grpcAddress!;
      const call = (body: Uint8Array) =>
        new Promise<{ err: grpc.ServiceError | null }>((resolve) => {
          const client = new grpc.Client(grpcAddress, grpc.credentials.createInsecure());
          client.makeUnaryRequest(
            '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
            (b: Buffer) => b,
            (b: Buffer) => b,
            Buffer.from(body),
            new grpc.Metadata(),
            (err) => {
              client.close();
              resolve({ err });
            },
          );
        });
      const spans = Array.from({ length: 5 }, (_, i) => ({
        traceId: Buffer.alloc(16, 0xa0 + i),
        spanId: Buffer.alloc(8, 1 + i),
        name: 'chat gpt-4o',
        startTimeUnixNano: Date.now() * 1e6,
        endTimeUnixNano: Date.now() * 1e6 + 1,
        attributes: [
          { key: 'gen_ai.operation.name', value: { stringValue: 'chat' } },
          { key: 'gen_ai.request.model', value: { stringValue: 'gpt-4o' } },
        ],
      }));
      expect((await call(t.encode(t.create({ resourceSpans: [{ scopeSpans: [{ spans }] }] })).finish())).err).toBeNull();
      await new Promise((r) => setTimeout(r, 100)); // the first insert fails: the store is marked unhealthy
      const more = [{ ...spans[0]!, traceId: Buffer.alloc(16, 0xee) }];
      const { err } = await call(t.encode(t.create({ resourceSpans: [{ scopeSpans: [{ spans: more }] }] })).finish());
      expect(err?.code).toBe(grpc.status.UNAVAILABLE);
      const details = err!.metadata.get('grpc-status-details-bin')[0] as Buffer;
      const root = protobuf.Root.fromJSON({
        nested: {
          Status: { fields: { code: { type: 'int32', id: 1 }, message: { type: 'string', id: 2 }, details: { rule: 'repeated', type: 'Any', id: 3 } } },
          Any: { fields: { type_url: { type: 'string', id: 1 }, value: { type: 'bytes', id: 2 } } },
          RetryInfo: { fields: { retry_delay: { type: 'Duration', id: 1 } } },
          Duration: { fields: { seconds: { type: 'int64', id: 1 } } },
        },
      });
      const st = root.lookupType('Status').decode(details) as unknown as { code: number; details: Array<{ type_url: string; value: Uint8Array }> };
      expect(st.code).toBe(grpc.status.UNAVAILABLE);
      expect(st.details[0]!.type_url).toBe('type.googleapis.com/google.rpc.RetryInfo');
      const retry = root.lookupType('RetryInfo').toObject(root.lookupType('RetryInfo').decode(st.details[0]!.value), { longs: Number }) as {
        retry_delay: { seconds: number };
      };
      expect(retry.retry_delay.seconds).toBeGreaterThan(0);
    } finally {
      await s.close(0);
    }
  });
});
