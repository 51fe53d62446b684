/**
 * The service as the CLI runs it: store + schema + OTLP receiver + the /api routes, started and
 * stopped as one. `serve` and `demo` both use it.
 */
import { join } from 'node:path';
import { Pricer, PricingConfigError } from '@spendtrace/semconv';
import { migrate } from '../schema/index.ts';
import type { Store } from '../store/index.ts';
import { createReportRoutes } from '../reports/index.ts';
import { insightsEndpoint } from '../insights/api.ts';
import type { InsightThresholds } from '../insights/thresholds.ts';
import { createDashboardRoute } from '../dashboard/dashboard.ts';
import { AlertEvaluator, createAlertsRoute } from '../alerts/index.ts';
import type { AlertsConfig } from '../alerts/index.ts';
import type { TokenAuth } from '../auth.ts';
import { createMetricsRoute, ServiceMetrics } from '../metrics.ts';
import type { ClickHouseHttpServer, SqlReader } from '../clickhouse-http/index.ts';
import { CliError, EXIT } from './errors.ts';
import { openStore, storeFailure } from './open-store.ts';
import type { StoreSettings } from './open-store.ts';

export interface ServiceOptions {
  settings: StoreSettings;
  port: number;
  host: string;
  /** Price overrides file (custom / fine-tuned / negotiated prices). */
  prices: string | undefined;
  /** Operational messages from the receiver (insert failures and such). */
  log: (line: string) => void;
  /** Create the schema on start (IF NOT EXISTS). Off for operators who own their DDL. @default true */
  createSchema?: boolean;
  /** The insight detectors' thresholds (the config file's `insights`). @default DEFAULT_INSIGHT_THRESHOLDS */
  insights?: InsightThresholds | undefined;
  /** Alert rules and sinks; the service evaluates them continuously. */
  alerts?: AlertsConfig | undefined;
  /** Where incidents are kept across restarts. @default in memory */
  incidentsFile?: string | undefined;
  /** The write-ahead log's directory. @default `<data>/wal` */
  walDir?: string;
  /** The log's disk budget; beyond it the receiver answers 503. @default 1 GiB */
  walMaxBytes?: number;
  /** How long a stop waits for the store before leaving the rest in the log. @default 10 s */
  shutdownTimeoutMs?: number;
  /** OTLP/gRPC port. @default 'off' here; `serve` defaults to 4317 */
  grpcPort?: number | 'off';
  /** ClickHouse HTTP interface on the embedded store (off with a ClickHouse server). @default 'off' here; `serve` defaults to 8123 */
  clickhouseHttpPort?: number | 'off';
  auth?: TokenAuth;
}

export interface RunningService {
  url: string;
  port: number;
  store: Store;
  /** The alert evaluator, when alerts are configured. */
  alerts: AlertEvaluator | undefined;
  /** host:port of OTLP/gRPC, when on. */
  grpcAddress: string | undefined;
  /** URL of the ClickHouse HTTP interface, when on. */
  clickhouseHttpUrl: string | undefined;
  metrics: ServiceMetrics;
  flush(): Promise<void>;
  /** Flushes pending spans, stops listening, closes the store. Idempotent. */
  close(): Promise<void>;
}

type ServerHandle = Awaited<ReturnType<typeof import('../server.ts').startServer>>;

export async function startService(o: ServiceOptions): Promise<RunningService> {
  let pricer: Pricer;
  try {
    pricer = new Pricer(o.prices ? { overridesFile: o.prices } : {});
  } catch (err) {
    if (err instanceof PricingConfigError) throw new CliError(EXIT.CONFIG, err.message, { cause: err });
    throw err;
  }
  // Imported lazily so `report` and `--help` never load the receiver.
  const { startServer } = await import('../server.ts');
  const store = await openStore(o.settings);
  const metrics = new ServiceMetrics();
  let server: ServerHandle | undefined;
  let alerts: AlertEvaluator | undefined;
  let reader: SqlReader | undefined;
  let clickhouseHttp: ClickHouseHttpServer | undefined;
  let listening = `${o.host}:${o.port}`;
  try {
    // The schema is created by the writer before its first insert and retried with it, so the
    // service starts (and accepts into its log) while a ClickHouse server is still down.
    const ensureSchema =
      o.createSchema !== false
        ? async () => {
            await migrate(store, { database: o.settings.database });
          }
        : undefined;
    // Tried once now so reports work at once; a store that is down gets it at the first insert.
    await ensureSchema?.().catch((e: unknown) => o.log(`store not ready (${(e as Error)?.message ?? e}); accepting into the log, schema and inserts retried`));
    if (o.alerts?.rules.length) alerts = new AlertEvaluator({ store, database: o.settings.database, config: o.alerts, file: o.incidentsFile, log: o.log });
    server = await startServer({
      port: o.port,
      host: o.host,
      store,
      pricer,
      database: o.settings.database,
      extraRoutes: combineRoutes(
        createAlertsRoute(alerts),
        createReportRoutes({ store, database: o.settings.database, more: insightsEndpoint(store, pricer, o.insights) }),
        createMetricsRoute(metrics),
        createDashboardRoute(),
      ),
      log: o.log,
      auth: o.auth,
      metrics,
      grpcPort: o.grpcPort === 'off' ? undefined : o.grpcPort,
      ingest: {
        wal: { dir: o.walDir ?? join(o.settings.data, 'wal'), ...(o.walMaxBytes ? { maxBytes: o.walMaxBytes } : {}) },
        ...(ensureSchema ? { ensureSchema } : {}),
        onInsert: (i) => metrics.observeInsert(i),
      },
    });
    const { ingester } = server;
    metrics.registerIngester(() => ingester.stats());
    if (o.clickhouseHttpPort !== undefined && o.clickhouseHttpPort !== 'off' && store.kind === 'chdb') {
      listening = `${o.host}:${o.clickhouseHttpPort}`;
      const ch = await import('../clickhouse-http/index.ts');
      reader = ch.openChdbReader((store as import('../store/index.ts').ChdbStore).dataDir);
      clickhouseHttp = await ch.startClickHouseHttp({ reader, database: o.settings.database, port: o.clickhouseHttpPort, host: o.host, auth: o.auth });
    }
  } catch (err) {
    await server?.close().catch(() => undefined);
    await reader?.close().catch(() => undefined);
    await store.close().catch(() => undefined);
    if (err instanceof Error && 'port' in err) listening = `${o.host}:${String(err.port)}`;
    if (err instanceof Error && 'code' in err && (err.code === 'EADDRINUSE' || err.code === 'EACCES')) {
      throw new CliError(EXIT.STORE, `cannot listen on ${listening}: ${err.code === 'EADDRINUSE' ? 'the port is in use' : 'permission denied'}`, {
        cause: err,
        hint: 'pick others with --port, --grpc-port, --clickhouse-http-port (0 picks a free one, off turns gRPC / ClickHouse HTTP off)',
      });
    }
    throw storeFailure(err, o.settings);
  }
  alerts?.start();
  const started = server;
  let closing: Promise<void> | undefined;
  return {
    url: server.url,
    port: server.port,
    store,
    alerts,
    grpcAddress: started.grpcAddress,
    clickhouseHttpUrl: clickhouseHttp?.url,
    metrics,
    flush: () => started.flush(),
    close: () =>
      (closing ??= (async () => {
        try {
          await alerts?.close();
          await clickhouseHttp?.close();
          await reader?.close();
          await started.close(o.shutdownTimeoutMs ?? 10_000);
        } finally {
          await store.close();
        }
      })()),
  };
}

type Route = (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse, url: URL) => Promise<boolean> | boolean;

/** Tries each route in order; the first that handles the request wins. */
function combineRoutes(...routes: Route[]): Route {
  return async (req, res, url) => {
    for (const r of routes) if (await r(req, res, url)) return true;
    return false;
  };
}
