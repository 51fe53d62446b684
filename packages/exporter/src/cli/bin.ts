#!/usr/bin/env node
// The `spendtrace` command: the published package runs the built copy (dist/cli/bin.js), the
// workspace this file directly (bin/spendtrace.js, Node type stripping).
import { run } from './index.ts';

process.exitCode = await run(process.argv.slice(2));
