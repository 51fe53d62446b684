// The fault harness: the real `spendtrace serve` process under load from clients that retry like the
// OTel exporters, with a ledger of what it acknowledged. kill -9 at random moments (5 times, on the
// same data directory), replays x2-5 shuffled after restarts (spans backdated 1 h and 2 days too),
// and the store (ClickHouse over HTTP) down for a minute with a kill -9 while it is down. After each
// run: acknowledged = stored, to the span and to the pico-dollar, 0 doubled, the service alive.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatPico, parsePico } from '@spendtrace/semconv';
import { createStore, type Store } from '../src/index.ts';
import { startGatewayProcess, type GatewayProcess } from './support/gateway-process.ts';
import { runLoad, sendUntilAcked, shuffled, type Ledger } from './support/ledger-load.ts';
import { hostileCorpus } from './support/hostile-corpus.ts';
import { goodBody } from './support/ledger-load.ts';
import { queryChdb, startServe, waitHealth, type ServeProcess } from './support/serve-process.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const dirs: string[] = [];
const tmp = (p: string) => {
  const d = mkdtempSync(join(tmpdir(), p));
  dirs.push(d);
  return d;
};
const procs: ServeProcess[] = [];
afterAll(async () => {
  for (const p of procs) await p.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const TOTALS = `SELECT
  (SELECT count() FROM spendtrace.spans) AS spans,
  (SELECT uniqExact(trace_id, span_id) FROM spendtrace.spans) AS unique_spans,
  (SELECT toString(sum(cost)) FROM spendtrace.spans) AS span_cost,
  (SELECT toString(sum(cost)) FROM spendtrace.task_costs) AS task_cost,
  (SELECT sum(llm_calls) FROM spendtrace.task_costs) AS task_calls,
  (SELECT toString(sum(cost)) FROM spendtrace.hourly_costs) AS hourly_cost,
  (SELECT sum(calls) FROM spendtrace.hourly_costs) AS hourly_calls`;

const PER_TRACE = `SELECT trace_id, toString(count()) AS n FROM spendtrace.spans GROUP BY trace_id`;

/**
 * Acknowledged = stored, to the span and the pico-dollar, 0 doubled, in spans and both rollups.
 * On a mismatch it first prints which acknowledged bodies are short or doubled and when they were
 * acknowledged relative to the faults, so a failure starts from the evidence.
 */
async function expectExact(
  t: Record<string, string>,
  ledger: Ledger,
  label: string,
  perTrace: () => Promise<Array<Record<string, string>>>,
  faults: Array<{ at: number; what: string }> = [],
) {
  const want = formatPico(ledger.pico);
  const got = {
    spans: Number(t.spans),
    doubled: Number(t.spans) - Number(t.unique_spans),
    spanCost: formatPico(parsePico(t.span_cost!)),
    taskCost: formatPico(parsePico(t.task_cost!)),
    taskCalls: Number(t.task_calls),
    hourlyCost: formatPico(parsePico(t.hourly_cost!)),
    hourlyCalls: Number(t.hourly_calls),
  };
  console.log(
    `${label}: acknowledged ${ledger.spans} spans $${want}; stored ${got.spans} $${got.spanCost} (lost ${ledger.spans - Number(t.unique_spans)}, doubled ${got.doubled}); rollups $${got.taskCost} / $${got.hourlyCost}; refusals ${JSON.stringify(ledger.refusals)}`,
  );
  if (got.spans !== ledger.spans || got.doubled || got.taskCost !== want || got.hourlyCost !== want) {
    const stored = new Map((await perTrace()).map((r) => [r.trace_id!, Number(r.n)]));
    const t0 = ledger.bodies.reduce((m, b) => Math.min(m, b.ackedAt ?? Infinity), Infinity);
    const when = (at: number) => `+${((at - t0) / 1000).toFixed(2)} s`;
    console.log(`faults: ${faults.map((f) => `${f.what} ${when(f.at)}`).join(', ')}`);
    for (const [i, b] of ledger.bodies.entries()) {
      const n = stored.get(b.traceId) ?? 0;
      if (n !== b.spans) console.log(`body #${i} (trace ${b.traceId}, acknowledged ${b.ackedAt ? when(b.ackedAt) : '?'}): ${n} of ${b.spans} spans stored`);
    }
  }
  expect(got).toEqual({
    spans: ledger.spans,
    doubled: 0,
    spanCost: want,
    taskCost: want,
    taskCalls: ledger.spans,
    hourlyCost: want,
    hourlyCalls: ledger.spans,
  });
}

const drained = (h: Record<string, unknown>) => h.backlogRecords === 0 && h.memoryRows === 0;

describe('fault harness: the real serve process', () => {
  it('kill -9 five times under load, restarting on the same data directory, then replays x2-5 shuffled (1 h and 2 days back too): nothing acknowledged lost, nothing doubled', async () => {
    const data = tmp('spendtrace-faults-kill-');
    let srv = await startServe(['--data', data]);
    procs.push(srv);
    let url = srv.url;
    // Restarted on its port, as an operator's service is: the senders keep their endpoint, and no
    // other listener can take a freed port and acknowledge what this one never saw.
    const again = ['--data', data, '--port', new URL(url).port];
    const faults: Array<{ at: number; what: string }> = [];
    // Every 7th body started an hour ago, every 11th two days ago (other partitions, older hours).
    const load = runLoad(() => url, { workers: 3, spansPerBody: 100, backdate: (i) => (i % 11 === 5 ? 2 * 86_400_000 : i % 7 === 3 ? 3_600_000 : 0) });
    const recoveries: string[] = [];
    for (let k = 0; k < 5; k++) {
      await sleep(800 + Math.random() * 2200);
      await srv.kill('SIGKILL');
      const t0 = Date.now();
      faults.push({ at: t0, what: `kill -9 #${k + 1}` });
      srv = await startServe(again);
      procs.push(srv);
      url = srv.url;
      const listening = Date.now() - t0;
      // Recovered: listening again and inserting (what the log held goes first, in order).
      const h = await waitHealth(url, (x) => (x.spansInserted as number) > 0, 60_000);
      recoveries.push(
        `${listening}/${Date.now() - t0} ms (${srv.stderr().match(/(\d+) logged requests not yet in the store/)?.[1] ?? 0} requests replayed, ${String(h.spansInserted)} spans in)`,
      );
    }
    await load.stop();
    console.log(`kill -9 x5 under load: listening/inserting again after ${recoveries.join('; ')}`);

    // Replays after the restarts: 40 acknowledged bodies (of every age) 2-5 times more, their spans
    // shuffled, half before and half after another kill -9.
    const picked = [...load.ledger.bodies].sort(() => Math.random() - 0.5).slice(0, 40);
    const replays = picked.flatMap((b) => Array.from({ length: 2 + Math.floor(Math.random() * 4) }, () => shuffled(b)));
    for (let i = replays.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [replays[i], replays[j]] = [replays[j]!, replays[i]!];
    }
    const half = replays.length >> 1;
    const replay = async (list: typeof replays) => {
      for (let i = 0; i < list.length; i += 8) {
        const rs = await Promise.all(list.slice(i, i + 8).map((b) => sendUntilAcked(() => url, b.text, 'application/json', load.ledger.refusals)));
        for (const r of rs) expect(r.status).toBe(200);
      }
    };
    await replay(replays.slice(0, half));
    await srv.kill('SIGKILL');
    faults.push({ at: Date.now(), what: 'kill -9 amid replays' });
    srv = await startServe(again);
    procs.push(srv);
    url = srv.url;
    await replay(replays.slice(half));
    const health = await waitHealth(url, drained, 60_000);
    expect(health).toMatchObject({ status: 'ok', spansDeadLettered: 0 });
    const stop = await srv.kill('SIGTERM');
    expect(stop.code).toBe(0);
    const [t] = await queryChdb(data, TOTALS);
    await expectExact(t!, load.ledger, `kill -9 x6 + ${replays.length} replays`, () => queryChdb(data, PER_TRACE), faults);
  }, 300_000);

  it('the store down for a minute under load, the log at its budget (503 + Retry-After), kill -9 while down: all in, in order, once', async () => {
    const chData = tmp('spendtrace-faults-ch-');
    let gw: GatewayProcess = await startGatewayProcess({ dataDir: chData });
    const port = Number(new URL(gw.url).port);
    const wal = tmp('spendtrace-faults-wal-');
    const args = ['--clickhouse-url', gw.url, '--wal-dir', wal, '--wal-max-bytes', String(6 * 1024 * 1024), '--shutdown-timeout', '2'];
    let srv = await startServe(args);
    procs.push(srv);
    let url = srv.url;
    args.push('--port', new URL(url).port);
    const faults: Array<{ at: number; what: string }> = [];
    const load = runLoad(() => url, { workers: 3, spansPerBody: 50 });
    await sleep(2000);

    await gw.stop({ keepData: true });
    const downAt = Date.now();
    faults.push({ at: downAt, what: 'store down' });
    await sleep(15_000);
    const during = await waitHealth(url, (h) => h.status === 'degraded', 10_000);
    expect(during).toMatchObject({ storeHealthy: false });
    expect((during.log as { bytes: number }).bytes).toBeGreaterThan(0);
    // kill -9 while the store is down; the service must start without it.
    await srv.kill('SIGKILL');
    const killAt = Date.now();
    faults.push({ at: killAt, what: 'kill -9 while down' });
    srv = await startServe(args);
    procs.push(srv);
    url = srv.url;
    const listeningIn = Date.now() - killAt;
    await sleep(Math.max(0, 60_000 - (Date.now() - downAt)));
    expect(load.ledger.refusals[503] ?? 0).toBeGreaterThan(0);

    gw = await startGatewayProcess({ dataDir: chData, port });
    const upAt = Date.now();
    faults.push({ at: upAt, what: 'store up' });
    await sleep(2000);
    await load.stop();
    await waitHealth(url, drained, 120_000);
    console.log(
      `store down ${Math.round((upAt - downAt) / 1000)} s under load: listening again ${listeningIn} ms after the kill -9 while down (store still down); drained ${Date.now() - upAt} ms after the store came back`,
    );
    const health = await waitHealth(url, (h) => h.status === 'ok', 10_000);
    expect(health).toMatchObject({ storeHealthy: true, spansDeadLettered: 0 });
    expect((await srv.kill('SIGTERM')).code).toBe(0);

    const store: Store = await createStore({ clickhouseUrl: gw.url });
    try {
      const [t] = await store.query<Record<string, string>>(TOTALS);
      await expectExact(t!, load.ledger, 'store down 60 s + kill -9 while down', () => store.query<Record<string, string>>(PER_TRACE), faults);
    } finally {
      await store.close();
      await gw.stop();
    }
  }, 300_000);

  it('a fuzz corpus of 2,000 hostile bodies (protobuf and JSON) interleaved with good data: the good to the pico-dollar, every accepted span once, no poison, money bounded, the service alive', async () => {
    const data = tmp('spendtrace-faults-fuzz-');
    const srv = await startServe(['--data', data]);
    procs.push(srv);
    const corpus = hostileCorpus(2000);
    const ledger: Ledger = { bodies: [], spans: 0, pico: 0n, refusals: {} };
    let hostileAccepted = 0;
    const items = corpus.flatMap((h, i) => (i % 3 === 0 ? [h, goodBody(20)] : [h]));
    let next = 0;
    await Promise.all(
      Array.from({ length: 6 }, async () => {
        while (next < items.length) {
          const it = items[next++]!;
          if ('text' in it) {
            const r = await sendUntilAcked(() => srv.url, it.text, 'application/json', ledger.refusals);
            expect(r.status).toBe(200);
            ledger.bodies.push(it);
            ledger.spans += it.spans;
            ledger.pico += it.pico;
          } else {
            const r = await sendUntilAcked(() => srv.url, it.body as string, it.contentType, ledger.refusals);
            expect(r.status, String(r.json.partialSuccess?.errorMessage)).toBe(200);
            hostileAccepted += it.spans - Number(r.json.partialSuccess?.rejectedSpans ?? 0);
          }
        }
      }),
    );
    const health = await waitHealth(srv.url, drained, 120_000);
    expect(health).toMatchObject({ status: 'ok', storeHealthy: true, spansDeadLettered: 0 });
    expect((await srv.kill('SIGTERM')).code).toBe(0);
    const [t] = await queryChdb(
      data,
      `SELECT
      countIf(service_name = 'fault-fleet') AS good, toString(sumIf(cost, service_name = 'fault-fleet')) AS good_cost,
      countIf(service_name != 'fault-fleet') AS hostile, count() - uniqExact(trace_id, span_id) AS doubled,
      toString(max(cost)) AS max_cost, toString(sum(cost)) AS total, uniqExact(toDate(start_time)) AS days,
      countIf(NOT isValidUTF8(span_name) OR NOT isValidUTF8(agent_name) OR NOT isValidUTF8(request_model) OR arrayExists(v -> NOT isValidUTF8(v), mapValues(attributes))
        OR arrayExists(k -> NOT isValidUTF8(k), mapKeys(attributes)) OR arrayExists(v -> NOT isValidUTF8(v), mapValues(resource_attributes))) AS bad_utf8,
      (SELECT toString(sum(cost)) FROM spendtrace.task_costs) AS task_total
      FROM spendtrace.spans`,
    );
    console.log(
      `fuzz: ${corpus.length} hostile bodies (${hostileAccepted} spans accepted, ${t!.hostile} stored) + ${ledger.bodies.length} good (${ledger.spans} spans); max span cost $${t!.max_cost}; refusals ${JSON.stringify(ledger.refusals)}`,
    );
    expect({
      good: Number(t!.good),
      goodCost: formatPico(parsePico(t!.good_cost!)),
      hostile: Number(t!.hostile),
      doubled: Number(t!.doubled),
      badUtf8: Number(t!.bad_utf8),
    }).toEqual({ good: ledger.spans, goodCost: formatPico(ledger.pico), hostile: hostileAccepted, doubled: 0, badUtf8: 0 });
    expect(parsePico(t!.max_cost!)).toBeLessThanOrEqual(5000n * 10n ** 12n);
    expect(t!.task_total).toBe(t!.total);
    expect(Number(t!.days)).toBeGreaterThanOrEqual(120);
  }, 300_000);
});
