/**
 * ESM apps that import an SDK statically and start the NodeSDK in code:
 *
 *   import OpenAI from 'openai';                    // evaluated first
 *   new NodeSDK({ instrumentations: [new SpendtraceInstrumentation()] }).start();
 *
 * No module hook sees that import (require-in-the-middle sees only `require`, and
 * import-in-the-middle only what loads after its loader is registered), so the calls would go
 * unrecorded. At enable, each supported SDK is resolved from the app's entry point with the
 * `import` conditions and its ES module is taken with `require(esm)` (Node >= 22.12), which hands
 * back the very instance the app imported, or loads the one its later imports will get. Its
 * classes are then patched in place, as `manuallyInstrument` does. Where that cannot be done, one
 * loud warning (console and diag) says how to fix it.
 */
import { diag } from '@opentelemetry/api';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ANTHROPIC_SUPPORTED_VERSIONS, isAnthropicPatchable, patchAnthropic, unpatchAnthropic } from './anthropic/index.ts';
import { BEDROCK_RUNTIME_SUPPORTED_VERSIONS, isBedrockRuntimePatchable, patchBedrockRuntime, unpatchBedrockRuntime } from './bedrock/index.ts';
import { GOOGLE_GENAI_SUPPORTED_VERSIONS, isGoogleGenAIPatchable, patchGoogleGenAI, unpatchGoogleGenAI } from './google-genai/index.ts';
import { openaiTargets, unpatchOpenAITargets } from './openai/index.ts';
import type { GenAIHost } from './provider-host.ts';
import type { Wrapper } from './wrapping.ts';

/** What the late patch needs from SpendtraceInstrumentation (kept narrow: no import cycle). */
export interface LatePatchHost extends GenAIHost {
  patchOpenAI(moduleExports: unknown): boolean;
  /** The instrumentation's own `_wrap` / `_unwrap`, so an unpatch restores exactly what it wrapped. */
  readonly wrapper: Wrapper;
}

interface Sdk {
  name: string;
  versions: string[];
  patchable(ns: unknown): boolean;
  patch(host: LatePatchHost, ns: unknown): void;
  unpatch(ns: unknown, w: Wrapper): void;
}

/** The SDKs of the module definitions in instrumentation.ts (openai's versions are given by it). */
const sdks = (openaiVersions: string[]): Sdk[] => [
  {
    name: 'openai',
    versions: openaiVersions,
    patchable: (ns) => !!openaiTargets(ns).completions,
    patch: (host, ns) => void host.patchOpenAI(ns),
    unpatch: (ns, w) => unpatchOpenAITargets(w, openaiTargets(ns)),
  },
  {
    name: '@anthropic-ai/sdk',
    versions: ANTHROPIC_SUPPORTED_VERSIONS,
    patchable: isAnthropicPatchable,
    patch: (host, ns) => void patchAnthropic(ns, host),
    unpatch: unpatchAnthropic,
  },
  {
    name: '@google/genai',
    versions: GOOGLE_GENAI_SUPPORTED_VERSIONS,
    patchable: isGoogleGenAIPatchable,
    patch: (host, ns) => void patchGoogleGenAI(ns, host),
    unpatch: unpatchGoogleGenAI,
  },
  {
    name: '@aws-sdk/client-bedrock-runtime',
    versions: BEDROCK_RUNTIME_SUPPORTED_VERSIONS,
    patchable: isBedrockRuntimePatchable,
    patch: (host, ns) => void patchBedrockRuntime(ns, host),
    unpatch: unpatchBedrockRuntime,
  },
];

/** Set by `@spendtrace/instrumentation/register`, whose loader hook already sees every import. */
export const ESM_HOOK_REGISTERED = Symbol.for('spendtrace.esm-hook-registered');

/** The `manuallyInstrument` option that takes each SDK's module (for the warning's fix). */
const MANUAL_KEY: Record<string, string> = {
  openai: 'openai',
  '@anthropic-ai/sdk': 'anthropic',
  '@google/genai': 'googleGenAI',
  '@aws-sdk/client-bedrock-runtime': 'bedrockRuntime',
};

const patched = new WeakMap<object, Array<{ sdk: Sdk; ns: unknown }>>();
const warned = new Set<string>();

/** Whether the process's entry point is an ES module (`.mjs`/`.mts`, or `type: module`). */
export function entryIsEsm(entry: string): boolean {
  const ext = extname(entry);
  if (ext === '.mjs' || ext === '.mts') return true;
  if (ext === '.cjs' || ext === '.cts') return false;
  for (let dir = dirname(entry); ; dir = dirname(dir)) {
    try {
      return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { type?: string }).type === 'module';
    } catch {
      // no (readable) package.json here: look further up
    }
    if (dirname(dir) === dir) return false;
  }
}

type Exports = string | null | Exports[] | { [key: string]: Exports };
const CONDITIONS = new Set(['node', 'import', 'module-sync', 'default']);

/** The target of a package's `exports` for `.` under the `import` conditions, as Node's ESM resolver picks it. */
function importTarget(exports: Exports | undefined): string | undefined {
  if (exports == null) return undefined;
  if (typeof exports === 'string') return exports;
  if (Array.isArray(exports)) {
    for (const e of exports) {
      const t = importTarget(e);
      if (t) return t;
    }
    return undefined;
  }
  const keys = Object.keys(exports);
  if (keys.some((k) => k.startsWith('.'))) return importTarget(exports['.']);
  for (const k of keys) {
    if (!CONDITIONS.has(k)) continue;
    const t = importTarget(exports[k]);
    if (t) return t;
  }
  return undefined;
}

/** The directory of `name` as the app at `entry` resolves it, or undefined when it isn't installed. */
function packageDir(entry: string, name: string): string | undefined {
  const req = createRequire(entry);
  for (let dir = dirname(entry); ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name, 'package.json');
    try {
      readFileSync(candidate);
      return dirname(candidate);
    } catch {
      // not here
    }
    if (dirname(dir) === dir) break;
  }
  try {
    // NODE_PATH and the like: walk up from what `require` finds.
    for (let dir = dirname(req.resolve(name)); dirname(dir) !== dir; dir = dirname(dir)) {
      try {
        if ((JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string }).name === name) return dir;
      } catch {
        // keep looking
      }
    }
  } catch {
    // not installed
  }
  return undefined;
}

/** `>=a.b.c <N` ranges, the only form the module definitions use. */
export function versionSupported(version: string, ranges: readonly string[]): boolean {
  const parse = (v: string) =>
    v
      .replace(/^[^\d]*/, '')
      .split(/[.+-]/)
      .slice(0, 3)
      .map(Number);
  const cmp = (a: number[], b: number[]) => {
    for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0);
    return 0;
  };
  const v = parse(version);
  return ranges.some((range) =>
    range.split(/\s+/).every((part) => {
      const m = /^(>=|<=|>|<|=)?(.+)$/.exec(part);
      if (!m) return false;
      const c = cmp(v, parse(m[2]!));
      switch (m[1]) {
        case '>=':
          return c >= 0;
        case '>':
          return c > 0;
        case '<=':
          return c <= 0;
        case '<':
          return c < 0;
        default:
          return c === 0;
      }
    }),
  );
}

function warnOnce(sdk: string, why: string): void {
  if (warned.has(sdk)) return;
  warned.add(sdk);
  const text =
    `spendtrace: ${sdk} is imported as an ES module that spendtrace could not patch (${why}), so its calls are NOT recorded or priced. ` +
    `Fix: start the app with \`node --import @spendtrace/instrumentation/register app.mjs\`, ` +
    `or hand the module over: \`import * as sdk from '${sdk}'; manuallyInstrument({ ${MANUAL_KEY[sdk] ?? 'openai'}: sdk })\`.`;
  diag.warn(text);
  console.warn(text);
}

/**
 * Patches the ES module copy of every supported SDK the app's entry point resolves. Called by
 * `enable()`; does nothing for CommonJS apps (their `require` goes through the module hook) or
 * once `register` has put the ESM loader hook in place. Never throws.
 */
export function patchEsmCopies(host: LatePatchHost, openaiVersions: string[], entry: string | undefined = process.argv[1]): void {
  try {
    if (!entry || (globalThis as Record<symbol, unknown>)[ESM_HOOK_REGISTERED]) return;
    const entryPath = resolve(entry);
    if (!entryIsEsm(entryPath)) return;
    const done = patched.get(host) ?? [];
    patched.set(host, done);
    const req = createRequire(pathToFileURL(entryPath));
    for (const sdk of sdks(openaiVersions)) {
      const dir = packageDir(entryPath, sdk.name);
      if (!dir) continue; // not installed: nothing to lose
      try {
        const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version?: string; exports?: Exports; main?: string };
        if (!pkg.version || !versionSupported(pkg.version, sdk.versions)) {
          host.diag.warn(`${sdk.name} ${pkg.version ?? '(no version)'} is outside the supported versions ${sdk.versions.join(' || ')}; not instrumented`);
          continue;
        }
        // Without `exports`, Node's `import` takes `main` (it ignores the bundlers' `module` field:
        // the AWS SDK's dist-es there has extensionless imports Node cannot load).
        const target = (pkg.exports === undefined ? undefined : importTarget(pkg.exports)) ?? pkg.main ?? 'index.js';
        const ns = req(join(dir, target)) as unknown;
        if (!sdk.patchable(ns)) {
          warnOnce(sdk.name, `its ES module at ${join(dir, target)} has none of the classes spendtrace patches`);
          continue;
        }
        sdk.patch(host, ns);
        if (!done.some((d) => d.ns === ns)) done.push({ sdk, ns });
      } catch (err) {
        host.diag.error(`could not patch the ES module of ${sdk.name}`, err);
        warnOnce(sdk.name, err instanceof Error ? err.message.split('\n')[0]! : String(err));
      }
    }
  } catch (err) {
    host.diag.error('the ES module late patch failed', err);
  }
}

/** Restores what `patchEsmCopies` patched (called by `disable()`). */
export function unpatchEsmCopies(host: LatePatchHost): void {
  for (const { sdk, ns } of patched.get(host) ?? []) {
    try {
      sdk.unpatch(ns, host.wrapper);
    } catch (err) {
      host.diag.error(`could not unpatch the ES module of ${sdk.name}`, err);
    }
  }
}
