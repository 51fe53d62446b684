/**
 * The ClickHouse-server insert path (ClickHouseStore over @clickhouse/client) with JSONEachRow
 * (`insert`) against JSONCompactEachRow (`insertColumns`, what the span writer uses), measured
 * against the HTTP gateway stand-in (packages/exporter/test/support/clickhouse-gateway.ts: the
 * server's HTTP protocol in front of a real chDB engine, in its own process). The same rows of the
 * ingest mix go into a Memory table (the writer's staging step), the two formats taking turns
 * round by round; wall time per insert and this process's CPU (the client's encoding) per row.
 *
 *   node bench/clickhouse-insert.ts [--rows=20000] [--rounds=8]
 */
import { loadavg } from 'node:os';
import { Pricer } from '@spendtrace/semconv';
import { createStore, decodeProtobufRequest, migrate, requestToRows, type SpanRow } from '@spendtrace/exporter';
import { SPAN_COLUMNS } from '../packages/exporter/src/ingest/span-row.ts';
import { startGatewayProcess } from '../packages/exporter/test/support/gateway-process.ts';
import { arg, cpuMicros, fmt, median, medianCi } from './harness.ts';
import { buildRequests } from './otlp-requests.ts';

const n = Number(arg('rows', '20000'));
const rounds = Number(arg('rounds', '8'));
const load0 = loadavg();
const pricer = new Pricer();
const rows: SpanRow[] = [];
for (const b of await buildRequests(Math.ceil(n / 5) + 10)) rows.push(...requestToRows(decodeProtobufRequest(b), pricer).rows);
rows.length = n;
const gw = await startGatewayProcess();
const store = await createStore({ clickhouseUrl: gw.url });
try {
  await migrate(store, { database: 'spendtrace' });
  await store.command('CREATE TABLE spendtrace.stage AS spendtrace.spans ENGINE = Memory');
  const variants = {
    JSONEachRow: () => store.insert('spendtrace.stage', rows),
    JSONCompactEachRow: () => store.insertColumns('spendtrace.stage', SPAN_COLUMNS, rows),
  };
  const samples: Record<string, { ms: number; cpu: number }[]> = { JSONEachRow: [], JSONCompactEachRow: [] };
  for (let r = -1; r < rounds; r++) {
    const order = r % 2 ? (['JSONEachRow', 'JSONCompactEachRow'] as const) : (['JSONCompactEachRow', 'JSONEachRow'] as const);
    for (const v of order) {
      await store.command('TRUNCATE TABLE spendtrace.stage');
      const c0 = cpuMicros();
      const t0 = performance.now();
      await variants[v]();
      const ms = performance.now() - t0;
      const cpu = cpuMicros() - c0;
      const [c] = await store.query<{ n: string }>('SELECT count() AS n FROM spendtrace.stage');
      if (Number(c!.n) !== n) throw new Error(`${v}: ${c!.n} rows stored, ${n} inserted`);
      if (r >= 0) samples[v]!.push({ ms, cpu: cpu / n });
    }
  }
  const base = samples.JSONEachRow!;
  const ratios = samples.JSONCompactEachRow!.map((s, i) => base[i]!.ms / s.ms);
  const [lo, hi] = medianCi(ratios);
  for (const [v, s] of Object.entries(samples)) {
    process.stdout.write(
      `${v.padEnd(20)} ${fmt((n / median(s.map((x) => x.ms))) * 1000, 0).padStart(9)} rows/s  client CPU ${fmt(median(s.map((x) => x.cpu)), 2)} us/row\n`,
    );
  }
  process.stdout.write(
    `JSONCompactEachRow speed-up over JSONEachRow: ${fmt(median(ratios), 2)}x (95% CI ${Number.isFinite(lo) ? `${fmt(lo, 2)}..${fmt(hi, 2)}` : '-'}); ` +
      `${n} rows per insert into a Memory table through the gateway, ${rounds} rounds, load ${load0.map((l) => l.toFixed(1)).join(' ')} -> ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}\n`,
  );
} finally {
  await store.close();
  await gw.stop();
}
