/** A request body that is not a valid OTLP ExportTraceServiceRequest: the receiver answers 400 with `reason`. */
export class OtlpDecodeError extends Error {
  readonly code = 'SPENDTRACE_OTLP_DECODE' as const;
  readonly reason: string;
  constructor(reason: string, options?: { cause?: unknown }) {
    super(`malformed OTLP trace request: ${reason}`, options);
    this.name = 'OtlpDecodeError';
    this.reason = reason;
  }
}
