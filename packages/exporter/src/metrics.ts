/**
 * The service's own metrics, for Prometheus at GET /metrics. prom-client rather than the
 * OpenTelemetry Prometheus exporter: it is what Node services expose metrics with, it keeps its
 * own registry (no global MeterProvider to share with an instrumented host), it renders the text
 * format on demand without a second listener, and its names reach Prometheus as written (the OTel
 * exporter rewrites names with unit suffixes).
 *
 * Counters are fed by the one function both OTLP protocols call (export-traces.ts) and by a thin
 * wrapper around the store's insert; gauges for state that lives elsewhere (the write-ahead log,
 * the batcher) are registered with `registerGauge`, read at scrape time from a getter.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Store } from './store/store.ts';

export type OtlpProtocol = 'http' | 'grpc';

/** Why spans were refused; one label value each. */
export type RejectReason = 'invalid' | 'busy' | 'store_unavailable' | 'malformed' | 'too_large' | 'unsupported' | 'unauthenticated';

export class ServiceMetrics {
  readonly registry = new Registry();
  readonly spansReceived: Counter<'protocol'>;
  readonly spansAccepted: Counter<'protocol'>;
  readonly spansRejected: Counter<'protocol' | 'reason'>;
  readonly spansDeduplicated: Counter<'protocol'>;
  readonly requestsRejected: Counter<'protocol' | 'reason'>;
  readonly spansInserted: Counter;
  readonly insertDuration: Histogram<'outcome'>;

  constructor(o: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.spansReceived = new Counter({ name: 'spendtrace_spans_received_total', help: 'Spans in OTLP requests that decoded.', labelNames: ['protocol'], registers });
    this.spansAccepted = new Counter({ name: 'spendtrace_spans_accepted_total', help: 'New spans taken for storage (acknowledged to the sender).', labelNames: ['protocol'], registers });
    this.spansRejected = new Counter({
      name: 'spendtrace_spans_rejected_total',
      help: 'Spans refused, by reason: invalid (reported in partial success), busy (429 / RESOURCE_EXHAUSTED), store_unavailable (503 / UNAVAILABLE).',
      labelNames: ['protocol', 'reason'], registers,
    });
    this.spansDeduplicated = new Counter({ name: 'spendtrace_spans_deduplicated_total', help: 'Spans already stored (a replay): acknowledged, not stored again.', labelNames: ['protocol'], registers });
    this.requestsRejected = new Counter({
      name: 'spendtrace_otlp_requests_rejected_total',
      help: 'OTLP requests refused before their spans could be counted, by reason: malformed, too_large, unsupported, unauthenticated.',
      labelNames: ['protocol', 'reason'], registers,
    });
    this.spansInserted = new Counter({ name: 'spendtrace_spans_inserted_total', help: 'Span rows the store confirmed inserted.', registers });
    this.insertDuration = new Histogram({
      name: 'spendtrace_store_insert_duration_seconds', help: 'Time of one insert of span rows into the store, by outcome (ok, error).',
      labelNames: ['outcome'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers,
    });
    if (o.processMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'spendtrace_' });
  }

  /**
   * A gauge read at scrape time. `read` returning undefined leaves the gauge without a sample
   * (the value does not exist yet), never a made-up 0.
   */
  registerGauge(name: string, help: string, read: () => number | undefined): void {
    new Gauge({
      name, help, registers: [this.registry],
      collect() {
        const v = read();
        if (v === undefined || !Number.isFinite(v)) this.reset();
        else this.set(v);
      },
    });
  }

  /**
   * The store, with inserts into `table` counted and timed. Everything else passes through
   * untouched, including methods a backend adds beyond the Store interface.
   */
  instrumentStore<S extends Store>(store: S, table: string): S {
    const m = this;
    const insert: Store['insert'] = async (t, rows, opts) => {
      if (t !== table) return store.insert(t, rows, opts);
      const end = m.insertDuration.startTimer();
      try {
        await store.insert(t, rows, opts);
      } catch (e) {
        end({ outcome: 'error' });
        throw e;
      }
      end({ outcome: 'ok' });
      m.spansInserted.inc(rows.length);
    };
    return new Proxy(store, {
      get(target, prop) {
        if (prop === 'insert') return insert;
        const v = Reflect.get(target, prop, target) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

/** GET /metrics, for `startServer({ extraRoutes })`. */
export function createMetricsRoute(metrics: ServiceMetrics) {
  return async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> => {
    if (url.pathname !== '/metrics') return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const { contentType, body } = await metrics.render();
    res.writeHead(200, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  };
}
