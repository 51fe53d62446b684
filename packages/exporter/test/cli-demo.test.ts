// Proves `spendtrace demo` end to end (real openai, @anthropic-ai/sdk and @google/genai SDKs → fake providers → SpendtraceInstrumentation → OTLP/protobuf → serve → chDB → report): every agent, tool and model shows up, Claude and Gemini are priced at their published rates, and the exact total equals the sum of the task costs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parsePico } from '@spendtrace/semconv';
import { run } from '../src/cli/index.ts';

let dir: string;

async function cli(argv: string[]) {
  let out = '';
  let err = '';
  const code = await run(argv, { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) }, env: {}, cwd: dir });
  return { code, out, err };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'spendtrace-demo-test-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('spendtrace demo', () => {
  let table: { code: number; out: string; err: string };

  beforeAll(async () => {
    table = await cli(['demo', '--data', join(dir, 'data')]);
  }, 120_000);

  it('prints the whole report for people', () => {
    expect(table.err).not.toMatch(/internal error/);
    expect(table.code).toBe(0);
    const out = table.out;
    for (const s of ['Summary (last 24h', 'Cost per successful task', 'Top 3 most expensive tasks', 'By task', 'By tool', 'By model', 'By agent', 'By hour'])
      expect(out).toContain(s);
    for (const agent of ['research-agent', 'document-agent', 'triage-agent', 'nightly-summarizer', 'support-agent', 'ticket-router', 'sync-agent', 'faq-bot'])
      expect(out).toContain(agent);
    for (const model of ['claude-sonnet-4-6', 'gemini-2.5-flash', 'gpt-4.1', 'gpt-4o-mini', 'gpt-4.1-mini', 'gpt-4o', 'text-embedding-3-small'])
      expect(out).toContain(model);
    expect(out).toMatch(/^\s+anthropic\s+claude-sonnet-4-6 /m);
    expect(out).toMatch(/^\s+gcp\.gemini\s+gemini-2\.5-flash /m);
    expect(out).toMatch(/acme-sentiment-7b .*unpriced/);
    expect(out).toMatch(/! Unpriced calls\s+1 LLM call/);
    expect(out).toContain('web_search');
    expect(out).toMatch(/Total cost\s+\$0\.\d{6}/);
    expect(table.err).toContain('BudgetExceededError');
    // ends with the alert the service delivered to the webhook receiver the demo started
    expect(out).toMatch(
      /Alert delivered to the local webhook http:\/\/127\.0\.0\.1:\d+\/alerts[^\n]*\n {2}\[FIRING\] Unpriced model: openai\/acme-sentiment-7b\n/,
    );
  });

  it('keeps the demo incident with --data, for `spendtrace alerts`', async () => {
    const r = await cli(['alerts', '--json', '--data', join(dir, 'data')]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.firing.map((i: any) => [i.title, i.notifications.map((n: any) => n.status)])).toEqual([['Unpriced model: openai/acme-sentiment-7b', ['sent']]]);
  });

  it('ends with the insights naming the culprits, each with a monthly saving in USD', () => {
    const out = table.out;
    const tail = out.slice(out.indexOf('Insights (last 24h)'));
    expect(out.indexOf('Insights (last 24h)')).toBeGreaterThan(out.indexOf('Projection'));
    const line = (kind: string, task: string) => new RegExp(`^\\d+\\. \\[${kind}\\] ${task}.*: save ~\\$\\d+\\.\\d{6}/month$`, 'm');
    expect(tail).toMatch(line('wrong-model', 'route-ticket runs short-output calls on gpt-4\\.1'));
    expect(tail).toMatch(line('context-bloat', 'nightly-summary'));
    expect(tail).toMatch(line('retry-loops', 'crm-sync'));
    expect(tail).toMatch(line('duplicate-requests', 'faq-answer'));
    expect(tail).toMatch(line('prompt-caching-unused', 'route-ticket'));
    expect(tail).toMatch(line('batch-eligible', 'nightly-summary'));
    expect(tail).toMatch(/ticket-router@2\s+24 calls/);
  });

  it('stores exact costs: total = sum of tasks = sum of hours; tool fees exact; failures counted', async () => {
    const r = await cli(['report', '--json', '--since', '24h', '--data', join(dir, 'data')]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    const s = j.summary;
    const total = parsePico(s.totalCost);
    expect(total).toBeGreaterThan(0n);
    const sum = (rows: Array<{ cost: string }>) => rows.reduce((a, t) => a + parsePico(t.cost), 0n);
    expect(sum(j.byTask)).toBe(total);
    expect(sum(j.byHour)).toBe(total);
    expect(sum(j.byAgent)).toBe(total);
    expect(parsePico(s.llmCost) + parsePico(s.toolCost)).toBe(total);

    expect(j.byAgent.map((a: any) => a.agent).sort()).toEqual([
      'classifier-agent',
      'document-agent',
      'faq-bot',
      'nightly-summarizer',
      'research-agent',
      'support-agent',
      'sync-agent',
      'ticket-router',
      'triage-agent',
    ]);
    const search = j.byTool.find((t: any) => t.tool === 'web_search');
    expect(search.calls).toBeGreaterThanOrEqual(6);
    expect(parsePico(search.toolCost)).toBe(BigInt(search.calls) * 5_000_000_000n); // $0.005 each, exactly
    expect(parsePico(s.toolCost)).toBe(parsePico(search.toolCost));

    const models = j.byModel.map((m: any) => m.model);
    for (const m of [/^gpt-4\.1-\d/, /^gpt-4o-mini/, /^gpt-4\.1-mini/, /^gpt-4o-\d/]) expect(models.some((x: string) => m.test(x))).toBe(true);
    expect(j.byModel.find((m: any) => m.model === 'acme-sentiment-7b')).toMatchObject({ unpricedCalls: 1, cost: '0.000000000000' });
    expect(s.unpricedCalls).toBe(1);

    // 3 research + 3 invoices + 12 triage + 1 summary + 5 support replies + 1 budgeted + 4 routings + 5 syncs + 4 FAQs
    // + 60 routed classifications = 98; 2 replies, the budgeted task and 3 classifications (unusable labels, seeded) fail.
    expect(s).toMatchObject({ tasks: 98, successfulTasks: 92, failedTasks: 6, unpricedTasks: 1 });
    // The triage task with the unpriced call has an incomplete cost: left out of numerator and denominator.
    const priced = j.byTask.filter((t: any) => t.unpricedCalls === 0);
    const pricedTotal = priced.reduce((a: bigint, t: any) => a + parsePico(t.cost), 0n);
    const pricedOk = BigInt(priced.filter((t: any) => t.outcome === 'success').length);
    expect(pricedOk).toBe(91n);
    const perSuccess = parsePico(s.costPerSuccessfulTask);
    expect(perSuccess * pricedOk - pricedTotal).toBeLessThan(pricedOk); // rounded to the pico
    expect(s.attempts).toBeGreaterThan(s.llmCalls); // SDK retries counted as attempts
    expect(s.topTasks).toHaveLength(3);
    expect(s.retries).toBeGreaterThan(0);
    expect(parsePico(s.retryCost)).toBeGreaterThan(0n);
    const summary = j.byTask.find((t: any) => t.taskName === 'nightly-summary');
    expect(summary).toMatchObject({ llmCalls: 10, outcome: 'success' });
    expect(summary.tokens.cacheRead).toBeGreaterThan(0);
    expect(j.byTask.find((t: any) => t.taskName === 'deep-research')).toMatchObject({ outcome: 'failure', llmCalls: 2 });
  });

  it('routes the classifier from gpt-4o to gpt-4o-mini and reports both success rates and the saving', async () => {
    expect(table.err).toMatch(/classifier-agent: 60 tickets routed by ModelRouter: the first 10 on gpt-4o [6-9]×, the last 20 on gpt-4o-mini 20×/);
    expect(table.out).toMatch(/Model routing[\s\S]*ticket-classification[\s\S]*Saving vs\. every task on gpt-4o: \$0\.\d{6}/);
    const j = JSON.parse((await cli(['report', '--json', '--since', '24h', '--data', join(dir, 'data')])).out);
    const t = j.routing.taskTypes.find((x: any) => x.taskType === 'ticket-classification');
    const [mini, big] = ['gpt-4o-mini', 'gpt-4o'].map((m) => t.models.find((x: any) => x.model === m));
    expect(mini.tasks + big.tasks).toBe(60);
    expect(mini.tasks).toBeGreaterThan(big.tasks);
    for (const m of [mini, big]) expect(m.successRate).toBe(Math.round((m.successes / m.outcomes) * 1e6) / 1e6);
    // The saving: every task at gpt-4o's cost per task, less what the routed tasks cost, exactly.
    const perTask = parsePico(big.cost) * 60n;
    const baseline = perTask / BigInt(big.tasks) + ((perTask % BigInt(big.tasks)) * 2n >= BigInt(big.tasks) ? 1n : 0n);
    expect(parsePico(t.saving.saved)).toBe(baseline - parsePico(mini.cost) - parsePico(big.cost));
    expect(parsePico(t.saving.saved)).toBeGreaterThan(0n);
  });

  it('prices Claude (native SDK spans, prompt caching) and Gemini (image input, thinking) at their published rates, to the pico-dollar', async () => {
    const j = JSON.parse((await cli(['report', '--json', '--since', '24h', '--data', join(dir, 'data')])).out);
    const row = (provider: string, model: string) => j.byModel.find((m: any) => m.provider === provider && m.model === model);
    // Pico-USD for `tokens` at `usdPerMTok` dollars per million tokens (rates in tenths of a cent keep it integral).
    const at = (tokens: number, usdPerMTok: number) => (BigInt(tokens) * BigInt(Math.round(usdPerMTok * 1000)) * 1_000_000n) / 1000n;

    // claude-sonnet-4-6: $3 input, $0.30 cache read, $3.75 5-minute cache write, $15 output per 1M tokens.
    // The input count includes cache reads and writes (as spendtrace normalizes it), so the fresh part is what is left.
    const claude = row('anthropic', 'claude-sonnet-4-6');
    expect(claude).toMatchObject({ calls: 6, errors: 0, unpricedCalls: 0 });
    const c = claude.tokens;
    expect(c.cacheRead).toBe(5 * 2_048); // the cached research prefix, read by every call after the first
    expect(c.cacheWrite).toBe(2_048); // written once, by the first plan
    expect(parsePico(claude.cost)).toBe(at(c.input - c.cacheRead - c.cacheWrite, 3) + at(c.cacheRead, 0.3) + at(c.cacheWrite, 3.75) + at(c.output, 15));

    // gemini-2.5-flash: $0.30 input (text, image, video), $2.50 output, thinking included, per 1M tokens.
    const gemini = row('gcp.gemini', 'gemini-2.5-flash');
    expect(gemini).toMatchObject({ calls: 3, errors: 0, unpricedCalls: 0 });
    expect(gemini.tokens.input).toBeGreaterThan(3 * 1_290); // each scanned page is 1,290 image tokens
    expect(gemini.tokens.reasoning).toBeGreaterThan(0);
    expect(gemini.tokens.output).toBeGreaterThan(gemini.tokens.reasoning); // output counts the thinking too
    expect(parsePico(gemini.cost)).toBe(at(gemini.tokens.input, 0.3) + at(gemini.tokens.output, 2.5));

    // text-embedding-3-small: $0.02 per 1M input tokens.
    const embeddings = row('openai', 'text-embedding-3-small');
    expect(embeddings).toMatchObject({ calls: 3, unpricedCalls: 0 });
    expect(parsePico(embeddings.cost)).toBe(at(embeddings.tokens.input, 0.02));
  });
});
