// Proves classification, normalization of our and peers' attribute conventions, and exact pricing (against per-million prices written here), and that absurd values are clamped or dropped with a reason instead of failing the batch.
import { describe, expect, it } from 'vitest';
import { Pricer } from '@spendtrace/semconv';
import { requestToRows, spanToRow, type OtlpSpan, type SpanRow, type Attributes } from '../src/index.ts';

const pricer = new Pricer({ overrides: [{ provider: 'self_hosted', model: 'house-llama', prices: { input_mtok: 0.2, output_mtok: 0.4 } }] });
const T0 = 1_750_000_000_000_000_000n; // 2025-06-15
const TRACE = '0af7651916cd43dd8448eb211c80319c';
let n = 0;
function span(attributes: Attributes, over: Partial<OtlpSpan> = {}): OtlpSpan {
  n++;
  return {
    traceId: TRACE,
    spanId: n.toString(16).padStart(16, '0'),
    parentSpanId: '',
    name: 'chat',
    kind: 3,
    startTimeUnixNano: T0,
    endTimeUnixNano: T0 + 1_500_000_000n,
    attributes,
    status: { code: 0, message: '' },
    ...over,
  };
}
const ctx = { serviceName: 'svc', resourceAttributes: { 'service.name': 'svc' }, scopeName: 'test', scopeVersion: '1' };
function row(attributes: Attributes, over: Partial<OtlpSpan> = {}): SpanRow & { warnings: string[] } {
  const r = spanToRow(span(attributes, over), ctx, pricer, T0);
  if ('rejected' in r) throw new Error(r.rejected);
  return { ...r.row, warnings: r.warnings };
}
// Published prices (USD per million tokens), June 2025.
const PRICE = {
  'gpt-4o-mini': { input: 0.15, cached: 0.075, output: 0.6 },
  'gpt-4o': { input: 2.5, cached: 1.25, output: 10 },
  'o3-mini': { input: 1.1, cached: 0.55, output: 4.4 },
  'claude-3-5-sonnet': { input: 3, cached: 0.3, output: 15 },
};

describe('classification and pricing of our spans', () => {
  it('prices an unpriced gpt-4o-mini chat exactly, cached input at the read rate', () => {
    const r = row({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.usage.input_tokens': 1200,
      'gen_ai.usage.cache_read.input_tokens': 200,
      'gen_ai.usage.output_tokens': 345,
    });
    const p = PRICE['gpt-4o-mini'];
    // (1000 x 0.15 + 200 x 0.075 + 345 x 0.60) / 1e6 = 372e-6 USD
    expect(1000 * p.input + 200 * p.cached + 345 * p.output).toBeCloseTo(372, 9);
    expect(r).toMatchObject({
      kind: 'inference',
      cost: '0.000372000000',
      cost_input: '0.000150000000',
      cost_cache_read: '0.000015000000',
      cost_output: '0.000207000000',
      cost_source: 'exporter',
      unpriced: 0,
      input_tokens: 1200,
      cache_read_tokens: 200,
      output_tokens: 345,
      provider: 'openai',
      request_model: 'gpt-4o-mini',
      task_id: TRACE,
      span_kind: 'client',
      status_code: 'unset',
    });
    expect(r.pricing_version).toMatch(/genai-prices/);
    expect(r.attributes).not.toHaveProperty('gen_ai.usage.input_tokens');
  });

  it('prices reasoning tokens at the output rate (o3-mini)', () => {
    const r = row({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'o3-mini',
      'gen_ai.usage.input_tokens': 1000,
      'gen_ai.usage.output_tokens': 500,
      'gen_ai.usage.reasoning.output_tokens': 300,
    });
    // 1000 x 1.1 + 200 x 4.4 + 300 x 4.4 = 1100 + 880 + 1320 = 3300 (e-6 USD)
    expect(r).toMatchObject({ cost: '0.003300000000', cost_reasoning: '0.001320000000', cost_output: '0.000880000000', reasoning_tokens: 300 });
  });

  it('prices a Batch API result (spendtrace.batch) at half the token price', () => {
    const r = row({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'o3-mini',
      'spendtrace.batch': true,
      'gen_ai.usage.input_tokens': 1000,
      'gen_ai.usage.output_tokens': 500,
      'gen_ai.usage.reasoning.output_tokens': 300,
    });
    // half of (1000 x 1.1 + 500 x 4.4) = 1650 (e-6 USD)
    expect(r).toMatchObject({ cost: '0.001650000000', cost_input: '0.000550000000', cost_output: '0.000440000000', cost_reasoning: '0.000660000000' });
    expect(r.attributes['spendtrace.batch']).toBe('true');
  });

  it('keeps a cost the span already carries, with its source and breakdown', () => {
    const r = row({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openrouter',
      'gen_ai.request.model': 'whatever/model',
      'gen_ai.usage.input_tokens': 10,
      'gen_ai.usage.output_tokens': 5,
      'gen_ai.usage.cost.amount': 0.000387,
      'gen_ai.usage.cost.source': 'provider',
      'spendtrace.cost.input': 0.000087,
      'spendtrace.cost.output': 0.0003,
    });
    expect(r).toMatchObject({ cost: '0.000387000000', cost_source: 'provider', cost_input: '0.000087000000', cost_output: '0.000300000000', unpriced: 0 });
  });

  it('rebuilds the breakdown of a total-only span from its tokens when the catalogue gives the same total, and leaves it unknown when not', () => {
    // What the instrumentation's default puts on a catalogue-priced span: tokens and the total only.
    const base = {
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.usage.input_tokens': 1200,
      'gen_ai.usage.cache_read.input_tokens': 200,
      'gen_ai.usage.output_tokens': 345,
      'gen_ai.usage.cost.currency': 'USD',
      'gen_ai.usage.cost.source': 'local',
    };
    const r = row({ ...base, 'gen_ai.usage.cost.amount': 0.000372 });
    // (1000 x 0.15 + 200 x 0.075 + 345 x 0.60) / 1e6, as in the first test
    expect(r).toMatchObject({
      cost: '0.000372000000',
      cost_source: 'local',
      cost_input: '0.000150000000',
      cost_cache_read: '0.000015000000',
      cost_output: '0.000207000000',
    });
    expect(r.pricing_version).toMatch(/genai-prices/);
    // A total the catalogue does not give (a negotiated rate, a provider's figure): kept, parts unknown.
    const other = row({ ...base, 'gen_ai.usage.cost.amount': 0.0003 });
    expect(other).toMatchObject({
      cost: '0.000300000000',
      cost_input: '0.000000000000',
      cost_cache_read: '0.000000000000',
      cost_output: '0.000000000000',
      pricing_version: '',
    });
  });

  it('flags an unknown model unpriced instead of a silent $0, and a successful call without tokens too', () => {
    expect(
      row({ 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'my-finetune-xyz', 'gen_ai.usage.input_tokens': 5, 'gen_ai.usage.output_tokens': 5 }),
    ).toMatchObject({ unpriced: 1, cost: '0.000000000000', input_tokens: 5 });
    expect(row({ 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o' })).toMatchObject({ unpriced: 1 });
    expect(
      row({ 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o', 'error.type': 'RateLimitError' }, { status: { code: 2, message: '429' } }),
    ).toMatchObject({ unpriced: 0, status_code: 'error', error_type: 'RateLimitError' });
  });

  it('prices a self-hosted model through the pricer overrides', () => {
    expect(
      row({
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'self_hosted',
        'gen_ai.request.model': 'house-llama',
        'gen_ai.usage.input_tokens': 1_000_000,
        'gen_ai.usage.output_tokens': 500_000,
      }),
    ).toMatchObject({ cost: '0.400000000000', unpriced: 0 });
  });

  it('parents never carry money: task roots and invoke_agent spans are zero even with usage or cost on them', () => {
    const root = row({
      'spendtrace.task.root': true,
      'spendtrace.task.name': 'research',
      'gen_ai.agent.name': 'research-agent',
      'user.id': 'u-42',
      'spendtrace.task.outcome': 'success',
      'gen_ai.usage.input_tokens': 999,
      'gen_ai.usage.cost.amount': 1,
    });
    expect(root).toMatchObject({
      kind: 'task',
      cost: '0.000000000000',
      input_tokens: 0,
      task_name: 'research',
      agent_name: 'research-agent',
      user_id: 'u-42',
      outcome: 'success',
    });
    expect(row({ 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.usage.cost': 0.5 })).toMatchObject({ kind: 'task', cost: '0.000000000000' });
  });

  it('tool spans carry their tool cost; LLM calls inside a tool name it; task id comes from spendtrace.task.id', () => {
    expect(
      row({ 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'web_search', 'spendtrace.tool.cost.amount': 0.005, 'spendtrace.task.id': 'task-7' }),
    ).toMatchObject({ kind: 'tool', tool_name: 'web_search', cost: '0.005000000000', cost_source: 'local', task_id: 'task-7' });
    expect(row({ 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'calc' })).toMatchObject({ kind: 'tool', cost: '0.000000000000', unpriced: 0 });
    expect(
      row({
        'gen_ai.operation.name': 'chat',
        'gen_ai.request.model': 'gpt-4o-mini',
        'spendtrace.tool.name': 'summarize',
        'gen_ai.usage.input_tokens': 1,
        'gen_ai.usage.output_tokens': 1,
      }),
    ).toMatchObject({ kind: 'inference', tool_name: 'summarize' });
    expect(row({ 'http.method': 'GET' })).toMatchObject({ kind: 'other', cost: '0.000000000000', unpriced: 0 });
  });
});

describe("peers' conventions", () => {
  it('older gen_ai names (gen_ai.system, prompt/completion tokens)', () => {
    // 1000 x 2.5 + 100 x 10 = 3500 (e-6 USD)
    expect(
      row({ 'gen_ai.system': 'openai', 'gen_ai.request.model': 'gpt-4o', 'gen_ai.usage.prompt_tokens': 1000, 'gen_ai.usage.completion_tokens': 100 }),
    ).toMatchObject({ kind: 'inference', provider: 'openai', cost: '0.003500000000', input_tokens: 1000, output_tokens: 100 });
  });
  it('OpenInference llm.* (priced, or llm.cost.total kept); CHAIN/AGENT parents are not priced', () => {
    expect(
      row({
        'openinference.span.kind': 'LLM',
        'llm.provider': 'openai',
        'llm.model_name': 'gpt-4o',
        'llm.token_count.prompt': 1000,
        'llm.token_count.completion': 100,
        'llm.token_count.prompt_details.cache_read': 400,
      }),
    )
      // 600 x 2.5 + 400 x 1.25 + 100 x 10 = 1500 + 500 + 1000 = 3000
      .toMatchObject({ kind: 'inference', request_model: 'gpt-4o', cost: '0.003000000000', cache_read_tokens: 400 });
    expect(row({ 'openinference.span.kind': 'LLM', 'llm.model_name': 'x', 'llm.token_count.prompt': 1, 'llm.cost.total': 0.25 })).toMatchObject({
      cost: '0.250000000000',
      cost_source: 'local',
    });
    expect(row({ 'openinference.span.kind': 'CHAIN', 'llm.token_count.prompt': 1000 })).toMatchObject({ kind: 'other', cost: '0.000000000000' });
  });
  it('Vercel AI SDK: the doGenerate span is priced, its ai.generateText wrapper is not', () => {
    // 100 x 0.15 + 50 x 0.6 = 45
    expect(
      row({
        'ai.operationId': 'ai.generateText.doGenerate',
        'ai.model.provider': 'openai.chat',
        'ai.model.id': 'gpt-4o-mini',
        'ai.usage.inputTokens': 100,
        'ai.usage.outputTokens': 50,
      }),
    ).toMatchObject({ kind: 'inference', provider: 'openai', cost: '0.000045000000' });
    expect(row({ 'ai.operationId': 'ai.generateText', 'ai.model.id': 'gpt-4o-mini', 'ai.usage.inputTokens': 100, 'ai.usage.outputTokens': 50 })).toMatchObject({
      kind: 'other',
      cost: '0.000000000000',
    });
  });
  it('Traceloop llm.usage.* with gen_ai.system; workflow spans are not priced', () => {
    // 1000 x 3 + 100 x 15 = 4500
    expect(
      row({
        'gen_ai.system': 'Anthropic',
        'gen_ai.request.model': 'claude-3-5-sonnet-20241022',
        'llm.usage.prompt_tokens': 1000,
        'llm.usage.completion_tokens': 100,
      }),
    ).toMatchObject({ provider: 'anthropic', cost: '0.004500000000' });
    expect(row({ 'traceloop.span.kind': 'workflow', 'llm.usage.prompt_tokens': 1000 })).toMatchObject({ kind: 'other' });
  });
  it('OpenLIT / Langfuse gen_ai.usage.cost is kept', () => {
    expect(row({ 'gen_ai.system': 'openai', 'gen_ai.request.model': 'gpt-4o', 'gen_ai.usage.input_tokens': 1, 'gen_ai.usage.cost': 0.01 })).toMatchObject({
      cost: '0.010000000000',
    });
  });
});

describe('absurd values', () => {
  it('drops impossible token counts and costs with a reason, and prices what is left', () => {
    const r = row({
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.provider.name': 'openai',
      'gen_ai.usage.input_tokens': 1e30,
      'gen_ai.usage.output_tokens': 1000,
      'gen_ai.usage.cache_read.input_tokens': -5,
      'gen_ai.usage.reasoning.output_tokens': NaN,
      'gen_ai.usage.cost.amount': -3,
      'spendtrace.retry.attempt': 1e9,
    });
    expect(r).toMatchObject({
      input_tokens: 0,
      output_tokens: 1000,
      cache_read_tokens: 0,
      reasoning_tokens: 0,
      cost: '0.000600000000',
      retry_attempt: 0,
      cost_source: 'exporter',
    });
    expect(r.warnings.join(' ')).toMatch(/input_tokens 1e\+30 is not a token count.*cache_read.*-5.*reasoning.*NaN.*cost.amount -3/);
    expect(r.attributes['spendtrace.ingest.warnings']).toContain('1e+30');
  });

  it('cuts huge strings and labels, drops long keys and extra attributes', () => {
    const attrs: Attributes = { 'big.value': 'x'.repeat(1_000_000), 'gen_ai.request.model': 'm'.repeat(10_000), ['k'.repeat(1000)]: 'v' };
    for (let i = 0; i < 2000; i++) attrs[`extra.${i}`] = i;
    const r = row(attrs, { name: 'n'.repeat(100_000) });
    expect(r.attributes['big.value']!.length).toBeLessThan(17_000);
    expect(r.request_model).toHaveLength(512);
    expect(r.span_name).toHaveLength(512);
    expect(Object.keys(r.attributes).length).toBeLessThanOrEqual(515);
    expect(r.warnings.join(' ')).toMatch(/attributes dropped/);
  });

  it('repairs impossible times', () => {
    expect(row({}, { startTimeUnixNano: 0n, endTimeUnixNano: T0 })).toMatchObject({ start_time: '1750000000.000000000', duration_ns: '0' });
    expect(row({}, { startTimeUnixNano: T0, endTimeUnixNano: T0 - 5n })).toMatchObject({ end_time: '1750000000.000000000', duration_ns: '0' });
    expect(row({}, { startTimeUnixNano: 2n ** 64n - 1n, endTimeUnixNano: 0n })).toMatchObject({ start_time: '1750000000.000000000' });
  });

  it('rejects spans without valid ids and repeats within a request; keeps the rest', () => {
    const good = span({});
    const out = requestToRows(
      {
        resourceSpans: [
          {
            resource: { 'service.name': 'svc2' },
            scopeSpans: [
              {
                scope: { name: 's', version: '' },
                spans: [good, { ...good }, span({}, { traceId: 'zz' }), span({}, { spanId: '0000000000000000' }), span({})],
              },
            ],
          },
        ],
      },
      pricer,
      T0,
    );
    expect(out.rows).toHaveLength(2);
    expect(out.rejected).toBe(3);
    expect(out.rows[0]!.service_name).toBe('svc2');
    expect(out.messages.join(' ')).toMatch(/invalid trace id.*invalid span id/);
  });
});
