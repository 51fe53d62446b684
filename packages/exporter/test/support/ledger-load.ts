/**
 * Load for the fault harness: OTLP/JSON bodies of priced inference spans with unique ids and a
 * provider-reported cost, sent by workers that retry as the OpenTelemetry exporters do (the same
 * body again after a network error, a 429 or a 503, honouring Retry-After, until a 2xx), and a
 * ledger of what was acknowledged: spans and pico-dollars, to compare with the store.
 */
import { randomBytes } from 'node:crypto';
import { usdToPico } from '@spendtrace/semconv';

export interface Body {
  text: string;
  spans: number;
  pico: bigint;
  /** The one trace of its spans (to find a body in the store). */
  traceId: string;
  /** When it was acknowledged (ms since the epoch), once it was. */
  ackedAt?: number;
}

export interface Ledger {
  bodies: Body[];
  spans: number;
  pico: bigint;
  /** Answers other than 2xx seen (by status; 0 = network error). */
  refusals: Record<number, number>;
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/** One request of `n` chat spans (one trace), costs in whole micro-dollars, started `ageMs` ago. */
export function goodBody(n: number, ageMs = 0, service = 'fault-fleet'): Body {
  const traceId = hex(16);
  let pico = 0n;
  const start = BigInt(Date.now() - ageMs) * 1_000_000n;
  const spans = Array.from({ length: n }, (_, i) => {
    const usd = (1 + Math.floor(Math.random() * 5000)) / 1e6;
    pico += usdToPico(usd);
    const s = start + BigInt(i) * 1000n;
    return {
      traceId,
      spanId: hex(8),
      name: 'chat gpt-4o-mini',
      kind: 3,
      startTimeUnixNano: s.toString(),
      endTimeUnixNano: (s + 5_000_000n).toString(),
      attributes: [
        { key: 'gen_ai.operation.name', value: { stringValue: 'chat' } },
        { key: 'gen_ai.provider.name', value: { stringValue: 'openai' } },
        { key: 'gen_ai.request.model', value: { stringValue: 'gpt-4o-mini' } },
        { key: 'gen_ai.usage.input_tokens', value: { intValue: String(100 + i) } },
        { key: 'gen_ai.usage.output_tokens', value: { intValue: '20' } },
        { key: 'gen_ai.usage.cost.amount', value: { doubleValue: usd } },
        { key: 'gen_ai.usage.cost.source', value: { stringValue: 'provider' } },
      ],
      status: { code: 1 },
    };
  });
  const text = JSON.stringify({
    resourceSpans: [
      { resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] }, scopeSpans: [{ scope: { name: 'fault-harness' }, spans }] },
    ],
  });
  return { text, spans: n, pico, traceId };
}

/** The same spans in another order (a replay as a Collector might re-batch it). */
export function shuffled(body: Body): Body {
  const req = JSON.parse(body.text) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: unknown[] }> }> };
  const spans = req.resourceSpans[0]!.scopeSpans[0]!.spans;
  for (let i = spans.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [spans[i], spans[j]] = [spans[j], spans[i]];
  }
  return { ...body, text: JSON.stringify(req) };
}

export interface PostResult {
  status: number;
  json: { partialSuccess?: { rejectedSpans?: string; errorMessage?: string } };
}

/** Posts until a 2xx (or a 4xx other than 429, returned as is). */
export async function sendUntilAcked(
  url: () => string,
  body: string,
  contentType: string,
  refusals: Record<number, number>,
  deadline = Date.now() + 240_000,
): Promise<PostResult> {
  let backoff = 100;
  for (;;) {
    if (Date.now() > deadline) throw new Error('not acknowledged before the deadline');
    let wait = backoff;
    try {
      const res = await fetch(`${url()}/v1/traces`, { method: 'POST', body, headers: { 'content-type': contentType }, signal: AbortSignal.timeout(20_000) });
      const text = await res.text();
      if (res.status >= 200 && res.status < 300)
        return { status: res.status, json: contentType === 'application/json' && text ? (JSON.parse(text) as PostResult['json']) : {} };
      refusals[res.status] = (refusals[res.status] ?? 0) + 1;
      if (res.status !== 429 && res.status !== 503) return { status: res.status, json: {} };
      // Retry-After in seconds, shortened for the test's clock (the exporters honour it as is).
      wait = Math.min(1000, Number(res.headers.get('retry-after') ?? 1) * 200);
    } catch {
      refusals[0] = (refusals[0] ?? 0) + 1;
    }
    await new Promise((r) => setTimeout(r, wait));
    backoff = Math.min(1000, backoff * 2);
  }
}

/** `workers` loops sending fresh bodies until stopped; every body is retried until acknowledged. */
export function runLoad(url: () => string, o: { workers: number; spansPerBody: number; backdate?: (i: number) => number }) {
  const ledger: Ledger = { bodies: [], spans: 0, pico: 0n, refusals: {} };
  let stop = false;
  let i = 0;
  const worker = async () => {
    while (!stop) {
      const body = goodBody(o.spansPerBody, o.backdate?.(i++) ?? 0);
      const r = await sendUntilAcked(url, body.text, 'application/json', ledger.refusals);
      if (r.status !== 200) throw new Error(`unexpected ${r.status}`);
      body.ackedAt = Date.now();
      ledger.bodies.push(body);
      ledger.spans += body.spans;
      ledger.pico += body.pico;
    }
  };
  const done = Promise.all(Array.from({ length: o.workers }, worker));
  return {
    ledger,
    done,
    stop: () => {
      stop = true;
      return done;
    },
  };
}
