export { Batcher, BatcherClosedError, type BatcherOptions } from './batcher.ts';
export { Ingester, BackpressureError, type IngesterOptions, type IngestResult } from './ingester.ts';
export { requestToRows, type RequestRows } from './request-to-rows.ts';
export { spanToRow, LIMITS, nsText } from './span-to-row.ts';
export { classifySpan, INFERENCE_OPERATIONS, type SpanClass } from './classify.ts';
export { SeenWindow } from './seen-window.ts';
export type { SpanRow } from './span-row.ts';
