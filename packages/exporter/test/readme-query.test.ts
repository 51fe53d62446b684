// Proves the README's "Query with SQL" examples work as pasted (curl on the ClickHouse HTTP interface, `spendtrace sql` through the running service and on the store directly), and that tokens guard sql/report through the service.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { run } from '../src/cli/index.ts';
import { sendWith } from './support/one-task.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(ROOT, 'packages/exporter/bin/spendtrace.js');
const TOKEN = 'readme-token-0123456789';
let data: string;

interface Result {
  code: number;
  out: string;
  err: string;
}
/** The CLI in its own process, as a user runs it beside the service (in-process it would share the engine). */
function cli(argv: string[], env: Record<string, string> = {}): Promise<Result> {
  return new Promise((resolve) => {
    execFile('node', [BIN, ...argv], { env: { PATH: process.env.PATH!, SPENDTRACE_DATA: data, ...env }, cwd: data }, (e, out, err) => {
      resolve({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, out, err });
    });
  });
}

/** Starts `serve` in-process on free ports; resolves with its URLs and a stop function. */
async function serve(env: Record<string, string> = {}) {
  const ac = new AbortController();
  let out = '';
  let ready!: () => void;
  const up = new Promise<void>((r) => {
    ready = r;
  });
  const done = run(['serve', '--port', '0', '--grpc-port', '0', '--clickhouse-http-port', '0'], {
    stdout: {
      write: (s: string) => {
        out += s;
        if (out.includes('Ctrl-C')) ready();
      },
    },
    stderr: { write: () => {} },
    env: { SPENDTRACE_DATA: data, ...env },
    cwd: data,
    signal: ac.signal,
  });
  await Promise.race([
    up,
    done.then((c) => {
      throw new Error(`serve exited ${c}`);
    }),
  ]);
  const url = /listening on (\S+)/.exec(out)![1]!;
  const ch = /ClickHouse\s+(http:\/\/\S+)\/\?query/.exec(out)![1]!;
  return {
    url,
    ch,
    stop: async () => {
      ac.abort();
      expect(await done).toBe(0);
    },
  };
}

function readmeExamples(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const block = /<!-- query-examples[^>]*-->\s*```sh\n([\s\S]*?)```/.exec(readme);
  if (!block) throw new Error('README lost its query-examples block');
  return block[1]!.split('\n').filter((l) => l.trim());
}

const sh = promisify(execFile);
async function runExample(line: string, chUrl: string) {
  const cmd = line.replaceAll('http://127.0.0.1:8123', chUrl).replaceAll('./dev spendtrace', `node ${BIN}`);
  const { stdout } = await sh('bash', ['-c', cmd], {
    env: { PATH: process.env.PATH!, SPENDTRACE_DATA: data, SPENDTRACE_GRPC_PORT: '0', SPENDTRACE_CLICKHOUSE_HTTP_PORT: '0' },
    cwd: data,
  });
  return stdout;
}

beforeAll(() => {
  data = mkdtempSync(join(tmpdir(), 'spendtrace-readme-'));
});
afterAll(() => rmSync(data, { recursive: true, force: true }));

describe('spendtrace sql and report through a service with tokens', () => {
  it('needs SPENDTRACE_TOKEN, and reads the live store with it', async () => {
    const s = await serve({ SPENDTRACE_AUTH_TOKENS: `other-token,${TOKEN}` });
    try {
      await sendWith(new JsonExporter({ url: `${s.url}/v1/traces`, headers: { authorization: `Bearer ${TOKEN}` } }), 'readme-task');
      let rows = '';
      for (let i = 0; i < 50 && !rows.includes('readme-task'); i++) {
        const r = await cli(['sql', 'SELECT task_name, toString(sum(cost)) FROM task_costs GROUP BY task_name'], { SPENDTRACE_TOKEN: TOKEN });
        expect(r.code).toBe(0);
        rows = r.out;
        if (!rows.includes('readme-task')) await new Promise((res) => setTimeout(res, 100));
      }
      expect(rows).toBe('readme-task\t0.018653\n');
      const noToken = await cli(['sql', 'SELECT 1']);
      expect(noToken.code).toBe(3);
      expect(noToken.err).toMatch(/refused the credentials/);
      const write = await cli(['sql', 'DROP TABLE spans'], { SPENDTRACE_TOKEN: TOKEN });
      expect([write.code, write.err]).toEqual([2, expect.stringMatching(/Code: 164\. DB::Exception: .*readonly/)]);
      expect((await cli(['report', '--json'])).code).toBe(3);
      const rep = await cli(['report', '--json', '--by', 'task'], { SPENDTRACE_TOKEN: TOKEN });
      expect(JSON.parse(rep.out).rows[0].cost).toBe('0.018653000000');
      expect((await fetch(`${s.url}/metrics`)).status).toBe(401);
      const metrics = await (await fetch(`${s.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
      expect(metrics).toMatch(/^spendtrace_spans_accepted_total\{protocol="http"\} 5$/m);
      expect(metrics).toMatch(/^spendtrace_spans_inserted_total 5$/m);
      expect(metrics).toMatch(/^spendtrace_store_healthy 1$/m);
      expect(metrics).toMatch(/^spendtrace_ingest_pending_spans 0$/m);
      expect(metrics).toMatch(/^spendtrace_process_resident_memory_bytes \d+/m);
    } finally {
      await s.stop();
    }
  });
});

describe('the README query examples', () => {
  it('run as pasted against the running service', async () => {
    const s = await serve();
    try {
      const [byTask, byModel, byAgentTool, count] = readmeExamples();
      expect(await runExample(byTask!, s.ch)).toMatch(/task_name[\s\S]*readme-task[\s\S]*0\.018653/);
      const models = (await runExample(byModel!, s.ch))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { model: string; calls: number });
      expect(models.map((m) => [m.model, Number(m.calls)])).toEqual([
        ['gpt-4o', 2],
        ['', 1],
        ['gpt-4o-mini', 1],
      ]);
      const table = await runExample(byAgentTool!, s.ch);
      expect(table).toMatch(/research-agent[\s│]+3[\s│]+0\.013653 │/);
      expect(table).toMatch(/web_search[\s│]+1[\s│]+0\.005 │/);
      expect(JSON.parse(await runExample(count!, s.ch))).toEqual({ spans: 5, cost: 0.018653 });
    } finally {
      await s.stop();
    }
  });

  it('spendtrace sql runs on the store directly when no service runs', async () => {
    const [, , byAgentTool, count] = readmeExamples();
    expect(await runExample(byAgentTool!, 'http://unused')).toMatch(/web_search[\s│]+1[\s│]+0\.005 │/);
    expect(JSON.parse(await runExample(count!, 'http://unused'))).toEqual({ spans: 5, cost: 0.018653 });
  });
});
