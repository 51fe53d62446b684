// Proves the evaluator's incident lifecycle on a real service (chDB, real OTLP) with its clock moved: a daily budget resolves when the UTC day ends and only after `resolveAfterEvaluations`, a sink answering 503 gets the message at a later evaluation exactly once, and a sink answering 404 is given up without a resolve owed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pricer } from '@spendtrace/semconv';
import { AlertEvaluator, parseAlertsConfig } from '../src/alerts/index.ts';
import { reprice } from '../src/reprice/index.ts';
import { startService } from '../src/cli/service.ts';
import type { RunningService } from '../src/cli/service.ts';
import { send } from './support/alert-fleet.ts';
import { startReceiver } from './support/webhook-receiver.ts';
import type { Receiver } from './support/webhook-receiver.ts';

let dir: string;
let svc: RunningService;
let recv: Receiver;
const t0 = Date.now();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'spendtrace-alerts-eval-'));
  recv = await startReceiver();
  svc = await startService({
    settings: { data: join(dir, 'data'), clickhouseUrl: undefined, database: 'spendtrace' },
    port: 0,
    host: '127.0.0.1',
    prices: undefined,
    log: () => {},
  });
  await send(svc.url, { 'service.name': 'eval' }, [
    { agent: 'daily-agent', taskName: 't', at: t0, calls: [{ cost: 0.03 }] },
    { agent: 'other-agent', taskName: 'u', at: t0, calls: [{ model: 'house-llama-9b', provider: 'house', input: 1000, output: 100 }] },
  ]);
  await svc.flush();
}, 60_000);

afterAll(async () => {
  await svc?.close();
  await recv?.close();
  rmSync(dir, { recursive: true, force: true });
});

function evaluator(clock: { now: number }, extra: Record<string, unknown> = {}) {
  const config = parseAlertsConfig({
    resolveAfterEvaluations: 2,
    delivery: { attempts: 2, initialBackoffMs: 10 },
    sinks: [
      { name: 'ok', type: 'webhook', url: `${recv.url}/ok` },
      { name: 'flaky', type: 'webhook', url: `${recv.url}/flaky` },
      { name: 'gone', type: 'webhook', url: `${recv.url}/gone` },
    ],
    rules: [{ name: 'daily', kind: 'budget', scope: 'agent', match: 'daily-agent', period: 'day', budgetUsd: '0.02', thresholds: [100] }],
    ...extra,
  });
  return new AlertEvaluator({
    store: svc.store,
    database: 'spendtrace',
    config,
    file: join(dir, `incidents-${Math.random()}.json`),
    log: () => {},
    now: () => clock.now,
  });
}

describe('alert evaluator lifecycle', () => {
  it('resolves a daily budget when the UTC day ends, after two evaluations without it; retries a 503 at the next evaluation; gives up on a 404', async () => {
    const clock = { now: t0 + 1000 };
    const ev = evaluator(clock);
    recv.failNext('/flaky', [503, 503]); // both attempts of the first evaluation
    recv.failNext('/gone', [404]);
    const first = await ev.evaluate();
    expect(first).toMatchObject({ firing: 1, sent: 1, failed: 2, failedRules: [] });
    const [incident] = ev.incidents.firing();
    expect(incident!.title).toBe('Budget 100 % reached: agent daily-agent (today)');
    expect(incident!.notifications.map((n) => [n.sink, n.status])).toEqual([
      ['ok', 'sent'],
      ['flaky', 'pending'],
      ['gone', 'failed'],
    ]);

    expect(await ev.evaluate()).toMatchObject({ firing: 1, sent: 1, failed: 0 }); // flaky delivered now
    expect(recv.accepted('/flaky')).toHaveLength(1);
    expect(await ev.evaluate()).toMatchObject({ firing: 1, sent: 0 }); // nothing owed, nothing sent

    // the next UTC day: the spend is yesterday's
    const tomorrow = new Date(t0);
    tomorrow.setUTCHours(24, 0, 30, 0);
    clock.now = tomorrow.getTime();
    expect(await ev.evaluate()).toMatchObject({ firing: 1, sent: 0 }); // absent once: still firing
    expect(await ev.evaluate()).toMatchObject({ firing: 0, sent: 2 }); // absent twice: resolved to ok and flaky
    expect(await ev.evaluate()).toMatchObject({ firing: 0, sent: 0 });
    const resolved = ev.incidents.all()[0]!;
    expect(resolved.status).toBe('resolved');
    expect(resolved.notifications.map((n) => `${n.sink}:${n.event}:${n.status}`)).toEqual([
      'ok:firing:sent',
      'flaky:firing:sent',
      'gone:firing:failed',
      'ok:resolved:sent',
      'flaky:resolved:sent',
    ]);
    expect(recv.accepted('/ok').map((r) => r.body.event)).toEqual(['firing', 'resolved']);
    expect(recv.accepted('/flaky').map((r) => r.body.event)).toEqual(['firing', 'resolved']);
    expect(recv.received.filter((r) => r.path === '/gone')).toHaveLength(1); // a 404 is not retried
    await ev.close();
  });

  it('resolves an unpriced model once `spendtrace reprice` has priced its calls', async () => {
    const clock = { now: Date.now() };
    const ev = new AlertEvaluator({
      store: svc.store,
      database: 'spendtrace',
      config: parseAlertsConfig({
        sinks: [{ name: 'ok', type: 'webhook', url: `${recv.url}/unpriced` }],
        rules: [{ name: 'unpriced', kind: 'unpriced_model' }],
      }),
      file: undefined,
      log: () => {},
      now: () => clock.now,
    });
    expect(await ev.evaluate()).toMatchObject({ firing: 1, sent: 1 });
    expect(ev.incidents.firing()[0]!.title).toBe('Unpriced model: house/house-llama-9b');
    const r = await reprice(svc.store, {
      pricer: new Pricer({ overrides: [{ model: 'house-llama-9b', prices: { input_mtok: 2, output_mtok: 8 } }] }),
      since: '24h',
    });
    expect(r.newlyPriced).toBe(1);
    await ev.evaluate();
    expect(await ev.evaluate()).toMatchObject({ firing: 0, sent: 1 });
    expect(recv.accepted('/unpriced').map((x) => `${x.body.event} ${x.body.incident.title}`)).toEqual([
      'firing Unpriced model: house/house-llama-9b',
      'resolved Unpriced model: house/house-llama-9b',
    ]);
    await ev.close();
  });

  it('keeps incidents when a rule cannot be evaluated (a store error resolves nothing)', async () => {
    const clock = { now: t0 + 1000 };
    const ev = new AlertEvaluator({
      store: svc.store,
      database: 'spendtrace',
      config: parseAlertsConfig({
        resolveAfterEvaluations: 1,
        sinks: [{ name: 'ok', type: 'webhook', url: `${recv.url}/store-down` }],
        rules: [{ name: 'daily', kind: 'budget', scope: 'agent', match: 'daily-agent', period: 'day', budgetUsd: '0.02', thresholds: [100] }],
      }),
      file: undefined,
      log: () => {},
      now: () => clock.now,
    });
    expect(await ev.evaluate()).toMatchObject({ firing: 1, sent: 1 });
    // the same evaluator against a database that does not exist: the query fails
    (ev as any).o.database = 'no_such_db';
    expect(await ev.evaluate()).toMatchObject({ firing: 1, failedRules: ['daily'], sent: 0 });
    expect(recv.accepted('/store-down').map((r) => r.body.event)).toEqual(['firing']);
    await ev.close();
  });

  it('moves an unreadable incidents file aside, says so, and keeps evaluating', async () => {
    const file = join(dir, 'broken-incidents.json');
    writeFileSync(file, '{"version": 1, "incid');
    const lines: string[] = [];
    const ev = new AlertEvaluator({
      store: svc.store,
      database: 'spendtrace',
      config: parseAlertsConfig({
        sinks: [{ name: 'ok', type: 'webhook', url: `${recv.url}/broken` }],
        rules: [{ name: 'daily', kind: 'budget', scope: 'agent', match: 'daily-agent', period: 'day', budgetUsd: '0.02', thresholds: [100] }],
      }),
      file,
      log: (l) => lines.push(l),
      now: () => t0 + 1000,
    });
    expect(lines.join('\n')).toMatch(/cannot read incidents from .*broken-incidents\.json .*moved it to .*unreadable-\d+/);
    expect(readdirSync(dir).filter((f) => f.startsWith('broken-incidents.json.unreadable-'))).toHaveLength(1);
    expect(await ev.evaluate()).toMatchObject({ firing: 1, sent: 1 });
    expect(existsSync(file)).toBe(true);
    await ev.close();
  });
});
