// Proves that the @anthropic-ai/sdk helpers an agent is built on (messages.parse(), beta.messages.parse() and the
// beta.messages.toolRunner() loop: iterated, awaited, runUntilDone(), streamed) make exactly one priced span per model
// call, all in the task's trace: spendtrace's own `chat {model}` span with native tracing off, the SDK's own
// `anthropic.messages.create` span with it on. Also that spendtrace never changes what the SDK hands back (parsed
// output, yielded messages, requests sent, `.withResponse()` / `.asResponse()`), checked against the same SDK unpatched.
// Real SDK, real HTTP, to the fake Anthropic server.
import Anthropic from '@anthropic-ai/sdk';
import * as anthropicModule from '@anthropic-ai/sdk';
import { betaJSONSchemaOutputFormat, betaTool } from '@anthropic-ai/sdk/helpers/beta/json-schema';
import { jsonSchemaOutputFormat } from '@anthropic-ai/sdk/helpers/json-schema';
import type { BetaMessage } from '@anthropic-ai/sdk/resources/beta';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import * as A from '@spendtrace/semconv';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startFakeAnthropic, type AnthropicMessageReply } from '../../fake-providers/src/anthropic.ts';
import { patchAnthropic, unpatchAnthropic } from '../src/anthropic/index.ts';
import { BudgetExceededError } from '../src/budget.ts';
import { withTask } from '../src/task-context.ts';
import { genAIHarness, nano, providerSuite, usd } from './genai-harness.ts';

// Published prices, https://www.anthropic.com/pricing#api (Claude Haiku 4.5), USD per million tokens: $1 input,
// $5 output, $0.10 cache reads, $1.25 5-minute cache writes, $2 1-hour cache writes (what @pydantic/genai-prices 0.1.8
// carries for claude-haiku-4-5).
const HAIKU_45 = { input: 1, output: 5, cacheRead: 0.1, cacheWrite5m: 1.25, cacheWrite1h: 2 };
const MODEL = 'claude-haiku-4-5';

const h = genAIHarness();
const { exporter, host, spans } = h;
// Content capture is off except in the test that looks at the tool calls in the captured messages.
let captureContent = false;
Object.defineProperty(host, 'captureMessageContent', { get: () => captureContent, configurable: true });

const client = (native: boolean) =>
  new Anthropic({ apiKey: 'sk-ant-test', baseURL: suite.fake.url, maxRetries: 0, ...(native ? {} : { openTelemetry: false }) });

const suite = providerSuite(h, {
  patch: () => patchAnthropic(anthropicModule, host),
  unpatch: () => unpatchAnthropic(anthropicModule, host.wrapper),
  startFake: () => startFakeAnthropic(),
});
// The SDK warns on every call to a model it lists as deprecated; not what these tests look at.
beforeAll(() => void vi.spyOn(console, 'warn').mockImplementation(() => {}));
afterEach(() => {
  captureContent = false;
});

/** What the SDK does on its own: `fn` runs with spendtrace unpatched (on a fresh client); the SDK's spans of it are dropped. */
async function withoutSpendtrace<T>(fn: () => Promise<T>): Promise<T> {
  unpatchAnthropic(anthropicModule, host.wrapper);
  try {
    return await fn();
  } finally {
    patchAnthropic(anthropicModule, host);
    await spans();
    exporter.reset();
  }
}

/**
 * Runs `fn` with the process's unhandled rejections collected instead of failing the run (vitest's own listeners are
 * put back after), so a test can assert there were none.
 */
async function collectingUnhandledRejections<T>(fn: () => Promise<T>): Promise<{ result: PromiseSettledResult<T>; unhandled: unknown[] }> {
  const unhandled: unknown[] = [];
  const previous = process.listeners('unhandledRejection');
  const collect = (reason: unknown) => void unhandled.push(reason);
  process.removeAllListeners('unhandledRejection');
  process.on('unhandledRejection', collect);
  try {
    const [result] = await Promise.allSettled([fn()]);
    // Node reports an unhandled rejection once the microtask queue has drained.
    await new Promise((r) => setTimeout(r, 20));
    return { result: result!, unhandled };
  } finally {
    process.off('unhandledRejection', collect);
    for (const listener of previous) process.on('unhandledRejection', listener);
  }
}

/** Lets a span that ends after the app got its result (a stream's end, a timer) reach the exporter. */
const settle = () => new Promise((r) => setTimeout(r, 30));
const byStart = (a: ReadableSpan, b: ReadableSpan) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1];
const llmSpans = (all: ReadableSpan[]) => all.filter((s) => s.kind === SpanKind.CLIENT).sort(byStart);
const taskRoot = (all: ReadableSpan[]) => all.find((s) => s.attributes[A.ATTR_SPENDTRACE_TASK_ROOT] === true)!;
const messageRequests = () => suite.fake.requests.filter((r) => r.method === 'POST' && r.path === '/v1/messages');

interface ExpectedCall {
  id: string;
  finish: string;
  /** gen_ai.usage.input_tokens: fresh input + cache reads + cache writes. */
  input: number;
  output: number;
  cacheRead?: number;
  cacheWrite?: number;
  cost: number;
  stream?: boolean;
  task?: string;
}

/** One model call's span: named, attributed and priced to the nano-dollar as the mode says. */
function expectPricedCall(span: ReadableSpan, native: boolean, e: ExpectedCall): void {
  expect(span.name).toBe(native ? 'anthropic.messages.create' : `chat ${MODEL}`);
  expect(span.kind).toBe(SpanKind.CLIENT);
  expect(span.instrumentationScope.name).toBe(native ? 'com.anthropic.sdk.typescript' : '@spendtrace/instrumentation');
  expect(span.status.code).not.toBe(SpanStatusCode.ERROR);
  const a = span.attributes;
  expect(a).toMatchObject({
    [A.ATTR_GEN_AI_OPERATION_NAME]: 'chat',
    [A.ATTR_GEN_AI_PROVIDER_NAME]: 'anthropic',
    [A.ATTR_SERVER_ADDRESS]: '127.0.0.1',
    [A.ATTR_SERVER_PORT]: suite.fake.port,
    [A.ATTR_GEN_AI_REQUEST_MODEL]: MODEL,
    [A.ATTR_GEN_AI_RESPONSE_MODEL]: MODEL,
    [A.ATTR_GEN_AI_RESPONSE_ID]: e.id,
    [A.ATTR_GEN_AI_RESPONSE_FINISH_REASONS]: [e.finish],
    [A.ATTR_GEN_AI_USAGE_INPUT_TOKENS]: e.input,
    [A.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: e.output,
    [A.ATTR_SPENDTRACE_REQUEST_HASH]: expect.stringMatching(/^[0-9a-f]{16}$/),
    [A.ATTR_GEN_AI_USAGE_COST_CURRENCY]: 'USD',
    [A.ATTR_GEN_AI_USAGE_COST_SOURCE]: 'local',
  });
  // The SDK writes zero cache counts; spendtrace leaves zero counts out.
  expect(a[A.ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] ?? 0).toBe(e.cacheRead ?? 0);
  expect(a[A.ATTR_GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS] ?? 0).toBe(e.cacheWrite ?? 0);
  expect(a[A.ATTR_GEN_AI_REQUEST_STREAM]).toBe(e.stream ? true : undefined);
  expect(a[A.ATTR_SPENDTRACE_TASK_NAME]).toBe(e.task);
  expect(a[A.ATTR_SPENDTRACE_USAGE_ESTIMATED]).toBeUndefined();
  expect(nano(a[A.ATTR_GEN_AI_USAGE_COST_AMOUNT])).toBe(nano(e.cost));
}

// --- Structured output ---------------------------------------------------------------------------

const WEATHER_SCHEMA = {
  type: 'object',
  properties: { city: { type: 'string' }, temperature_c: { type: 'number' } },
  required: ['city', 'temperature_c'],
} as const;
const PARSED = { city: 'Paris', temperature_c: 24 };

// messages.parse(): 320 fresh input + 2048 cache reads, 18 output tokens.
// 320 × $1 + 2048 × $0.10 + 18 × $5 = $0.00032 + $0.0002048 + $0.00009 = $0.0006148 per million → 614_800 nano-dollars.
const PARSE_REPLY: AnthropicMessageReply = {
  id: 'msg_parse_01',
  content: [{ type: 'text', text: JSON.stringify(PARSED) }],
  usage: { input_tokens: 320, output_tokens: 18, cache_read_input_tokens: 2048 },
};
const PARSE_COST = usd(320, HAIKU_45.input) + usd(2048, HAIKU_45.cacheRead) + usd(18, HAIKU_45.output);

// beta.messages.parse(): 500 fresh input + 800 1-hour cache writes, 45 output tokens.
// 500 × $1 + 800 × $2 + 45 × $5 = $0.0005 + $0.0016 + $0.000225 = $0.002325 → 2_325_000 nano-dollars.
const BETA_PARSE_REPLY: AnthropicMessageReply = {
  id: 'msg_parse_02',
  content: [{ type: 'text', text: JSON.stringify(PARSED) }],
  usage: {
    input_tokens: 500,
    output_tokens: 45,
    cache_creation_input_tokens: 800,
    cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 800 },
  },
};
const BETA_PARSE_COST = usd(500, HAIKU_45.input) + usd(800, HAIKU_45.cacheWrite1h) + usd(45, HAIKU_45.output);

// --- The tool loop -------------------------------------------------------------------------------

// Three model calls: two tool calls in parallel, then one more, then the answer. The agent's prompt is cached on the
// first turn (5-minute writes) and read back on the next ones, as an agent's context grows.
const TURNS: AnthropicMessageReply[] = [
  {
    id: 'msg_turn_1',
    content: [
      { type: 'text', text: 'Let me look both up.' },
      { type: 'tool_use', id: 'toolu_w1', name: 'get_weather', input: { city: 'Paris' } },
      { type: 'tool_use', id: 'toolu_t1', name: 'get_time', input: { city: 'Paris' } },
    ],
    usage: {
      input_tokens: 400,
      output_tokens: 60,
      cache_creation_input_tokens: 1200,
      cache_creation: { ephemeral_5m_input_tokens: 1200, ephemeral_1h_input_tokens: 0 },
    },
  },
  {
    id: 'msg_turn_2',
    content: [{ type: 'tool_use', id: 'toolu_w2', name: 'get_weather', input: { city: 'London' } }],
    usage: {
      input_tokens: 150,
      output_tokens: 80,
      cache_read_input_tokens: 1200,
      cache_creation_input_tokens: 460,
      cache_creation: { ephemeral_5m_input_tokens: 460, ephemeral_1h_input_tokens: 0 },
    },
  },
  {
    id: 'msg_turn_3',
    content: [{ type: 'text', text: 'Paris: sunny, 24°C at 14:00. London: rain, 14°C.' }],
    usage: { input_tokens: 90, output_tokens: 40, cache_read_input_tokens: 1660 },
  },
];
// Turn 1: 400 × $1 + 1200 × $1.25 + 60 × $5                = $0.0004  + $0.0015   + $0.0003           = $0.0022
// Turn 2: 150 × $1 + 1200 × $0.10 + 460 × $1.25 + 80 × $5  = $0.00015 + $0.00012  + $0.000575 + $0.0004 = $0.001245
// Turn 3:  90 × $1 + 1660 × $0.10 + 40 × $5                = $0.00009 + $0.000166 + $0.0002           = $0.000456
// The run: $0.003901.
const TURN_COST = [
  usd(400, HAIKU_45.input) + usd(1200, HAIKU_45.cacheWrite5m) + usd(60, HAIKU_45.output),
  usd(150, HAIKU_45.input) + usd(1200, HAIKU_45.cacheRead) + usd(460, HAIKU_45.cacheWrite5m) + usd(80, HAIKU_45.output),
  usd(90, HAIKU_45.input) + usd(1660, HAIKU_45.cacheRead) + usd(40, HAIKU_45.output),
];
const RUN_COST = TURN_COST[0]! + TURN_COST[1]! + TURN_COST[2]!;
const TURN_CALLS = (task: string | undefined, stream = false): ExpectedCall[] => [
  { id: 'msg_turn_1', finish: 'tool_use', input: 1600, output: 60, cacheWrite: 1200, cost: TURN_COST[0]!, stream, task },
  { id: 'msg_turn_2', finish: 'tool_use', input: 1810, output: 80, cacheRead: 1200, cacheWrite: 460, cost: TURN_COST[1]!, stream, task },
  { id: 'msg_turn_3', finish: 'end_turn', input: 1750, output: 40, cacheRead: 1660, cost: TURN_COST[2]!, stream, task },
];
const PROMPT = 'What is the weather and time in Paris, and the weather in London?';

/** The agent's tools, recording each run. */
function agentTools() {
  const ran: string[] = [];
  const tools = [
    betaTool({
      name: 'get_weather',
      description: 'Current weather for a city',
      inputSchema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
      run: async ({ city }) => {
        ran.push(`get_weather ${city}`);
        return city === 'Paris' ? 'Sunny, 24°C' : 'Rain, 14°C';
      },
    }),
    betaTool({
      name: 'get_time',
      description: 'Local time in a city',
      inputSchema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
      run: ({ city }) => {
        ran.push(`get_time ${city}`);
        return '14:00';
      },
    }),
  ];
  return { tools, ran };
}

/** The tool loop went as scripted: every tool ran once with the model's input, and each result went back to the model. */
function expectLoopRan(ran: string[], stream: boolean): void {
  expect([...ran].sort()).toEqual(['get_time Paris', 'get_weather London', 'get_weather Paris']);
  const requests = messageRequests();
  expect(requests).toHaveLength(3);
  for (const r of requests) expect(r.body.stream).toBe(stream);
  const toolResults = (i: number) => (requests[i]!.body.messages as Array<{ role: string; content: unknown }>).at(-1);
  expect(toolResults(1)).toEqual({
    role: 'user',
    content: [
      { type: 'tool_result', tool_use_id: 'toolu_w1', content: 'Sunny, 24°C' },
      { type: 'tool_result', tool_use_id: 'toolu_t1', content: '14:00' },
    ],
  });
  expect(toolResults(2)).toEqual({ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_w2', content: 'Rain, 14°C' }] });
}

/**
 * The spans of one tool-runner run inside task `task`: exactly one priced span per model call, everything in the
 * task's trace. Native: under the SDK's `anthropic.messages.tool_runner` span, with its tool spans beside them;
 * spendtrace's own: the model calls straight under the task, and no other span.
 */
async function expectRunSpans(native: boolean, task: string, stream = false): Promise<ReadableSpan[]> {
  await settle();
  const all = await spans();
  const root = taskRoot(all);
  expect(root.name).toBe(`task ${task}`);
  // The task is the trace.
  for (const s of all) expect(s.spanContext().traceId).toBe(root.attributes[A.ATTR_SPENDTRACE_TASK_ID]);
  const llm = llmSpans(all);
  expect(llm).toHaveLength(messageRequests().length);
  const expected = TURN_CALLS(task, stream);
  expect(llm).toHaveLength(expected.length);
  llm.forEach((span, i) => expectPricedCall(span, native, expected[i]!));

  const others = all.filter((s) => s !== root && s.kind !== SpanKind.CLIENT);
  if (!native) {
    expect(others).toEqual([]);
    for (const s of llm) expect(s.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
    return llm;
  }
  // spendtrace adds no span of its own beside the task: every other span is the SDK's.
  for (const s of others) expect(s.instrumentationScope.name).toBe('com.anthropic.sdk.typescript');
  const runner = others.filter((s) => s.name === 'anthropic.messages.tool_runner');
  expect(runner).toHaveLength(1);
  expect(runner[0]!.kind).toBe(SpanKind.INTERNAL);
  expect(runner[0]!.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
  expect(runner[0]!.attributes).toMatchObject({ [A.ATTR_GEN_AI_OPERATION_NAME]: 'invoke_agent', [A.ATTR_GEN_AI_REQUEST_MODEL]: MODEL });
  expect(runner[0]!.attributes[A.ATTR_GEN_AI_USAGE_COST_AMOUNT]).toBeUndefined();
  for (const s of llm) expect(s.parentSpanContext?.spanId).toBe(runner[0]!.spanContext().spanId);

  // One span per tool run, with the call's id, under the runner, attributed to the task and carrying no cost.
  const tools = others.filter((s) => s !== runner[0]);
  const byCall = Object.fromEntries(tools.map((s) => [s.attributes[A.ATTR_GEN_AI_TOOL_CALL_ID], s]));
  expect(Object.keys(byCall).sort()).toEqual(['toolu_t1', 'toolu_w1', 'toolu_w2']);
  expect(tools).toHaveLength(3);
  for (const [id, name] of [
    ['toolu_w1', 'get_weather'],
    ['toolu_t1', 'get_time'],
    ['toolu_w2', 'get_weather'],
  ] as const) {
    const s = byCall[id]!;
    expect(s.name).toBe(`anthropic.custom_tool_use ${name}`);
    expect(s.status.code).toBe(SpanStatusCode.OK);
    expect(s.parentSpanContext?.spanId).toBe(runner[0]!.spanContext().spanId);
    expect(s.attributes).toMatchObject({
      [A.ATTR_GEN_AI_OPERATION_NAME]: 'execute_tool',
      [A.ATTR_GEN_AI_TOOL_NAME]: name,
      [A.ATTR_GEN_AI_TOOL_CALL_ID]: id,
      [A.ATTR_GEN_AI_TOOL_TYPE]: 'function',
      [A.ATTR_SPENDTRACE_TASK_NAME]: task,
    });
    expect(s.attributes[A.ATTR_GEN_AI_USAGE_COST_AMOUNT]).toBeUndefined();
  }
  return llm;
}

it('prices the scripted agent as published (the arithmetic in the comments)', () => {
  expect(nano(PARSE_COST)).toBe(614_800);
  expect(nano(BETA_PARSE_COST)).toBe(2_325_000);
  expect(TURN_COST.map(nano)).toEqual([2_200_000, 1_245_000, 456_000]);
  expect(nano(RUN_COST)).toBe(3_901_000);
});

for (const native of [false, true]) {
  const label = native ? 'native tracing on (the SDK span, priced)' : 'native tracing off (spendtrace span)';

  describe(`structured output, ${label}`, () => {
    it('messages.parse(): one priced span; the parsed message and the promise are what the SDK gives unpatched', async () => {
      const params = {
        model: MODEL,
        max_tokens: 256,
        messages: [{ role: 'user' as const, content: 'Weather in Paris as JSON' }],
        output_config: { format: jsonSchemaOutputFormat(WEATHER_SCHEMA) },
      };
      suite.fake.enqueue({ message: PARSE_REPLY }, { message: PARSE_REPLY });
      const baselinePromise = await withoutSpendtrace(async () => {
        const p = client(native).messages.parse(params);
        return { p, message: await p };
      });

      let costUsd = 0;
      const { p, message } = await withTask({ name: 'extract' }, async (task) => {
        const p = client(native).messages.parse(params);
        const message = await p;
        costUsd = task.costUsd;
        return { p, message };
      });
      expect(message.parsed_output).toEqual(PARSED);
      const first = message.content[0]!;
      expect(first.type === 'text' && first.parsed_output).toEqual(PARSED);
      expect(message).toEqual(baselinePromise.message);
      expect(Object.getPrototypeOf(p)).toBe(Object.getPrototypeOf(baselinePromise.p));
      const [baselineRequest, request] = messageRequests();
      expect(request!.body).toEqual(baselineRequest!.body);
      expect(request!.body.output_config.format).toMatchObject({ type: 'json_schema', schema: { required: ['city', 'temperature_c'] } });

      await settle();
      const all = await spans();
      const llm = llmSpans(all);
      expect(llm).toHaveLength(1);
      expectPricedCall(llm[0]!, native, {
        id: 'msg_parse_01',
        finish: 'end_turn',
        input: 2368,
        output: 18,
        cacheRead: 2048,
        cost: PARSE_COST,
        task: 'extract',
      });
      expect(llm[0]!.parentSpanContext?.spanId).toBe(taskRoot(all).spanContext().spanId);
      expect(nano(costUsd)).toBe(nano(PARSE_COST));
    });

    it('beta.messages.parse() (output_format, 1-hour cache writes): one priced span, parsed as unpatched', async () => {
      const params = {
        model: MODEL,
        max_tokens: 256,
        messages: [{ role: 'user' as const, content: 'Weather in Paris as JSON' }],
        output_format: betaJSONSchemaOutputFormat(WEATHER_SCHEMA),
      };
      suite.fake.enqueue({ message: BETA_PARSE_REPLY }, { message: BETA_PARSE_REPLY });
      const baseline = await withoutSpendtrace(() => client(native).beta.messages.parse(params));

      let costUsd = 0;
      const message = await withTask({ name: 'extract-beta' }, async (task) => {
        const m = await client(native).beta.messages.parse(params);
        costUsd = task.costUsd;
        return m;
      });
      expect(message.parsed_output).toEqual(PARSED);
      expect(message).toEqual(baseline);
      const [baselineRequest, request] = messageRequests();
      expect(request!.body).toEqual(baselineRequest!.body);
      expect(request!.headers['anthropic-beta']).toContain('structured-outputs-2025-12-15');

      await settle();
      const llm = llmSpans(await spans());
      expect(llm).toHaveLength(1);
      expectPricedCall(llm[0]!, native, {
        id: 'msg_parse_02',
        finish: 'end_turn',
        input: 1300,
        output: 45,
        cacheWrite: 800,
        cost: BETA_PARSE_COST,
        task: 'extract-beta',
      });
      expect(nano(costUsd)).toBe(nano(BETA_PARSE_COST));
    });
  });

  describe(`beta.messages.toolRunner(), ${label}`, () => {
    it('for await (const message of runner): one priced span per model call, messages and requests as unpatched', async () => {
      const script = TURNS.map((message) => ({ message }));
      suite.fake.enqueue(...script);
      const baseline = await withoutSpendtrace(async () => {
        const yielded: BetaMessage[] = [];
        for await (const m of client(native).beta.messages.toolRunner({
          model: MODEL,
          max_tokens: 1024,
          messages: [{ role: 'user', content: PROMPT }],
          tools: agentTools().tools,
        }))
          yielded.push(m);
        return { yielded, requests: messageRequests().map((r) => r.body) };
      });
      suite.fake.reset();
      suite.fake.enqueue(...script);

      const { tools, ran } = agentTools();
      const { yielded, costUsd } = await withTask({ name: 'weather-agent' }, async (task) => {
        const yielded: BetaMessage[] = [];
        for await (const m of client(native).beta.messages.toolRunner({ model: MODEL, max_tokens: 1024, messages: [{ role: 'user', content: PROMPT }], tools }))
          yielded.push(m);
        return { yielded, costUsd: task.costUsd };
      });
      expect(yielded.map((m) => [m.id, m.stop_reason])).toEqual([
        ['msg_turn_1', 'tool_use'],
        ['msg_turn_2', 'tool_use'],
        ['msg_turn_3', 'end_turn'],
      ]);
      expect(yielded).toEqual(baseline.yielded);
      expect(messageRequests().map((r) => r.body)).toEqual(baseline.requests);
      expectLoopRan(ran, false);
      await expectRunSpans(native, 'weather-agent');
      expect(nano(costUsd)).toBe(nano(RUN_COST));
    });

    it('await runner (the runner is a thenable): the final message, each model call priced once', async () => {
      suite.fake.enqueue(...TURNS.map((message) => ({ message })));
      const { tools, ran } = agentTools();
      const { final, costUsd } = await withTask({ name: 'weather-agent' }, async (task) => {
        const final = await client(native).beta.messages.toolRunner({ model: MODEL, max_tokens: 1024, messages: [{ role: 'user', content: PROMPT }], tools });
        return { final, costUsd: task.costUsd };
      });
      expect(final.id).toBe('msg_turn_3');
      expect(final.content).toEqual(TURNS[2]!.content);
      expectLoopRan(ran, false);
      await expectRunSpans(native, 'weather-agent');
      expect(nano(costUsd)).toBe(nano(RUN_COST));
    });

    it('runner.runUntilDone(), with runner.done() awaited alongside: the final message, each model call priced once', async () => {
      suite.fake.enqueue(...TURNS.map((message) => ({ message })));
      const { tools, ran } = agentTools();
      const { final, done, costUsd } = await withTask({ name: 'weather-agent' }, async (task) => {
        const runner = client(native).beta.messages.toolRunner({ model: MODEL, max_tokens: 1024, messages: [{ role: 'user', content: PROMPT }], tools });
        const done = runner.done();
        const final = await runner.runUntilDone();
        return { final, done: await done, costUsd: task.costUsd };
      });
      expect(final.id).toBe('msg_turn_3');
      expect(done).toBe(final);
      expectLoopRan(ran, false);
      await expectRunSpans(native, 'weather-agent');
      expect(nano(costUsd)).toBe(nano(RUN_COST));
    });

    // A streamed turn goes through BetaMessageThread._stream(), which takes only `_responseProps()` of the APIPromise
    // create() returns and parses the body itself: with native tracing off, spendtrace reads a copy of that body.
    it('stream: true (each turn a BetaMessageStream): one priced span per model call', async () => {
      suite.fake.enqueue(...TURNS.map((message) => ({ message })));
      const { tools, ran } = agentTools();
      const { finals, stops, costUsd } = await withTask({ name: 'weather-agent' }, async (task) => {
        const finals: BetaMessage[] = [];
        let stops = 0;
        for await (const stream of client(native).beta.messages.toolRunner({
          model: MODEL,
          max_tokens: 1024,
          stream: true,
          messages: [{ role: 'user', content: PROMPT }],
          tools,
        })) {
          for await (const event of stream) if (event.type === 'message_stop') stops++;
          finals.push(await stream.finalMessage());
        }
        return { finals, stops, costUsd: task.costUsd };
      });
      expect(stops).toBe(3);
      expect(finals.map((m) => [m.id, m.stop_reason, m.usage.output_tokens])).toEqual([
        ['msg_turn_1', 'tool_use', 60],
        ['msg_turn_2', 'tool_use', 80],
        ['msg_turn_3', 'end_turn', 40],
      ]);
      expectLoopRan(ran, true);
      const llm = await expectRunSpans(native, 'weather-agent', true);
      for (const s of llm) expect(s.attributes[A.ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK]).toBeGreaterThan(0);
      expect(nano(costUsd)).toBe(nano(RUN_COST));
    });

    it('thread: false (full history each turn), content captured: the tool calls and results are in the span messages', async () => {
      captureContent = true;
      suite.fake.enqueue(...TURNS.map((message) => ({ message })));
      const { tools, ran } = agentTools();
      await withTask({ name: 'weather-agent' }, async () => {
        await client(native)
          .beta.messages.toolRunner({ model: MODEL, max_tokens: 1024, thread: false, messages: [{ role: 'user', content: PROMPT }], tools })
          .runUntilDone();
      });
      expectLoopRan(ran, false);
      for (const r of messageRequests()) expect(r.body).not.toHaveProperty('thread');
      expect(messageRequests()[2]!.body.messages).toHaveLength(5);
      const llm = await expectRunSpans(native, 'weather-agent');

      const toolCall = (id: string, name: string, city: string) => ({ type: 'tool_call', id, name, arguments: { city } });
      const toolResponse = (id: string, response: string) => ({ type: 'tool_call_response', id, response });
      const input = (i: number) => JSON.parse(llm[i]!.attributes[A.ATTR_GEN_AI_INPUT_MESSAGES] as string);
      expect(input(0)).toEqual([{ role: 'user', parts: [{ type: 'text', content: PROMPT }] }]);
      expect(input(2)).toEqual([
        { role: 'user', parts: [{ type: 'text', content: PROMPT }] },
        {
          role: 'assistant',
          parts: [{ type: 'text', content: 'Let me look both up.' }, toolCall('toolu_w1', 'get_weather', 'Paris'), toolCall('toolu_t1', 'get_time', 'Paris')],
        },
        { role: 'user', parts: [toolResponse('toolu_w1', 'Sunny, 24°C'), toolResponse('toolu_t1', '14:00')] },
        { role: 'assistant', parts: [toolCall('toolu_w2', 'get_weather', 'London')] },
        { role: 'user', parts: [toolResponse('toolu_w2', 'Rain, 14°C')] },
      ]);
      // The output of a native span is the SDK's own content mode, not spendtrace's to add.
      if (!native) {
        expect(JSON.parse(llm[0]!.attributes[A.ATTR_GEN_AI_OUTPUT_MESSAGES] as string)).toEqual([
          {
            role: 'assistant',
            parts: [{ type: 'text', content: 'Let me look both up.' }, toolCall('toolu_w1', 'get_weather', 'Paris'), toolCall('toolu_t1', 'get_time', 'Paris')],
            finish_reason: 'tool_call',
          },
        ]);
      }
    });

    // The 1.x SDK's BetaMessageThread._createWithRecovery() calls `_responseProps()` on what create() returns: a refused
    // call's promise (rejectedAPIPromise, src/api-promise-call.ts) must answer it with the BudgetExceededError.
    it('stops the loop with BudgetExceededError before the next model call once the task is over budget', async () => {
      suite.fake.enqueue(...TURNS.map((message) => ({ message })));
      const { tools, ran } = agentTools();
      let costUsd = 0;
      // Turn 1 costs $0.0022, over the $0.002 budget: turn 2 is never sent. (With the default
      // worst-case check turn 1 would be refused too: max_tokens 1024 can cost more than the budget.)
      const { result, unhandled } = await collectingUnhandledRejections(() =>
        withTask({ name: 'capped-agent', budgetUsd: 0.002, budgetCheck: 'spent' }, async (task) => {
          try {
            for await (const _ of client(native).beta.messages.toolRunner({
              model: MODEL,
              max_tokens: 1024,
              messages: [{ role: 'user', content: PROMPT }],
              tools,
            }))
              void _;
          } finally {
            costUsd = task.costUsd;
          }
        }),
      );
      expect(messageRequests()).toHaveLength(1);
      // The tools of the turn that was paid for ran; the runner stopped at the request that would answer them.
      expect([...ran].sort()).toEqual(['get_time Paris', 'get_weather Paris']);
      await settle();
      const llm = llmSpans(await spans());
      expect(llm).toHaveLength(1);
      expectPricedCall(llm[0]!, native, TURN_CALLS('capped-agent')[0]!);
      expect(nano(costUsd)).toBe(nano(TURN_COST[0]!));
      expect(result.status === 'rejected' && result.reason).toBeInstanceOf(BudgetExceededError);
      expect(unhandled).toEqual([]);
    });

    // The runner is a lazy thenable: its loop starts in `.then`, which withTask() calls inside the task's scope.
    it('withTask(options, () => runner): the loop a sync callback returns runs inside the task', async () => {
      suite.fake.enqueue(...TURNS.map((message) => ({ message })));
      const { tools, ran } = agentTools();
      let costUsd = -1;
      const final = await withTask({ name: 'weather-agent' }, (task) => {
        const runner = client(native).beta.messages.toolRunner({ model: MODEL, max_tokens: 1024, messages: [{ role: 'user', content: PROMPT }], tools });
        void runner.done().then(() => (costUsd = task.costUsd));
        return runner;
      });
      expect(final.id).toBe('msg_turn_3');
      expectLoopRan(ran, false);
      await expectRunSpans(native, 'weather-agent');
      expect(nano(costUsd)).toBe(nano(RUN_COST));
    });
  });

  describe(`APIPromise helpers, ${label}`, () => {
    it('.withResponse() on messages.create and beta.messages.create: data, Response and request id as unpatched; each call priced once', async () => {
      const reply: AnthropicMessageReply = { id: 'msg_with_response', content: [{ type: 'text', text: '4' }], usage: { input_tokens: 700, output_tokens: 30 } };
      const params = { model: MODEL, max_tokens: 64, messages: [{ role: 'user' as const, content: 'What is 2+2?' }] };
      suite.fake.enqueue({ message: reply }, { message: reply }, { message: reply }, { message: reply });
      const baseline = await withoutSpendtrace(async () => ({
        messages: (await client(native).messages.create(params).withResponse()).data,
        beta: (await client(native).beta.messages.create(params).withResponse()).data,
      }));

      const c = client(native);
      const plain = await c.messages.create(params).withResponse();
      const beta = await c.beta.messages.create(params).withResponse();
      for (const [r, expected] of [
        [plain, baseline.messages],
        [beta, baseline.beta],
      ] as const) {
        expect(r.data).toEqual(expected);
        expect(r.response).toBeInstanceOf(Response);
        expect(r.response.status).toBe(200);
        expect(r.request_id).toMatch(/^req_fake\d+$/);
        expect(r.request_id).toBe(r.response.headers.get('request-id'));
        // The SDK puts the request id on the parsed body too (non-enumerable).
        expect((r.data as { _request_id?: string | null })._request_id).toBe(r.request_id);
      }

      await settle();
      const llm = llmSpans(await spans());
      expect(llm).toHaveLength(2);
      // 700 × $1 + 30 × $5 = $0.0007 + $0.00015 = $0.00085
      const cost = usd(700, HAIKU_45.input) + usd(30, HAIKU_45.output);
      expect(nano(cost)).toBe(850_000);
      for (const s of llm) expectPricedCall(s, native, { id: 'msg_with_response', finish: 'end_turn', input: 700, output: 30, cost });
    });

    it(".withResponse() on a stream: true call: the Stream is the app's to read, and the call is priced once it is read", async () => {
      suite.fake.enqueue({
        message: { id: 'msg_streamed', content: [{ type: 'text', text: 'Four, as it happens.' }], usage: { input_tokens: 210, output_tokens: 12 } },
      });
      const {
        data: stream,
        response,
        request_id,
      } = await client(native)
        .messages.create({ model: MODEL, max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'What is 2+2?' }] })
        .withResponse();
      expect(response.headers.get('content-type')).toBe('text/event-stream');
      expect(request_id).toBe(response.headers.get('request-id'));
      let text = '';
      for await (const e of stream) if (e.type === 'content_block_delta' && e.delta.type === 'text_delta') text += e.delta.text;
      expect(text).toBe('Four, as it happens.');

      await settle();
      const llm = llmSpans(await spans());
      expect(llm).toHaveLength(1);
      // 210 × $1 + 12 × $5 = $0.00021 + $0.00006 = $0.00027
      expectPricedCall(llm[0]!, native, {
        id: 'msg_streamed',
        finish: 'end_turn',
        input: 210,
        output: 12,
        cost: usd(210, HAIKU_45.input) + usd(12, HAIKU_45.output),
        stream: true,
      });
    });

    it(".asResponse(): the raw Response is the app's to read; the call still makes exactly one span", async () => {
      suite.fake.enqueue({ message: { id: 'msg_raw', content: [{ type: 'text', text: '4' }], usage: { input_tokens: 700, output_tokens: 30 } } });
      const response = await client(native)
        .messages.create({ model: MODEL, max_tokens: 64, messages: [{ role: 'user', content: 'What is 2+2?' }] })
        .asResponse();
      expect(response.status).toBe(200);
      expect(response.bodyUsed).toBe(false);
      expect(await response.json()).toMatchObject({ id: 'msg_raw', usage: { input_tokens: 700, output_tokens: 30 } });

      await settle();
      const llm = llmSpans(await spans());
      expect(llm).toHaveLength(1);
      if (native) {
        // The SDK ends its span at `.asResponse()`, before the body: it has no usage, so spendtrace has none to price.
        expect(llm[0]!.name).toBe('anthropic.messages.create');
        expect(llm[0]!.status.code).not.toBe(SpanStatusCode.ERROR);
        expect(llm[0]!.attributes).toMatchObject({ [A.ATTR_GEN_AI_REQUEST_MODEL]: MODEL, [A.ATTR_SERVER_PORT]: suite.fake.port });
      } else {
        // spendtrace reads the usage from a clone of the body, leaving the app's untouched: 700 × $1 + 30 × $5 = $0.00085.
        expectPricedCall(llm[0]!, native, {
          id: 'msg_raw',
          finish: 'end_turn',
          input: 700,
          output: 30,
          cost: usd(700, HAIKU_45.input) + usd(30, HAIKU_45.output),
        });
      }
    });
  });
}

describe('native tracing on: the SDK tool_runner span', () => {
  it('is attributed to the task on a client that has made a call before', async () => {
    const c = client(true);
    suite.fake.enqueue({ message: {} }, ...TURNS.map((message) => ({ message })));
    await c.messages.create({ model: MODEL, max_tokens: 16, messages: [{ role: 'user', content: 'warm-up' }] });
    await settle();
    exporter.reset();
    await withTask({ name: 'weather-agent', agent: 'forecaster' }, async () => {
      await c.beta.messages.toolRunner({ model: MODEL, max_tokens: 1024, messages: [{ role: 'user', content: PROMPT }], tools: agentTools().tools });
    });
    await settle();
    const runner = (await spans()).filter((s) => s.name === 'anthropic.messages.tool_runner');
    expect(runner).toHaveLength(1);
    expect(runner[0]!.attributes).toMatchObject({ [A.ATTR_SPENDTRACE_TASK_NAME]: 'weather-agent', [A.ATTR_GEN_AI_AGENT_NAME]: 'forecaster' });
  });

  // The runner starts its span through the client's tracer before its first model call: spendtrace adopts the tracer in
  // toolRunner() too, not only in messages.create / stream.
  it('is attributed to the task on a new client, like the model and tool spans under it', async () => {
    suite.fake.enqueue(...TURNS.map((message) => ({ message })));
    await withTask({ name: 'weather-agent', agent: 'forecaster' }, async () => {
      await client(true).beta.messages.toolRunner({ model: MODEL, max_tokens: 1024, messages: [{ role: 'user', content: PROMPT }], tools: agentTools().tools });
    });
    await settle();
    const all = await spans();
    // The spans under it are attributed (this part holds today).
    const under = all.filter((s) => s.kind === SpanKind.CLIENT || s.name.startsWith('anthropic.custom_tool_use'));
    expect(under).toHaveLength(6);
    for (const s of under) expect(s.attributes).toMatchObject({ [A.ATTR_SPENDTRACE_TASK_NAME]: 'weather-agent', [A.ATTR_GEN_AI_AGENT_NAME]: 'forecaster' });
    const runner = all.filter((s) => s.name === 'anthropic.messages.tool_runner');
    expect(runner).toHaveLength(1);
    expect(runner[0]!.attributes).toMatchObject({ [A.ATTR_SPENDTRACE_TASK_NAME]: 'weather-agent', [A.ATTR_GEN_AI_AGENT_NAME]: 'forecaster' });
  });
});
