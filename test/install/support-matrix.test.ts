// support-matrix.json is what the install tests run and the README repeats: here it is held to the
// code (the SDK ranges the instrumentation accepts, the packages' engines and peers) and to the
// SDK versions the workspace's own tests run.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { OPENAI_SUPPORTED_VERSIONS } from '@spendtrace/instrumentation';
import { ANTHROPIC_SUPPORTED_VERSIONS } from '../../packages/instrumentation/src/anthropic/index.ts';
import { GOOGLE_GENAI_SUPPORTED_VERSIONS } from '../../packages/instrumentation/src/google-genai/index.ts';
import { versionSupported } from '../../packages/instrumentation/src/esm-late-patch.ts';
import { matrix, repo } from './harness.ts';

const json = (path: string) => JSON.parse(readFileSync(join(repo, path), 'utf8'));

test('every tested SDK version is inside the range the instrumentation accepts, and is the one the workspace tests run', () => {
  const ranges: Record<string, string[]> = {
    openai: OPENAI_SUPPORTED_VERSIONS,
    '@anthropic-ai/sdk': ANTHROPIC_SUPPORTED_VERSIONS,
    '@google/genai': GOOGLE_GENAI_SUPPORTED_VERSIONS,
  };
  // The workspace's copies: the current major under its own name, older majors under aliases.
  const installed: Record<string, Record<string, string>> = {
    openai: { '5': 'openai-v5', '6': 'openai-v6', '7': 'openai' },
    '@anthropic-ai/sdk': { '0': 'anthropic-v0-latest', '1': '@anthropic-ai/sdk' },
    '@google/genai': { '3': '@google/genai' },
  };
  expect(Object.keys(matrix.sdks).sort()).toEqual(Object.keys(ranges).sort());
  for (const [sdk, { tested }] of Object.entries(matrix.sdks)) {
    for (const [major, version] of Object.entries(tested)) {
      expect(version.split('.')[0], `${sdk} ${version}`).toBe(major);
      expect(versionSupported(version, ranges[sdk]!), `${sdk} ${version} in ${ranges[sdk]}`).toBe(true);
      const dir = installed[sdk]![major]!;
      expect(json(`packages/instrumentation/node_modules/${dir}/package.json`).version, `${dir} in packages/instrumentation`).toBe(version);
    }
  }
});

test('the Node majors and OpenTelemetry lines fit the published manifests', () => {
  for (const pkg of ['semconv', 'instrumentation', 'exporter']) expect(json(`packages/${pkg}/package.json`).engines.node).toBe(matrix.node.engines);
  const min = /^>=(\d+)\.(\d+)$/.exec(matrix.node.engines)!;
  for (const major of matrix.node.tested) expect(Number(major)).toBeGreaterThanOrEqual(Number(min[1]));
  const peers = json('packages/instrumentation/package.json').peerDependencies as Record<string, string>;
  const caret = (range: string) => [`>=${range.slice(1)}`, `<${Number(range.slice(1).split('.')[0]) + 1}`].join(' ');
  for (const [line, versions] of Object.entries(matrix.opentelemetry)) {
    expect(versionSupported(versions['@opentelemetry/api']!, [caret(peers['@opentelemetry/api']!)]), `api on the ${line} line`).toBe(true);
    expect(versionSupported(versions['@opentelemetry/sdk-node']!, [peers['@opentelemetry/sdk-node']!]), `sdk-node on the ${line} line`).toBe(true);
  }
});
