// Proves the spendtrace CLI in-process: help on every command, usage/config errors as exit 2/3 with a message on stderr, report on an empty store (table and --json), and serve → OTLP → report through the store and through --server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMMANDS, EXIT, run } from '../src/cli/index.ts';

let dir: string;

interface Result {
  code: number;
  out: string;
  err: string;
}

async function cli(argv: string[], opts: { env?: Record<string, string>; signal?: AbortSignal; onOut?: (s: string) => void } = {}): Promise<Result> {
  let out = '';
  let err = '';
  const code = await run(argv, {
    stdout: {
      write: (s: string) => {
        out += s;
        opts.onOut?.(out);
      },
    },
    stderr: {
      write: (s: string) => {
        err += s;
      },
    },
    env: opts.env ?? {},
    cwd: dir,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  return { code, out, err };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'spendtrace-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('help', () => {
  it('--help lists every command, the env vars and the exit codes', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(EXIT.OK);
    for (const c of ['serve', 'report', 'demo', 'migrate']) expect(r.out).toContain(`  ${c}`);
    expect(r.out).toMatch(/SPENDTRACE_DATA.*SPENDTRACE_CLICKHOUSE_URL/s);
    expect(r.out).toContain('SPENDTRACE_PORT');
    expect(r.out).toContain('0 ok · 1 internal error · 2 usage · 3 config · 4 network/store · 5 data');
    expect(r.err).toBe('');
  });

  it.each(COMMANDS.map((c) => c.name))('%s --help explains the command and exits 0', async (name) => {
    const r = await cli([name, '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(new RegExp(`^spendtrace ${name} — `));
    expect(r.out).toContain(`Usage: spendtrace ${name}`);
    expect((await cli(['help', name])).out).toBe(r.out);
  });

  it('report --help documents its flags and the cost-per-success definition', async () => {
    const { out } = await cli(['report', '-h']);
    for (const f of ['--since', '--by', '--json', '--data', '--clickhouse-url', '--server', '--service']) expect(out).toContain(f);
    expect(out).toMatch(/failed attempts included/);
  });

  it('bare `spendtrace` prints help and exits 2', async () => {
    const r = await cli([]);
    expect(r.code).toBe(EXIT.USAGE);
    expect(r.out).toContain('Usage: spendtrace <command>');
  });
});

describe('usage and config errors', () => {
  it.each([
    [['frobnicate'], /unknown command "frobnicate"/],
    [['rep'], /did you mean `report`/],
    [['report', '--bogus'], /Unknown option '--bogus'/],
    [['report', '--since', 'yesterday'], /invalid --since "yesterday".*30m, 24h, 7d/],
    [
      ['report', '--by', 'planet'],
      /invalid --by "planet": expected one of task, tool, model, agent, hour, or a comma-separated list of agent, task, model, provider, user, tenant/,
    ],
    [['report', '--by', 'agent,planet'], /invalid --by "agent,planet"/],
    [['report', '--concentration', '1.5'], /invalid --concentration "1.5": expected a share between 0 and 1/],
    [['insights', '--since', 'soon'], /invalid --since "soon"/],
    [['insights', '--bogus'], /Unknown option '--bogus'/],
    [['report', '--limit', '-3'], /invalid --limit|argument missing|ambiguous/i],
    [['report', 'extra'], /unexpected argument "extra"/],
    [['report', '--data', 'x', '--clickhouse-url', 'http://h:8123'], /either --data .* or --clickhouse-url/],
    [['report', '--clickhouse-url', 'ftp://h'], /invalid ClickHouse URL/],
    [['report', '--database', 'a-b'], /invalid database name "a-b"/],
    [['serve', '--port', 'http'], /invalid --port "http"/],
    [['serve', '--port'], /argument missing/],
  ])('%j exits 2 with a message and a hint on stderr', async (argv, msg) => {
    const r = await cli(argv);
    expect(r.code).toBe(EXIT.USAGE);
    expect(r.err).toMatch(msg);
    expect(r.err).toMatch(/^spendtrace: /);
    expect(r.err).toContain('--help');
    expect(r.out).toBe('');
  });

  it('a missing or invalid config file, or a bad env value, is a config error (3)', async () => {
    expect((await cli(['report', '--config', 'nope.json'])).code).toBe(EXIT.CONFIG);
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ port: 'x', colour: 'blue' }));
    const r = await cli(['report', '--config', 'bad.json']);
    expect(r.code).toBe(EXIT.CONFIG);
    expect(r.err).toMatch(/"port" must be a number.*unknown key "colour"/);
    const e = await cli(['serve'], { env: { SPENDTRACE_PORT: 'eighty' } });
    expect(e.code).toBe(EXIT.CONFIG);
    expect(e.err).toMatch(/invalid SPENDTRACE_PORT "eighty"/);
  });
});

// Every store test below shares one data directory: chDB binds one per process.
const data = () => join(dir, 'data');

describe('report on an empty store', () => {
  it('prints an empty summary with a next step, exit 0', async () => {
    const r = await cli(['report', '--data', data()]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('Summary (last 7d, all services)');
    expect(r.out).toContain('No tasks in this window.');
    expect(r.out).toContain('spendtrace demo');
  });

  it('--json has the full-report shape', async () => {
    const r = await cli(['report', '--json'], { env: { SPENDTRACE_DATA: data() } });
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(Object.keys(j)).toEqual([
      'summary',
      'byTask',
      'byTool',
      'byModel',
      'byAgent',
      'byHour',
      'byTaskName',
      'dailyTrend',
      'projection',
      'ticker',
      'routing',
    ]);
    expect(j.projection).toMatchObject({ method: 'no spend in the last 7 days', days: [], projectedMonth: '0.000000000000' });
    expect(j.routing).toEqual({ since: '7d', service: null, taskTypes: [], findings: [] });
    expect(j.summary).toMatchObject({ since: '7d', totalCost: '0.000000000000', tasks: 0, costPerSuccessfulTask: null, unpricedCalls: 0 });
    const by = JSON.parse((await cli(['report', '--json', '--by', 'model', '--since', '24h', '--data', data()])).out);
    expect(by).toEqual({ by: 'model', since: '24h', service: null, rows: [] });
    const dims = JSON.parse((await cli(['report', '--json', '--by', 'agent,task,model', '--data', data()])).out);
    expect(dims).toEqual({ by: 'agent,task,model', dimensions: ['agent', 'task', 'model'], since: '7d', service: null, rows: [] });
    const ins = await cli(['insights', '--data', data()]);
    expect(ins.code).toBe(0);
    expect(ins.out).toContain('Nothing to change found in this window.');
  });

  it('flag beats env beats config file', async () => {
    writeFileSync(join(dir, 'spendtrace.config.json'), JSON.stringify({ since: '2w', data: data() }));
    expect(JSON.parse((await cli(['report', '--json'])).out).summary.since).toBe('2w');
    expect(JSON.parse((await cli(['report', '--json', '--since', '3h'])).out).summary.since).toBe('3h');
    rmSync(join(dir, 'spendtrace.config.json'));
  });
});

function otlpJson(traceId: string, now: bigint) {
  const attr = (key: string, v: string | number | boolean) => ({
    key,
    value:
      typeof v === 'string'
        ? { stringValue: v }
        : typeof v === 'boolean'
          ? { boolValue: v }
          : Number.isInteger(v)
            ? { intValue: String(v) }
            : { doubleValue: v },
  });
  const common = [attr('spendtrace.task.name', 'cli-test'), attr('gen_ai.agent.name', 'cli-agent')];
  return {
    resourceSpans: [
      {
        resource: { attributes: [attr('service.name', 'cli-svc')] },
        scopeSpans: [
          {
            scope: { name: 'test' },
            spans: [
              {
                traceId,
                spanId: '1111111111111111',
                name: 'invoke_agent cli-agent',
                kind: 1,
                startTimeUnixNano: String(now),
                endTimeUnixNano: String(now + 3_000_000n),
                attributes: [...common, attr('spendtrace.task.root', true), attr('spendtrace.task.outcome', 'success')],
              },
              {
                traceId,
                spanId: '2222222222222222',
                parentSpanId: '1111111111111111',
                name: 'chat gpt-4o-mini',
                kind: 3,
                startTimeUnixNano: String(now + 1_000n),
                endTimeUnixNano: String(now + 2_000_000n),
                attributes: [
                  ...common,
                  attr('gen_ai.operation.name', 'chat'),
                  attr('gen_ai.provider.name', 'openai'),
                  attr('gen_ai.request.model', 'gpt-4o-mini'),
                  attr('gen_ai.usage.input_tokens', 1000),
                  attr('gen_ai.usage.output_tokens', 100),
                  attr('gen_ai.usage.cost.amount', 0.00021),
                ],
              },
              {
                traceId,
                spanId: '3333333333333333',
                parentSpanId: '1111111111111111',
                name: 'execute_tool web_search',
                kind: 1,
                startTimeUnixNano: String(now + 5_000n),
                endTimeUnixNano: String(now + 1_000_000n),
                attributes: [
                  ...common,
                  attr('gen_ai.operation.name', 'execute_tool'),
                  attr('gen_ai.tool.name', 'web_search'),
                  attr('spendtrace.tool.cost.amount', 0.005),
                ],
              },
            ],
          },
        ],
      },
    ],
  };
}

describe('serve', () => {
  it('serves OTLP and the API, stops on abort after flushing; report then reads what it stored', async () => {
    const ac = new AbortController();
    let listening!: (url: string) => void;
    const ready = new Promise<string>((r) => {
      listening = r;
    });
    const served = cli(['serve', '--port', '0', '--grpc-port', '0', '--clickhouse-http-port', '0', '--data', data()], {
      signal: ac.signal,
      onOut: (out) => {
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (m) listening(m[1]!);
      },
    });
    const url = await Promise.race([
      ready,
      served.then((r) => {
        throw new Error(`serve exited ${r.code}: ${r.err}`);
      }),
    ]);
    expect(existsSync(join(data(), 'serve.json'))).toBe(true);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const page = await fetch(`${url}/`);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toContain("fetch('/api/report?' + windowQuery(since)");

    const now = BigInt(Date.now()) * 1_000_000n;
    const post = await fetch(`${url}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(otlpJson('0af7651916cd43dd8448eb211c80319c', now)),
    });
    expect(post.status).toBe(200);

    // While serve owns the directory, report reads through its API (spans land once the batch flushes).
    let rows: Array<{ cost: string }> = [];
    for (let i = 0; i < 50 && rows.length === 0; i++) {
      const viaApi = await cli(['report', '--by', 'task', '--json', '--server', url]);
      expect(viaApi.code).toBe(0);
      rows = JSON.parse(viaApi.out).rows;
      if (!rows.length) await new Promise((r) => setTimeout(r, 100));
    }
    expect(rows.map((t) => t.cost)).toEqual(['0.005210000000']);
    expect((await cli(['report', '--server', url])).out).toMatch(/Total cost\s+\$0\.005210/);
    ac.abort();
    const r = await served;
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/flushing spans…[\s\S]*stopped cleanly/);
    expect(existsSync(join(data(), 'serve.json'))).toBe(false);

    const rep = await cli(['report', '--data', data(), '--json']);
    const j = JSON.parse(rep.out);
    expect(j.summary).toMatchObject({ totalCost: '0.005210000000', tasks: 1, successfulTasks: 1, costPerSuccessfulTask: '0.005210000000' });
    expect(j.byTool[0]).toMatchObject({ tool: 'web_search', calls: 1, toolCost: '0.005000000000' });
    expect(j.byModel[0]).toMatchObject({ provider: 'openai', model: 'gpt-4o-mini', calls: 1, cost: '0.000210000000' });

    const table = await cli(['report', '--data', data()]);
    expect(table.out).toMatch(/Total cost\s+\$0\.005210/);
    expect(table.out).toMatch(/Cost per successful task\s+\$0\.005210/);
    expect(table.out).toContain('Top 1 most expensive tasks');
    for (const h of ['By task', 'By tool', 'By model', 'By agent', 'By hour', 'cli-agent', 'web_search', 'gpt-4o-mini']) expect(table.out).toContain(h);
    for (const h of ['By task name', 'Cost per successful task by day', 'Projection', 'method: mean of the daily totals of the last 1 day'])
      expect(table.out).toContain(h);
    expect(table.out).toMatch(/p50 \$0\.005210 · p90 \$0\.005210 · p95/);
    expect(table.out).toMatch(/! Top model\s+openai\/gpt-4o-mini: 100\.0% of LLM spend \(\$0\.000210\): concentrated, over 70%/);

    // The weekly table: agent x task x model, tool fees on their own row.
    const weekly = await cli(['report', '--by', 'agent,task,model', '--data', data()]);
    expect(weekly.code).toBe(0);
    expect(weekly.out).toMatch(/^By agent × task × model$/m);
    expect(weekly.out).toMatch(/AGENT\s+TASK NAME\s+MODEL\s+CALLS\s+ATTEMPTS\s+AVG IN\s+AVG OUT\s+COST\s+SHARE/);
    expect(weekly.out).toMatch(/cli-agent\s+cli-test\s+\(tool fees\)\s+0\s+0\s+0\s+0\s+\$0\.005000\s+96\.0%/);
    expect(weekly.out).toMatch(/cli-agent\s+cli-test\s+gpt-4o-mini\s+1\s+1\s+1,000\s+100\s+\$0\.000210\s+4\.0%/);
    const json = JSON.parse((await cli(['report', '--by', 'task,model', '--json', '--data', data()])).out);
    expect(json.rows.map((r: any) => [r.key.model, r.cost])).toEqual([
      ['', '0.005000000000'],
      ['gpt-4o-mini', '0.000210000000'],
    ]);
    expect((await cli(['report', '--concentration', '1', '--data', data()])).out).toMatch(
      /^\s+Top model\s+openai\/gpt-4o-mini: 100\.0% of LLM spend \(\$0\.000210\)$/m,
    );

    // Insights on one small task: nothing to change, said plainly; --json for scripts.
    const ins = JSON.parse((await cli(['insights', '--json', '--data', data()])).out);
    expect(ins).toMatchObject({ since: '7d', findings: [], monthlySavings: '0.000000000000', errors: [] });
  });

  it('--server pointing nowhere is a network error (4)', async () => {
    const r = await cli(['report', '--server', 'http://127.0.0.1:9']);
    expect(r.code).toBe(EXIT.STORE);
    expect(r.err).toMatch(/cannot reach the spendtrace service at http:\/\/127\.0\.0\.1:9/);
  });
});

describe('migrate --print', () => {
  it('prints the cluster DDL without touching a store', async () => {
    const r = await cli(['migrate', '--print', '--cluster', 'prod', '--database', 'costs', '--data', '/nonexistent/never-created']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('CREATE DATABASE IF NOT EXISTS costs ON CLUSTER `prod`');
    expect(r.out).toContain('ENGINE = ReplicatedAggregatingMergeTree(');
    expect(r.out).toContain('CREATE MATERIALIZED VIEW IF NOT EXISTS costs.task_costs_mv ON CLUSTER `prod`');
    expect(r.out).toContain("ENGINE = Distributed('prod', 'costs', 'spans_local', cityHash64(task_id))");
    expect(r.out.match(/;\n/g)?.length).toBe(9); // 6 creates + 3 Distributed tables
  });
  it('rejects a bad cluster name as a usage error', async () => {
    const r = await cli(['migrate', '--print', '--cluster', "x'; DROP"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('cluster');
  });
});
