/**
 * The service as the CLI runs it: store + schema + OTLP receiver + the /api routes, started and
 * stopped as one. `serve` and `demo` both use it.
 */
import { Pricer, PricingConfigError } from '@spendtrace/semconv';
import { migrate } from '../schema/index.ts';
import type { Store } from '../store/index.ts';
import { createReportRoutes } from '../reports/index.ts';
import { insightsEndpoint } from '../insights/api.ts';
import { createDashboardRoute } from '../dashboard/dashboard.ts';
import { AlertEvaluator, createAlertsRoute } from '../alerts/index.ts';
import type { AlertsConfig } from '../alerts/index.ts';
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
  /** Alert rules and sinks; the service evaluates them continuously. */
  alerts?: AlertsConfig | undefined;
  /** Where incidents are kept across restarts. @default in memory */
  incidentsFile?: string | undefined;
}

export interface RunningService {
  url: string;
  port: number;
  store: Store;
  /** The alert evaluator, when alerts are configured. */
  alerts: AlertEvaluator | undefined;
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
  let server: ServerHandle;
  let alerts: AlertEvaluator | undefined;
  try {
    await migrate(store, { database: o.settings.database, createSchema: o.createSchema !== false });
    if (o.alerts?.rules.length) alerts = new AlertEvaluator({ store, database: o.settings.database, config: o.alerts, file: o.incidentsFile, log: o.log });
    server = await startServer({
      port: o.port,
      host: o.host,
      store,
      pricer,
      database: o.settings.database,
      extraRoutes: combineRoutes(createAlertsRoute(alerts), createReportRoutes({ store, database: o.settings.database, more: insightsEndpoint(store, pricer) }), createDashboardRoute()),
      log: o.log,
    });
  } catch (err) {
    await store.close().catch(() => undefined);
    if (err instanceof Error && 'code' in err && (err.code === 'EADDRINUSE' || err.code === 'EACCES')) {
      throw new CliError(EXIT.STORE, `cannot listen on ${o.host}:${o.port}: ${err.code === 'EADDRINUSE' ? 'the port is in use' : 'permission denied'}`, {
        cause: err,
        hint: 'pick another with --port (or SPENDTRACE_PORT); --port 0 picks a free one',
      });
    }
    throw storeFailure(err, o.settings);
  }
  alerts?.start();
  let closing: Promise<void> | undefined;
  return {
    url: server.url,
    port: server.port,
    store,
    alerts,
    flush: () => server.flush(),
    close: () =>
      (closing ??= (async () => {
        try {
          await alerts?.close();
          await server.close();
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
