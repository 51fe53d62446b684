/**
 * The export path's middle, top to bottom: walk resource -> scope -> span, turning each span into
 * a row. Nothing here throws for a bad span: it is rejected (counted, with a reason) or kept with
 * its absurd values clamped, so one span never costs the rest of the request.
 */
import type { Pricer } from '@spendtrace/semconv';
import type { TraceRequest } from '../otlp/span.ts';
import { resourceColumns, scopeColumns } from './normalize.ts';
import { spanToRow } from './span-to-row.ts';
import type { SpanRow } from './span-row.ts';

export interface RequestRows {
  rows: SpanRow[];
  /** Spans not stored: invalid ids, or a span id repeated within the request. */
  rejected: number;
  /** Spans stored with values clamped or dropped. */
  clamped: number;
  /** The first few reasons, for the partial-success message. */
  messages: string[];
}

const MAX_MESSAGES = 5;

export function requestToRows(req: TraceRequest, pricer: Pricer, nowNs: bigint = BigInt(Date.now()) * 1_000_000n): RequestRows {
  const out: RequestRows = { rows: [], rejected: 0, clamped: 0, messages: [] };
  const seen = new Set<string>();
  const note = (m: string) => {
    if (out.messages.length < MAX_MESSAGES) out.messages.push(m);
  };
  for (const rs of req.resourceSpans) {
    const resource = resourceColumns(rs.resource);
    for (const ss of rs.scopeSpans) {
      const ctx = { ...resource, ...scopeColumns(ss.scope) };
      for (const span of ss.spans) {
        let r: ReturnType<typeof spanToRow>;
        try {
          r = spanToRow(span, ctx, pricer, nowNs);
        } catch (e) {
          // A bug here must cost one span, not the request; the reason says which.
          r = { rejected: `span ${span.spanId || '?'}: ${(e as Error).message}` };
        }
        if ('rejected' in r) {
          out.rejected++;
          note(r.rejected);
          continue;
        }
        const key = r.row.trace_id + r.row.span_id;
        if (seen.has(key)) {
          out.rejected++;
          note(`span ${r.row.span_id}: repeated within the request`);
          continue;
        }
        seen.add(key);
        if (r.warnings.length) {
          out.clamped++;
          note(`span ${r.row.span_id}: ${r.warnings.join('; ')}`);
        }
        out.rows.push(r.row);
      }
    }
  }
  return out;
}
