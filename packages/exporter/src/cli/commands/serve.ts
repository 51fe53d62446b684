/** `spendtrace serve`: the OTLP receivers, the store, the JSON API and the ClickHouse HTTP interface, until SIGINT/SIGTERM. */
import { join, resolve } from 'node:path';
import { INCIDENTS_FILE } from '../../alerts/index.ts';
import { AuthConfigError, exposureWarning, parseTokenList, TokenAuth } from '../../auth.ts';
import { alertsOf, ENV, insightsOf, parseOptionalPort, parsePort, pick } from '../config.ts';
import { parseFlags } from '../context.ts';
import type { Command } from '../context.ts';
import { CliError, EXIT } from '../errors.ts';
import { describeStore, writeServeRecord } from '../open-store.ts';
import { startService } from '../service.ts';
import { resolveStore, STORE_FLAGS, STORE_FLAGS_HELP } from '../settings.ts';

const help = `spendtrace serve — receive OpenTelemetry traces, price GenAI spans, store and roll them up

Usage: spendtrace serve [--port 4318] [--grpc-port 4317] [--clickhouse-http-port 8123] [--host 127.0.0.1]
                        [--data ./.spendtrace | --clickhouse-url URL] [--auth-tokens-file FILE]

Listens for OTLP/HTTP (protobuf or JSON, gzip) and OTLP/gRPC (gzip), and writes each inference, tool and task span to
ClickHouse, where materialized views keep cost per task (task_costs) and per hour (hourly_costs).
Spans that arrive without a cost are priced here. Creates the schema on start (idempotent).
Point an app's OTLP exporter, or an OpenTelemetry Collector's otlphttp exporter, at it:
  OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318

Endpoints:
  POST /v1/traces                        OTLP/HTTP traces
  GET  /healthz                          liveness
  GET  /api/summary?since=7d             headline numbers (JSON)
  GET  /api/costs?by=task|tool|model|agent|hour&since=7d
  GET  /api/report?since=7d              everything \`spendtrace report\` prints
  GET  /api/alerts                       firing and recent alert incidents
  GET  /metrics                          Prometheus metrics of the service itself
  GET  /                                 dashboard (the same report in a browser)
  gRPC :4317 TraceService/Export         OTLP/gRPC traces
  HTTP :8123 /?query=SELECT…             ClickHouse's HTTP interface on the embedded store, read-only
                                         (@clickhouse/client, curl, Grafana; not with --clickhouse-url,
                                         whose server has its own)

Auth: with tokens configured every endpoint but /healthz and /ping needs one: \`Authorization:
Bearer TOKEN\` (OTLP exporters: OTEL_EXPORTER_OTLP_HEADERS=authorization=Bearer%20TOKEN), or as
the HTTP basic password (dashboard, ClickHouse clients), or X-ClickHouse-Key. Several tokens may
be valid at once, to rotate one; the file is re-read when it changes.

Alerts: rules and sinks under "alerts" in the config file are evaluated continuously
(every 15 s by default); incidents are kept in <data>/${INCIDENTS_FILE}. See \`spendtrace alerts --help\`.

A 2xx means the spans are on disk: each request is fsync'ed into a write-ahead log (group commit)
before the answer, then inserted exactly once (a replay, however late, changes nothing). While the
store is down the log grows up to --wal-max-bytes, then requests get 503 + Retry-After.
On SIGINT/SIGTERM it stops accepting, flushes for up to --shutdown-timeout seconds and leaves the
rest in the log, which the next start inserts.

Options:
  --port N                 port to listen on (0 = any free port)   [env SPENDTRACE_PORT, default 4318]
  --grpc-port N|off        OTLP/gRPC port                           [env SPENDTRACE_GRPC_PORT, default 4317]
  --clickhouse-http-port N|off
                           ClickHouse HTTP interface port (8123 is ClickHouse's, so clients
                           and Grafana work with their defaults)    [env SPENDTRACE_CLICKHOUSE_HTTP_PORT, default 8123]
  --host HOST              interface to bind (all listeners)        [env SPENDTRACE_HOST, default 127.0.0.1]
  --auth-tokens-file FILE  tokens, one per line (# comments)        [env SPENDTRACE_AUTH_TOKENS_FILE]
                           or the tokens themselves, comma-separated [env SPENDTRACE_AUTH_TOKENS]
  --prices FILE            price overrides (custom/fine-tuned models, negotiated rates)
                                                                    [env SPENDTRACE_PRICES_FILE]
  --wal-dir DIR            write-ahead log directory        [env SPENDTRACE_WAL_DIR, default <data>/wal]
  --wal-max-bytes N        log disk budget in bytes         [env SPENDTRACE_WAL_MAX_BYTES, default 1073741824]
  --shutdown-timeout S     seconds a stop waits for the store [env SPENDTRACE_SHUTDOWN_TIMEOUT, default 10]
  --skip-schema            do not create the schema on start (you own the DDL: see
                           \`spendtrace migrate --print\`; the service still creates its own
                           spans_staging_* / spans_pending_* tables)  [env SPENDTRACE_SKIP_SCHEMA=1]

${STORE_FLAGS_HELP}
`;

export const serve: Command = {
  name: 'serve',
  summary: 'run the OTLP receiver + store + JSON API (Ctrl-C to stop)',
  help,
  async run(argv, ctx) {
    const v = parseFlags('serve', argv, {
      ...STORE_FLAGS,
      port: { type: 'string' },
      host: { type: 'string' },
      prices: { type: 'string' },
      'skip-schema': { type: 'boolean' },
      'wal-dir': { type: 'string' },
      'wal-max-bytes': { type: 'string' },
      'shutdown-timeout': { type: 'string' },
      'grpc-port': { type: 'string' },
      'clickhouse-http-port': { type: 'string' },
      'auth-tokens-file': { type: 'string' },
    } as const);
    if (v.help) {
      ctx.out(help);
      return EXIT.OK;
    }
    const { store: settings, file } = resolveStore('serve', v, ctx);
    const port = v.port !== undefined ? parsePort(v.port, '--port') : pick(undefined, ctx.env[ENV.PORT], file.port, 4318, (s) => parsePort(s, ENV.PORT));
    const host = pick(v.host, ctx.env[ENV.HOST], file.host, '127.0.0.1', (s) => s);
    const prices = pick(v.prices, ctx.env[ENV.PRICES], file.prices, undefined as string | undefined, (s) => s);

    const grpcPort =
      v['grpc-port'] !== undefined
        ? parseOptionalPort(v['grpc-port'], '--grpc-port')
        : pick(undefined, ctx.env[ENV.GRPC_PORT], file.grpcPort, 4317, (s) => parseOptionalPort(s, ENV.GRPC_PORT));
    const clickhouseHttpPort =
      v['clickhouse-http-port'] !== undefined
        ? parseOptionalPort(v['clickhouse-http-port'], '--clickhouse-http-port')
        : pick(undefined, ctx.env[ENV.CLICKHOUSE_HTTP_PORT], file.clickhouseHttpPort, 8123, (s) => parseOptionalPort(s, ENV.CLICKHOUSE_HTTP_PORT));
    const tokensFile = pick(v['auth-tokens-file'], ctx.env[ENV.AUTH_TOKENS_FILE], file.authTokensFile, undefined as string | undefined, (s) => s);
    let auth: TokenAuth;
    try {
      auth = new TokenAuth({
        tokens: parseTokenList(ctx.env[ENV.AUTH_TOKENS] ?? ''),
        tokensFile: tokensFile && resolve(ctx.cwd, tokensFile),
        log: (line) => ctx.err(`spendtrace serve: ${line}\n`),
      });
    } catch (err) {
      if (err instanceof AuthConfigError) throw new CliError(EXIT.CONFIG, err.message, { cause: err });
      throw err;
    }
    const warning = exposureWarning(host, auth);
    if (warning) ctx.err(`spendtrace serve: ${warning}\n`);

    const walDir = pick(v['wal-dir'], ctx.env[ENV.WAL_DIR], undefined, undefined as string | undefined, (x) => x);
    const walMaxBytes = positive(
      pick(v['wal-max-bytes'], ctx.env[ENV.WAL_MAX_BYTES], undefined, undefined as string | undefined, (x) => x),
      '--wal-max-bytes',
    );
    const shutdownS = positive(
      pick(v['shutdown-timeout'], ctx.env[ENV.SHUTDOWN_TIMEOUT], undefined, undefined as string | undefined, (x) => x),
      '--shutdown-timeout',
    );
    const createSchema = !(v['skip-schema'] || ctx.env[ENV.SKIP_SCHEMA] === '1' || file.createSchema === false);
    const alerts = alertsOf(file, ctx.env);
    const svc = await startService({
      settings,
      insights: insightsOf(file),
      port,
      host,
      prices,
      createSchema,
      grpcPort,
      clickhouseHttpPort,
      auth,
      alerts,
      incidentsFile: join(settings.data, INCIDENTS_FILE),
      ...(walDir ? { walDir: resolve(ctx.cwd, walDir) } : {}),
      ...(walMaxBytes ? { walMaxBytes } : {}),
      ...(shutdownS !== undefined ? { shutdownTimeoutMs: shutdownS * 1000 } : {}),
      log: (line) => ctx.err(`spendtrace serve: ${line}\n`),
    });
    const forget = settings.clickhouseUrl
      ? () => {}
      : writeServeRecord(settings.data, { pid: process.pid, url: svc.url, startedAt: new Date().toISOString(), clickhouseHttpUrl: svc.clickhouseHttpUrl });
    ctx.out(
      `spendtrace serve: listening on ${svc.url}\n` +
        `  OTLP/HTTP   POST ${svc.url}/v1/traces\n` +
        (svc.grpcAddress ? `  OTLP/gRPC   ${svc.grpcAddress}\n` : '') +
        `  API         GET  ${svc.url}/api/summary · /api/costs?by=task · /api/report · /metrics\n` +
        (svc.clickhouseHttpUrl ? `  ClickHouse  ${svc.clickhouseHttpUrl}/?query=… (HTTP interface, read-only)\n` : '') +
        `  store       ${describeStore(settings)}\n` +
        `  auth        ${auth.enabled ? 'tokens required' : 'off (no token configured)'}\n` +
        (alerts?.rules.length
          ? `  alerts      ${alerts.rules.length} rule(s) to ${alerts.sinks.map((x) => `${x.name} (${x.type})`).join(', ')}, every ${alerts.evaluateEverySeconds} s\n`
          : '') +
        `Ctrl-C to stop.\n`,
    );

    let onSignal: (sig: NodeJS.Signals) => void = () => {};
    const why = await new Promise<string>((resolveStop) => {
      onSignal = (sig) => resolveStop(sig);
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      if (ctx.signal?.aborted) resolveStop('abort');
      ctx.signal?.addEventListener('abort', () => resolveStop('abort'), { once: true });
    });
    // However we stopped, leave no handler behind (an in-process caller keeps its own).
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    ctx.err(`spendtrace serve: ${why === 'abort' ? 'stopping' : `${why} received`}, flushing spans…\n`);
    try {
      await svc.close();
    } finally {
      forget();
    }
    ctx.err('spendtrace serve: stopped cleanly\n');
    return EXIT.OK;
  },
};

function positive(text: string | undefined, name: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new CliError(EXIT.USAGE, `${name}: expected a number > 0, got ${JSON.stringify(text)}`);
  return n;
}
