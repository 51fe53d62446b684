/**
 * Replies in the encoding of the request: ExportTraceServiceResponse on success (partial_success
 * only when spans were rejected, as the spec asks), google.rpc.Status on errors.
 */
import { otlpTypes } from './proto-types.ts';

export type OtlpEncoding = 'protobuf' | 'json';

export const CONTENT_TYPE: Record<OtlpEncoding, string> = { protobuf: 'application/x-protobuf', json: 'application/json' };

export function encodeExportResponse(encoding: OtlpEncoding, rejectedSpans: number, errorMessage: string): Uint8Array {
  const partial = rejectedSpans > 0 || errorMessage ? { rejectedSpans, errorMessage } : undefined;
  if (encoding === 'json') {
    return Buffer.from(JSON.stringify(partial ? { partialSuccess: { rejectedSpans: String(rejectedSpans), errorMessage } } : {}));
  }
  const t = otlpTypes().response;
  return t.encode(t.create(partial ? { partialSuccess: partial } : {})).finish();
}

/** gRPC-style status codes the OTLP/HTTP spec reuses in error bodies. */
export const RPC_CODE = { INVALID_ARGUMENT: 3, RESOURCE_EXHAUSTED: 8, UNAVAILABLE: 14, INTERNAL: 13 } as const;

export function encodeStatus(encoding: OtlpEncoding, code: number, message: string): Uint8Array {
  if (encoding === 'json') return Buffer.from(JSON.stringify({ code, message }));
  const t = otlpTypes().status;
  return t.encode(t.create({ code, message })).finish();
}
