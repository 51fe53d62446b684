/**
 * The published packages as a user gets them: `pnpm pack` every publishable package, `npm install`
 * the tarballs with plain npm into fresh apps in a temporary directory outside the repository, on
 * each tested Node major and OpenTelemetry SDK line (support-matrix.json). The apps (the README's
 * snippet verbatim, a CommonJS app, `--import @spendtrace/instrumentation/register`, a strict
 * TypeScript app type-checked against the published .d.ts) talk to the fake providers on
 * 127.0.0.1 and export to `npx spendtrace serve`; `npx spendtrace report --json` must show each
 * task's cost exactly as the published prices give it.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startFakeGemini, startFakeOpenAI, type FakeGeminiServer, type FakeOpenAIServer } from '@spendtrace/fake-providers';
import {
  envFor,
  freePort,
  packedTarballs,
  matrix,
  mustRun,
  newestTested,
  nodeBinary,
  npmInstall,
  readmeSnippet,
  repo,
  run,
  startDaemon,
  usd,
  waitFor,
  type Daemon,
} from './harness.ts';

const TIMEOUT = 20 * 60_000;
const nodes = matrix.node.tested;
const otelLines = Object.keys(matrix.opentelemetry);

// Published rates (USD per million tokens, the @pydantic/genai-prices catalogue), as pico-dollars per token.
const RATE = {
  'gpt-4o-mini': { input: 150_000n, output: 600_000n }, // $0.15 / $0.60
  'gpt-4.1': { input: 2_000_000n, output: 8_000_000n }, // $2.00 / $8.00
  'gemini-2.5-flash': { input: 300_000n, output: 2_500_000n }, // $0.30 / $2.50
};
const IN = 1000n;
const OUT = 100n;
const call = (model: keyof typeof RATE) => IN * RATE[model].input + OUT * RATE[model].output;
const TOOL = 5_000_000_000n; // recordToolCost(0.005)
const EXPECTED: Record<string, bigint> = {
  research: call('gpt-4.1') + TOOL + call('gemini-2.5-flash'),
  'cjs-task': call('gpt-4o-mini'),
  'register-task': 2n * call('gpt-4o-mini'),
  'typed-task': call('gpt-4o-mini') + TOOL,
};

let tmp: string;
let tarballs: string[];
let openai: FakeOpenAIServer;
let gemini: FakeGeminiServer;
const nodeBin: Record<string, string> = {};
let serviceDir: string;
const apps: Record<string, string> = {};
const timings: string[] = [];

const appKey = (node: string, line: string) => `node${node}-otel${line}`;

beforeAll(async () => {
  // SPENDTRACE_INSTALL_DIR (while developing these tests): keep the apps there and reinstall only new ones.
  tmp = process.env.SPENDTRACE_INSTALL_DIR ?? mkdtempSync(join(tmpdir(), 'spendtrace-install-'));
  const reuse = (dir: string) => process.env.SPENDTRACE_INSTALL_DIR !== undefined && existsSync(join(dir, 'node_modules'));
  const t0 = performance.now();
  tarballs = await packedTarballs();
  for (const t of tarballs) timings.push(`tarball ${t.split('/').pop()}: ${statSync(t).size} bytes`);
  const [semconv, instrumentation, exporter] = tarballs as [string, string, string];
  await Promise.all(nodes.map(async (n) => (nodeBin[n] = await nodeBinary(n))));
  openai = await startFakeOpenAI({ defaults: { promptTokens: Number(IN), completionTokens: Number(OUT) } });
  gemini = await startFakeGemini({ defaults: { generate: { usage: { promptTokenCount: Number(IN), candidatesTokenCount: Number(OUT) } } } });

  // The service: only the exporter (and semconv, which it depends on) from their tarballs.
  serviceDir = join(tmp, 'service');
  mkdirSync(serviceDir, { recursive: true });
  writeFileSync(join(serviceDir, 'package.json'), JSON.stringify({ name: 'service', private: true }));
  const newestNode = nodeBin[nodes.at(-1)!]!;
  const t1 = performance.now();
  const serviceInstalled = (reuse(serviceDir) ? Promise.resolve() : npmInstall(serviceDir, newestNode, [semconv, exporter])).then(() =>
    timings.push(`npm install of the exporter (with chDB): ${((performance.now() - t1) / 1000).toFixed(1)} s`),
  );

  // One app per Node major x OpenTelemetry line, installed once (all at once: npm waits on the
  // network more than on the CPU), several entry files run from it.
  await Promise.all(
    nodes.flatMap((node) =>
      otelLines.map(async (line) => {
        const dir = join(tmp, appKey(node, line));
        mkdirSync(dir, { recursive: true });
        cpSync(join(repo, 'test', 'install', 'app'), dir, { recursive: true });
        writeFileSync(join(dir, 'readme-app.mjs'), readmeSnippet('readme-esm-app'));
        writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `app-${appKey(node, line)}`, private: true, type: 'module' }));
        const otel = Object.entries(matrix.opentelemetry[line]!).map(([name, version]) => `${name}@${version}`);
        const t = performance.now();
        if (!reuse(dir))
          await npmInstall(dir, nodeBin[node]!, [
            semconv,
            instrumentation,
            ...otel,
            `openai@${newestTested('openai')}`,
            `@google/genai@${newestTested('@google/genai')}`,
            '@types/node@24',
          ]);
        timings.push(`npm install of ${appKey(node, line)}: ${((performance.now() - t) / 1000).toFixed(1)} s`);
        apps[appKey(node, line)] = dir;
      }),
    ),
  );
  await serviceInstalled;
  timings.push(`setup: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}, TIMEOUT);

afterAll(async () => {
  console.log(`install tests:\n  ${timings.join('\n  ')}`);
  await openai?.close();
  await gemini?.close();
  if (tmp && !process.env.SPENDTRACE_INSTALL_DIR) await rm(tmp, { recursive: true, force: true });
  else for (const n of nodes) rmSync(join(tmp, `data-node${n}`), { recursive: true, force: true });
}, TIMEOUT);

interface TaskRow {
  taskName: string;
  cost: string;
}

describe.each(nodes)('Node %s', (node) => {
  let service: Daemon;
  let port: number;
  let data: string;

  beforeAll(async () => {
    port = await freePort();
    data = join(tmp, `data-node${node}`);
    rmSync(data, { recursive: true, force: true });
    service = startDaemon('npx', ['spendtrace', 'serve', '--port', String(port), '--data', data], { cwd: serviceDir, env: envFor(nodeBin[node]!) });
    await waitFor(
      `spendtrace serve on Node ${node}`,
      async () => ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok ? true : undefined),
      90_000,
      () => service.output(),
    );
  }, TIMEOUT);
  afterAll(async () => service?.stop());

  const appEnv = (service: string) =>
    envFor(nodeBin[node]!, {
      OTEL_SERVICE_NAME: service,
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_METRICS_EXPORTER: 'none',
      OTEL_LOGS_EXPORTER: 'none',
      OPENAI_BASE_URL: openai.url,
      OPENAI_API_KEY: 'test',
      GOOGLE_GEMINI_BASE_URL: gemini.url,
      GEMINI_API_KEY: 'test',
    });

  const runApp = async (line: string, args: string[]) => {
    const dir = apps[appKey(node, line)]!;
    const r = await run(nodeBin[node]!, args, { cwd: dir, env: appEnv(`${args.at(-1)}-${line}`), timeout: 60_000 });
    expect(r.stderr, `${args.join(' ')} on Node ${node}, OTel ${line}`).not.toMatch(/Error|spendtrace:/);
    expect(r.code, r.stderr).toBe(0);
    return r;
  };

  test.each(otelLines)(
    'OTel SDK %s: README snippet (ESM, static imports), CommonJS, --import register and strict TypeScript apps',
    async (line) => {
      const dir = apps[appKey(node, line)]!;
      if (node === nodes.at(-1)) {
        // Type-checked once per OpenTelemetry line (the .d.ts are the same on every Node): the app
        // against every package's types, then our .d.ts on their own with skipLibCheck off (a misuse
        // must fail, so the types are real and not `any`).
        const tsc = join(repo, 'node_modules', 'typescript', 'bin', 'tsc');
        const typecheck = await run(nodeBin[node]!, [tsc, '-p', 'tsconfig.json'], { cwd: dir, timeout: 180_000 });
        expect(typecheck.stdout + typecheck.stderr).toBe('');
        expect(typecheck.code).toBe(0);
        writeFileSync(
          join(dir, 'typed-wrong.ts'),
          "import { recordToolCost, withTask } from '@spendtrace/instrumentation';\nrecordToolCost('0.005');\nawait withTask({ nam: 'x' }, async () => 1);\n",
        );
        const wrong = await run(
          nodeBin[node]!,
          [tsc, '--noEmit', '--strict', '--skipLibCheck', 'false', '--module', 'nodenext', '--target', 'es2023', '--types', 'node', 'typed-wrong.ts'],
          { cwd: dir, timeout: 180_000 },
        );
        const errors = wrong.stdout.trim().split('\n');
        expect(errors).toHaveLength(2);
        expect(errors[0]).toMatch(/typed-wrong\.ts\(2,16\): error TS2345: Argument of type 'string' is not assignable to parameter of type 'number'/);
        expect(errors[1]).toMatch(/typed-wrong\.ts\(3,\d+\): error TS\d+: .*'nam' does not exist in type 'TaskOptions'/);
      }

      const [, , , typed] = await Promise.all([
        runApp(line, ['readme-app.mjs']),
        runApp(line, ['cjs-app.cjs']),
        runApp(line, ['--import', '@spendtrace/instrumentation/register', 'register-app.mjs']),
        runApp(line, ['typed-app.ts']),
      ]);
      expect(typed.stdout).toMatch(/typed-app: \d+ chars/);
    },
    TIMEOUT,
  );

  test(
    'npx spendtrace report --json: every task priced exactly at the published rates',
    async () => {
      const want = Object.keys(EXPECTED).length * otelLines.length;
      const rows = await waitFor(
        'every task in the report',
        async () => {
          const r = await mustRun('npx', ['spendtrace', 'report', '--by', 'task', '--json', '--since', '1h', '--data', data], {
            cwd: serviceDir,
            env: envFor(nodeBin[node]!),
          });
          const got = (JSON.parse(r.stdout) as { rows: TaskRow[] }).rows;
          return got.length >= want ? got : undefined;
        },
        60_000,
        () => service.output(),
      );
      expect(rows).toHaveLength(want);
      for (const [name, pico] of Object.entries(EXPECTED)) {
        expect(
          rows.filter((r) => r.taskName === name).map((r) => r.cost),
          name,
        ).toEqual(otelLines.map(() => usd(pico)));
      }
      // The demo fleet is not published: the installed CLI says so, with exit code 3 (config).
      const demo = await run('npx', ['spendtrace', 'demo'], { cwd: serviceDir, env: envFor(nodeBin[node]!) });
      expect(demo.code).toBe(3);
      expect(demo.stderr).toMatch(/`spendtrace demo` runs only from a checkout of the spendtrace repository/);
    },
    TIMEOUT,
  );
});
