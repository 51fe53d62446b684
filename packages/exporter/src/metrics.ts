/**
 * The service's own metrics, for Prometheus at GET /metrics. prom-client rather than the
 * OpenTelemetry Prometheus exporter: it is what Node services expose metrics with, it keeps its
 * own registry (no global MeterProvider to share with an instrumented host), it renders the text
 * format on demand without a second listener, and its names reach Prometheus as written (the OTel
 * exporter rewrites names with unit suffixes).
 *
 * Counters are fed by the one function both OTLP protocols call (export-traces.ts) and by the
 * ingester's writer (`observeInsert`); gauges for state that lives elsewhere (the write-ahead log,
 * the drainer) are registered with `registerGauge`, read at scrape time from a getter.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Ingester } from './ingest/ingester.ts';

type IngesterStats = ReturnType<Ingester['stats']>;

export type OtlpProtocol = 'http' | 'grpc';

/** Why spans were refused; one label value each. */
export type RejectReason = 'invalid' | 'busy' | 'store_unavailable' | 'malformed' | 'too_large' | 'unsupported' | 'unauthenticated';

export class ServiceMetrics {
  readonly registry = new Registry();
  readonly spansReceived: Counter<'protocol'>;
  readonly spansAccepted: Counter<'protocol'>;
  readonly spansRejected: Counter<'protocol' | 'reason'>;
  readonly spansDeduplicated: Counter<'protocol' | 'stage'>;
  readonly requestsRejected: Counter<'protocol' | 'reason'>;
  readonly spansInserted: Counter;
  readonly insertDuration: Histogram<'outcome'>;

  constructor(o: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.spansReceived = new Counter({
      name: 'spendtrace_spans_received_total',
      help: 'Spans in OTLP requests that decoded.',
      labelNames: ['protocol'],
      registers,
    });
    this.spansAccepted = new Counter({
      name: 'spendtrace_spans_accepted_total',
      help: 'New spans taken for storage (acknowledged to the sender).',
      labelNames: ['protocol'],
      registers,
    });
    this.spansRejected = new Counter({
      name: 'spendtrace_spans_rejected_total',
      help: 'Spans refused, by reason: invalid (reported in partial success), busy (429 / RESOURCE_EXHAUSTED), store_unavailable (503 / UNAVAILABLE).',
      labelNames: ['protocol', 'reason'],
      registers,
    });
    this.spansDeduplicated = new Counter({
      name: 'spendtrace_spans_deduplicated_total',
      help: 'Spans dropped as duplicates (acknowledged, not stored again), by stage: window (a replay the replay window remembered, by protocol) and store (rows the store already held when inserted: older replays, the write-ahead log read back after a restart).',
      labelNames: ['protocol', 'stage'],
      registers,
    });
    this.requestsRejected = new Counter({
      name: 'spendtrace_otlp_requests_rejected_total',
      help: 'OTLP requests refused before their spans could be counted, by reason: malformed, too_large, unsupported, unauthenticated.',
      labelNames: ['protocol', 'reason'],
      registers,
    });
    this.spansInserted = new Counter({
      name: 'spendtrace_spans_inserted_total',
      help: 'Spans the store confirmed inserted (new rows; replays it already had are not counted).',
      registers,
    });
    this.insertDuration = new Histogram({
      name: 'spendtrace_store_insert_duration_seconds',
      help: 'Time of one insert of span rows into the store, by outcome (ok, error).',
      labelNames: ['outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    if (o.processMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'spendtrace_' });
  }

  /**
   * A gauge read at scrape time. `read` returning undefined leaves the gauge without a sample
   * (the value does not exist yet), never a made-up 0.
   */
  registerGauge(name: string, help: string, read: () => number | undefined): void {
    new Gauge({
      name,
      help,
      registers: [this.registry],
      collect() {
        const v = read();
        if (v === undefined || !Number.isFinite(v)) this.reset();
        else this.set(v);
      },
    });
  }

  /**
   * A counter whose value lives elsewhere (monotonic since start), read at scrape time; undefined
   * leaves it without a sample.
   */
  registerCounter(name: string, help: string, read: () => number | undefined): void {
    new Counter({
      name,
      help,
      registers: [this.registry],
      collect() {
        const v = read();
        this.reset();
        if (v !== undefined && Number.isFinite(v) && v > 0) this.inc(v);
      },
    });
  }

  /** The ingester's state: store health, what waits in memory and in the write-ahead log, dead letters. */
  registerIngester(stats: () => IngesterStats): void {
    this.registerGauge('spendtrace_store_healthy', '1 while inserts into the store succeed, 0 while they fail.', () => (stats().storeHealthy ? 1 : 0));
    this.registerGauge('spendtrace_ingest_pending_spans', 'Accepted spans held in memory, not yet inserted.', () => stats().memoryRows);
    this.registerGauge(
      'spendtrace_ingest_backlog_records',
      'Logged requests not yet inserted that are read back from the write-ahead log (store slow or down).',
      () => stats().backlogRecords,
    );
    this.registerGauge('spendtrace_wal_bytes', 'Bytes in the write-ahead log (accepted, not yet known to be in the store).', () =>
      stats().log.enabled ? stats().log.bytes : undefined,
    );
    this.registerGauge('spendtrace_wal_max_bytes', "The write-ahead log's disk budget; past it OTLP gets 503 / UNAVAILABLE.", () =>
      stats().log.enabled ? stats().log.maxBytes : undefined,
    );
    this.registerGauge(
      'spendtrace_wal_oldest_entry_age_seconds',
      'Age of the oldest accepted span not yet in the store.',
      () => stats().log.oldestAgeMs / 1000,
    );
    this.registerCounter('spendtrace_wal_fsyncs_total', 'fdatasync calls of the write-ahead log (group commit: several requests share one).', () =>
      stats().log.enabled ? stats().log.syncs : undefined,
    );
    this.registerCounter(
      'spendtrace_spans_dead_lettered_total',
      'Spans the store refused for their content, set aside in the dead-letter file.',
      () => stats().spansDeadLettered,
    );
    this.registerCounter(
      'spendtrace_store_insert_failures_total',
      'Failed insert attempts (the batch stays queued and is retried).',
      () => stats().insertFailures,
    );
  }

  /** One batch insert of span rows (from the ingester's writer): timed, its new rows and the duplicates it dropped counted. */
  observeInsert(i: { ms: number; ok: boolean; rows: number; duplicates?: number }): void {
    this.insertDuration.observe({ outcome: i.ok ? 'ok' : 'error' }, i.ms / 1000);
    if (i.rows) this.spansInserted.inc(i.rows);
    if (i.duplicates) this.spansDeduplicated.inc({ stage: 'store' }, i.duplicates);
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
