/**
 * Do reads starve writes on the embedded store? The real `spendtrace serve` (chDB, write-ahead log
 * on) under a steady OTLP/JSON load (the fault harness's retrying clients), in alternating phases
 * of the same run: no readers, then readers looping as a dashboard does (/api/report, then
 * /api/insights and /api/alerts together, again at once). The figure is spans inserted per second
 * (from /healthz) with readers / without, paired phase by phase. Not part of `pnpm bench`:
 *   node bench/read-contention.ts --rounds=6 --phase=15 --readers=1
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { runLoad } from '../packages/exporter/test/support/ledger-load.ts';
import { startServe, waitHealth } from '../packages/exporter/test/support/serve-process.ts';
import { arg, fmt, median, medianCi } from './harness.ts';

const rounds = Number(arg('rounds', '6'));
const phaseS = Number(arg('phase', '15'));
const readers = Number(arg('readers', '1'));
const workers = Number(arg('workers', '4'));
const data = mkdtempSync(join(tmpdir(), 'spendtrace-reads-'));

const inserted = async (url: string) => Number(((await (await fetch(`${url}/healthz`)).json()) as { spansInserted: number }).spansInserted);

try {
  const srv = await startServe(['--data', data]);
  const load = runLoad(() => srv.url, { workers, spansPerBody: 100 });
  await new Promise((r) => setTimeout(r, 5000)); // warm-up: JIT, first parts, rollups non-empty
  const ratios: number[] = [];
  const ackRatios: number[] = [];
  const rows: string[] = [];
  const reportMs: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const rate: Record<string, number> = {};
    const ack: Record<string, number> = {};
    // Alternate which phase goes first, so a drift over the run hits both alike.
    const order = round % 2 ? ['readers', 'none'] : ['none', 'readers'];
    for (const phase of order) {
      let stop = false;
      let reads = 0;
      const reader = async () => {
        while (!stop) {
          const t = performance.now();
          const r = await fetch(`${srv.url}/api/report?since=24h`);
          await r.text();
          reportMs.push(performance.now() - t);
          await Promise.all(['/api/insights', '/api/alerts'].map(async (p) => (await fetch(`${srv.url}${p}?since=24h`)).text()));
          reads++;
        }
      };
      const a0 = load.ledger.spans;
      const i0 = await inserted(srv.url);
      const t0 = performance.now();
      const loops = phase === 'readers' ? Array.from({ length: readers }, reader) : [];
      await new Promise((r) => setTimeout(r, phaseS * 1000));
      const i1 = await inserted(srv.url);
      const s = (performance.now() - t0) / 1000;
      const a1 = load.ledger.spans;
      stop = true;
      await Promise.all(loops);
      rate[phase] = (i1 - i0) / s;
      ack[phase] = (a1 - a0) / s;
      rows.push(
        `round ${round} ${phase.padEnd(7)}: inserted ${fmt((i1 - i0) / s, 0)} spans/s, acknowledged ${fmt((a1 - a0) / s, 0)} spans/s${phase === 'readers' ? `, ${reads} dashboard loads` : ''}`,
      );
    }
    ratios.push(rate.readers! / rate.none!);
    ackRatios.push(ack.readers! / ack.none!);
  }
  await load.stop();
  await waitHealth(srv.url, (x) => x.backlogRecords === 0, 120_000);
  await srv.kill('SIGTERM');
  for (const r of rows) console.log(r);
  for (const [what, xs] of [
    ['inserted', ratios],
    ['acknowledged', ackRatios],
  ] as const) {
    const [lo, hi] = medianCi(xs);
    console.log(
      `${what} spans/s with readers / without: median ${fmt(median(xs), 3)} (95% CI ${fmt(lo, 3)}-${fmt(hi, 3)}; per round ${xs.map((x) => fmt(x, 3)).join(', ')})`,
    );
  }
  console.log(`/api/report latency under ingest: median ${fmt(median(reportMs), 0)} ms, max ${fmt(Math.max(...reportMs), 0)} ms (${reportMs.length} loads)`);
  console.log(
    `refusals: ${JSON.stringify(load.ledger.refusals)}; loadavg ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}; ${rounds} rounds x 2 phases of ${phaseS} s, ${workers} writers x 100-span bodies, ${readers} reader loop(s)`,
  );
} finally {
  rmSync(data, { recursive: true, force: true });
}
