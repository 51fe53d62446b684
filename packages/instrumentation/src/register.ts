/**
 * Zero-code entry: `node --import @spendtrace/instrumentation/register app.js`.
 *
 * Registers the ESM loader hook (import-in-the-middle, through @opentelemetry/instrumentation's
 * `hook.mjs`, with `module.register` as its docs describe) so `import 'openai'` is patched as
 * well as `require('openai')`, then starts a NodeSDK with SpendtraceInstrumentation configured
 * from the standard OTEL_* env vars (OTLP http/protobuf to localhost:4318 by default), and shuts
 * it down when the process is about to exit or is signalled, so the last spans are flushed.
 *
 * Metrics and logs exporters default to `none` here (spendtrace only emits traces); set
 * OTEL_METRICS_EXPORTER / OTEL_LOGS_EXPORTER to override. `process.exit()` skips the flush.
 */
import { register } from 'node:module';
import { diag, DiagConsoleLogger, DiagLogLevel } from '@opentelemetry/api';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { ESM_HOOK_REGISTERED } from './esm-late-patch.ts';
import { SpendtraceInstrumentation } from './instrumentation.ts';

const logLevel = process.env.OTEL_LOG_LEVEL?.toUpperCase() as keyof typeof DiagLogLevel | undefined;
if (logLevel && logLevel in DiagLogLevel) diag.setLogger(new DiagConsoleLogger(), DiagLogLevel[logLevel]);

register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
// The loader hook sees every import from here on, so the ES module late patch is not needed.
(globalThis as Record<symbol, unknown>)[ESM_HOOK_REGISTERED] = true;

process.env.OTEL_METRICS_EXPORTER ??= 'none';
process.env.OTEL_LOGS_EXPORTER ??= 'none';

export const instrumentation = new SpendtraceInstrumentation();
export const sdk = new NodeSDK({ instrumentations: [instrumentation] });
sdk.start();

let shuttingDown: Promise<void> | undefined;
function shutdown(): Promise<void> {
  return (shuttingDown ??= sdk.shutdown().catch((err) => diag.error('spendtrace: SDK shutdown failed', err)));
}

process.once('beforeExit', () => void shutdown());
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void shutdown().finally(() => process.kill(process.pid, signal));
  });
}
