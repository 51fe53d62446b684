// Proves model routing end to end: ModelRouter decisions through the real openai SDK land on the task spans, reach `spendtrace serve` on chDB over OTLP, come back from /api/routing as the history a second router starts from (equal to what the first one learned), with the experiment's figures and verdict and an over-provisioning finding priced to the pico-dollar.
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { startFakeOpenAI, type FakeOpenAIServer } from '@spendtrace/fake-providers';
import { createReportRoutes, createStore, insights, migrate, startServer, type RoutingReport, type RunningServer, type Store } from '@spendtrace/exporter';
import { ModelRouter, setTaskOutcome, SpendtraceInstrumentation, withTask } from '@spendtrace/instrumentation';
import * as A from '@spendtrace/semconv';

let dir: string;
let store: Store;
let server: RunningServer;
let fake: FakeOpenAIServer;
let sdk: NodeSDK;
let batch: BatchSpanProcessor;
const memory = new InMemorySpanExporter();
let client: any;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'spendtrace-routing-'));
  store = await createStore({ dataDir: dir });
  await migrate(store, { database: 'spendtrace' });
  server = await startServer({
    port: 0,
    store,
    pricer: new A.Pricer(),
    database: 'spendtrace',
    log: () => {},
    ingest: { batch: { maxBatchAgeMs: 20 } },
    extraRoutes: createReportRoutes({ store, database: 'spendtrace' }),
  });
  fake = await startFakeOpenAI();
  batch = new BatchSpanProcessor({
    exporter: new OTLPTraceExporter({ url: `${server.url}/v1/traces` }),
    scheduledDelayMillis: 50,
    maxQueueSize: 10_000,
    maxExportBatchSize: 512,
  });
  sdk = new NodeSDK({
    serviceName: 'routing-e2e',
    spanProcessors: [batch, new SimpleSpanProcessor({ exporter: memory })],
    instrumentations: [new SpendtraceInstrumentation()],
  });
  sdk.start();
  const { OpenAI } = createRequire(import.meta.url)('openai');
  client = new OpenAI({ baseURL: fake.url, apiKey: 'test-key', maxRetries: 0 });
}, 60_000);

afterAll(async () => {
  await sdk?.shutdown();
  await fake?.close();
  await server?.close();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

const TOKENS = { promptTokens: 300, completionTokens: 40 };
/** Published OpenAI prices: pico-USD per token. */
const PICO_PER_TOKEN = { 'gpt-4o': { in: 2_500_000n, out: 10_000_000n }, 'gpt-4o-mini': { in: 150_000n, out: 600_000n } } as const;
const callPico = (m: keyof typeof PICO_PER_TOKEN) => 300n * PICO_PER_TOKEN[m].in + 40n * PICO_PER_TOKEN[m].out;

/** One classification task: the router decides, the real SDK calls the fake, the app judges the label. */
async function classify(router: ModelRouter, i: number, fails: (i: number) => boolean): Promise<string> {
  return withTask({ name: router.taskType, agent: 'triage-agent' }, async () => {
    const { model } = router.choose();
    await client.chat.completions.create(
      { model, messages: [{ role: 'user', content: `ticket ${i}` }] },
      { headers: { 'x-fake-behavior': JSON.stringify({ ...TOKENS, content: 'billing' }) } },
    );
    setTaskOutcome(fails(i) ? 'failure' : 'success');
    return model;
  });
}

async function routing(query: string): Promise<RoutingReport> {
  await batch.forceFlush();
  await server.flush();
  const res = await fetch(`${server.url}/api/routing?${query}`);
  expect(res.status).toBe(200);
  return (await res.json()) as RoutingReport;
}

test('decisions on spans, /api/routing history round trip, experiment verdict and over-provisioning finding', async () => {
  // The service routes classification to gpt-4o; a canary process already runs it on gpt-4o-mini.
  // Every label parses on both (at a 2-point margin, fewer outcomes could not show equivalence at 95 %).
  const fails = () => false;
  const main = new ModelRouter({
    taskType: 'ticket_classification',
    candidates: ['gpt-4o', 'gpt-4o-mini'],
    incumbent: 'gpt-4o',
    maxCostUsd: 0.002,
    expectedTokens: { input: 300, output: 40 },
  });
  const canary = new ModelRouter({ taskType: 'ticket_classification', candidates: ['gpt-4o', 'gpt-4o-mini'], incumbent: 'gpt-4o-mini' });
  for (let i = 0; i < 300; i++) await classify(main, i, fails);
  for (let i = 0; i < 150; i++) await classify(canary, i, fails);
  // Replies run an experiment: half of them on the challenger.
  const replies = new ModelRouter({
    taskType: 'reply_drafting',
    candidates: ['gpt-4o', 'gpt-4o-mini'],
    incumbent: 'gpt-4o',
    seed: 5,
    experiment: { challenger: 'gpt-4o-mini', share: 0.5 },
  });
  const replyModels: string[] = [];
  for (let i = 0; i < 60; i++) replyModels.push(await classify(replies, i, () => false));

  // The decision is on the task span and the call went to the chosen model.
  const tasks = memory.getFinishedSpans().filter((s) => s.attributes[A.ATTR_SPENDTRACE_TASK_ROOT]);
  expect(tasks).toHaveLength(510);
  const first = tasks[0]!;
  expect(first.attributes).toMatchObject({
    [A.ATTR_SPENDTRACE_ROUTE_TASK_TYPE]: 'ticket_classification',
    [A.ATTR_SPENDTRACE_ROUTE_MODEL]: 'gpt-4o',
    [A.ATTR_SPENDTRACE_ROUTE_REASON]: 'incumbent',
    [A.ATTR_SPENDTRACE_ROUTE_CANDIDATES]: ['gpt-4o-mini', 'gpt-4o'],
    [A.ATTR_SPENDTRACE_ROUTE_MAX_COST]: 0.002,
    [A.ATTR_SPENDTRACE_TASK_OUTCOME]: 'success',
  });
  const firstCall = memory.getFinishedSpans().find((s) => s.spanContext().traceId === first.spanContext().traceId && s.name.startsWith('chat '))!;
  expect(firstCall.attributes[A.ATTR_GEN_AI_REQUEST_MODEL]).toBe('gpt-4o');
  const challengerTask = tasks.find((s) => s.attributes[A.ATTR_SPENDTRACE_ROUTE_EXPERIMENT_ARM] === 'challenger')!;
  expect(challengerTask.attributes).toMatchObject({
    [A.ATTR_SPENDTRACE_ROUTE_EXPERIMENT]: 'gpt-4o->gpt-4o-mini',
    [A.ATTR_SPENDTRACE_ROUTE_MODEL]: 'gpt-4o-mini',
    [A.ATTR_SPENDTRACE_ROUTE_REASON]: 'experiment_challenger',
    [A.ATTR_SPENDTRACE_ROUTE_EXPERIMENT_MARGIN]: 0.02,
    [A.ATTR_SPENDTRACE_ROUTE_EXPERIMENT_CONFIDENCE]: 0.95,
  });

  const all = await routing('since=1h');
  const cls = all.taskTypes.find((t) => t.taskType === 'ticket_classification')!;
  expect(cls.models.map((m) => [m.model, m.tasks, m.successes, m.failures, m.calls, m.inputTokens, m.outputTokens])).toEqual([
    ['gpt-4o', 300, 300, 0, 300, 90_000, 12_000],
    ['gpt-4o-mini', 150, 150, 0, 150, 45_000, 6_000],
  ]);
  // Exact: every task's spend is its one call at the published price.
  const [big, small] = cls.models;
  expect(A.parsePico(big!.cost)).toBe(300n * callPico('gpt-4o'));
  expect(A.parsePico(small!.modelCost)).toBe(150n * callPico('gpt-4o-mini'));
  expect(A.parsePico(big!.costPerSuccess!)).toBe(callPico('gpt-4o'));
  expect(cls.saving).toMatchObject({ baseline: 'gpt-4o', saved: A.formatPico(150n * (callPico('gpt-4o') - callPico('gpt-4o-mini'))) });

  // Over-provisioned: still routed to gpt-4o while gpt-4o-mini succeeded as often, for 1/16 of the price.
  expect(all.findings).toHaveLength(1);
  const f = all.findings[0]!;
  expect(f).toMatchObject({ kind: 'over_provisioned_model', taskType: 'ticket_classification', model: 'gpt-4o', cheaperModel: 'gpt-4o-mini' });
  expect(f.evidence.probabilityWithinMargin).toBeGreaterThanOrEqual(0.95);
  // 300 successes in the 1h window, each (cps gpt-4o - cps gpt-4o-mini) cheaper, × 30 days / 1 hour.
  const gain = A.parsePico(big!.costPerSuccess!) - A.parsePico(small!.costPerSuccess!);
  expect(A.parsePico(f.monthlySaving)).toBe(300n * gain * 720n);
  expect(f.assumption).toMatch(/300 successes in the last 1h continue at that rate for 30 days/);

  // The experiment: figures per arm as the router saw them, and the verdict (100 outcomes per arm needed).
  const rep = all.taskTypes.find((t) => t.taskType === 'reply_drafting')!;
  const exp = rep.experiments[0]!;
  const onChallenger = replyModels.filter((m) => m === 'gpt-4o-mini').length;
  expect(exp.id).toBe('gpt-4o->gpt-4o-mini');
  expect([exp.incumbent.outcomes, exp.challenger.outcomes]).toEqual([60 - onChallenger, onChallenger]);
  expect(exp.verdict.verdict).toBe('running');
  expect(exp.verdict.verdict).toBe(replies.experiment!.verdict);
  expect(exp.verdict.probabilityWithinMargin).toBeCloseTo(replies.experiment!.probabilityWithinMargin, 9);

  // A new process starts from the service's history: it believes what the two routers learned together.
  const fresh = new ModelRouter({
    taskType: 'ticket_classification',
    candidates: ['gpt-4o', 'gpt-4o-mini'],
    maxCostUsd: 0.002,
    expectedTokens: { input: 300, output: 40 },
    history: { url: server.url, since: '1h' },
    seed: 1,
  });
  await fresh.ready;
  const learned = Object.fromEntries(fresh.stats().map((s) => [s.model, s]));
  expect(learned['gpt-4o']).toMatchObject({ outcomes: 300, successRate: 301 / 302, expectedCostUsd: A.picoToUsd(callPico('gpt-4o')) });
  expect(learned['gpt-4o-mini']).toMatchObject({ outcomes: 150, successRate: 151 / 152, expectedCostUsd: A.picoToUsd(callPico('gpt-4o-mini')) });
  const sum = (r: ModelRouter, model: string) => r.stats().find((s) => s.model === model)!.outcomes;
  expect(sum(main, 'gpt-4o') + sum(canary, 'gpt-4o')).toBe(learned['gpt-4o']!.outcomes);
  // And routes the bandit's way: gpt-4o-mini, cheaper per success at the same success rate.
  expect(fresh.choose().model).toBe('gpt-4o-mini');

  // The report prints it.
  const report = (await (await fetch(`${server.url}/api/report?since=1h`)).json()) as { routing: RoutingReport };
  expect(report.routing.findings).toHaveLength(1);

  // And the insights list it beside the other detectors, with the same evidence: 300 successes × the gap.
  const found = await insights(store, { since: '1h' });
  const over = found.findings.filter((x) => x.kind === 'over-provisioned-model');
  expect(over).toHaveLength(1);
  expect(over[0]).toMatchObject({ subject: { taskName: 'ticket_classification', model: 'gpt-4o' }, metrics: { cheaperModel: 'gpt-4o-mini' } });
  expect(A.parsePico(over[0]!.windowSaving)).toBe(300n * gain);
}, 120_000);
