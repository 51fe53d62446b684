/**
 * The demo fleet: a few agents doing believable work through the real `openai` SDK against a
 * fake OpenAI server, traced by SpendtraceInstrumentation and exported over OTLP/HTTP (protobuf).
 * Every token count, failure and latency comes from a seeded generator, so two runs cost the
 * same to the pico-dollar.
 */
import * as openaiModule from 'openai';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { startFakeOpenAI } from '@spendtrace/fake-providers';
import type { FakeBehavior, FakeOpenAIServer } from '@spendtrace/fake-providers';
import {
  BudgetExceededError, manuallyInstrument, recordToolCost, setTaskOutcome, SpendtraceInstrumentation, withTask, withTool,
} from '@spendtrace/instrumentation';
import { seeded } from './random.ts';
import type { Random } from './random.ts';

type OpenAIClient = InstanceType<typeof openaiModule.OpenAI>;
type Message = { role: 'system' | 'user' | 'assistant'; content: string };

export interface DemoFleetOptions {
  /** Where spans go: the spendtrace service's OTLP/HTTP traces URL, e.g. http://127.0.0.1:4318/v1/traces. */
  otlpEndpoint: string;
  /** OpenAI-compatible base URL to use instead of starting a fake server (it must honour x-fake-behavior). */
  providers?: { openaiBaseUrl?: string };
  /** Progress lines. @default no output */
  log?: (line: string) => void;
  /** Seed of every random choice. @default 42 */
  seed?: number;
  /** `service.name` of the fleet. @default 'demo-fleet' */
  serviceName?: string;
}

export interface DemoTaskRecord {
  agent: string;
  task: string;
  outcome: 'success' | 'failure';
  reason?: string;
}

export interface DemoFleetResult {
  serviceName: string;
  tasks: DemoTaskRecord[];
  /** HTTP requests the fake provider answered (retries included). */
  providerRequests: number;
  agents: string[];
  tools: string[];
  models: string[];
}

/** The fixed fee of one web search, as a search API would bill it. */
export const WEB_SEARCH_FEE_USD = 0.005;
export const UNPRICED_MODEL = 'acme-sentiment-7b';

const STRONG = 'gpt-4.1';
const CHEAP = 'gpt-4o-mini';
const SUMMARIZER = 'gpt-4.1-mini';
const REPLIES = 'gpt-4o';

/** Sends one scripted chat completion; the behaviour rides in a header the fake server reads. */
function chat(client: OpenAIClient, model: string, messages: Message[], b: FakeBehavior, extra: Record<string, unknown> = {}) {
  return client.chat.completions.create(
    { model, messages, ...extra } as never,
    { headers: { 'x-fake-behavior': JSON.stringify(b) } },
  ) as unknown as Promise<any>;
}

async function drain(stream: AsyncIterable<any>): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += chunk?.choices?.[0]?.delta?.content ?? '';
  return text;
}

interface Fleet {
  client: OpenAIClient;
  fake: FakeOpenAIServer | undefined;
  rnd: Random;
  log: (line: string) => void;
  tasks: DemoTaskRecord[];
}

async function task(f: Fleet, name: string, agent: string, fn: () => Promise<void>, budgetUsd?: number): Promise<void> {
  const rec: DemoTaskRecord = { agent, task: name, outcome: 'success' };
  await withTask({ name, agent, userId: `user-${1 + f.rnd.int(0, 4)}`, ...(budgetUsd !== undefined ? { budgetUsd } : {}) }, async () => {
    try {
      await fn();
      setTaskOutcome('success');
    } catch (err) {
      rec.outcome = 'failure';
      rec.reason = err instanceof BudgetExceededError ? 'budget exceeded' : err instanceof Error ? err.message.split('\n')[0]!.slice(0, 80) : String(err);
      setTaskOutcome('failure', { reason: rec.reason });
    }
  });
  f.tasks.push(rec);
}

const TOPICS = ['vector databases for RAG', 'EU AI Act obligations', 'GPU spot pricing trends'];

/** Plans on the strong model, searches the web (paid tool + a cheap model reading results), writes a streamed report. */
async function researchAgent(f: Fleet): Promise<void> {
  for (const topic of TOPICS) {
    await task(f, 'research', 'research-agent', async () => {
      const messages: Message[] = [
        { role: 'system', content: 'You are a meticulous research analyst.' },
        { role: 'user', content: `Research: ${topic}` },
      ];
      const queries = [`${topic} overview`, `${topic} 2026`, ...(f.rnd.int(0, 1) ? [`${topic} criticism`] : [])];
      await chat(f.client, STRONG, messages, {
        promptTokens: f.rnd.int(900, 1400), completionTokens: f.rnd.int(120, 220), delayMs: f.rnd.int(20, 60),
        toolCalls: queries.map((q) => ({ name: 'web_search', arguments: JSON.stringify({ q }) })),
      });
      for (const q of queries) {
        await withTool('web_search', async () => {
          recordToolCost(WEB_SEARCH_FEE_USD);
          await new Promise((r) => setTimeout(r, f.rnd.int(5, 25))); // the search API call
          // Reading the results is an LLM call made inside the tool: a cheap model condenses them.
          await chat(f.client, CHEAP, [{ role: 'user', content: `Condense these results for "${q}"` }], {
            promptTokens: f.rnd.int(2500, 4000), completionTokens: f.rnd.int(150, 300), delayMs: f.rnd.int(10, 30),
          });
        });
      }
      const stream = await chat(f.client, STRONG, [...messages, { role: 'user', content: 'Write the report.' }], {
        promptTokens: f.rnd.int(3000, 4500), completionTokens: f.rnd.int(700, 1100), chunks: 12, chunkDelayMs: 2,
        content: `A report on ${topic}: findings, risks, open questions and recommended next steps for the team.`,
      }, { stream: true, stream_options: { include_usage: true } });
      await drain(stream);
    });
  }
  f.log(`research-agent: ${TOPICS.length} research tasks, web_search at $${WEB_SEARCH_FEE_USD}/call, ${STRONG} + ${CHEAP}, streamed reports`);
}

const LABELS = ['billing', 'bug', 'feature-request', 'account', 'spam'];

/** Many small classifications on the cheap model; one ticket goes to a self-hosted model nobody priced. */
async function triageAgent(f: Fleet): Promise<void> {
  const n = 12;
  for (let i = 1; i <= n; i++) {
    await task(f, 'triage', 'triage-agent', async () => {
      const label = f.rnd.pick(LABELS);
      const messages: Message[] = [
        { role: 'system', content: `Classify the ticket as one of: ${LABELS.join(', ')}.` },
        { role: 'user', content: `Ticket #${1000 + i}` },
      ];
      const behaviour = { promptTokens: f.rnd.int(180, 420), completionTokens: f.rnd.int(3, 8), delayMs: f.rnd.int(5, 20) };
      if (i % 5 === 0) {
        // The agent could not parse the first answer and asks the identical question again: an
        // app-level repeat, which the report counts as retry overhead.
        await chat(f.client, CHEAP, messages, { ...behaviour, content: `${label}?? (unsure)` });
      }
      await chat(f.client, CHEAP, messages, { ...behaviour, content: label });
      if (i === 7) {
        // Sentiment on a custom model with no public price: it must show as unpriced, never as $0.
        await chat(f.client, UNPRICED_MODEL, [{ role: 'user', content: `Sentiment of ticket #${1000 + i}` }], {
          promptTokens: 260, completionTokens: 4, content: 'negative', delayMs: 15,
        });
      }
    });
  }
  f.log(`triage-agent: ${n} tickets classified on ${CHEAP} (2 asked twice), one sentiment call on ${UNPRICED_MODEL} (no known price)`);
}

/** Ten steps; each prompt carries everything so far, so input tokens grow (the stable prefix is cached). */
async function nightlySummarizer(f: Fleet): Promise<void> {
  await task(f, 'nightly-summary', 'nightly-summarizer', async () => {
    const history: Message[] = [{ role: 'system', content: 'Summarize the day of support tickets, section by section.' }];
    let prompt = 1200;
    let previous = 0;
    for (let step = 1; step <= 10; step++) {
      history.push({ role: 'user', content: `Section ${step}: tickets ${step * 40 - 39}-${step * 40}` });
      const output = f.rnd.int(250, 400);
      // Prompt caching works in 128-token blocks over the prefix the previous call already sent.
      const b: FakeBehavior = { promptTokens: prompt, completionTokens: output, cachedTokens: Math.floor(previous / 128) * 128, delayMs: f.rnd.int(15, 45) };
      if (step === 5) {
        // A stream without include_usage: the instrumentation counts tokens itself (marked estimated).
        const text = await drain(await chat(f.client, SUMMARIZER, history, { ...b, content: `Section ${step} summary: volume up, two incidents, billing queue cleared.` }, { stream: true }));
        history.push({ role: 'assistant', content: text });
      } else {
        const res = await chat(f.client, SUMMARIZER, history, { ...b, content: `Section ${step} summary.` });
        history.push({ role: 'assistant', content: String(res.choices?.[0]?.message?.content ?? '') });
      }
      previous = prompt;
      prompt += output + f.rnd.int(600, 900);
    }
  });
  f.log(`nightly-summarizer: 10 steps on ${SUMMARIZER}, prompts growing from 1,200 tokens with cached prefixes`);
}

/** Drafts replies on gpt-4o behind a flaky gateway: 429s and 5xx, SDK retries, and two tasks that fail. */
async function flakyAgent(f: Fleet): Promise<void> {
  const fake = f.fake;
  const fail = (status: number): FakeBehavior => ({ fail: { status, retryAfter: 0.01 } });
  const ok = (): FakeBehavior => ({ promptTokens: f.rnd.int(800, 1500), completionTokens: f.rnd.int(200, 400), delayMs: f.rnd.int(20, 50) });
  // Scripts per task: what the gateway answers to each HTTP attempt, in order (the SDK retries twice).
  const scripts: FakeBehavior[][] = [
    [fail(429), ok()], // rate limited once, retried: the paid call is a retry
    [fail(500), fail(503), ok()], // two server errors, then through
    [ok(), fail(429), fail(429), fail(429)], // first draft fine, the revision is rate limited past every retry: failure
    [ok(), ok()],
    [fail(503), ok(), fail(500), fail(502), fail(500)], // retried once, then a persistent outage: failure
  ];
  for (const script of scripts) {
    await task(f, 'support-reply', 'support-agent', async () => {
      if (fake) fake.enqueue(...script);
      const calls = script.filter((b) => !b.fail).length + (script.at(-1)?.fail ? 1 : 0);
      for (let c = 0; c < calls; c++) {
        // No behaviour header here: the queued script decides, attempt by attempt.
        await f.client.chat.completions.create({ model: REPLIES, messages: [{ role: 'user', content: c ? 'Revise the draft.' : 'Draft a reply.' }] });
      }
    });
  }
  f.log(`support-agent: ${scripts.length} replies on ${REPLIES} through 429/5xx with SDK retries (2 tasks fail)`);
}

/** A deep-research task with a $0.02 budget: the call that would exceed it fails fast. */
async function budgetedTask(f: Fleet): Promise<void> {
  await task(f, 'deep-research', 'research-agent', async () => {
    const messages: Message[] = [{ role: 'user', content: 'Exhaustive literature review on agent cost controls.' }];
    for (let i = 0; i < 5; i++) {
      await chat(f.client, STRONG, messages, { promptTokens: 6000 + i * 1500, completionTokens: 800, delayMs: 30 });
    }
  }, 0.02);
  const last = f.tasks.at(-1);
  f.log(`research-agent: one deep-research task with budgetUsd 0.02: ${last?.reason === 'budget exceeded' ? 'stopped by BudgetExceededError' : `ended ${last?.outcome}`}`);
}

/** Runs the whole fleet once and flushes every span to `otlpEndpoint`. */
export async function runDemoFleet(options: DemoFleetOptions): Promise<DemoFleetResult> {
  const log = options.log ?? (() => {});
  const serviceName = options.serviceName ?? 'demo-fleet';

  const exporter = new OTLPTraceExporter({ url: options.otlpEndpoint });
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName, 'service.version': '1.0.0', 'deployment.environment': 'demo' }),
    spanProcessors: [new BatchSpanProcessor({ exporter, scheduledDelayMillis: 200, maxExportBatchSize: 256 })],
  });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  // The globals are ours for the run and released afterwards, so the demo can run twice in a process.
  trace.disable();
  context.disable();
  propagation.disable();
  trace.setGlobalTracerProvider(provider);
  context.setGlobalContextManager(contextManager);
  const instrumentation = new SpendtraceInstrumentation({ streamUsage: 'estimate' });
  instrumentation.setTracerProvider(provider);
  // ESM imports are invisible to require hooks, so the SDK is handed over explicitly.
  manuallyInstrument({ openai: openaiModule }, instrumentation);

  const fake = options.providers?.openaiBaseUrl ? undefined : await startFakeOpenAI();
  const baseURL = options.providers?.openaiBaseUrl ?? fake!.url;
  const client = new openaiModule.OpenAI({ baseURL, apiKey: 'sk-demo-not-a-real-key', maxRetries: 2 });
  const f: Fleet = { client, fake, rnd: seeded(options.seed ?? 42), log, tasks: [] };
  let requests = 0;
  try {
    await researchAgent(f);
    await triageAgent(f);
    await nightlySummarizer(f);
    await flakyAgent(f);
    await budgetedTask(f);
    requests = fake?.requests.length ?? 0;
  } finally {
    await provider.forceFlush();
    await provider.shutdown();
    instrumentation.disable();
    await fake?.close();
    trace.disable();
    context.disable();
  }
  const failed = f.tasks.filter((t) => t.outcome === 'failure');
  log(`fleet done: ${f.tasks.length} tasks (${failed.length} failed: ${[...new Set(failed.map((t) => t.reason))].join('; ')}), spans flushed to ${options.otlpEndpoint}`);
  return {
    serviceName,
    tasks: f.tasks,
    providerRequests: requests,
    agents: [...new Set(f.tasks.map((t) => t.agent))],
    tools: ['web_search'],
    models: [STRONG, CHEAP, SUMMARIZER, REPLIES, UNPRICED_MODEL],
  };
}
