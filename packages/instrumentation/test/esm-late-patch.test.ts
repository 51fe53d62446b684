// ESM apps that import the SDKs statically before starting the NodeSDK in code: the ES module
// copies are patched at enable (esm-late-patch.ts), and where that fails one loud warning says so.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, test, vi } from 'vitest';
import * as A from '@spendtrace/semconv';
import { startFakeGemini, startFakeOpenAI, type FakeGeminiServer, type FakeOpenAIServer } from '@spendtrace/fake-providers';
import { entryIsEsm, patchEsmCopies, versionSupported, type LatePatchHost } from '../src/esm-late-patch.ts';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
let openai: FakeOpenAIServer;
let gemini: FakeGeminiServer;
let receiver: Server;
let receiverUrl: string;
const spans: Array<{ name: string; attributes: Record<string, unknown> }> = [];

const value = (v: Record<string, unknown>): unknown =>
  'stringValue' in v ? v.stringValue : 'intValue' in v ? Number(v.intValue) : 'doubleValue' in v ? v.doubleValue : v.boolValue;

beforeAll(async () => {
  openai = await startFakeOpenAI({ defaults: { promptTokens: 1000, completionTokens: 100 } });
  gemini = await startFakeGemini({ defaults: { generate: { usage: { promptTokenCount: 1000, candidatesTokenCount: 100 } } } });
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      for (const rs of JSON.parse(body).resourceSpans ?? [])
        for (const ss of rs.scopeSpans ?? [])
          for (const s of ss.spans ?? [])
            spans.push({
              name: s.name,
              attributes: Object.fromEntries((s.attributes ?? []).map((a: { key: string; value: Record<string, unknown> }) => [a.key, value(a.value)])),
            });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await openai.close();
  await gemini.close();
  await new Promise((r) => receiver.close(r));
});

test('an ESM app with static imports and the NodeSDK started in code: openai and Gemini calls arrive priced', async () => {
  const { code, stderr } = await new Promise<{ code: number; stderr: string }>((resolve) =>
    execFile(
      process.execPath,
      ['test/fixtures/esm-static-app.mjs'],
      {
        cwd: packageDir,
        timeout: 30_000,
        env: {
          ...process.env,
          NODE_OPTIONS: '',
          FAKE_OPENAI_URL: openai.url,
          FAKE_GEMINI_URL: gemini.url,
          OTEL_SERVICE_NAME: 'esm-static',
          OTEL_EXPORTER_OTLP_ENDPOINT: receiverUrl,
          OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
          OTEL_TRACES_EXPORTER: 'otlp',
          OTEL_METRICS_EXPORTER: 'none',
          OTEL_LOGS_EXPORTER: 'none',
        },
      },
      (err, _out, stderr) => resolve({ code: err ? 1 : 0, stderr }),
    ),
  );
  expect(stderr).toBe('');
  expect(code).toBe(0);
  // gpt-4o-mini: 1000 x $0.15 + 100 x $0.60 per million; gemini-2.5-flash: 1000 x $0.30 + 100 x $2.50.
  expect(spans.find((s) => s.name === 'chat gpt-4o-mini')?.attributes[A.ATTR_GEN_AI_USAGE_COST_AMOUNT]).toBe(0.00021);
  expect(spans.find((s) => s.name === 'generate_content gemini-2.5-flash')?.attributes[A.ATTR_GEN_AI_USAGE_COST_AMOUNT]).toBe(0.00055);
});

test("an SDK's ES module that can't be patched: one loud warning (console and diag) with the fix, and the app goes on", () => {
  const dir = mkdtempSync(join(tmpdir(), 'spendtrace-late-patch-'));
  try {
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
    writeFileSync(join(dir, 'app.js'), '');
    const sdk = join(dir, 'node_modules', 'openai');
    mkdirSync(sdk, { recursive: true });
    writeFileSync(
      join(sdk, 'package.json'),
      JSON.stringify({ name: 'openai', version: '7.1.0', exports: { '.': { require: './index.cjs', import: './index.mjs' } } }),
    );
    writeFileSync(join(sdk, 'index.mjs'), 'await Promise.resolve(); export default class OpenAI {}\n'); // top-level await: require(esm) can't load it
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const diag = { warn: vi.fn(), error: vi.fn() };
    // The other SDKs may resolve too (pnpm's NODE_PATH): they are patched through this wrapper, silently.
    const host = { diag, patchOpenAI: vi.fn(() => true), wrapper: { wrap: vi.fn(), unwrap: vi.fn() } } as unknown as LatePatchHost;
    patchEsmCopies(host, ['>=5.0.0 <8'], join(dir, 'app.js'));
    patchEsmCopies(host, ['>=5.0.0 <8'], join(dir, 'app.js'));
    expect(host.patchOpenAI).not.toHaveBeenCalled();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]![0]).toMatch(
      /openai is imported as an ES module that spendtrace could not patch .*NOT recorded.*node --import @spendtrace\/instrumentation\/register.*manuallyInstrument\(\{ openai: sdk \}\)/,
    );
    warn.mockRestore();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('entryIsEsm and versionSupported', () => {
  expect(entryIsEsm('/x/app.mjs')).toBe(true);
  expect(entryIsEsm('/x/app.cjs')).toBe(false);
  expect(entryIsEsm(join(packageDir, 'test', 'x.js'))).toBe(true); // packages/instrumentation is type: module
  expect(versionSupported('7.57.0', ['>=5.0.0 <8'])).toBe(true);
  expect(versionSupported('8.0.0', ['>=5.0.0 <8'])).toBe(false);
  expect(versionSupported('4.99.1', ['>=5.0.0 <8'])).toBe(false);
  expect(versionSupported('0.137.0', ['>=0.30.0 <2'])).toBe(true);
});
