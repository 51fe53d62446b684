// Proves the hook-based paths in real Node processes: an ESM app under `node --import @spendtrace/instrumentation/register` and a CommonJS app with its own NodeSDK both export priced chat spans over OTLP/HTTP.
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, test } from 'vitest';
import * as A from '@spendtrace/semconv';
import { startFakeOpenAI, type FakeOpenAIServer } from '@spendtrace/fake-providers';

interface OtlpSpan {
  name: string;
  traceId: string;
  attributes: Record<string, unknown>;
}

const packageDir = fileURLToPath(new URL('..', import.meta.url));
let fake: FakeOpenAIServer;
let receiver: Server;
let receiverUrl: string;
const received: Array<{ service: unknown; spans: OtlpSpan[] }> = [];

/** OTLP/JSON AnyValue -> JS value. */
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
  fake = await startFakeOpenAI({ defaults: { promptTokens: 1000, completionTokens: 100 } });
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const json = JSON.parse(body);
      for (const rs of json.resourceSpans ?? []) {
        const service = attrs(rs.resource?.attributes)['service.name'];
        const spans = (rs.scopeSpans ?? [])
          .flatMap((ss: { spans?: unknown[] }) => ss.spans ?? [])
          .map((s: { name: string; traceId: string; attributes: [] }) => ({ name: s.name, traceId: s.traceId, attributes: attrs(s.attributes) }));
        received.push({ service, spans });
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await fake.close();
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
          FAKE_OPENAI_URL: fake.url,
          OTEL_SERVICE_NAME: service,
          OTEL_EXPORTER_OTLP_ENDPOINT: receiverUrl,
          OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
          OTEL_TRACES_EXPORTER: 'otlp',
          OTEL_METRICS_EXPORTER: 'none',
          OTEL_LOGS_EXPORTER: 'none',
          NODE_OPTIONS: '',
        },
      },
      (err, _stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
    );
  });
}

const spansOf = (service: string) => received.filter((r) => r.service === service).flatMap((r) => r.spans);
// 1000 × $0.15 + 100 × $0.60 per million (gpt-4o-mini).
const CALL_COST = 0.00021;

test('ESM app under --import @spendtrace/instrumentation/register: plain and streamed calls arrive priced, with task and tool spans', async () => {
  const { code, stderr } = await run(['--import', '@spendtrace/instrumentation/register', 'test/fixtures/esm-app.mjs'], 'esm-app');
  expect(stderr).not.toMatch(/Error/);
  expect(code).toBe(0);
  const spans = spansOf('esm-app');
  const chats = spans.filter((s) => s.name === 'chat gpt-4o-mini');
  expect(chats).toHaveLength(2);
  const root = spans.find((s) => s.name === 'invoke_agent esm-agent')!;
  for (const c of chats) {
    expect(c.attributes[A.ATTR_GEN_AI_USAGE_COST_AMOUNT]).toBe(CALL_COST);
    expect(c.traceId).toBe(root.traceId); // the task is the trace
    expect(c.attributes[A.ATTR_SPENDTRACE_TASK_ID]).toBeUndefined();
    expect(c.attributes[A.ATTR_GEN_AI_AGENT_NAME]).toBe('esm-agent');
  }
  expect(spans.find((s) => s.name === 'execute_tool search')!.attributes[A.ATTR_SPENDTRACE_TOOL_COST_AMOUNT]).toBe(0.005);
});

test("CommonJS app: NodeSDK + SpendtraceInstrumentation, then require('openai'): the call arrives priced", async () => {
  const { code, stderr } = await run(['test/fixtures/cjs-app.cjs'], 'cjs-app');
  expect(stderr).not.toMatch(/Error/);
  expect(code).toBe(0);
  const chats = spansOf('cjs-app').filter((s) => s.name === 'chat gpt-4o-mini');
  expect(chats).toHaveLength(1);
  expect(chats[0]!.attributes).toMatchObject({
    [A.ATTR_GEN_AI_PROVIDER_NAME]: 'openai',
    [A.ATTR_GEN_AI_RESPONSE_MODEL]: 'gpt-4o-mini-2024-07-18',
    [A.ATTR_GEN_AI_USAGE_INPUT_TOKENS]: 1000,
    [A.ATTR_GEN_AI_USAGE_COST_AMOUNT]: CALL_COST,
    [A.ATTR_SPENDTRACE_TASK_NAME]: 'cjs-task',
    [A.ATTR_USER_ID]: 'u-7',
  });
});
