import { defineConfig } from 'vitest/config';

// One run for the whole workspace. Tests that own an embedded ClickHouse (chDB allows one data
// directory per process) run in forked processes, so files never share an engine.
export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // `serve` also listens on OTLP/gRPC 4317 and ClickHouse HTTP 8123 by default; test files run in
    // parallel, so each service picks free ports unless a test asks for a port itself.
    env: { SPENDTRACE_GRPC_PORT: '0', SPENDTRACE_CLICKHOUSE_HTTP_PORT: '0' },
  },
});
