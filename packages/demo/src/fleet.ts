/**
 * The demo fleet: a few agents doing believable multi-model work through the real SDKs (`openai`,
 * `@anthropic-ai/sdk`, `@google/genai`) against fake provider servers, traced by
 * SpendtraceInstrumentation and exported over OTLP/HTTP (protobuf). Claude plans and writes,
 * Gemini reads documents, GPT models classify, summarize, embed and reply. Every token count,
 * failure and latency comes from a seeded generator, so two runs cost the same to the pico-dollar.
 */
import * as anthropicModule from '@anthropic-ai/sdk';
import * as genaiModule from '@google/genai';
import * as openaiModule from 'openai';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { startFakeAnthropic, startFakeGemini, startFakeOpenAI } from '@spendtrace/fake-providers';
import type { AnthropicReply, FakeAnthropicServer, FakeBehavior, FakeGeminiServer, FakeOpenAIServer, GeminiReply } from '@spendtrace/fake-providers';
import {
  BudgetExceededError,
  manuallyInstrument,
  recordToolCost,
  setTaskOutcome,
  SpendtraceInstrumentation,
  withPrompt,
  withTask,
  withTool,
} from '@spendtrace/instrumentation';
import { classifierAgent } from './classifier-agent.ts';
import { seeded } from './random.ts';
import type { Random } from './random.ts';

type OpenAIClient = InstanceType<typeof openaiModule.OpenAI>;
type AnthropicClient = InstanceType<typeof anthropicModule.Anthropic>;
type GeminiClient = InstanceType<typeof genaiModule.GoogleGenAI>;
type Message = { role: 'system' | 'user' | 'assistant'; content: string };

export interface DemoFleetOptions {
  /** Where spans go: the spendtrace service's OTLP/HTTP traces URL, e.g. http://127.0.0.1:4318/v1/traces. */
  otlpEndpoint: string;
  /**
   * Provider base URLs to use instead of starting the fake servers. Each must honour the fakes'
   * `x-fake-behavior` request header, which scripts every reply.
   */
  providers?: { openaiBaseUrl?: string; anthropicBaseUrl?: string; geminiBaseUrl?: string };
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
  /** HTTP requests the fake providers answered (retries included). */
  providerRequests: number;
  agents: string[];
  tools: string[];
  models: string[];
}

/** The fixed fee of one web search, as a search API would bill it. */
export const WEB_SEARCH_FEE_USD = 0.005;
export const UNPRICED_MODEL = 'acme-sentiment-7b';

const REASONING = 'claude-sonnet-4-6';
const VISION = 'gemini-2.5-flash';
const STRONG = 'gpt-4.1';
const CHEAP = 'gpt-4o-mini';
const SUMMARIZER = 'gpt-4.1-mini';
const REPLIES = 'gpt-4o';
const EMBEDDINGS = 'text-embedding-3-small';

/** Sends one scripted chat completion; the behaviour rides in a header the fake server reads. */
function chat(client: OpenAIClient, model: string, messages: Message[], b: FakeBehavior, extra: Record<string, unknown> = {}) {
  return client.chat.completions.create({ model, messages, ...extra } as never, {
    headers: { 'x-fake-behavior': JSON.stringify(b) },
  }) as unknown as Promise<any>;
}

/** Per-request options that script the reply through the fakes' `x-fake-behavior` header. */
const scripted = (reply: AnthropicReply | GeminiReply) => ({ headers: { 'x-fake-behavior': JSON.stringify(reply) } });

async function drain(stream: AsyncIterable<any>): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += chunk?.choices?.[0]?.delta?.content ?? '';
  return text;
}

interface Fleet {
  client: OpenAIClient;
  anthropic: AnthropicClient;
  gemini: GeminiClient;
  fake: FakeOpenAIServer | undefined;
  rnd: Random;
  log: (line: string) => void;
  tasks: DemoTaskRecord[];
}

async function task(f: Fleet, name: string, agent: string, fn: () => Promise<void>, budgetUsd?: number, opts: { background?: boolean } = {}): Promise<void> {
  const rec: DemoTaskRecord = { agent, task: name, outcome: 'success' };
  const user = `user-${1 + f.rnd.int(0, 4)}`; // drawn even for background work, so the seeded sequence stays the same
  await withTask({ name, agent, ...(opts.background ? {} : { userId: user }), ...(budgetUsd !== undefined ? { budgetUsd } : {}) }, async () => {
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
const RESEARCH_SYSTEM = 'You are a meticulous research analyst. Plan the searches you need, then write a sourced report.';
/** Tokens of the research system prompt and tool definitions, cached by Anthropic's prompt caching. */
const RESEARCH_PREFIX_TOKENS = 2_048;
const WEB_SEARCH_TOOL = {
  name: 'web_search',
  description: 'Search the web; returns the top results.',
  input_schema: { type: 'object' as const, properties: { q: { type: 'string' } }, required: ['q'] },
};

/**
 * Plans on Claude (tool use, a cached system prompt: written by the first task, read by the
 * next), searches the web (a paid tool + a cheap GPT model condensing the results inside it),
 * then streams the report from Claude.
 */
async function researchAgent(f: Fleet): Promise<void> {
  let first = true;
  for (const topic of TOPICS) {
    await task(f, 'research', 'research-agent', async () => {
      const system = [{ type: 'text' as const, text: RESEARCH_SYSTEM, cache_control: { type: 'ephemeral' as const } }];
      const cache = first
        ? { cache_creation_input_tokens: RESEARCH_PREFIX_TOKENS, cache_read_input_tokens: 0 }
        : { cache_creation_input_tokens: 0, cache_read_input_tokens: RESEARCH_PREFIX_TOKENS };
      first = false;
      const queries = [`${topic} overview`, `${topic} 2026`, ...(f.rnd.int(0, 1) ? [`${topic} criticism`] : [])];
      const plan = await f.anthropic.messages.create(
        { model: REASONING, max_tokens: 1024, system, tools: [WEB_SEARCH_TOOL], messages: [{ role: 'user', content: `Research: ${topic}` }] },
        scripted({
          message: {
            content: [
              { type: 'text', text: `I will run ${queries.length} searches.` },
              ...queries.map((q, i) => ({ type: 'tool_use' as const, id: `toolu_demo_${i}`, name: 'web_search', input: { q } })),
            ],
            usage: { input_tokens: f.rnd.int(300, 500), output_tokens: f.rnd.int(120, 220), ...cache },
          },
        }),
      );
      const results: Array<{ type: 'tool_result'; tool_use_id: string; content: string }> = [];
      for (const block of plan.content) {
        if (block.type !== 'tool_use') continue;
        const q = (block.input as { q: string }).q;
        await withTool('web_search', async () => {
          recordToolCost(WEB_SEARCH_FEE_USD);
          await new Promise((r) => setTimeout(r, f.rnd.int(5, 25))); // the search API call
          // Reading the results is an LLM call made inside the tool: a cheap model condenses them.
          const digest = await chat(f.client, CHEAP, [{ role: 'user', content: `Condense these results for "${q}"` }], {
            promptTokens: f.rnd.int(2500, 4000),
            completionTokens: f.rnd.int(150, 300),
            delayMs: f.rnd.int(10, 30),
          });
          results.push({ type: 'tool_result', tool_use_id: block.id, content: String(digest.choices?.[0]?.message?.content ?? '') });
        });
      }
      const report = f.anthropic.messages.stream(
        {
          model: REASONING,
          max_tokens: 4096,
          system,
          tools: [WEB_SEARCH_TOOL],
          messages: [
            { role: 'user', content: `Research: ${topic}` },
            { role: 'assistant', content: plan.content },
            { role: 'user', content: results },
          ],
        },
        scripted({
          message: {
            content: [{ type: 'text', text: `A report on ${topic}: findings, risks, open questions and recommended next steps for the team.` }],
            usage: {
              input_tokens: f.rnd.int(2500, 3500),
              output_tokens: f.rnd.int(700, 1100),
              cache_creation_input_tokens: 0,
              cache_read_input_tokens: RESEARCH_PREFIX_TOKENS,
            },
          },
        }),
      );
      await report.finalMessage();
    });
  }
  f.log(
    `research-agent: ${TOPICS.length} research tasks planned and written on ${REASONING} (cached system prompt, streamed reports), web_search at $${WEB_SEARCH_FEE_USD}/call read by ${CHEAP}`,
  );
}

const INVOICES = ['acme-hosting-2026-11.png', 'globex-gpu-rental-2026-11.png', 'initech-support-2026-11.png'];
/** A stand-in for a scanned page: what matters to the bill is the image tokens the API reports. */
const SCAN = Buffer.from('a scanned invoice, as PNG bytes would be').toString('base64');
/** Gemini bills an image of up to 384 px a side as 258 tokens; a page scan tiles into several. */
const PAGE_IMAGE_TOKENS = 1_290;

/**
 * Reads scanned invoices on Gemini (image input, thinking tokens, one answer streamed), then
 * embeds the extracted text for retrieval.
 */
async function documentAgent(f: Fleet): Promise<void> {
  for (const [i, file] of INVOICES.entries()) {
    await task(f, 'invoice-extraction', 'document-agent', async () => {
      const extracted = JSON.stringify({ file, vendor: file.split('-')[0], total: 100 + f.rnd.int(0, 900), currency: 'USD' });
      const request = {
        model: VISION,
        contents: [{ role: 'user', parts: [{ inlineData: { mimeType: 'image/png', data: SCAN } }, { text: 'Extract vendor, total and currency as JSON.' }] }],
      };
      const reply: GeminiReply = {
        generate: {
          parts: [{ text: extracted }],
          usage: { promptTokenCount: PAGE_IMAGE_TOKENS + f.rnd.int(20, 40), candidatesTokenCount: f.rnd.int(40, 80), thoughtsTokenCount: f.rnd.int(100, 400) },
          ...(i === 1 ? { chunks: 4 } : {}),
        },
      };
      const config = { responseMimeType: 'application/json', httpOptions: scripted(reply) };
      let text = '';
      if (i === 1) {
        for await (const chunk of await f.gemini.models.generateContentStream({ ...request, config })) text += chunk.text ?? '';
      } else {
        text = (await f.gemini.models.generateContent({ ...request, config })).text ?? '';
      }
      await f.client.embeddings.create(
        { model: EMBEDDINGS, input: text },
        { headers: { 'x-fake-behavior': JSON.stringify({ promptTokens: f.rnd.int(30, 60) } satisfies FakeBehavior) } },
      );
    });
  }
  f.log(`document-agent: ${INVOICES.length} scanned invoices read on ${VISION} (image input, thinking, one streamed), indexed with ${EMBEDDINGS}`);
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
          promptTokens: 260,
          completionTokens: 4,
          content: 'negative',
          delayMs: 15,
        });
      }
    });
  }
  f.log(`triage-agent: ${n} tickets classified on ${CHEAP} (2 asked twice), one sentiment call on ${UNPRICED_MODEL} (no known price)`);
}

/** Ten steps; each prompt carries everything so far, so input tokens grow (the stable prefix is cached). */
async function nightlySummarizer(f: Fleet): Promise<void> {
  await task(
    f,
    'nightly-summary',
    'nightly-summarizer',
    async () => {
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
          const text = await drain(
            await chat(
              f.client,
              SUMMARIZER,
              history,
              { ...b, content: `Section ${step} summary: volume up, two incidents, billing queue cleared.` },
              { stream: true },
            ),
          );
          history.push({ role: 'assistant', content: text });
        } else {
          const res = await chat(f.client, SUMMARIZER, history, { ...b, content: `Section ${step} summary.` });
          history.push({ role: 'assistant', content: String(res.choices?.[0]?.message?.content ?? '') });
        }
        previous = prompt;
        prompt += output + f.rnd.int(600, 900);
      }
    },
    undefined,
    { background: true },
  ); // a nightly job: nobody waits for it
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
  await task(
    f,
    'deep-research',
    'research-agent',
    async () => {
      const messages: Message[] = [{ role: 'user', content: 'Exhaustive literature review on agent cost controls.' }];
      for (let i = 0; i < 5; i++) {
        await chat(f.client, STRONG, messages, { promptTokens: 6000 + i * 1500, completionTokens: 800, delayMs: 30 });
      }
    },
    0.02,
  );
  const last = f.tasks.at(-1);
  f.log(
    `research-agent: one deep-research task with budgetUsd 0.02: ${last?.reason === 'budget exceeded' ? 'stopped by BudgetExceededError' : `ended ${last?.outcome}`}`,
  );
}

// --- The culprits `spendtrace insights` is there to find ----------------------------------------

export const ROUTER_MODEL = STRONG;
const ROUTER_TASKS = 4;
const ROUTER_TICKETS = 6;

/** Routes tickets to queues on a frontier model: 24 one-word answers behind a 1,100+ token template. */
async function ticketRouter(f: Fleet): Promise<void> {
  const queues = ['billing', 'tech', 'sales', 'abuse'];
  for (let t = 0; t < ROUTER_TASKS; t++) {
    await task(f, 'route-ticket', 'ticket-router', async () => {
      for (let i = 0; i < ROUTER_TICKETS; i++) {
        await withPrompt({ name: 'ticket-router', version: '2' }, () =>
          chat(
            f.client,
            ROUTER_MODEL,
            [
              { role: 'system', content: `Route the ticket to one of: ${queues.join(', ')}. Examples follow.` },
              { role: 'user', content: `Ticket #${2000 + t * ROUTER_TICKETS + i}` },
            ],
            { promptTokens: f.rnd.int(1100, 1400), completionTokens: f.rnd.int(2, 6), content: f.rnd.pick(queues), delayMs: f.rnd.int(5, 15) },
          ),
        );
      }
    });
  }
  f.log(`ticket-router: ${ROUTER_TASKS * ROUTER_TICKETS} one-word routings on ${ROUTER_MODEL} (prompt template ticket-router@2, never cached)`);
}

/** A CRM sync job: two calls a run, but one run loops on a reply it cannot parse, through 429s. */
async function crmSync(f: Fleet): Promise<void> {
  const runs = 5;
  for (let r = 0; r < runs; r++) {
    const loops = r === 3;
    await task(
      f,
      'crm-sync',
      'sync-agent',
      async () => {
        const calls = loops ? 12 : 2;
        for (let c = 0; c < calls; c++) {
          const b: FakeBehavior = {
            promptTokens: f.rnd.int(700, 900),
            completionTokens: f.rnd.int(150, 250),
            delayMs: f.rnd.int(5, 15),
            content: loops ? '{"contacts": [' : '{"contacts": []}',
          };
          // In the loop the gateway rate-limits every other attempt: the SDK retries silently.
          if (loops && c % 2 === 0 && f.fake) {
            f.fake.enqueue({ fail: { status: 429, retryAfter: 0.01 } }, b);
            await f.client.chat.completions.create({ model: CHEAP, messages: [{ role: 'user', content: `Sync batch ${r}, attempt ${c + 1}` }] });
          } else {
            await chat(f.client, CHEAP, [{ role: 'user', content: `Sync batch ${r}, attempt ${c + 1}` }], b);
          }
        }
      },
      undefined,
      { background: true },
    );
  }
  f.log(`sync-agent: ${runs} crm-sync runs on ${CHEAP}; one loops 12 times on an unparsable reply, through 429s the SDK retries`);
}

/** An FAQ bot answering the same question afresh for every customer. */
async function faqBot(f: Fleet): Promise<void> {
  const n = 4;
  for (let i = 0; i < n; i++) {
    await task(f, 'faq-answer', 'faq-bot', async () => {
      await chat(
        f.client,
        REPLIES,
        [
          { role: 'system', content: 'Answer from the help centre.' },
          { role: 'user', content: 'How do I reset my password?' },
        ],
        { promptTokens: 640, completionTokens: 180, content: 'Open Settings, then Security, then Reset password.', delayMs: 10 },
      );
    });
  }
  f.log(`faq-bot: the same question answered ${n} times on ${REPLIES} (identical requests, no cache)`);
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

  // ESM imports are invisible to require hooks, so the SDKs are handed over explicitly.
  manuallyInstrument({ openai: openaiModule, anthropic: anthropicModule, googleGenAI: genaiModule }, instrumentation);

  const given = options.providers ?? {};
  const fake = given.openaiBaseUrl ? undefined : await startFakeOpenAI();
  const fakeAnthropic: FakeAnthropicServer | undefined = given.anthropicBaseUrl ? undefined : await startFakeAnthropic();
  const fakeGemini: FakeGeminiServer | undefined = given.geminiBaseUrl ? undefined : await startFakeGemini();
  const client = new openaiModule.OpenAI({ baseURL: given.openaiBaseUrl ?? fake!.url, apiKey: 'sk-demo-not-a-real-key', maxRetries: 2 });
  // Anthropic's SDK (1.x) traces its own calls: spendtrace prices and attributes that span.
  const anthropic = new anthropicModule.Anthropic({
    baseURL: given.anthropicBaseUrl ?? fakeAnthropic!.url,
    apiKey: 'sk-ant-demo-not-a-real-key',
    maxRetries: 2,
  });
  const gemini = new genaiModule.GoogleGenAI({ apiKey: 'demo-not-a-real-key', httpOptions: { baseUrl: given.geminiBaseUrl ?? fakeGemini!.url } });
  const f: Fleet = { client, anthropic, gemini, fake, rnd: seeded(options.seed ?? 42), log, tasks: [] };
  let requests = 0;
  try {
    await researchAgent(f);
    await documentAgent(f);
    await triageAgent(f);
    await nightlySummarizer(f);
    await flakyAgent(f);
    await budgetedTask(f);
    await ticketRouter(f);
    await crmSync(f);
    await faqBot(f);
    await classifierAgent(f);
    requests = (fake?.requests.length ?? 0) + (fakeAnthropic?.requests.length ?? 0) + (fakeGemini?.requests.length ?? 0);
  } finally {
    await provider.forceFlush();
    await provider.shutdown();
    instrumentation.disable();
    await Promise.all([fake?.close(), fakeAnthropic?.close(), fakeGemini?.close()]);
    trace.disable();
    context.disable();
  }
  const failed = f.tasks.filter((t) => t.outcome === 'failure');
  log(
    `fleet done: ${f.tasks.length} tasks (${failed.length} failed: ${[...new Set(failed.map((t) => t.reason))].join('; ')}), spans flushed to ${options.otlpEndpoint}`,
  );
  return {
    serviceName,
    tasks: f.tasks,
    providerRequests: requests,
    agents: [...new Set(f.tasks.map((t) => t.agent))],
    tools: ['web_search'],
    models: [REASONING, VISION, STRONG, CHEAP, SUMMARIZER, REPLIES, EMBEDDINGS, UNPRICED_MODEL],
  };
}
