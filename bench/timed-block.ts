/**
 * One timed block of a per-call benchmark (openai-calls.ts, provider-calls.ts): `calls` calls
 * awaited one after another plus `forceFlush()` of the app's BatchSpanProcessor, so span export is
 * inside the timed region. CPU is `process.cpuUsage()` (all threads: GC helpers count), heap
 * activity from `v8.GCProfiler`; after the block, untimed: a full GC for the heap that stays, the
 * RSS, and the p99 of the block's calls.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { TracerProvider } from '@opentelemetry/sdk-trace';
import type { CountingExporter } from './chat-workload.ts';
import { cpuMicros, heapActivity, threadCpuMicros, type Sample } from './harness.ts';

setFlagsFromString('--expose-gc');
const fullGc = runInNewContext('gc') as () => void;

export function timedBlock(calls: number, call: () => Promise<void>, provider: TracerProvider, exporter: CountingExporter): () => Promise<Sample> {
  const latencies = new Float64Array(calls);
  return async () => {
    const exported0 = exporter.count;
    const cpu0 = cpuMicros();
    const thread0 = threadCpuMicros();
    const t0 = performance.now();
    const heap = await heapActivity(async () => {
      for (let i = 0; i < calls; i++) {
        const c0 = performance.now();
        await call();
        latencies[i] = performance.now() - c0;
      }
      await provider.forceFlush();
    });
    const wallUs = (performance.now() - t0) * 1000;
    const cpu = cpuMicros() - cpu0;
    const threadCpu = threadCpuMicros() - thread0;
    fullGc();
    const sorted = Array.from(latencies).sort((a, b) => a - b);
    const p99Ms = sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)]!;
    const mem = process.memoryUsage();
    return {
      cpuUsPerCall: cpu / calls,
      threadCpuUsPerCall: threadCpu / calls,
      wallUsPerCall: wallUs / calls,
      allocKbPerCall: heap.bytes / 1024 / calls,
      promotedKbPerCall: heap.promotedBytes / 1024 / calls,
      gcUsPerCall: heap.gcMicros / calls,
      majorGcs: heap.majorGcs,
      p99Ms,
      retainedMb: mem.heapUsed / 1e6,
      rssMb: mem.rss / 1e6,
      spansPerCall: (exporter.count - exported0) / calls,
      calls,
    };
  };
}
