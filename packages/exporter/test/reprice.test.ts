// Proves `spendtrace reprice` on real chDB: spans ingested unpriced through the real ingest path get the exact override price in spans, task_costs and hourly_costs (unpriced counts drop), a rerun and --dry-run change nothing, provider costs are untouched, a crash between the rollup deltas and the spans update does not double-correct, and --all after a price change corrects old costs exactly.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pricer } from '@spendtrace/semconv';
import { createStore, EXIT, migrate, requestToRows, run, type Attributes, type OtlpSpan, type Store } from '../src/index.ts';
import { reprice } from '../src/reprice/index.ts';

let dir: string;
let data: string;
let store: Store;

const HOUR_NS = 3_600_000_000_000n;
// Two hours ago, on an hour boundary plus 10 minutes: every span of a task falls in one hour.
const T0 = ((BigInt(Date.now()) * 1_000_000n - 2n * HOUR_NS) / HOUR_NS) * HOUR_NS + 600_000_000_000n;
const TASK_A = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
const TASK_B = 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';

async function cli(argv: string[], env: Record<string, string> = {}) {
  let out = '';
  let err = '';
  const code = await run(argv, {
    stdout: {
      write: (s: string) => {
        out += s;
      },
    },
    stderr: {
      write: (s: string) => {
        err += s;
      },
    },
    env,
    cwd: dir,
  });
  return { code, out, err };
}

function span(id: number, trace: string, attributes: Attributes, status = 0): OtlpSpan {
  return {
    traceId: trace,
    spanId: id.toString(16).padStart(16, '0'),
    parentSpanId: '',
    name: 'chat',
    kind: 3,
    startTimeUnixNano: T0 + BigInt(id) * 1_000_000_000n,
    endTimeUnixNano: T0 + BigInt(id) * 1_000_000_000n + 500_000_000n,
    attributes: { 'gen_ai.operation.name': 'chat', 'spendtrace.task.name': 'research', ...attributes },
    status: { code: status, message: '' },
  };
}

const llama = { 'gen_ai.provider.name': 'self_hosted', 'gen_ai.request.model': 'house-llama' };
/** Inference spans as the instrumentation would send them; house-llama has no price at ingest. */
function fleet(): OtlpSpan[] {
  return [
    span(1, TASK_A, { ...llama, 'gen_ai.usage.input_tokens': 1000, 'gen_ai.usage.output_tokens': 500 }),
    // failed yet billed: counts as retry overhead in both rollups
    span(2, TASK_A, { ...llama, 'gen_ai.usage.input_tokens': 3000, 'gen_ai.usage.cache_read.input_tokens': 1000, 'gen_ai.usage.output_tokens': 200 }, 2),
    // no usage at all: nothing to price, stays unpriced
    span(3, TASK_A, { ...llama }),
    // the provider's own bill: never repriced
    span(4, TASK_B, {
      ...llama,
      'gen_ai.usage.input_tokens': 1000,
      'gen_ai.usage.output_tokens': 500,
      'gen_ai.usage.cost.amount': 0.01,
      'gen_ai.usage.cost.source': 'provider',
    }),
    // priced by the catalogue at ingest: 1000 x 0.15 + 100 x 0.60 per Mtok = $0.000210
    span(5, TASK_B, {
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.usage.input_tokens': 1000,
      'gen_ai.usage.output_tokens': 100,
    }),
  ];
}

async function ingest(db: string): Promise<void> {
  await migrate(store, { database: db });
  const out = requestToRows(
    { resourceSpans: [{ resource: { 'service.name': 'svc' }, scopeSpans: [{ scope: { name: 'test', version: '1' }, spans: fleet() }] }] },
    new Pricer({ overrides: [] }),
  );
  expect(out.rows.map((r) => [r.span_id.slice(-1), r.unpriced, r.cost_source])).toEqual([
    ['1', 1, ''],
    ['2', 1, ''],
    ['3', 1, ''],
    ['4', 0, 'provider'],
    ['5', 0, 'exporter'],
  ]);
  await store.insert(`${db}.spans`, out.rows, { dedupToken: `ingest-${db}` });
}

function pricesFile(name: string, models: object[]): string {
  const f = join(dir, name);
  writeFileSync(f, JSON.stringify({ models }));
  return f;
}

async function state(db: string) {
  const spans = Object.fromEntries(
    (
      await store.query<{ id: string; cost: string; unpriced: number; source: string; version: string; input: string; cr: string; output: string }>(
        `SELECT right(span_id, 1) AS id, toString(cost) AS cost, unpriced, cost_source AS source, pricing_version AS version,
       toString(cost_input) AS input, toString(cost_cache_read) AS cr, toString(cost_output) AS output
     FROM ${db}.spans ORDER BY span_id`,
      )
    ).map((r) => [r.id, r]),
  );
  const tasks = Object.fromEntries(
    (
      await store.query<{
        task_id: string;
        cost: string;
        llm: string;
        retry: string;
        unpriced: string;
        calls: string;
        input: string;
        first: string;
        last: string;
        name: string;
      }>(
        `SELECT task_id, toString(sum(cost)) AS cost, toString(sum(llm_cost)) AS llm, toString(sum(retry_cost)) AS retry,
       sum(unpriced_calls) AS unpriced, sum(llm_calls) AS calls, sum(input_tokens) AS input,
       toString(min(first_seen)) AS first, toString(max(last_seen)) AS last, max(task_name) AS name
     FROM ${db}.task_costs GROUP BY task_id`,
      )
    ).map((r) => [r.task_id, r]),
  );
  const hourly = Object.fromEntries(
    (
      await store.query<{ model: string; provider: string; cost: string; retry: string; unpriced: string; calls: string; p50: string }>(
        `SELECT model, provider, toString(sum(cost)) AS cost, toString(sum(retry_cost)) AS retry, sum(unpriced_calls) AS unpriced,
       sum(calls) AS calls, toString(quantilesMerge(0.5, 0.95, 0.99)(duration_quantiles)[1]) AS p50
     FROM ${db}.hourly_costs GROUP BY model, provider`,
      )
    ).map((r) => [`${r.provider}/${r.model}`, r]),
  );
  return { spans, tasks, hourly };
}

// Override: house-llama at $2 input, $0.50 cache read, $8 output per million tokens.
// span 1: 1000 x 2 + 500 x 8 = 6000 per Mtok -> $0.006000
// span 2: (3000 - 1000) x 2 + 1000 x 0.5 + 200 x 8 = 6100 per Mtok -> $0.006100 (retry overhead)
const LLAMA = { model: 'house-llama', prices: { input_mtok: 2, cache_read_mtok: 0.5, output_mtok: 8 } };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'spendtrace-reprice-'));
  data = join(dir, 'data');
  store = await createStore({ dataDir: data });
});
afterAll(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('spendtrace reprice (CLI, embedded chDB)', () => {
  it('--dry-run reports the exact change and writes nothing', async () => {
    await ingest('rp_dry');
    const before = await state('rp_dry');
    const r = await cli(['reprice', '--data', data, '--database', 'rp_dry', '--prices', pricesFile('dry.json', [LLAMA]), '--dry-run']);
    expect(r.err).not.toMatch(/error/);
    expect(r.code).toBe(EXIT.OK);
    expect(r.out).toContain('would reprice 2 spans (2 were unpriced) of 3 scanned');
    expect(r.out).toContain('still unpriced: 1');
    expect(r.out).toContain('total change: +$0.012100000000');
    expect(r.out).toContain('dry run: nothing was written');
    expect(await state('rp_dry')).toEqual(before);
  });

  it('prices unpriced spans exactly in spans, task_costs and hourly_costs; a rerun changes nothing', async () => {
    await ingest('rp_main');
    const before = await state('rp_main');
    expect(before.tasks[TASK_A]).toMatchObject({ cost: '0', unpriced: '3', calls: '3' });
    expect(before.hourly['self_hosted/house-llama']).toMatchObject({ cost: '0.01', unpriced: '3' }); // the provider-billed span shares the key

    const prices = pricesFile('llama.json', [LLAMA]);
    const r = await cli(['reprice', '--data', data, '--database', 'rp_main', '--prices', prices]);
    expect(r.code).toBe(EXIT.OK);
    expect(r.out).toContain('repriced 2 spans (2 were unpriced) of 3 scanned');
    expect(r.out).toContain('total change: +$0.012100000000');
    expect(r.err).toMatch(/batch 1: 3 spans scanned, 2 repriced/);

    const after = await state('rp_main');
    expect(after.spans['1']).toMatchObject({ cost: '0.006', input: '0.002', output: '0.004', unpriced: 0, source: 'exporter' });
    expect(after.spans['1']!.version).toMatch(/overrides\(1\)/);
    expect(after.spans['2']).toMatchObject({ cost: '0.0061', input: '0.004', cr: '0.0005', output: '0.0016', unpriced: 0 });
    expect(after.spans['3']).toMatchObject({ cost: '0', unpriced: 1 });
    expect(after.spans['4']).toEqual(before.spans['4']);
    expect(after.spans['5']).toEqual(before.spans['5']);
    // Rollups: exact cost, retry overhead from the failed call, one unpriced call left; counts,
    // tokens, names, first/last seen and latency quantiles unchanged.
    expect(after.tasks[TASK_A]).toEqual({ ...before.tasks[TASK_A], cost: '0.0121', llm: '0.0121', retry: '0.0061', unpriced: '1' });
    expect(after.tasks[TASK_B]).toEqual(before.tasks[TASK_B]);
    expect(after.hourly['self_hosted/house-llama']).toEqual({ ...before.hourly['self_hosted/house-llama'], cost: '0.0221', retry: '0.0061', unpriced: '1' });
    expect(after.hourly['openai/gpt-4o-mini']).toEqual(before.hourly['openai/gpt-4o-mini']);

    const again = await cli(['reprice', '--data', data, '--database', 'rp_main', '--prices', prices]);
    expect(again.code).toBe(EXIT.OK);
    expect(again.out).toContain('repriced 0 spans (0 were unpriced) of 1 scanned');
    expect(again.out).toContain('total change: +$0.000000000000');
    expect(await state('rp_main')).toEqual(after);

    // The report reads the corrected rollups.
    const rep = await cli(['report', '--data', data, '--database', 'rp_main', '--json']);
    expect(JSON.parse(rep.out).summary).toMatchObject({ unpricedCalls: 1 });
  });

  it('--all after a price change corrects every spendtrace-priced span exactly, never provider costs', async () => {
    await ingest('rp_all');
    const v1 = pricesFile('v1.json', [LLAMA]);
    expect((await cli(['reprice', '--data', data, '--database', 'rp_all', '--prices', v1])).code).toBe(EXIT.OK);
    const before = await state('rp_all');
    expect(before.spans['5']!.cost).toBe('0.00021');

    // New rates: house-llama input $4; gpt-4o-mini negotiated at $1 input / $2 output.
    // span 1: 1000 x 4 + 500 x 8 = $0.008000 (+0.002); span 2: 2000 x 4 + 500 + 1600 = $0.010100 (+0.004)
    // span 5: 1000 x 1 + 100 x 2 = $0.001200 (+0.000990)
    const v2 = pricesFile('v2.json', [
      { ...LLAMA, prices: { ...LLAMA.prices, input_mtok: 4 } },
      { provider: 'openai', model: 'gpt-4o-mini', prices: { input_mtok: 1, output_mtok: 2 } },
    ]);
    const unpricedOnly = await cli(['reprice', '--data', data, '--database', 'rp_all', '--prices', v2]);
    expect(unpricedOnly.out).toContain('repriced 0 spans');

    const r = await cli(['reprice', '--data', data, '--database', 'rp_all', '--prices', v2, '--all', '--since', 'all']);
    expect(r.code).toBe(EXIT.OK);
    expect(r.out).toContain('repriced 3 spans (0 were unpriced) of 4 scanned');
    expect(r.out).toContain('total change: +$0.006990000000');
    const after = await state('rp_all');
    expect(after.spans['1']).toMatchObject({ cost: '0.008', input: '0.004' });
    expect(after.spans['2']).toMatchObject({ cost: '0.0101' });
    expect(after.spans['5']).toMatchObject({ cost: '0.0012', source: 'exporter' });
    expect(after.spans['4']).toEqual(before.spans['4']);
    expect(after.tasks[TASK_A]).toEqual({ ...before.tasks[TASK_A], cost: '0.0181', llm: '0.0181', retry: '0.0101', unpriced: '1' });
    expect(after.tasks[TASK_B]).toEqual({ ...before.tasks[TASK_B], cost: '0.0112', llm: '0.0112' });
    expect(after.hourly['self_hosted/house-llama']).toMatchObject({ cost: '0.0281', retry: '0.0101', unpriced: '1' });
    expect(after.hourly['openai/gpt-4o-mini']).toMatchObject({ cost: '0.0012', unpriced: '0' });

    // Lowering a price back gives a negative delta, applied as exactly.
    const down = await cli(['reprice', '--data', data, '--database', 'rp_all', '--prices', v1, '--all']);
    expect(down.out).toContain('repriced 3 spans');
    expect(down.out).toContain('total change: -$0.006990000000');
    expect((await state('rp_all')).tasks[TASK_A]).toMatchObject({ cost: '0.0121', retry: '0.0061' });
  });

  it('--service limits the spans considered', async () => {
    await ingest('rp_svc');
    const r = await cli(['reprice', '--data', data, '--database', 'rp_svc', '--prices', pricesFile('svc.json', [LLAMA]), '--service', 'other']);
    expect(r.out).toContain('repriced 0 spans (0 were unpriced) of 0 scanned');
  });

  it('a serve owning the data directory: exit 4 with what to do', async () => {
    const other = join(dir, 'served');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(other, { recursive: true });
    writeFileSync(join(other, 'serve.json'), JSON.stringify({ pid: process.ppid, url: 'http://127.0.0.1:4318', startedAt: new Date().toISOString() }));
    const r = await cli(['reprice', '--data', other]);
    expect(r.code).toBe(EXIT.STORE);
    expect(r.err).toMatch(/spendtrace serve \(pid \d+.*owns .*served; reprice needs the data directory to itself/);
    expect(r.err).toMatch(/stop the serve/);
  });

  it('usage and config errors', async () => {
    expect((await cli(['reprice', '--since', 'soon'])).code).toBe(EXIT.USAGE);
    expect((await cli(['reprice', '--batch-size', '0'])).code).toBe(EXIT.USAGE);
    const bad = await cli(['reprice', '--data', data, '--prices', join(dir, 'missing.json')]);
    expect(bad.code).toBe(EXIT.CONFIG);
    expect(bad.err).toMatch(/cannot read price overrides/);
  });
});

describe('reprice() crash safety and batching', () => {
  /** The same store, except that statements matching `fail` throw, as a killed process would leave it. */
  function crashingOn(fail: (kind: 'insert' | 'command', what: string) => boolean): Store {
    return {
      kind: store.kind,
      ping: () => store.ping(),
      close: async () => {},
      query: (sql, p) => store.query(sql, p),
      insert: async (table, rows, o) => {
        if (fail('insert', table)) throw new Error('killed');
        return store.insert(table, rows, o);
      },
      insertColumns: async (table, columns, rows, o) => {
        if (fail('insert', table)) throw new Error('killed');
        return store.insertColumns(table, columns, rows, o);
      },
      command: async (sql) => {
        if (fail('command', sql)) throw new Error('killed');
        return store.command(sql);
      },
    };
  }

  it('a crash after the rollup deltas, before the spans update: the rerun (other batches, other prices) does not correct twice', async () => {
    await ingest('rp_crash');
    const pricer = new Pricer({ overrides: [LLAMA] });
    // Batches of one span; batch 1 (span 1) completes, batch 2 (span 2) dies before its spans mutation.
    let mutations = 0;
    const crashing = crashingOn((kind, what) => kind === 'command' && /ALTER TABLE \w+\.spans UPDATE/.test(what) && ++mutations === 2);
    await expect(reprice(crashing, { pricer, database: 'rp_crash', batchSize: 1 })).rejects.toThrow('killed');
    const mid = await state('rp_crash');
    expect(mid.tasks[TASK_A]).toMatchObject({ cost: '0.0121', unpriced: '1' }); // rollups corrected for both,
    expect(mid.spans['1']).toMatchObject({ cost: '0.006', unpriced: 0 });
    expect(mid.spans['2']).toMatchObject({ cost: '0', unpriced: 1 }); // span 2 not yet

    // The rerun uses other batches and a higher price: the interrupted batch is finished as
    // planned (at the old price), then nothing is left unpriced to reprice.
    const res = await reprice(store, {
      pricer: new Pricer({ overrides: [{ ...LLAMA, prices: { ...LLAMA.prices, input_mtok: 4 } }] }),
      database: 'rp_crash',
      batchSize: 10,
    });
    expect(res).toMatchObject({ recovered: 1, repriced: 0, stillUnpriced: 1 });
    const after = await state('rp_crash');
    expect(after.tasks[TASK_A]).toMatchObject({ cost: '0.0121', retry: '0.0061', unpriced: '1' });
    expect(after.hourly['self_hosted/house-llama']).toMatchObject({ cost: '0.0221', retry: '0.0061', unpriced: '1' });
    expect(after.spans['2']).toMatchObject({ cost: '0.0061', unpriced: 0 });
    expect((await reprice(store, { pricer, database: 'rp_crash' })).recovered).toBe(0);
  });

  it('a crash between the two rollup inserts: the rerun adds the missing one and deduplicates the other', async () => {
    await ingest('rp_crash2');
    const pricer = new Pricer({ overrides: [LLAMA] });
    await expect(
      reprice(
        crashingOn((kind, what) => kind === 'insert' && what.endsWith('.hourly_costs')),
        { pricer, database: 'rp_crash2' },
      ),
    ).rejects.toThrow('killed');
    expect((await state('rp_crash2')).tasks[TASK_A]).toMatchObject({ cost: '0.0121' });
    expect((await state('rp_crash2')).hourly['self_hosted/house-llama']).toMatchObject({ cost: '0.01', unpriced: '3' });
    const res = await reprice(store, { pricer, database: 'rp_crash2' });
    expect(res).toMatchObject({ recovered: 1, repriced: 0 });
    const after = await state('rp_crash2');
    expect(after.tasks[TASK_A]).toMatchObject({ cost: '0.0121', retry: '0.0061', unpriced: '1' });
    expect(after.hourly['self_hosted/house-llama']).toMatchObject({ cost: '0.0221', retry: '0.0061', unpriced: '1' });
  });

  it('prices A -> B -> A -> B: every change is applied (tokens are per run, not only per cost pair)', async () => {
    await ingest('rp_flip');
    const a = new Pricer({ overrides: [LLAMA] });
    const b = new Pricer({ overrides: [{ ...LLAMA, prices: { ...LLAMA.prices, input_mtok: 4 } }] });
    for (const p of [a, b, a, b]) await reprice(store, { pricer: p, database: 'rp_flip', all: true });
    expect((await state('rp_flip')).tasks[TASK_A]).toMatchObject({ cost: '0.0181', retry: '0.0101', unpriced: '1' });
  });

  it('a store created with UInt64 unpriced_calls is converted before the first signed delta', async () => {
    await ingest('rp_old');
    for (const t of ['task_costs', 'hourly_costs'])
      await store.command(`ALTER TABLE rp_old.${t} MODIFY COLUMN unpriced_calls SimpleAggregateFunction(sum, UInt64) SETTINGS mutations_sync = 2`);
    await reprice(store, { pricer: new Pricer({ overrides: [LLAMA] }), database: 'rp_old' });
    const types = await store.query<{ type: string }>(
      `SELECT type FROM system.columns WHERE database = 'rp_old' AND table IN ('task_costs', 'hourly_costs') AND name = 'unpriced_calls'`,
    );
    expect(types.map((t) => t.type)).toEqual(['SimpleAggregateFunction(sum, Int64)', 'SimpleAggregateFunction(sum, Int64)']);
    expect((await state('rp_old')).tasks[TASK_A]).toMatchObject({ cost: '0.0121', unpriced: '1' });
  });

  it('small batches give the same result as one batch, with progress per batch', async () => {
    await ingest('rp_batch');
    const progress: number[] = [];
    const res = await reprice(store, {
      pricer: new Pricer({ overrides: [LLAMA] }),
      database: 'rp_batch',
      batchSize: 1,
      onProgress: (p) => progress.push(p.scanned),
    });
    expect(res).toMatchObject({ scanned: 3, repriced: 2, stillUnpriced: 1, newlyPriced: 2, delta: 12_100_000_000n });
    expect(progress).toEqual([1, 2, 3]);
    expect((await state('rp_batch')).tasks[TASK_A]).toMatchObject({ cost: '0.0121', retry: '0.0061', unpriced: '1' });
  });
});

describe('spendtrace reprice keeps the Batch API discount', () => {
  it('a batch result (spendtrace.batch) is repriced at half the token price', async () => {
    const db = 'rp_batch_api';
    await migrate(store, { database: db });
    const batchSpan = span(9, TASK_A, { ...llama, 'spendtrace.batch': true, 'gen_ai.usage.input_tokens': 1000, 'gen_ai.usage.output_tokens': 500 });
    const out = requestToRows(
      { resourceSpans: [{ resource: { 'service.name': 'svc' }, scopeSpans: [{ scope: { name: 'test', version: '1' }, spans: [batchSpan] }] }] },
      new Pricer({ overrides: [] }),
    );
    await store.insert(`${db}.spans`, out.rows, { dedupToken: `ingest-${db}` });
    const r = await reprice(store, { database: db, pricer: new Pricer({ overrides: [LLAMA] }) });
    // half of (1000 x 2 + 500 x 8) per Mtok = $0.003
    expect(r).toMatchObject({ repriced: 1, newlyPriced: 1, stillUnpriced: 0, delta: 3_000_000_000n });
    const after = await state(db);
    expect(after.spans['9']).toMatchObject({ cost: '0.003', input: '0.001', output: '0.002', unpriced: 0 });
    expect(after.tasks[TASK_A]).toMatchObject({ cost: '0.003', unpriced: '0' });
  });
});
