export { Ingester, BackpressureError, IngesterClosedError, type IngesterOptions, type IngestResult } from './ingester.ts';
export { Drainer, type DrainerOptions } from './drainer.ts';
export { SpanWriter, StoreUnavailableError, byDay, byPartitions, MAX_PARTITIONS_PER_INSERT } from './span-writer.ts';
export { WriteAheadLog, WalFullError } from './write-ahead-log.ts';
export { requestToRows, type RequestRows } from './request-to-rows.ts';
export { spanToRow, LIMITS, nsText } from './span-to-row.ts';
export { classifySpan, INFERENCE_OPERATIONS, type SpanClass } from './classify.ts';
export { SeenWindow } from './seen-window.ts';
export type { SpanRow } from './span-row.ts';
