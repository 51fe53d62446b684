/**
 * OTLP protobuf decode alone, one variant per process, driven block by block by harness.ts
 * `runInterleaved`: every block decodes the same request bodies (real ProtobufTraceSerializer
 * output, see otlp-requests.ts) into the TraceRequest ingest consumes. Variants:
 *   protobufjs  the generic reflection decoder plus the walk into TraceRequest (the reference)
 *   wire        the purpose-built reader the service uses (packages/exporter/src/otlp/decode-protobuf.ts)
 * Both are checked once, in set-up, to give the same result on these bodies.
 */
import { isDeepStrictEqual } from 'node:util';
import { decodeProtobufRequest, decodeProtobufRequestWithProtobufjs, type TraceRequest } from '@spendtrace/exporter';
import { arg, cpuMicros, heapActivity, serveBlocks, threadCpuMicros, type Sample } from './harness.ts';
import { readRequests } from './otlp-requests.ts';

const variant = arg('variant');
const decoders: Record<string, (b: Uint8Array) => TraceRequest> = { protobufjs: decodeProtobufRequestWithProtobufjs, wire: decodeProtobufRequest };

function spansOf(r: TraceRequest): number {
  let n = 0;
  for (const rs of r.resourceSpans) for (const ss of rs.scopeSpans) n += ss.spans.length;
  return n;
}

await serveBlocks(async () => {
  const decode = decoders[variant];
  if (!decode) throw new Error(`unknown variant ${variant}`);
  const bodies = readRequests(arg('requests'));
  let spans = 0;
  for (const b of bodies) {
    const got = decode(b);
    if (!isDeepStrictEqual(got, decodeProtobufRequestWithProtobufjs(b))) throw new Error('decoders disagree on a bench body');
    spans += spansOf(got);
  }
  for (let i = 0; i < 5; i++) for (const b of bodies) decode(b); // warm-up: JIT tiers
  return {
    block: async (): Promise<Sample> => {
      let sink = 0;
      const { bytes, result } = await heapActivity(async () => {
        const cpu0 = cpuMicros();
        const thread0 = threadCpuMicros();
        const t0 = performance.now();
        for (const b of bodies) sink += decode(b).resourceSpans.length;
        return { wall: (performance.now() - t0) * 1000, cpu: cpuMicros() - cpu0, thread: threadCpuMicros() - thread0 };
      });
      if (!sink) throw new Error('nothing decoded');
      return {
        spans,
        cpuUsPerSpan: result.cpu / spans,
        threadCpuUsPerSpan: result.thread / spans,
        wallUsPerSpan: result.wall / spans,
        allocBytesPerSpan: bytes / spans,
      };
    },
  };
});
