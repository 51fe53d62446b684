// Proves every query of the SQL cookbook in src/schema/README.md, read from the README itself, returns what the known fleet (real OTLP ingest into chDB) must give, with the expected numbers worked out here from the fleet and the published prices.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays, dayOf, fleetCalls, hourOf, populatedStore, type FleetTask, type PopulatedStore } from './support/known-fleet.ts';
import { groupBy, normalize, pico, round, sum, usd, type Row } from './support/rows.ts';

const README = readFileSync(new URL('../src/schema/README.md', import.meta.url), 'utf8');

/** `<!-- cookbook: name -->` followed by a ```sql block. */
function cookbookQueries(markdown: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of markdown.matchAll(/<!-- cookbook: ([\w-]+) -->\n```sql\n([\s\S]*?)```/g)) out.set(m[1]!, m[2]!.trim());
  return out;
}

const DAY = 86_400_000;
let fx: PopulatedStore;
let tz: string;
const queries = cookbookQueries(README);
const run = async (name: string) => {
  const sql = queries.get(name);
  if (!sql) throw new Error(`no cookbook query ${name} in the README`);
  return fx.store.query<Row>(sql);
};

beforeAll(async () => {
  fx = await populatedStore();
  tz = (await fx.store.query<{ tz: string }>('SELECT timezone() AS tz'))[0]!.tz;
}, 120_000);
afterAll(async () => fx?.close());

const inWeek = (ms: number) => ms >= Date.now() - 7 * DAY;
const weekTasks = () => fx.fleet.filter((t) => inWeek(t.start));
const weekLlmCalls = () => fleetCalls(fx.fleet).filter((c) => c.kind === 'inference' && inWeek(hourOf(c.start)));

describe('SQL cookbook (src/schema/README.md)', () => {
  it('has exactly the recipes tested here, each a single statement on the spendtrace database', () => {
    expect([...queries.keys()].sort()).toEqual(Object.keys(EXPECT).sort());
    for (const sql of queries.values()) {
      expect(sql).not.toMatch(/;\s*\S/);
      expect(sql).toMatch(/spendtrace\.(hourly_costs|task_costs)/);
    }
  });

  it('the root README quotes its recipes word for word', () => {
    const quoted = cookbookQueries(readFileSync(new URL('../../../README.md', import.meta.url), 'utf8'));
    expect(quoted.size).toBeGreaterThan(0);
    for (const [name, sql] of quoted) expect(sql, name).toBe(queries.get(name));
  });

  it('the fleet reached the store whole (every span, every pico-dollar)', async () => {
    const [r] = await fx.store.query<Row>('SELECT count() AS n, sum(cost) AS usd FROM spendtrace.spans');
    const calls = fleetCalls(fx.fleet);
    expect(Number(r!.n)).toBe(calls.length + fx.fleet.length);
    expect(usd(r!.usd)).toBe(pico(sum(calls.map((c) => c.cost))));
  });

  const EXPECT: Record<string, () => Promise<void>> = {
    async 'weekly-agent-task-model'() {
      const calls = weekLlmCalls();
      const total = sum(calls.map((c) => c.cost));
      const expected = [...groupBy(calls, (c) => `${c.task.agent}|${c.task.taskName}|${c.model}`)]
        .map(([k, cs]) => {
          const [agent_name, task_name, model] = k.split('|');
          const cost = sum(cs.map((c) => c.cost));
          return {
            agent_name,
            task_name,
            model,
            llm_calls: cs.length,
            unpriced_calls: cs.filter((c) => c.unpriced).length,
            avg_input_tokens: round(cs.reduce((a, c) => a + c.input, 0) / cs.length, 1),
            avg_output_tokens: round(cs.reduce((a, c) => a + c.output, 0) / cs.length, 1),
            usd: pico(cost),
            share: round(Number(cost) / Number(total), 4),
            cost,
          };
        })
        .sort((a, b) =>
          a.cost === b.cost ? `${a.agent_name}|${a.task_name}|${a.model}`.localeCompare(`${b.agent_name}|${b.task_name}|${b.model}`) : a.cost > b.cost ? -1 : 1,
        )
        .map(({ cost: _c, ...r }) => r);
      expect(expected).toHaveLength(6); // research on two models, support, triage on two (one unpriced), summarizer
      expect(expected.find((r) => r.model === 'acme-sentiment-7b')).toMatchObject({ unpriced_calls: 1, usd: pico(0n) });
      expect(normalize(await run('weekly-agent-task-model'), ['usd'])).toEqual(expected);
    },

    async 'p90-per-task-name'() {
      const expected = [...groupBy(weekTasks(), (t) => t.taskName)]
        .map(([task_name, ts]) => {
          const sorted = ts.map((t) => t.cost).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
          const rank = (p: number) => sorted[Math.ceil((p * sorted.length) / 100) - 1]!; // nearest rank
          return { task_name, n_tasks: ts.length, p50_usd: pico(rank(50)), p90_usd: pico(rank(90)), max_usd: pico(sorted.at(-1)!), p90: rank(90) };
        })
        .sort((a, b) => (a.p90 === b.p90 ? a.task_name.localeCompare(b.task_name) : a.p90 > b.p90 ? -1 : 1))
        .map(({ p90: _p, ...r }) => r);
      expect(expected.find((r) => r.task_name === 'deep-research')!.n_tasks).toBe(16); // days 0..7, two a day
      expect(normalize(await run('p90-per-task-name'), ['p50_usd', 'p90_usd', 'max_usd'])).toEqual(expected);
    },

    async 'cost-per-successful-task-per-day'() {
      const today = dayOf(Date.now(), tz);
      const expected = [
        ...groupBy(
          fx.fleet.filter((t) => dayOf(t.start, tz) >= addDays(today, -29)),
          (t) => dayOf(t.start, tz),
        ),
      ]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([day, ts]) => {
          const total = sum(ts.map((t) => t.cost));
          const ok = ts.filter((t) => t.outcome === 'success').length;
          // Failed tasks' cost stays in the numerator; Decimal division truncates to the pico-dollar.
          return {
            day,
            n_tasks: ts.length,
            succeeded: ok,
            failed: ts.length - ok,
            usd: pico(total),
            usd_per_successful_task: ok ? pico(total / BigInt(ok)) : null,
          };
        });
      expect(expected.length).toBeGreaterThanOrEqual(8);
      expect(expected.some((r) => r.failed > 0)).toBe(true);
      expect(normalize(await run('cost-per-successful-task-per-day'), ['usd', 'usd_per_successful_task'])).toEqual(expected);
    },

    async 'model-concentration'() {
      const calls = weekLlmCalls();
      const total = sum(calls.map((c) => c.cost));
      const rows = [...groupBy(calls, (c) => c.model)]
        .map(([model, cs]) => ({ model, cost: sum(cs.map((c) => c.cost)) }))
        .sort((a, b) => (a.cost === b.cost ? a.model.localeCompare(b.model) : a.cost > b.cost ? -1 : 1));
      const hhi = rows.reduce((a, r) => a + (Number(r.cost) / Number(total)) ** 2, 0);
      let running = 0n;
      const expected = rows.map((r) => {
        running += r.cost;
        return {
          provider: 'openai',
          model: r.model,
          usd: pico(r.cost),
          share: round(Number(r.cost) / Number(total), 4),
          cumulative_share: round(Number(running) / Number(total), 4),
          hhi: round(hhi, 4),
        };
      });
      expect(expected.at(-1)!.cumulative_share).toBe(1);
      expect(normalize(await run('model-concentration'), ['usd'])).toEqual(expected);
    },

    async 'monthly-projection'() {
      const today = dayOf(Date.now(), tz);
      const days = Array.from({ length: 7 }, (_, i) => addDays(today, i - 7));
      const perDay = days.map((d) =>
        sum(
          fleetCalls(fx.fleet)
            .filter((c) => dayOf(c.start, tz) === d)
            .map((c) => c.cost),
        ),
      );
      const [y, m] = today.split('-').map(Number);
      const daysInMonth = new Date(Date.UTC(y!, m!, 0)).getUTCDate();
      const mean = sum(perDay) / 7n; // Decimal division truncates
      const asUsd = perDay.map((p) => Number(p) / 1e12);
      const avg = asUsd.reduce((a, b) => a + b, 0) / 7;
      const stddev = Math.sqrt(asUsd.reduce((a, b) => a + (b - avg) ** 2, 0) / 7);
      const sorted = [...perDay].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      const [r] = normalize(await run('monthly-projection'), ['daily_mean_usd', 'projected_usd', 'projected_low_usd', 'projected_high_usd']);
      expect(r).toEqual({
        days: 7,
        days_in_month: daysInMonth,
        daily_mean_usd: pico(mean),
        projected_usd: pico(mean * BigInt(daysInMonth)),
        projected_low_usd: pico(sorted[0]! * BigInt(daysInMonth)),
        projected_high_usd: pico(sorted[6]! * BigInt(daysInMonth)),
        daily_stddev_usd: expect.closeTo(round(stddev, 6), 6),
      });
      expect(sorted[6]).toBeGreaterThan(sorted[0]!); // the spread is real: days differ
    },

    async 'cost-per-user'() {
      const ts = weekTasks();
      const total = sum(ts.map((t) => t.cost));
      const expected = [...groupBy(ts, (t) => t.userId)]
        .map(([user_id, us]: [string, FleetTask[]]) => {
          const cost = sum(us.map((t) => t.cost));
          return {
            user_id,
            n_tasks: us.length,
            succeeded: us.filter((t) => t.outcome === 'success').length,
            usd: pico(cost),
            usd_per_task: pico(cost / BigInt(us.length)),
            share: round(Number(cost) / Number(total), 4),
            cost,
          };
        })
        .sort((a, b) => (a.cost === b.cost ? a.user_id.localeCompare(b.user_id) : a.cost > b.cost ? -1 : 1))
        .map(({ cost: _c, ...r }) => r);
      expect(expected.map((r) => r.user_id).sort()).toEqual(['alice', 'bob', 'carol', 'dave', 'ops']);
      expect(normalize(await run('cost-per-user'), ['usd', 'usd_per_task'])).toEqual(expected);
    },
  };

  it.each(Object.keys(EXPECT))('%s', async (name) => {
    await EXPECT[name]!();
  });
});
