/**
 * One decoded OTLP export, whichever protocol brought it: hand it to the Ingester and say what the
 * sender gets back. OTLP/HTTP (server.ts) and OTLP/gRPC (otlp-grpc-receiver.ts) both call this, so
 * the two protocols acknowledge, refuse and count exactly alike; each only spells the outcome in
 * its own status codes.
 */
import type { ServiceMetrics, OtlpProtocol } from '../metrics.ts';
import { countSpans, type TraceRequest } from '../otlp/span.ts';
import { BackpressureError, type Ingester } from './ingester.ts';

export type ExportOutcome =
  /** Taken (an empty message and 0 rejected: full success; otherwise an OTLP partial success). */
  | { kind: 'ok'; rejected: number; message: string }
  /** Nothing taken; retry after `retryAfterSeconds`. busy: 429 / RESOURCE_EXHAUSTED; unavailable: 503 / UNAVAILABLE. */
  | { kind: 'busy' | 'unavailable'; message: string; retryAfterSeconds: number };

export async function exportTraces(ingester: Ingester, request: TraceRequest, protocol: OtlpProtocol, metrics?: ServiceMetrics): Promise<ExportOutcome> {
  const spans = countSpans(request);
  metrics?.spansReceived.inc({ protocol }, spans);
  try {
    // Awaited: the ingest entry point resolves once the spans are safe (a sync result is fine too).
    const result = await ingester.ingest(request);
    metrics?.spansAccepted.inc({ protocol }, result.accepted);
    metrics?.spansDeduplicated.inc({ protocol, stage: 'window' }, result.duplicates);
    if (result.rejected) metrics?.spansRejected.inc({ protocol, reason: 'invalid' }, result.rejected);
    const message = [
      result.rejected ? `${result.rejected} spans rejected` : '',
      result.clamped ? `${result.clamped} spans had values clamped or dropped` : '',
      ...result.messages,
    ]
      .filter(Boolean)
      .join('; ');
    return { kind: 'ok', rejected: result.rejected, message };
  } catch (e) {
    if (e instanceof BackpressureError) {
      metrics?.spansRejected.inc({ protocol, reason: e.storeDown ? 'store_unavailable' : 'busy' }, spans);
      return { kind: e.storeDown ? 'unavailable' : 'busy', message: e.message, retryAfterSeconds: e.retryAfterSeconds };
    }
    throw e;
  }
}
