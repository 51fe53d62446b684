// Proves alerting end to end: a real `spendtrace serve` (chDB) fed real OTLP/protobuf by the OpenTelemetry SDK raises each rule kind where the data crosses it and nowhere else, sends one firing and one resolved message per incident to Slack, Discord and JSON webhooks on 127.0.0.1 in the formats they document, retries through 429 and 500, survives a restart without re-sending, and `spendtrace alerts` / `alerts test` report it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../src/cli/index.ts';
import { HOUR, MIN, send, times } from './support/alert-fleet.ts';
import type { TaskSpec } from './support/alert-fleet.ts';
import { discordProblems, slackProblems } from './support/webhook-formats.ts';
import { startReceiver } from './support/webhook-receiver.ts';
import type { Receiver } from './support/webhook-receiver.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let dir: string;
let recv: Receiver;

async function cli(argv: string[]) {
  let out = '';
  let err = '';
  const code = await run(argv, { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) }, env: {}, cwd: dir });
  return { code, out, err };
}

/** `spendtrace serve` in-process, as a user runs it, until stop(). */
async function startServe(data: string) {
  const ac = new AbortController();
  let out = '';
  let err = '';
  let code: number | undefined;
  const done = run(['serve', '--port', '0', '--data', data], {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    env: {},
    cwd: dir,
    signal: ac.signal,
  });
  void done.then((c) => (code = c));
  const t0 = Date.now();
  while (!/listening on (\S+)/.test(out)) {
    if (code !== undefined || Date.now() - t0 > 60_000) throw new Error(`serve did not start (exit ${code}): ${err}`);
    await sleep(25);
  }
  return {
    url: /listening on (\S+)/.exec(out)![1]!,
    out: () => out,
    err: () => err,
    stop: async () => {
      ac.abort();
      return done;
    },
  };
}

/** The incident a message is about, whatever the sink's format. */
function titleOf(path: string, body: any): string {
  if (path === '/hook') return `[${body.event.toUpperCase()}] ${body.incident.title}`;
  if (path === '/slack') return body.blocks[0].text.text;
  return body.embeds[0].title;
}

// Each rule kind gets a subject that crosses its threshold and one that does not.
const scenario = (now: number) => ({
  fleet: [
    // budget per agent per day ($0.05; 50 % and 100 %): hot spends $0.06, cool $0.01
    { agent: 'budget-hot', taskName: 'spend', at: now - 2 * MIN, calls: [{ cost: 0.02 }, { cost: 0.04 }] },
    { agent: 'budget-cool', taskName: 'spend', at: now - 2 * MIN, calls: [{ cost: 0.01 }] },
    // budget per user per month ($0.03, 100 %): u-hot $0.035, u-cool $0.01
    { agent: 'user-agent', taskName: 'chat', at: now - 3 * MIN, user: 'u-hot', calls: [{ cost: 0.02 }, { cost: 0.015 }] },
    { agent: 'user-agent', taskName: 'chat', at: now - 3 * MIN, user: 'u-cool', calls: [{ cost: 0.01 }] },
    // spend spike (last 60 min against a 4 h baseline, 3×): baseline $0.008 = $0.002 per hour;
    // spiky spends $0.010 now (5×), steady $0.002 (1×)
    ...times(8, (k) => ({ agent: 'spiky', taskName: 'work', at: now - 65 * MIN - k * 25 * MIN, calls: [{ cost: 0.001 }] })),
    ...times(5, (k) => ({ agent: 'spiky', taskName: 'work', at: now - (k + 1) * 2 * MIN, calls: [{ cost: 0.002 }] })),
    ...times(8, (k) => ({ agent: 'steady', taskName: 'work', at: now - 65 * MIN - k * 25 * MIN, calls: [{ cost: 0.001 }] })),
    ...times(2, (k) => ({ agent: 'steady', taskName: 'work', at: now - (k + 1) * 2 * MIN, calls: [{ cost: 0.001 }] })),
    // call rate (2× the expected attempts, at least 20): loopy expects 2 an hour and makes 10 calls
    // with 2 silent SDK retries each = 30 attempts; calm expects 25 and makes 30 plain calls
    ...times(8, (k) => ({ agent: 'loopy', taskName: 'poll', at: now - 65 * MIN - k * 25 * MIN, calls: [{ cost: 0.0005 }] })),
    ...times(10, (k) => ({ agent: 'loopy', taskName: 'poll', at: now - (k + 1) * MIN, calls: [{ cost: 0.0001, retries: 2 }] })),
    ...times(100, (k) => ({ agent: 'calm', taskName: 'poll', at: now - 65 * MIN - k * 2 * MIN, calls: [{ cost: 0.00001 }] })),
    ...times(30, (k) => ({ agent: 'calm', taskName: 'poll', at: now - (k + 1) * MIN, calls: [{ cost: 0.00001 }] })),
    // P90 cost per task (last 1 h against the 24 h before, +50 %): drifting triples, stable +20 %
    ...times(10, (k) => ({ agent: 'p90-agent', taskName: 'drifting', at: now - 2 * HOUR - k * HOUR, calls: [{ cost: 0.0005 }, { cost: 0.0005 }] })),
    ...times(6, (k) => ({ agent: 'p90-agent', taskName: 'drifting', at: now - (k + 1) * 5 * MIN, calls: [{ cost: 0.001 }, { cost: 0.002 }] })),
    ...times(10, (k) => ({ agent: 'p90-agent', taskName: 'stable', at: now - 2 * HOUR - k * HOUR, calls: [{ cost: 0.001 }] })),
    ...times(6, (k) => ({ agent: 'p90-agent', taskName: 'stable', at: now - (k + 1) * 5 * MIN, calls: [{ cost: 0.0012 }] })),
    // a model with no known price, among priced ones
    { agent: 'research-agent', taskName: 'classify', at: now - MIN, calls: [{ model: 'acme-unknown-7b', provider: 'acme' }, { model: 'gpt-4o-mini' }] },
    // resolve: blip spikes within a 1-minute window that the spike leaves ~20 s after it is sent
    ...times(4, (k) => ({ agent: 'blip', taskName: 'blip', at: now - 5 * MIN - k * 5 * MIN, calls: [{ cost: 0.0005 }] })),
    { agent: 'blip', taskName: 'blip', at: now - 40_000, calls: [{ cost: 0.005 }] },
  ] as TaskSpec[],
  // deployment regression (cost per task of the newest service.version vs the previous, +15 %)
  deployments: [
    deploy('checkout', '1.0.0', 'checkout-task', 0.001, now - 3 * HOUR),
    deploy('checkout', '1.1.0', 'checkout-task', 0.0012, now - MIN), // +20 %
    deploy('billing', '2.0.0', 'billing-task', 0.001, now - 3 * HOUR),
    deploy('billing', '2.1.0', 'billing-task', 0.0011, now - MIN), // +10 %
  ],
});
const deploy = (service: string, version: string, taskName: string, cost: number, from: number) => ({
  resource: { 'service.name': service, 'service.version': version },
  tasks: times(6, (k) => ({ agent: 'deploy-agent', taskName, at: from - k * 10 * MIN, calls: [{ cost }] })),
});

const EXPECTED_FIRING = [
  'Budget 50 % reached: agent budget-hot (today)',
  'Budget 100 % reached: agent budget-hot (today)',
  'Budget 100 % reached: user u-hot (this month)',
  'Budget 100 % reached: task name drifting (today)',
  'Spend spike: agent spiky',
  'Spend spike: agent blip',
  'Call rate 15.0× expected: agent loopy',
  'P90 cost per task up 200.0 %: drifting',
  'Deployment regression: checkout 1.1.0 costs 20.0 % more per "checkout-task" task',
  'Unpriced model: acme/acme-unknown-7b',
];
const SINKS = ['/slack', '/discord', '/hook'] as const;

function config(receiverUrl: string, extra: Record<string, unknown> = {}) {
  return {
    alerts: {
      evaluateEverySeconds: 1,
      delivery: { initialBackoffMs: 200, maxBackoffMs: 2000 },
      sinks: [
        { name: 'slack', type: 'slack', url: `${receiverUrl}/slack` },
        { name: 'discord', type: 'discord', url: `${receiverUrl}/discord` },
        { name: 'hook', type: 'webhook', url: `${receiverUrl}/hook`, headers: { authorization: 'Bearer t0ken' } },
      ],
      rules: [
        { name: 'hot-daily', kind: 'budget', scope: 'agent', match: 'budget-hot', period: 'day', budgetUsd: '0.05', thresholds: [50, 100] },
        { name: 'cool-daily', kind: 'budget', scope: 'agent', match: 'budget-cool', period: 'day', budgetUsd: '0.05', thresholds: [50, 100] },
        { name: 'task-daily', kind: 'budget', scope: 'task', match: 'drifting', period: 'day', budgetUsd: '0.01', thresholds: [100] },
        { name: 'task-daily-stable', kind: 'budget', scope: 'task', match: 'stable', period: 'day', budgetUsd: '0.05', thresholds: [100] },
        { name: 'user-monthly', kind: 'budget', scope: 'user', period: 'month', budgetUsd: 0.03, thresholds: [100] },
        { name: 'spike-spiky', kind: 'spend_spike', agent: 'spiky', baselineHours: 4, minUsd: '0.001' },
        { name: 'spike-steady', kind: 'spend_spike', agent: 'steady', baselineHours: 4, minUsd: '0.001' },
        { name: 'spike-blip', kind: 'spend_spike', agent: 'blip', windowMinutes: 1, baselineHours: 1, minUsd: '0.001' },
        { name: 'rate-loopy', kind: 'call_rate', agent: 'loopy', baselineHours: 4 },
        { name: 'rate-calm', kind: 'call_rate', agent: 'calm', baselineHours: 4 },
        { name: 'p90-drifting', kind: 'p90_drift', taskName: 'drifting', windowHours: 1, baselineHours: 24, minTasks: 5 },
        { name: 'p90-stable', kind: 'p90_drift', taskName: 'stable', windowHours: 1, baselineHours: 24, minTasks: 5 },
        { name: 'deploys', kind: 'deployment_regression', lookbackHours: 24, minTasks: 5 },
        { name: 'unpriced', kind: 'unpriced_model' },
      ],
      ...extra,
    },
  };
}

describe('alerts against a real spendtrace serve', () => {
  let svc: Awaited<ReturnType<typeof startServe>>;
  let data: string;
  let sentAt: number;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spendtrace-alerts-'));
    data = join(dir, 'data');
    recv = await startReceiver();
    writeFileSync(join(dir, 'spendtrace.config.json'), JSON.stringify(config(recv.url), null, 2));
    recv.failNext('/slack', [429]); // Retry-After: 1
    recv.failNext('/discord', [500, 500]); // then Discord's own 204
    svc = await startServe(data);
    sentAt = Date.now();
    const { fleet, deployments } = scenario(sentAt);
    await send(svc.url, { 'service.name': 'fleet' }, fleet);
    for (const d of deployments) await send(svc.url, d.resource, d.tasks);
    // every firing incident reaches every sink, and blip's resolve follows
    await Promise.all(SINKS.map((p) => recv.waitFor(p, EXPECTED_FIRING.length + 1, 60_000)));
    await sleep(3000); // three more evaluations: nothing else may arrive
  }, 120_000);

  afterAll(async () => {
    await svc?.stop();
    await recv?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('fires every rule kind where the data crosses it, and nowhere else', async () => {
    const api = (await (await fetch(`${svc.url}/api/alerts`)).json()) as any;
    expect(api.configured).toBe(true);
    const firing = api.firing.map((i: any) => i.title).sort();
    expect(firing).toEqual(EXPECTED_FIRING.filter((t) => !t.includes('blip')).sort());
    expect(api.recent.map((i: any) => i.title)).toEqual(['Spend spike: agent blip']);
    // the subjects built not to cross: no incident ever, firing or resolved
    const all = JSON.stringify([...api.firing, ...api.recent]);
    for (const quiet of ['budget-cool', 'u-cool', 'steady', 'calm', 'stable', 'billing', 'gpt-4o-mini']) expect(all).not.toContain(quiet);
    // exact evidence, from the store
    const byRule = (r: string) => api.firing.filter((i: any) => i.rule === r);
    expect(byRule('hot-daily').map((i: any) => i.evidence.spent)).toEqual(['0.060000000000', '0.060000000000']);
    expect(byRule('user-monthly')[0].evidence).toMatchObject({ spent: '0.035000000000', budget: '0.030000000000', used: '116.6 %' });
    expect(byRule('spike-spiky')[0].evidence).toMatchObject({ recentSpend: '0.010000000000', expectedSpend: '0.002000000000' });
    expect(byRule('rate-loopy')[0].evidence).toMatchObject({ recentAttempts: 30, expectedAttempts: 2 });
    expect(byRule('p90-drifting')[0].evidence).toMatchObject({ recentP90: '0.003000000000', baselineP90: '0.001000000000', recentTasks: 6, baselineTasks: 10 });
    expect(byRule('deploys')[0].evidence).toMatchObject({
      version: '1.1.0',
      previousVersion: '1.0.0',
      costPerTask: '0.001200000000',
      previousCostPerTask: '0.001000000000',
      tasks: 6,
    });
    expect(byRule('unpriced')[0].evidence).toMatchObject({ provider: 'acme', model: 'acme-unknown-7b', unpricedCalls: 1 });
  });

  it('sends one firing message per incident to each sink, and one resolved message', () => {
    for (const p of SINKS) {
      const msgs = recv.accepted(p).map((r) => titleOf(p, r.body));
      expect(msgs.filter((m) => m.startsWith('[FIRING]')).sort()).toEqual(EXPECTED_FIRING.map((t) => `[FIRING] ${t}`).sort());
      expect(msgs.filter((m) => m.startsWith('[RESOLVED]'))).toEqual(['[RESOLVED] Spend spike: agent blip']);
      expect(msgs.indexOf('[RESOLVED] Spend spike: agent blip')).toBeGreaterThan(msgs.indexOf('[FIRING] Spend spike: agent blip'));
    }
    const hook = recv.accepted('/hook');
    expect(hook.every((r) => r.headers.authorization === 'Bearer t0ken' && r.headers['content-type'] === 'application/json')).toBe(true);
    const resolved = hook.find((r) => r.body.event === 'resolved')!.body;
    expect(resolved).toMatchObject({ schema: 'spendtrace.alert.v1', incident: { status: 'resolved', rule: 'spike-blip', kind: 'spend_spike' } });
    expect(Date.parse(resolved.incident.resolvedAt)).toBeGreaterThan(Date.parse(resolved.incident.startedAt));
  });

  it('sends bodies Slack and Discord accept (their documented formats and limits)', () => {
    for (const r of recv.received.filter((x) => x.path === '/slack')) expect(slackProblems(r.body)).toEqual([]);
    for (const r of recv.received.filter((x) => x.path === '/discord')) expect(discordProblems(r.body)).toEqual([]);
    const d = recv.accepted('/discord')[0]!.body;
    expect(d.allowed_mentions).toEqual({ parse: [] });
    // the checks themselves reject what those services reject
    expect(slackProblems({ blocks: [{ type: 'header', text: { type: 'mrkdwn', text: 'x'.repeat(151) } }] })).toHaveLength(3);
    expect(discordProblems({ embeds: [{ title: 'x'.repeat(257), fields: [{ name: 'a', value: '' }] }] })).toHaveLength(2);
  });

  it('retries a 429 after its Retry-After and a 500 with backoff, delivering each message once', () => {
    const slack = recv.received.filter((r) => r.path === '/slack');
    expect(slack[0]!.status).toBe(429);
    expect(slack.length).toBe(recv.accepted('/slack').length + 1);
    expect(slack[1]!.at - slack[0]!.at).toBeGreaterThanOrEqual(950); // Retry-After: 1
    expect(titleOf('/slack', slack[1]!.body)).toBe(titleOf('/slack', slack[0]!.body));
    const discord = recv.received.filter((r) => r.path === '/discord');
    expect(discord.slice(0, 3).map((r) => r.status)).toEqual([500, 500, 204]);
    // backoff 200 ms, then 400 ms (lower bounds: the wait comes between a reply and the next request)
    expect(discord[1]!.at - discord[0]!.at).toBeGreaterThanOrEqual(190);
    expect(discord[2]!.at - discord[1]!.at).toBeGreaterThanOrEqual(390);
    expect(discord.length).toBe(recv.accepted('/discord').length + 2);
  });

  it('delivers within the evaluation interval of the spans reaching the service', () => {
    const first = Math.min(...recv.accepted('/hook').map((r) => r.at));
    expect(first - sentAt).toBeLessThan(20_000); // 1 s interval here; the default's bound is tested below
  });

  it('keeps incidents across a restart without sending anything again', async () => {
    const before = recv.received.length;
    const firingBefore = ((await (await fetch(`${svc.url}/api/alerts`)).json()) as any).firing.map((i: any) => i.id).sort();
    expect(await svc.stop()).toBe(0);
    const file = JSON.parse(readFileSync(join(data, 'alert-incidents.json'), 'utf8'));
    expect(
      file.incidents
        .filter((i: any) => i.status === 'firing')
        .map((i: any) => i.id)
        .sort(),
    ).toEqual(firingBefore);
    svc = await startServe(data);
    await sleep(3500);
    expect(recv.received.length).toBe(before);
    const api = (await (await fetch(`${svc.url}/api/alerts`)).json()) as any;
    expect(api.firing.map((i: any) => i.id).sort()).toEqual(firingBefore);
    expect(api.lastEvaluation).toMatchObject({ rules: 14, failedRules: [], sent: 0 });
  }, 90_000);

  it('`spendtrace alerts` lists firing and recent incidents, from the data dir or the service', async () => {
    const viaServer = await cli(['alerts', '--json', '--server', svc.url]);
    expect(viaServer.code).toBe(0);
    const j = JSON.parse(viaServer.out);
    expect(j.firing).toHaveLength(EXPECTED_FIRING.length - 1);
    expect(j.sinks).toEqual([
      { name: 'slack', type: 'slack' },
      { name: 'discord', type: 'discord' },
      { name: 'hook', type: 'webhook' },
    ]);
    expect(viaServer.out).not.toContain(recv.url); // sink URLs are secrets
    const table = await cli(['alerts', '--data', data]);
    expect(table.code).toBe(0);
    expect(table.out).toMatch(/Firing \(9\)/);
    expect(table.out).toMatch(/Resolved in the last 7 days \(1\)/);
    expect(table.out).toContain('! Unpriced model: acme/acme-unknown-7b');
    expect(table.out).toMatch(/slack:firing=sent discord:firing=sent hook:firing=sent/);
  });

  it('`spendtrace alerts test` sends a sample to each sink and says which failed', async () => {
    const before = recv.received.length;
    const ok = await cli(['alerts', 'test']);
    expect(ok.code).toBe(0);
    expect(ok.out).toContain('3 of 3 sink(s) accepted the test message.');
    const tests = recv.received.slice(before);
    expect(tests.map((r) => r.path).sort()).toEqual(['/discord', '/hook', '/slack']);
    expect(tests.map((r) => titleOf(r.path, r.body)).every((t) => t.startsWith('[TEST]'))).toBe(true);
    for (const r of tests) expect(r.path === '/slack' ? slackProblems(r.body) : r.path === '/discord' ? discordProblems(r.body) : []).toEqual([]);
    recv.failNext('/hook', [404]);
    const bad = await cli(['alerts', 'test', '--sink', 'hook']);
    expect(bad.code).toBe(4);
    expect(bad.out).toMatch(/FAILED {2}hook \(webhook\): HTTP 404/);
    expect(bad.out).toContain('(1 attempt(s))'); // a 404 is not retried
  });
});

describe('alerts config', () => {
  it('reports every problem of the alerts section at once', async () => {
    dir = mkdtempSync(join(tmpdir(), 'spendtrace-alerts-config-'));
    try {
      writeFileSync(
        join(dir, 'spendtrace.config.json'),
        JSON.stringify({
          alerts: {
            evaluateEverySeconds: 0,
            sinks: [
              { name: 'a', type: 'teams', url: 'ftp://x' },
              { name: 'b', type: 'slack', urlEnv: 'NO_SUCH_VAR' },
            ],
            rules: [
              { name: 'r1', kind: 'budget', scope: 'team', period: 'day', budgetUsd: '-1' },
              { name: 'r2', kind: 'spend_spike', factr: 2, sinks: ['nope'] },
              { kind: 'wat' },
            ],
          },
        }),
      );
      const r = await cli(['serve', '--port', '0', '--data', join(dir, 'd')]);
      expect(r.code).toBe(3);
      for (const p of [
        'alerts.evaluateEverySeconds must be a number in 0.1..3600, got 0',
        'alerts.sinks[0].type must be one of slack, discord, webhook, got "teams"',
        'alerts.sinks[0]: the URL must be http(s)://…, got "ftp://x"',
        'alerts.sinks[1].urlEnv: environment variable NO_SUCH_VAR is not set',
        'alerts.rules[0].scope must be one of agent, task, user, got "team"',
        'alerts.rules[0].budgetUsd must be a positive USD amount',
        'alerts.rules[1]: unknown key "factr" for kind spend_spike',
        'alerts.rules[1].sinks: no sink named "nope"',
        'alerts.rules[2].name is required',
        'alerts.rules[2].kind must be one of budget, spend_spike, call_rate, p90_drift, deployment_regression, unpriced_model, got "wat"',
      ])
        expect(r.err).toContain(p);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('alert latency with default settings', () => {
  it('a span that crosses a budget reaches the webhook in under a minute', async () => {
    dir = mkdtempSync(join(tmpdir(), 'spendtrace-alerts-latency-'));
    const receiver = await startReceiver();
    // Only what a user must write: a sink and a rule. Interval, delivery and resolve are defaults.
    writeFileSync(
      join(dir, 'spendtrace.config.json'),
      JSON.stringify({
        alerts: {
          sinks: [{ name: 'hook', type: 'webhook', url: `${receiver.url}/hook` }],
          rules: [{ name: 'tiny', kind: 'budget', scope: 'agent', match: 'latency-agent', period: 'day', budgetUsd: '0.001', thresholds: [100] }],
        },
      }),
    );
    const s = await startServe(join(dir, 'data'));
    try {
      // Send just after an evaluation ends: the worst case waits a whole interval for the next one.
      let evaluated: unknown = null;
      while (!evaluated) {
        evaluated = ((await (await fetch(`${s.url}/api/alerts`)).json()) as any).lastEvaluation;
        if (!evaluated) await sleep(20);
      }
      const t0 = Date.now();
      await send(s.url, { 'service.name': 'latency' }, [{ agent: 'latency-agent', taskName: 't', at: t0, calls: [{ cost: 0.002 }] }]);
      const [msg] = await receiver.waitFor('/hook', 1, 60_000);
      const latency = msg!.at - t0;
      console.log(`alerts: span -> webhook latency with default settings (15 s interval, sent right after an evaluation): ${latency} ms`);
      expect(msg!.body).toMatchObject({ event: 'firing', incident: { rule: 'tiny', evidence: { spent: '0.002000000000' } } });
      expect(latency).toBeLessThan(60_000);
    } finally {
      await s.stop();
      await receiver.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
