#!/usr/bin/env node
// The spendtrace CLI. Node >= 22.18 runs the TypeScript entry directly (type stripping).
import { run } from '../src/cli/index.ts';

process.exitCode = await run(process.argv.slice(2));
