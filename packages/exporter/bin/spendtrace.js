#!/usr/bin/env node
// The spendtrace CLI in the workspace: Node >= 22.18 runs the TypeScript entry directly (type
// stripping). The published package's bin is the built dist/cli/bin.js (publishConfig).
import '../src/cli/bin.ts';
