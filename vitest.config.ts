import { defineConfig } from 'vitest/config';

// One run for the whole workspace. Tests that own an embedded ClickHouse (chDB allows one data
// directory per process) run in forked processes, so files never share an engine.
export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
