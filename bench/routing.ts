/**
 * What a ModelRouter decision costs in the host process, against the call it decides for: blocks
 * of `router.choose()` (and of `recordOutcome`) take turns in one process with blocks of an
 * uninstrumented openai `chat.completions.create` answered from memory (the baseline). Figures
 * are CPU µs per operation, medians over rounds with 95% intervals, and the ratio to the
 * baseline call in the same round.
 *
 *   node bench/routing.ts [--rounds=30] [--block-ms=60]
 */
import { createRequire } from 'node:module';
import { ModelRouter } from '@spendtrace/instrumentation';
import { completionFetch } from './canned-openai.ts';
import { arg, cpuMicros, fmt, median, medianCi, table } from './harness.ts';

const rounds = Number(arg('rounds', '30'));
const blockMs = Number(arg('block-ms', '60'));

const { OpenAI } = createRequire(import.meta.url)('openai') as typeof import('openai');
const client = new OpenAI({ apiKey: 'bench', baseURL: 'http://127.0.0.1:9/v1', fetch: completionFetch(), maxRetries: 0 });
const messages = [{ role: 'user' as const, content: 'Classify: my invoice is wrong' }];

/** A router with history behind it: 3,000 outcomes over three candidates, as a live one would have. */
function trained(experiment: boolean): ModelRouter {
  const r = new ModelRouter({
    taskType: 'ticket_classification',
    candidates: ['gpt-4o', 'gpt-4o-mini', 'claude-haiku-4-5'],
    maxCostUsd: 0.002,
    expectedTokens: { input: 300, output: 40 },
    seed: 1,
    ...(experiment ? { incumbent: 'gpt-4o', experiment: { challenger: 'gpt-4o-mini', minOutcomes: 1e9 } } : {}),
  });
  for (let i = 0; i < 3000; i++) {
    const d = r.choose();
    r.recordOutcome(d, i % 20 ? 'success' : 'failure', { usage: { inputTokens: 280 + (i % 40), outputTokens: 40 } });
  }
  return r;
}

const bandit = trained(false);
const experiment = trained(true);
const learner = trained(false);
const decision = learner.choose();
const loop = trained(false);
const usage = { inputTokens: 300, outputTokens: 40 };

type Op = { name: string; run: () => unknown | Promise<unknown> };
const ops: Op[] = [
  { name: 'chat.completions.create (baseline, uninstrumented)', run: () => client.chat.completions.create({ model: 'gpt-4o-mini', messages }) },
  { name: 'choose(): Thompson over 3 candidates', run: () => bandit.choose() },
  { name: 'choose(): experiment split', run: () => experiment.choose() },
  { name: 'recordOutcome(decision, success, usage)', run: () => learner.recordOutcome({ ...decision }, 'success', { usage }) },
  { name: 'choose() + recordOutcome(): the learning loop', run: () => loop.recordOutcome(loop.choose(), 'success', { usage }) },
];

/** Runs `op` for about blockMs of wall time; CPU µs per operation. */
async function block(op: Op): Promise<number> {
  const until = performance.now() + blockMs;
  const c0 = cpuMicros();
  let n = 0;
  while (performance.now() < until) {
    for (let i = 0; i < 50; i++) {
      const r = op.run();
      if (r && typeof (r as Promise<unknown>).then === 'function') await r;
    }
    n += 50;
  }
  return (cpuMicros() - c0) / n;
}

const samples = ops.map(() => [] as number[]);
for (const op of ops) await block(op); // warm-up
for (let r = 0; r < rounds; r++) {
  // Rotate the order each round so no op always runs right after the same one.
  for (let k = 0; k < ops.length; k++) {
    const i = (k + r) % ops.length;
    samples[i]!.push(await block(ops[i]!));
  }
}

const base = samples[0]!;
const rows = ops.map((op, i) => {
  const s = samples[i]!;
  const [lo, hi] = medianCi(s);
  const ratios = s.map((x, j) => x / base[j]!);
  return [op.name, fmt(median(s), 2), `${fmt(lo, 2)}–${fmt(hi, 2)}`, i === 0 ? '1' : `${fmt(median(ratios) * 100, 2)} %`];
});
console.log(table(['operation', 'CPU µs/op', '95% CI', 'of one SDK call'], rows));
console.log(
  `\n${rounds} rounds of ~${blockMs} ms blocks per operation, interleaved in one process (order rotating); CPU time (process.cpuUsage), medians over rounds.`,
);
