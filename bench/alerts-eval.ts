/**
 * `node bench/alerts-eval.ts [--spans=1000000] [--rounds=15]`: what one alert evaluation costs the
 * store. A week of spans (20 agents, 50 task names, 1,000 users, 5 services with a version a day)
 * is generated inside chDB; then, round by round in alternating order, one evaluation of every rule
 * kind (`checkRule`, as the evaluator runs them) and the baseline, one `fullReport` over the same
 * 7 days (what `spendtrace report` and the dashboard run). Prints wall-time medians per rule and
 * the paired ratio of a whole evaluation to a report. One process: both are queries on the same
 * engine, so machine load hits them alike within a round.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkRule, parseAlertsConfig } from '../packages/exporter/src/alerts/index.ts';
import { createStore, fullReport, migrate } from '../packages/exporter/src/index.ts';
import { arg, fmt, median, medianCi, table } from './harness.ts';

const spans = Number(arg('spans', '1000000'));
const rounds = Number(arg('rounds', '15'));
const dir = mkdtempSync(join(tmpdir(), 'spendtrace-bench-alerts-'));
const store = await createStore({ dataDir: dir });
try {
  await migrate(store, { database: 'spendtrace', createSchema: true });
  const t0 = performance.now();
  await store.command(`INSERT INTO spendtrace.spans (trace_id, span_id, start_time, end_time, service_name, kind, task_id, task_name, agent_name, user_id, operation, provider, request_model, cost, input_tokens, output_tokens, retry_attempt, resource_attributes)
    SELECT hex(number % 200000), hex(number), now64(9) - toIntervalSecond(number % (7 * 86400)), now64(9), concat('svc', toString(number % 5)), 'inference',
      hex(number % 200000), concat('task', toString(number % 50)), concat('agent', toString(number % 20)), concat('u', toString(number % 1000)), 'chat', 'openai',
      'gpt-4o-mini', toDecimal128(number % 1000, 12) / 1000000, 100, 10, number % 7 = 0, map('service.version', toString(intDiv(number % (7 * 86400), 86400)))
    FROM numbers(${spans})`);
  process.stderr.write(`generated ${spans} spans in ${fmt((performance.now() - t0) / 1000)} s\n`);

  const config = parseAlertsConfig({
    sinks: [{ name: 's', type: 'webhook', url: 'http://127.0.0.1:9/' }],
    rules: [
      { name: 'budget agent/day', kind: 'budget', scope: 'agent', period: 'day', budgetUsd: '1000000' },
      { name: 'budget user/month', kind: 'budget', scope: 'user', period: 'month', budgetUsd: '1000000' },
      { name: 'spend_spike', kind: 'spend_spike' },
      { name: 'call_rate', kind: 'call_rate' },
      { name: 'p90_drift', kind: 'p90_drift' },
      { name: 'deployment_regression', kind: 'deployment_regression' },
      { name: 'unpriced_model', kind: 'unpriced_model' },
    ],
  });
  const perRule = new Map<string, number[]>(config.rules.map((r) => [r.name, []]));
  const evaluation: number[] = [];
  const report: number[] = [];
  const ratio: number[] = [];
  const evaluate = async () => {
    let total = 0;
    for (const r of config.rules) {
      const t = performance.now();
      await checkRule(store, 'spendtrace', r, Date.now());
      const ms = performance.now() - t;
      perRule.get(r.name)!.push(ms);
      total += ms;
    }
    return total;
  };
  const runReport = async () => {
    const t = performance.now();
    await fullReport(store, { since: '7d', database: 'spendtrace' });
    return performance.now() - t;
  };
  await evaluate(); // warm-up: first reads of each part
  await runReport();
  for (let i = 0; i < rounds; i++) {
    let e: number;
    let r: number;
    if (i % 2) {
      e = await evaluate();
      r = await runReport();
    } else {
      r = await runReport();
      e = await evaluate();
    }
    evaluation.push(e);
    report.push(r);
    ratio.push(e / r);
    process.stderr.write('.');
  }
  process.stderr.write('\n');
  const ci = (xs: number[]) =>
    medianCi(xs)
      .map((x) => fmt(x, 2))
      .join('–');
  console.log(`Alert evaluation vs a 7-day fullReport, ${spans.toLocaleString('en-US')} spans over 7 days, ${rounds} rounds (wall ms, medians)`);
  console.log(
    table(
      ['what', 'median ms', '95% CI'],
      [
        ...[...perRule].map(([name, xs]) => [`  ${name}`, fmt(median(xs)), ci(xs)]),
        ['one evaluation (all 7 rules)', fmt(median(evaluation)), ci(evaluation)],
        ['fullReport 7d (baseline)', fmt(median(report)), ci(report)],
        ['evaluation / report (paired)', fmt(median(ratio), 2), ci(ratio)],
      ],
    ),
  );
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
