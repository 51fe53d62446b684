// Proves the hook paths for all three SDKs in real Node processes: under `node --import @spendtrace/instrumentation/register` (ESM) and with a NodeSDK + require (CommonJS), each openai, Anthropic (native tracing on and off) and Gemini call arrives over OTLP as exactly one priced span, and the metrics arrive too.
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, test } from 'vitest';
import * as A from '@spendtrace/semconv';
import {
  startFakeAnthropic,
  startFakeGemini,
  startFakeOpenAI,
  type FakeAnthropicServer,
  type FakeGeminiServer,
  type FakeOpenAIServer,
} from '@spendtrace/fake-providers';
import { nano, PRICES, usd } from './fixtures/providers-harness.ts';

interface OtlpSpan {
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
}

const packageDir = fileURLToPath(new URL('..', import.meta.url));
let openaiFake: FakeOpenAIServer;
let anthropicFake: FakeAnthropicServer;
let geminiFake: FakeGeminiServer;
let receiver: Server;
let receiverUrl: string;
const spans: Array<{ service: unknown; span: OtlpSpan }> = [];
const metrics: Array<{ service: unknown; name: string; dataPoints: Array<{ attributes: Record<string, unknown>; value: number }> }> = [];

function value(v: Record<string, unknown>): unknown {
  if ('stringValue' in v) return v.stringValue;
  if ('boolValue' in v) return v.boolValue;
  if ('intValue' in v) return Number(v.intValue);
  if ('doubleValue' in v) return v.doubleValue;
  if ('arrayValue' in v) return ((v.arrayValue as { values?: Array<Record<string, unknown>> }).values ?? []).map(value);
  return undefined;
}
const attrs = (list: Array<{ key: string; value: Record<string, unknown> }> = []) => Object.fromEntries(list.map((a) => [a.key, value(a.value)]));

beforeAll(async () => {
  openaiFake = await startFakeOpenAI({ defaults: { promptTokens: 1000, completionTokens: 100 } });
  anthropicFake = await startFakeAnthropic({ defaults: { message: { usage: { input_tokens: 1000, output_tokens: 100 } } } });
  geminiFake = await startFakeGemini({ defaults: { generate: { usage: { promptTokenCount: 1000, candidatesTokenCount: 100 } } } });
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const json = JSON.parse(body);
      for (const rs of json.resourceSpans ?? []) {
        const service = attrs(rs.resource?.attributes)['service.name'];
        for (const ss of rs.scopeSpans ?? [])
          for (const s of ss.spans ?? []) spans.push({ service, span: { name: s.name, kind: s.kind, attributes: attrs(s.attributes) } });
      }
      for (const rm of json.resourceMetrics ?? []) {
        const service = attrs(rm.resource?.attributes)['service.name'];
        for (const sm of rm.scopeMetrics ?? [])
          for (const m of sm.metrics ?? []) {
            const points = (m.sum ?? m.histogram)?.dataPoints ?? [];
            metrics.push({
              service,
              name: m.name,
              dataPoints: points.map((p: { attributes: []; asDouble?: number; asInt?: string; sum?: number }) => ({
                attributes: attrs(p.attributes),
                value: p.asDouble ?? (p.asInt !== undefined ? Number(p.asInt) : (p.sum ?? 0)),
              })),
            });
          }
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await Promise.all([openaiFake.close(), anthropicFake.close(), geminiFake.close()]);
  await new Promise((r) => receiver.close(r));
});

function run(args: string[], service: string): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      args,
      {
        cwd: packageDir,
        timeout: 30_000,
        env: {
          ...process.env,
          FAKE_OPENAI_URL: openaiFake.url,
          FAKE_ANTHROPIC_URL: anthropicFake.url,
          FAKE_GEMINI_URL: geminiFake.url,
          OTEL_SERVICE_NAME: service,
          OTEL_EXPORTER_OTLP_ENDPOINT: receiverUrl,
          OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
          OTEL_TRACES_EXPORTER: 'otlp',
          OTEL_METRICS_EXPORTER: 'otlp',
          OTEL_LOGS_EXPORTER: 'none',
          NODE_OPTIONS: '',
        },
      },
      (err, _stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
    );
  });
}

const CLIENT = 3; // OTLP SpanKind CLIENT
const perCall = (m: keyof typeof PRICES) => usd(1000, PRICES[m].input) + usd(100, PRICES[m].output);

function assertOnePricedSpanPerCall(service: string, attribution: Record<string, unknown>) {
  const llm = spans.filter((s) => s.service === service && s.span.kind === CLIENT).map((s) => s.span);
  expect(llm.map((s) => s.name).sort()).toEqual([
    'anthropic.messages.create',
    'chat claude-sonnet-4-5',
    'chat gpt-4o-mini',
    'generate_content gemini-2.5-flash',
  ]);
  const cost = (name: string) => nano(llm.find((s) => s.name === name)!.attributes[A.ATTR_GEN_AI_USAGE_COST_AMOUNT]);
  expect(cost('chat gpt-4o-mini')).toBe(nano(perCall('gpt-4o-mini')));
  expect(cost('anthropic.messages.create')).toBe(nano(perCall('claude-sonnet-4-5')));
  expect(cost('chat claude-sonnet-4-5')).toBe(nano(perCall('claude-sonnet-4-5')));
  expect(cost('generate_content gemini-2.5-flash')).toBe(nano(perCall('gemini-2.5-flash')));
  for (const s of llm) expect(s.attributes).toMatchObject(attribution);
}

test('ESM app under --import @spendtrace/instrumentation/register: openai, Anthropic (native on and off) and Gemini calls arrive as one priced span each, with metrics', async () => {
  const { code, stderr } = await run(['--import', '@spendtrace/instrumentation/register', 'test/fixtures/esm-providers-app.mjs'], 'esm-providers');
  expect(stderr).not.toMatch(/Error/);
  expect(code).toBe(0);
  assertOnePricedSpanPerCall('esm-providers', { [A.ATTR_SPENDTRACE_TASK_NAME]: 'esm-providers', [A.ATTR_GEN_AI_AGENT_NAME]: 'esm-agent' });
  const mine = metrics.filter((m) => m.service === 'esm-providers');
  const cost = mine.filter((m) => m.name === 'spendtrace.cost').flatMap((m) => m.dataPoints);
  expect(nano(cost.reduce((a, p) => a + p.value, 0))).toBe(nano(perCall('gpt-4o-mini') + 2 * perCall('claude-sonnet-4-5') + perCall('gemini-2.5-flash')));
  expect(mine.some((m) => m.name === 'gen_ai.client.token.usage')).toBe(true);
  expect(mine.some((m) => m.name === 'gen_ai.client.operation.duration')).toBe(true);
});

test('CommonJS app: NodeSDK + SpendtraceInstrumentation, then require() of all three SDKs: one priced span per call', async () => {
  const { code, stderr } = await run(['test/fixtures/cjs-providers-app.cjs'], 'cjs-providers');
  expect(stderr).not.toMatch(/Error/);
  expect(code).toBe(0);
  assertOnePricedSpanPerCall('cjs-providers', { [A.ATTR_SPENDTRACE_TASK_NAME]: 'cjs-providers', [A.ATTR_USER_ID]: 'u-9' });
});
