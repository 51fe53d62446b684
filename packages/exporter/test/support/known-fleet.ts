/**
 * A known fleet for the query tests (SQL cookbook, Grafana panels): four agents over the last ten
 * days, sent as real OTLP/protobuf through the real service into chDB. Every span's tokens, tool
 * fees, times, users and outcomes are fixed here, so the tests compute what each query must
 * return from this list and the published prices, without asking ClickHouse.
 */
import { SpanKind, SpanStatusCode, context, trace, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStore, migrate, type RunningServer, type Store } from '../../src/index.ts';
import { startE2EServer } from './one-task.ts';

/** Published OpenAI list prices, USD per 1M tokens [input, output] (platform.openai.com/docs/pricing). */
export const PUBLISHED_USD_PER_MTOK: Record<string, [number, number]> = {
  'gpt-4o-mini': [0.15, 0.6],
  'gpt-4o': [2.5, 10],
  'gpt-4.1': [2, 8],
};
/** The web_search tool's fee, as the tool reports it: $0.005 a call, in pico-USD. */
export const SEARCH_FEE = 5_000_000_000n;

/** Pico-USD for `tokens` at `usdPerMTok` (rates in tenths of a cent keep it integral). */
const at = (tokens: number, usdPerMTok: number) => (BigInt(tokens) * BigInt(Math.round(usdPerMTok * 1000)) * 1_000_000n) / 1000n;

export interface FleetCall {
  kind: 'inference' | 'tool';
  model: string; // '' for a tool
  tool: string; // the tool's name, or '' for a call outside a tool
  input: number;
  output: number;
  start: number; // ms
  error: boolean;
  cost: bigint; // pico-USD, from the published prices (0 for a model without one)
  unpriced: boolean; // an LLM call on a model with no published price
}
export interface FleetTask {
  service: string;
  agent: string;
  taskName: string;
  userId: string;
  outcome: 'success' | 'failure';
  start: number; // ms: the task root's start, the first thing in the task
  calls: FleetCall[];
  cost: bigint;
}

const DAY = 86_400_000;

/** The fleet relative to `now`: day 0 is the last hour, days 1..6 the same time of day back, day 7 seven days minus two hours ago, day 10 outside every 7-day window. */
export function knownFleet(now: number): FleetTask[] {
  const tasks: FleetTask[] = [];
  const add = (t: Omit<FleetTask, 'calls' | 'cost'>, calls: Array<Omit<FleetCall, 'start' | 'cost' | 'unpriced'>>) => {
    const full = calls.map((c, i) => {
      const rate = PUBLISHED_USD_PER_MTOK[c.model];
      const cost = c.kind === 'tool' ? SEARCH_FEE : rate ? at(c.input, rate[0]) + at(c.output, rate[1]) : 0n;
      return { ...c, start: t.start + 1000 * (i + 1), cost, unpriced: c.kind === 'inference' && !rate };
    });
    tasks.push({ ...t, calls: full, cost: full.reduce((a, c) => a + c.cost, 0n) });
  };
  const llm = (model: string, input: number, output: number, extra: Partial<FleetCall> = {}) => ({
    kind: 'inference' as const,
    model,
    tool: '',
    input,
    output,
    error: false,
    ...extra,
  });
  const search = () => ({ kind: 'tool' as const, model: '', tool: 'web_search', input: 0, output: 0, error: false });
  for (const d of [0, 1, 2, 3, 4, 5, 6, 7, 10]) {
    const base = d === 0 ? now - 50 * 60_000 : d === 7 ? now - 7 * DAY + 2 * 3_600_000 : now - d * DAY;
    // research: a gpt-4.1 plan, searches (with a gpt-4o-mini read inside the tool), a gpt-4.1 write; every third fails.
    for (let i = 0; i < 2; i++) {
      const n = d * 2 + i;
      add(
        {
          service: 'fleet',
          agent: 'research-agent',
          taskName: 'deep-research',
          userId: i === 0 ? 'alice' : 'bob',
          outcome: n % 3 === 2 ? 'failure' : 'success',
          start: base + i * 60_000,
        },
        [
          llm('gpt-4.1', 2_000 + 300 * n, 400 + 50 * d),
          ...Array.from({ length: 1 + (n % 3) }, search),
          llm('gpt-4o-mini', 1_500 + 10 * n, 120, { tool: 'web_search' }),
          llm('gpt-4.1', 3_100, 900 + 20 * n),
        ],
      );
    }
    // support: three replies a day on gpt-4o-mini; the second fails after an errored (billed) call.
    for (let i = 0; i < 3; i++) {
      add(
        {
          service: 'fleet',
          agent: 'support-agent',
          taskName: 'reply',
          userId: ['carol', 'dave', 'carol'][i]!,
          outcome: i === 1 ? 'failure' : 'success',
          start: base + (5 + i) * 60_000,
        },
        [llm('gpt-4o-mini', 800 + 37 * i + d, 150 + 11 * i, { error: i === 1 }), llm('gpt-4o-mini', 950 + 13 * d, 210)],
      );
    }
    // triage: one small classification (on day 2 also a custom model with no known price: unpriced, never $0);
    // the nightly summary runs on gpt-4o in another service.
    add({ service: 'fleet', agent: 'triage-agent', taskName: 'classify', userId: 'bob', outcome: 'success', start: base + 9 * 60_000 }, [
      llm('gpt-4o-mini', 310 + d, 7),
      ...(d === 2 ? [llm('acme-sentiment-7b', 120, 3)] : []),
    ]);
    add({ service: 'batch', agent: 'summarizer', taskName: 'nightly-summary', userId: 'ops', outcome: 'success', start: base + 11 * 60_000 }, [
      llm('gpt-4o', 6_000 + 100 * d, 700),
    ]);
  }
  return tasks;
}

function emit(tracer: Tracer, t: FleetTask): void {
  const common = { 'spendtrace.task.name': t.taskName, 'gen_ai.agent.name': t.agent, 'user.id': t.userId };
  const root = tracer.startSpan(`invoke_agent ${t.agent}`, {
    startTime: t.start,
    attributes: { ...common, 'spendtrace.task.root': true, 'spendtrace.task.outcome': t.outcome },
  });
  const ctx = trace.setSpan(context.active(), root);
  for (const c of t.calls) {
    const attributes =
      c.kind === 'tool'
        ? { ...common, 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': c.tool, 'spendtrace.tool.cost.amount': Number(c.cost) / 1e12 }
        : {
            ...common,
            'gen_ai.operation.name': 'chat',
            'gen_ai.provider.name': 'openai',
            'gen_ai.request.model': c.model,
            'gen_ai.usage.input_tokens': c.input,
            'gen_ai.usage.output_tokens': c.output,
            ...(c.tool ? { 'spendtrace.tool.name': c.tool } : {}),
          };
    const s = tracer.startSpan(
      `${c.kind === 'tool' ? 'execute_tool' : 'chat'} ${c.tool || c.model}`,
      { kind: SpanKind.CLIENT, startTime: c.start, attributes },
      ctx,
    );
    if (c.error) s.setStatus({ code: SpanStatusCode.ERROR, message: 'rate limited' });
    s.end(c.start + 800);
  }
  root.end(t.start + 1000 * (t.calls.length + 1));
}

export interface PopulatedStore {
  store: Store;
  server: RunningServer;
  fleet: FleetTask[];
  /** When the fleet was built; queries run soon after, and nothing sits near a window's edge. */
  now: number;
  close(): Promise<void>;
}

/** A fresh chDB store in database `spendtrace`, filled with the known fleet through the service over OTLP. */
export async function populatedStore(): Promise<PopulatedStore> {
  const dir = mkdtempSync(join(tmpdir(), 'spendtrace-fleet-'));
  const store = await createStore({ dataDir: dir });
  await migrate(store, { database: 'spendtrace' });
  const server = await startE2EServer(store, 'spendtrace');
  const now = Date.now();
  const fleet = knownFleet(now);
  for (const service of ['fleet', 'batch']) {
    const provider = new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': service }),
      spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: `${server.url}/v1/traces` }), maxExportBatchSize: 200 })],
    });
    const tracer = provider.getTracer('known-fleet');
    for (const t of fleet.filter((x) => x.service === service)) emit(tracer, t);
    await provider.forceFlush();
    await provider.shutdown();
  }
  await server.flush();
  return {
    store,
    server,
    fleet,
    now,
    async close() {
      await server.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Every priced span of the fleet with its task, flattened. */
export function fleetCalls(fleet: FleetTask[]): Array<FleetCall & { task: FleetTask }> {
  return fleet.flatMap((task) => task.calls.map((c) => ({ ...c, task })));
}

/** Start of the hour of a time in ms (ClickHouse's toStartOfHour, for zones offset by whole hours). */
export const hourOf = (ms: number) => Math.floor(ms / 3_600_000) * 3_600_000;
/** The date of a time in ms in time zone `tz`, as ClickHouse's toDate prints it (YYYY-MM-DD). */
export const dayOf = (ms: number, tz: string) =>
  new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(ms);
/** `day` (YYYY-MM-DD) moved by `n` days. */
export const addDays = (day: string, n: number) => new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY).toISOString().slice(0, 10);
