/**
 * deploy/Dockerfile, built and run with podman (runc, host network): OTLP in, report out.
 * No base image can be pulled here, so the base is built from Debian packages (mmdebstrap
 * bookworm minbase) with Node 24 and npm from the npm registry copied in, and handed to the
 * Dockerfile as its BASE build argument; users keep the default node image. The image installs
 * the packed tarballs (deploy/packages/ in the build context).
 *
 * Skipped, saying why, only where podman is absent; under CI=true a missing podman fails
 * (.ci/run installs it with scripts/install-podman.sh).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { freePort, mustRun, packedTarballs, nodeBinary, run, waitFor, usd } from './harness.ts';

const hasPodman = (() => {
  try {
    execFileSync('podman', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
if (!hasPodman) {
  if (process.env.CI) throw new Error('the container test needs podman, runc and mmdebstrap: scripts/install-podman.sh installs them (CI must run it)');
  console.warn('container test SKIPPED: podman is not installed (bash scripts/install-podman.sh installs podman, runc and mmdebstrap)');
}

const BASE = 'localhost/spendtrace-test-base:bookworm-node24';
const IMAGE = 'localhost/spendtrace-test:latest';
const RUN = ['--runtime', 'runc'];
const TIMEOUT = 15 * 60_000;
let tmp: string;
let container: string | undefined;

/** The base: Debian bookworm minbase + Node 24 and npm from the npm registry, the host's CA bundle and npm registry settings. */
async function buildBase(): Promise<void> {
  if ((await run('podman', ['image', 'exists', BASE], { cwd: tmp })).code === 0) return;
  const node = await nodeBinary('24');
  const npmPrefix = join(tmp, 'npm-pkg');
  mkdirSync(npmPrefix);
  await mustRun('npm', ['install', '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--loglevel=error', '--prefix', npmPrefix, 'npm@11'], {
    cwd: npmPrefix,
    timeout: 300_000,
  });
  const npmDir = join(npmPrefix, 'node_modules', 'npm');
  const ca = '/etc/ssl/certs/ca-certificates.crt';
  const hooks = [
    `mkdir -p "$1/usr/local/bin" "$1/usr/local/lib/node_modules" "$1/etc/ssl/certs"`,
    `cp "${node}" "$1/usr/local/bin/node"`,
    `cp -a "${npmDir}" "$1/usr/local/lib/node_modules/npm"`,
    `ln -s ../lib/node_modules/npm/bin/npm-cli.js "$1/usr/local/bin/npm"`,
    ...(existsSync(ca) ? [`cp "${ca}" "$1${ca}"`] : []),
  ];
  const script = [
    'set -eu',
    `mmdebstrap --variant=minbase --quiet ${hooks.map((h) => `--customize-hook='${h}'`).join(' ')} bookworm - \\`,
    `  | podman import ${existsSync(ca) ? `--change 'ENV NODE_EXTRA_CA_CERTS=${ca}' --change 'ENV NPM_CONFIG_CAFILE=${ca}' ` : ''}--change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' - ${BASE}`,
  ].join('\n');
  await mustRun('bash', ['-c', script], { cwd: tmp, timeout: 600_000 });
}

beforeAll(async () => {
  if (!hasPodman) return;
  tmp = mkdtempSync(join(tmpdir(), 'spendtrace-container-'));
  const context = join(tmp, 'context');
  mkdirSync(join(context, 'packages'), { recursive: true });
  for (const t of await packedTarballs()) if (/spendtrace-(semconv|exporter)-/.test(basename(t))) cpSync(t, join(context, 'packages', basename(t)));
  await buildBase();
  const dockerfile = join(dirname(dirname(import.meta.dirname)), 'deploy', 'Dockerfile');
  await mustRun('podman', ['build', ...RUN, '--network', 'host', '--build-arg', `BASE=${BASE}`, '-f', dockerfile, '-t', IMAGE, context], {
    cwd: tmp,
    timeout: 900_000,
  });
}, TIMEOUT);

afterAll(async () => {
  if (container) await run('podman', ['rm', '-f', container], { cwd: tmpdir() });
  // The image goes (900 MB, rebuilt each run); the base stays, to be reused.
  if (hasPodman) await run('podman', ['rmi', '-f', IMAGE], { cwd: tmpdir() });
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

test.skipIf(!hasPodman)(
  'the image runs `spendtrace serve`: an OTLP/JSON GenAI span in, priced in `spendtrace report --json` out',
  async () => {
    const port = await freePort();
    const started = await mustRun('podman', ['run', ...RUN, '--network', 'host', '-d', IMAGE, 'serve', '--host', '127.0.0.1', '--port', String(port)], {
      cwd: tmp,
    });
    container = started.stdout.trim();
    const logs = () => execFileSync('podman', ['logs', container!], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    await waitFor('the service in the container', async () => ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok ? true : undefined), 90_000, logs);

    // An unpriced GenAI span, as another instrumentation would send it: the service prices it.
    const attr = (key: string, v: string | number) => ({ key, value: typeof v === 'number' ? { intValue: String(v) } : { stringValue: v } });
    const now = BigInt(Date.now()) * 1_000_000n;
    const body = {
      resourceSpans: [
        {
          resource: { attributes: [attr('service.name', 'container-app')] },
          scopeSpans: [
            {
              scope: { name: 'some-genai-instrumentation' },
              spans: [
                {
                  traceId: '5b8efff798038103d269b633813fc60c',
                  spanId: 'eee19b7ec3c1b174',
                  name: 'chat gpt-4o-mini',
                  kind: 3,
                  startTimeUnixNano: String(now - 1_000_000_000n),
                  endTimeUnixNano: String(now),
                  attributes: [
                    attr('gen_ai.operation.name', 'chat'),
                    attr('gen_ai.provider.name', 'openai'),
                    attr('gen_ai.request.model', 'gpt-4o-mini'),
                    attr('gen_ai.usage.input_tokens', 1000),
                    attr('gen_ai.usage.output_tokens', 100),
                  ],
                },
              ],
            },
          ],
        },
      ],
    };
    const res = await fetch(`http://127.0.0.1:${port}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status, await res.text()).toBe(200);

    // gpt-4o-mini: 1000 x $0.15 + 100 x $0.60 per million tokens.
    const want = usd(1000n * 150_000n + 100n * 600_000n);
    const rows = await waitFor(
      'the span in the report',
      async () => {
        const r = await mustRun('podman', ['exec', container!, 'spendtrace', 'report', '--by', 'model', '--json', '--since', '1h'], { cwd: tmp });
        const got = (JSON.parse(r.stdout) as { rows: Array<{ model: string; cost: string; calls: number }> }).rows;
        return got.length ? got : undefined;
      },
      60_000,
      logs,
    );
    expect(rows).toEqual([expect.objectContaining({ model: 'gpt-4o-mini', cost: want, calls: 1 })]);
  },
  TIMEOUT,
);
