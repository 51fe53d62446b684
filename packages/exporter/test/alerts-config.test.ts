// Proves the alerts config: the README's example parses with its documented defaults, and bad input is reported problem by problem.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parseAlertsConfig, AlertsConfigError, RULE_KINDS } from '../src/alerts/index.ts';

function readmeExample(): unknown {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('## Alerts'));
  const block = /```json\n([\s\S]*?)```/.exec(section);
  if (!block) throw new Error('no json block in the README Alerts section');
  return JSON.parse(block[1]!);
}

describe('alerts config', () => {
  it('parses the README example, covering every rule kind, with the defaults it documents', () => {
    const raw = readmeExample() as { alerts: unknown };
    const c = parseAlertsConfig(raw.alerts, { SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T0/B0/x' });
    expect(c.sinks.map((s) => [s.name, s.type, s.url])).toEqual([
      ['ops-slack', 'slack', 'https://hooks.slack.com/services/T0/B0/x'],
      ['ops-discord', 'discord', 'https://discord.com/api/webhooks/123/abc'],
      ['pager', 'webhook', 'https://alerts.example.com/spendtrace'],
    ]);
    expect(new Set(c.rules.map((r) => r.kind))).toEqual(new Set(RULE_KINDS));
    expect(c).toMatchObject({
      evaluateEverySeconds: 15,
      resolveAfterEvaluations: 2,
      delivery: { attempts: 5, initialBackoffMs: 1000, maxBackoffMs: 30_000, timeoutMs: 10_000 },
    });
    const byName = Object.fromEntries(c.rules.map((r) => [r.name, r]));
    expect(byName['research-daily']).toMatchObject({ budget: 5_000_000_000_000n, thresholds: [80, 100], sinks: ['ops-slack', 'ops-discord', 'pager'] });
    expect(byName['users-monthly']).toMatchObject({ scope: 'user', period: 'month', budget: 20_000_000_000_000n, thresholds: [80, 100], sinks: ['ops-slack'] });
    expect(byName['spend-spike']).toMatchObject({ factor: 3, windowMinutes: 60, baselineHours: 24, minSpend: 10_000_000_000n });
    expect(byName['retry-loops']).toMatchObject({ factor: 2, windowMinutes: 60, baselineHours: 24, minCalls: 20 });
    expect(byName['p90-drift']).toMatchObject({ percent: 50, windowHours: 6, baselineHours: 168, minTasks: 10 });
    expect(byName['deploys']).toMatchObject({ percent: 15, lookbackHours: 168, minTasks: 10 });
    expect(byName['unpriced']).toMatchObject({ lookbackHours: 24 });
  });

  it('needs the urlEnv variable set', () => {
    const raw = readmeExample() as { alerts: unknown };
    expect(() => parseAlertsConfig(raw.alerts, {})).toThrow('alerts.sinks[0].urlEnv: environment variable SLACK_WEBHOOK_URL is not set');
  });

  it('keeps budgets exact and refuses sub-pico or negative amounts', () => {
    const rule = (budgetUsd: unknown) => ({
      sinks: [{ name: 's', type: 'webhook', url: 'http://127.0.0.1:1/' }],
      rules: [{ name: 'b', kind: 'budget', scope: 'agent', period: 'day', budgetUsd }],
    });
    expect((parseAlertsConfig(rule('0.000000000001')).rules[0] as any).budget).toBe(1n);
    expect((parseAlertsConfig(rule(0.1)).rules[0] as any).budget).toBe(100_000_000_000n);
    for (const bad of ['0.0000000000001', '-1', 0, 'five', null]) {
      const err = (() => {
        try {
          parseAlertsConfig(rule(bad));
        } catch (e) {
          return e;
        }
      })() as AlertsConfigError;
      expect(err).toBeInstanceOf(AlertsConfigError);
      expect(err.problems).toEqual([
        `alerts.rules[0].budgetUsd must be a positive USD amount such as "5.00" (at most 12 decimals), got ${JSON.stringify(bad)}`,
      ]);
    }
  });

  it('rejects rules without sinks, duplicate names and unknown keys, all at once', () => {
    const err = (() => {
      try {
        parseAlertsConfig({
          rules: [
            { name: 'u', kind: 'unpriced_model' },
            { name: 'u', kind: 'unpriced_model', extra: 1 },
          ],
          foo: true,
        });
      } catch (e) {
        return e as AlertsConfigError;
      }
    })()!;
    expect(err.problems).toEqual([
      'alerts: unknown key "foo" (expected one of evaluateEverySeconds, resolveAfterEvaluations, delivery, sinks, rules)',
      'alerts.rules[1]: unknown key "extra" for kind unpriced_model (expected name, kind, sinks, lookbackHours)',
      'alerts.rules[1]: a second rule named "u"',
      'alerts: rules are configured but no sinks; add one to alerts.sinks',
    ]);
  });
});
