export { decodeProtobufRequest } from './decode-protobuf.ts';
export { decodeProtobufRequestWithProtobufjs } from './decode-protobufjs.ts';
export { otlpTypes } from './proto-types.ts';
export { decodeJsonRequest } from './decode-json.ts';
export { encodeExportResponse, encodeStatus, CONTENT_TYPE, RPC_CODE, type OtlpEncoding } from './encode-response.ts';
export { OtlpDecodeError } from './errors.ts';
export { countSpans, SPAN_KIND_NAMES, STATUS_CODE_NAMES } from './span.ts';
export type { AttrValue, Attributes, OtlpSpan, OtlpScopeSpans, OtlpResourceSpans, TraceRequest } from './span.ts';
