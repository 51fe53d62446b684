/**
 * RSS and throughput of the real `spendtrace serve` (embedded chDB, write-ahead log on) under a
 * sustained load: retrying OTLP/JSON clients (the fault harness's, test/support/ledger-load.ts)
 * sending 100-span bodies for --seconds, RSS read from /proc every 5 s. Not part of `pnpm bench`
 * (it is a soak, not a ratio):
 *   node bench/sustained-load.ts --seconds=600 --workers=4
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { runLoad } from '../packages/exporter/test/support/ledger-load.ts';
import { startServe, waitHealth } from '../packages/exporter/test/support/serve-process.ts';
import { arg } from './harness.ts';

const seconds = Number(arg('seconds', '600'));
const workers = Number(arg('workers', '4'));
const data = mkdtempSync(join(tmpdir(), 'spendtrace-soak-'));
const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
try {
  const srv = await startServe(['--data', data]);
  const load = runLoad(() => srv.url, { workers, spansPerBody: 100 });
  const t0 = Date.now();
  const samples: number[] = [];
  while (Date.now() - t0 < seconds * 1000) {
    await new Promise((r) => setTimeout(r, 5000));
    samples.push(rssMb(srv.pid));
    process.stderr.write(
      `${Math.round((Date.now() - t0) / 1000)} s: rss ${samples.at(-1)!.toFixed(0)} MB, acknowledged ${load.ledger.spans} spans, load ${loadavg()[0]!.toFixed(1)}\n`,
    );
  }
  await load.stop();
  const acked = load.ledger.spans;
  const h = await waitHealth(srv.url, (x) => x.backlogRecords === 0, 120_000);
  const ms = Date.now() - t0;
  await srv.kill('SIGTERM');
  const third = Math.floor(samples.length / 3);
  console.log(
    JSON.stringify({
      seconds,
      workers,
      acknowledged: acked,
      inserted: h.spansInserted,
      spansPerSec: Math.round((acked / ms) * 1000),
      rssMb: {
        first: Math.round(samples[0]!),
        max: Math.round(Math.max(...samples)),
        last: Math.round(samples.at(-1)!),
        meanFirstThird: Math.round(samples.slice(0, third).reduce((a, b) => a + b, 0) / Math.max(1, third)),
        meanLastThird: Math.round(samples.slice(-third).reduce((a, b) => a + b, 0) / Math.max(1, third)),
      },
      log: h.log,
      loadavg: loadavg().map((l) => +l.toFixed(1)),
    }),
  );
} finally {
  rmSync(data, { recursive: true, force: true });
}
