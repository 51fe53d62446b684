// Proves the Grafana dashboards under deploy/grafana are provisioned with the ClickHouse datasource they reference, are well-formed, and that every panel's SQL, with template variables and the grafana-clickhouse-datasource macros expanded as Grafana does, returns the expected columns and values from the known fleet (real OTLP ingest into chDB).
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { fleetCalls, hourOf, populatedStore, type FleetTask, type PopulatedStore } from './support/known-fleet.ts';
import { grafanaSql, type GrafanaQueryContext } from './support/grafana-sql.ts';
import { byBigDesc, groupBy, normalize, pico, round, sum, type Row } from './support/rows.ts';

const DEPLOY = fileURLToPath(new URL('../../../deploy/', import.meta.url));
const GRAFANA = join(DEPLOY, 'grafana');
const yamlFile = (p: string) => parse(readFileSync(p, 'utf8')) as any;

const datasources = yamlFile(join(GRAFANA, 'provisioning/datasources/clickhouse.yaml')).datasources as any[];
const providers = yamlFile(join(GRAFANA, 'provisioning/dashboards/spendtrace.yaml')).providers as any[];
const compose = yamlFile(join(DEPLOY, 'compose/compose.yaml'));
const DASHBOARD_DIR = join(GRAFANA, 'dashboards');
const dashboards = readdirSync(DASHBOARD_DIR)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => ({ file: f, json: JSON.parse(readFileSync(join(DASHBOARD_DIR, f), 'utf8')) as any }));
const DS = { type: 'grafana-clickhouse-datasource', uid: 'spendtrace-clickhouse' };

describe('Grafana provisioning', () => {
  it('provisions the official ClickHouse datasource under the uid every dashboard uses', () => {
    expect(datasources).toHaveLength(1);
    expect(datasources[0]).toMatchObject({ uid: DS.uid, type: DS.type, jsonData: { defaultDatabase: 'spendtrace' } });
    expect(compose.services.grafana.environment.GF_INSTALL_PLUGINS).toBe(DS.type);
  });

  it('loads deploy/grafana/dashboards from the path compose mounts it at', () => {
    expect(providers).toHaveLength(1);
    const path = providers[0].options.path as string;
    expect(providers[0].type).toBe('file');
    const mounts = (compose.services.grafana.volumes as string[]).map((v) => v.split(':'));
    const composeDir = join(DEPLOY, 'compose');
    const dashMount = mounts.find(([, target]) => target === path);
    expect(dashMount, `a volume mounted at ${path}`).toBeDefined();
    expect(resolve(composeDir, dashMount![0]!)).toBe(resolve(DASHBOARD_DIR));
    const provMount = mounts.find(([, target]) => target === '/etc/grafana/provisioning');
    expect(resolve(composeDir, provMount![0]!)).toBe(resolve(GRAFANA, 'provisioning'));
  });

  it('has the five dashboards: spend overview, tasks, models, tools, agents', () => {
    expect(dashboards.map((d) => d.file)).toEqual(['agents.json', 'models.json', 'spend-overview.json', 'tasks.json', 'tools.json']);
    expect(new Set(dashboards.map((d) => d.json.uid)).size).toBe(5);
  });
});

describe.each(dashboards.map((d) => [d.file, d.json]))('dashboard %s is well-formed', (_file, d: any) => {
  it('has a uid, title, time range, the service and agent variables on the datasource', () => {
    expect(d.uid).toMatch(/^spendtrace-[a-z-]+$/);
    expect(d.title).toMatch(/^spendtrace: /);
    expect(d.time).toEqual({ from: 'now-7d', to: 'now' });
    expect(d.templating.list.map((v: any) => [v.name, v.type, v.multi, v.includeAll])).toEqual([
      ['service', 'query', true, true],
      ['agent', 'query', true, true],
    ]);
    for (const v of d.templating.list) {
      expect(v.datasource).toEqual(DS);
      expect(v.query.editorType).toBe('sql');
      expect(v.definition).toBe(v.query.rawSql);
    }
  });

  it('every panel has a unique id, a place on the 24-column grid and one SQL target on the datasource', () => {
    expect(new Set(d.panels.map((p: any) => p.id)).size).toBe(d.panels.length);
    for (const p of d.panels) {
      expect(['stat', 'table', 'timeseries']).toContain(p.type);
      expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
      expect(p.gridPos.h).toBeGreaterThan(0);
      expect(p.datasource).toEqual(DS);
      expect(p.targets).toHaveLength(1);
      const t = p.targets[0];
      expect(t).toMatchObject({ refId: 'A', datasource: DS, editorType: 'sql' });
      // Time series panels go through the plugin's time-series (long to wide) conversion; the rest are tables.
      expect([t.queryType, t.format]).toEqual(p.type === 'timeseries' ? ['timeSeries', 0] : ['table', 1]);
      if (p.type === 'timeseries') {
        expect(p.interval).toBe('1h'); // the rollups are hourly: a finer interval only makes gaps
        expect(t.rawSql).toMatch(/^(WITH [\s\S]*)?SELECT \$__timeInterval\(\w+\) AS time,/m);
      }
      expect(t.rawSql).toMatch(/spendtrace\.(hourly_costs|task_costs)/);
    }
    const cells = new Set<string>();
    for (const p of d.panels) {
      for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++)
        for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
          expect(cells.has(`${x},${y}`), `panel ${p.title} overlaps another`).toBe(false);
          cells.add(`${x},${y}`);
        }
    }
  });
});

describe('Grafana SQL expansion (as grafana-clickhouse-datasource pkg/macros does it)', () => {
  const ctx: GrafanaQueryContext = { from: 1_700_000_000, to: 1_700_086_400, intervalSeconds: 60, variables: { agent: ["a'b", 'c'] } };
  it.each([
    ['$__timeFilter(hour)', 'hour >= toDateTime(1700000000) AND hour <= toDateTime(1700086400)'],
    ['$__timeFilter_ms(t)', 't >= fromUnixTimestamp64Milli(1700000000000) AND t <= fromUnixTimestamp64Milli(1700086400000)'],
    ['x >= $__fromTime AND x <= $__toTime', 'x >= toDateTime(1700000000) AND x <= toDateTime(1700086400)'],
    ['$__timeInterval(hour)', 'toStartOfInterval(toDateTime(hour), INTERVAL 60 second)'],
    ['$__timeInterval(toStartOfHour(t)) / $__interval_s', 'toStartOfInterval(toDateTime(toStartOfHour(t)), INTERVAL 60 second) / 60'],
    ['$__dateFilter(d)', "d >= toDate('2023-11-14') AND d <= toDate('2023-11-15')"],
    ['agent IN (${agent:singlequote}) OR x = $agent', "agent IN ('a\\'b','c') OR x = a'b,c"],
  ])('%s', (sql, expanded) => expect(grafanaSql(sql, ctx)).toBe(expanded));
  it('refuses what the plugin would not expand', () => {
    expect(() => grafanaSql('$__timeGroup(t, 1h)', ctx)).toThrow(/not a macro/);
    expect(() => grafanaSql('${nope}', ctx)).toThrow(/unknown template variable/);
  });
});

// ---- every panel's SQL against the known fleet ----

let fx: PopulatedStore;
let tz: string;
let q: GrafanaQueryContext;
let fromMs: number;
let toMs: number;

/** The time strings ClickHouse prints for a DateTime (server time zone). */
const chTime = (ms: number) =>
  new Intl.DateTimeFormat('sv-SE', {
    timeZone: tz,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  }).format(ms);

beforeAll(async () => {
  fx = await populatedStore();
  tz = (await fx.store.query<{ tz: string }>('SELECT timezone() AS tz'))[0]!.tz;
  // The dashboards' default range, now-7d to now, as Grafana sends it (seconds) with a 1 h interval.
  const to = Math.floor(Date.now() / 1000);
  q = { from: to - 7 * 86_400, to, intervalSeconds: 3600, variables: {} };
  fromMs = q.from * 1000;
  toMs = q.to * 1000;
  // "All" of each variable: every value its own query returns, as Grafana would list them.
  for (const v of dashboards[0]!.json.templating.list) {
    const rows = await fx.store.query<Row>(grafanaSql(v.query.rawSql, q));
    q.variables[v.name] = rows.map((r) => String(Object.values(r)[0]));
  }
}, 120_000);
afterAll(async () => fx?.close());

const hourlySpans = (kind?: 'inference' | 'tool') =>
  fleetCalls(fx.fleet).filter((c) => (!kind || c.kind === kind) && hourOf(c.start) >= fromMs && hourOf(c.start) <= toMs);
const rangeTasks = () => fx.fleet.filter((t) => t.start >= fromMs && t.start <= toMs);
const cost = (xs: Array<{ cost: bigint }>) => sum(xs.map((x) => x.cost));
const perSuccess = (ts: FleetTask[]) => {
  const ok = ts.filter((t) => t.outcome === 'success').length;
  return ok ? pico(cost(ts) / BigInt(ok)) : null; // Decimal division truncates to the pico-dollar
};
const rank = (ts: FleetTask[], p: number) => {
  const sorted = ts.map((t) => t.cost).sort((a, b) => -byBigDesc(a, b));
  return pico(sorted[Math.ceil((p * sorted.length) / 100) - 1]!);
};
/** Rows of a time series: (interval start, series label) -> summed value, ordered by time then label. */
function series<T>(xs: T[], at: (x: T) => number, label: (x: T) => string, value: (xs: T[]) => unknown, labelName: string, valueName: string): Row[] {
  return [...groupBy(xs, (x) => `${chTime(hourOf(at(x)))}|${label(x)}`)]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, g]) => ({ time: k.split('|')[0], [labelName]: k.split('|')[1], [valueName]: value(g) }));
}
const sortRows = (rows: Row[]) => [...rows].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

/** Per dashboard uid and panel title: the money columns and what the rows must be. */
const PANELS: Record<string, Record<string, { money: string[]; expected: () => Row[]; compare?: (got: Row[], want: Row[]) => void }>> = {
  'spendtrace-overview': {
    Spend: { money: ['spend'], expected: () => [{ spend: pico(cost(hourlySpans())) }] },
    'Cost per successful task': { money: ['cost_per_successful_task'], expected: () => [{ cost_per_successful_task: perSuccess(rangeTasks()) }] },
    Tasks: {
      money: [],
      expected: () => {
        const ts = rangeTasks();
        return [{ n_tasks: ts.length, succeeded: ts.filter((t) => t.outcome === 'success').length, failed: ts.filter((t) => t.outcome === 'failure').length }];
      },
    },
    'Unpriced LLM calls': { money: [], expected: () => [{ unpriced_calls: hourlySpans('inference').filter((c) => c.unpriced).length }] },
    'Spend by kind': {
      money: ['spend'],
      expected: () =>
        series(
          hourlySpans(),
          (c) => c.start,
          (c) => c.kind,
          (g) => pico(cost(g)),
          'kind',
          'spend',
        ),
    },
    'Monthly projection': {
      money: ['projected', 'projected_low', 'projected_high'],
      expected: () => {
        const day = (ms: number) => new Intl.DateTimeFormat('en-CA', { timeZone: tz }).format(ms);
        const today = day(Date.now());
        const days = Array.from({ length: 7 }, (_, i) => new Date(Date.parse(`${today}T00:00:00Z`) + (i - 7) * 86_400_000).toISOString().slice(0, 10));
        const perDay = days.map((d) => cost(fleetCalls(fx.fleet).filter((c) => day(c.start) === d))).sort((a, b) => -byBigDesc(a, b));
        const [y, m] = today.split('-').map(Number);
        const dim = BigInt(new Date(Date.UTC(y!, m!, 0)).getUTCDate());
        return [{ projected: pico((sum(perDay) / 7n) * dim), projected_low: pico(perDay[0]! * dim), projected_high: pico(perDay[6]! * dim) }];
      },
    },
  },
  'spendtrace-tasks': {
    'Most expensive tasks': {
      money: ['cost'],
      expected: () =>
        rangeTasks()
          .sort((a, b) => byBigDesc(a.cost, b.cost))
          .slice(0, 50)
          .map((t) => ({
            task_name: t.taskName,
            agent: t.agent,
            user_id: t.userId,
            outcome: t.outcome,
            cost: pico(t.cost),
            llm_calls: t.calls.filter((c) => c.kind === 'inference').length,
            tool_calls: t.calls.filter((c) => c.kind === 'tool').length,
            errors: t.calls.filter((c) => c.error).length,
            started: chTime(t.start),
          })),
      // Tasks of equal cost come in task id order (random trace ids): compare as sets, then the order by cost.
      compare(got, want) {
        for (const r of got) expect(r.task_id).toMatch(/^[0-9a-f]{32}$/);
        const strip = (rows: Row[]) => rows.map(({ task_id: _id, started, ...r }) => ({ ...r, started: String(started).slice(0, 19) }));
        expect(sortRows(strip(got))).toEqual(sortRows(want));
        expect(got.map((r) => r.cost)).toEqual(want.map((r) => r.cost));
      },
    },
    'By task name': {
      money: ['spend', 'cost_per_successful_task', 'p50', 'p90'],
      expected: () =>
        [...groupBy(rangeTasks(), (t) => t.taskName)]
          .sort(([a, x], [b, y]) => byBigDesc(cost(x), cost(y)) || a.localeCompare(b))
          .map(([task_name, ts]) => ({
            task_name,
            n_tasks: ts.length,
            succeeded: ts.filter((t) => t.outcome === 'success').length,
            failed: ts.filter((t) => t.outcome === 'failure').length,
            spend: pico(cost(ts)),
            cost_per_successful_task: perSuccess(ts),
            p50: rank(ts, 50),
            p90: rank(ts, 90),
          })),
    },
    'Tasks started, by outcome': {
      money: [],
      expected: () =>
        series(
          rangeTasks(),
          (t) => t.start,
          (t) => t.outcome,
          (g) => g.length,
          'outcome',
          'n_tasks',
        ),
    },
  },
  'spendtrace-models': {
    'Spend by model': {
      money: ['spend'],
      expected: () => {
        const calls = hourlySpans('inference');
        return [...groupBy(calls, (c) => c.model)]
          .sort(([a, x], [b, y]) => byBigDesc(cost(x), cost(y)) || a.localeCompare(b))
          .map(([model, cs]) => ({
            provider: 'openai',
            model,
            llm_calls: cs.length,
            unpriced_calls: cs.filter((c) => c.unpriced).length,
            errors: cs.filter((c) => c.error).length,
            input_tokens: cs.reduce((a, c) => a + c.input, 0),
            output_tokens: cs.reduce((a, c) => a + c.output, 0),
            spend: pico(cost(cs)),
            share: round(Number(cost(cs)) / Number(cost(calls)), 4),
            p95_ms: 800, // every fleet span lasts 800 ms
          }));
      },
    },
    'Spend by model over time': {
      money: ['spend'],
      expected: () =>
        series(
          hourlySpans('inference'),
          (c) => c.start,
          (c) => c.model,
          (g) => pico(cost(g)),
          'model',
          'spend',
        ),
    },
    Tokens: {
      money: [],
      expected: () =>
        [...groupBy(hourlySpans('inference'), (c) => chTime(hourOf(c.start)))]
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([time, g]) => ({ time, input: g.reduce((a, c) => a + c.input, 0), output: g.reduce((a, c) => a + c.output, 0), cache_read: 0 })),
    },
  },
  'spendtrace-tools': {
    Tools: {
      money: ['tool_fees', 'llm_cost_inside', 'spend'],
      expected: () => {
        const cs = hourlySpans().filter((c) => c.tool === 'web_search');
        const tools = cs.filter((c) => c.kind === 'tool');
        const inside = cs.filter((c) => c.kind === 'inference');
        return [
          {
            tool: 'web_search',
            tool_calls: tools.length,
            tool_fees: pico(cost(tools)),
            llm_calls_inside: inside.length,
            llm_cost_inside: pico(cost(inside)),
            spend: pico(cost(cs)),
            errors: 0,
            p95_ms: 800,
          },
        ];
      },
    },
    'Tool fees': {
      money: ['fees'],
      expected: () =>
        series(
          hourlySpans('tool'),
          (c) => c.start,
          (c) => c.tool,
          (g) => pico(cost(g)),
          'tool',
          'fees',
        ),
    },
  },
  'spendtrace-agents': {
    Agents: {
      money: ['spend', 'cost_per_successful_task'],
      expected: () =>
        [...groupBy(rangeTasks(), (t) => t.agent)]
          .sort(([a, x], [b, y]) => byBigDesc(cost(x), cost(y)) || a.localeCompare(b))
          .map(([agent, ts]) => {
            const ok = ts.filter((t) => t.outcome === 'success').length;
            return {
              agent,
              n_tasks: ts.length,
              succeeded: ok,
              failed: ts.length - ok,
              success_rate: round(ok / ts.length, 4),
              spend: pico(cost(ts)),
              cost_per_successful_task: perSuccess(ts),
            };
          }),
    },
    'Spend by agent': {
      money: ['spend'],
      expected: () =>
        series(
          hourlySpans(),
          (c) => c.start,
          (c) => c.task.agent,
          (g) => pico(cost(g)),
          'agent',
          'spend',
        ),
    },
    'Agent × task × model': {
      money: ['spend'],
      expected: () => {
        const calls = hourlySpans('inference');
        return [...groupBy(calls, (c) => `${c.task.agent}|${c.task.taskName}|${c.model}`)]
          .sort(([a, x], [b, y]) => byBigDesc(cost(x), cost(y)) || a.localeCompare(b))
          .map(([k, cs]) => {
            const [agent, task_name, model] = k.split('|');
            return {
              agent,
              task_name,
              model,
              llm_calls: cs.length,
              unpriced_calls: cs.filter((c) => c.unpriced).length,
              avg_input_tokens: round(cs.reduce((a, c) => a + c.input, 0) / cs.length, 1),
              avg_output_tokens: round(cs.reduce((a, c) => a + c.output, 0) / cs.length, 1),
              spend: pico(cost(cs)),
              share: round(Number(cost(cs)) / Number(cost(calls)), 4),
            };
          });
      },
    },
  },
};

describe("every panel runs on a populated store with Grafana's expansion", () => {
  it("the variables list the fleet's services and agents", () => {
    expect(q.variables).toEqual({ service: ['batch', 'fleet'], agent: ['research-agent', 'summarizer', 'support-agent', 'triage-agent'] });
  });

  it('every panel has an expectation here, and every expectation a panel', () => {
    const keys = dashboards.flatMap(({ json: d }) => d.panels.map((p: any) => `${d.uid} / ${p.title}`)).sort();
    const specs = Object.entries(PANELS)
      .flatMap(([uid, ps]) => Object.keys(ps).map((t) => `${uid} / ${t}`))
      .sort();
    expect(keys).toEqual(specs);
    expect(keys.length).toBeGreaterThanOrEqual(17);
  });

  const cases = dashboards.flatMap(({ json: d }) => d.panels.map((p: any) => [`${d.uid} / ${p.title} (${p.type})`, d, p] as const));
  it.each(cases)('%s', async (_name, d, p) => {
    const spec = PANELS[d.uid]![p.title]!;
    const sql = grafanaSql(p.targets[0].rawSql, q);
    expect(sql).not.toMatch(/\$/);
    const got = normalize(await fx.store.query<Row>(sql), spec.money);
    const want = spec.expected();
    expect(want.length).toBeGreaterThan(0);
    if (spec.compare) spec.compare(got, want);
    else expect(got).toEqual(want);
  });

  it('a variable narrows every panel: agent = support-agent', async () => {
    const one = { ...q, variables: { ...q.variables, agent: ['support-agent'] } };
    const d = dashboards.find((x) => x.json.uid === 'spendtrace-overview')!.json;
    const spend = d.panels.find((p: any) => p.title === 'Spend');
    const [r] = normalize(await fx.store.query<Row>(grafanaSql(spend.targets[0].rawSql, one)), ['spend']);
    expect(r).toEqual({ spend: pico(cost(hourlySpans().filter((c) => c.task.agent === 'support-agent'))) });
  });
});
