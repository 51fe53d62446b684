// Proves the router's rule on simulated task types with known success rates per model: it converges to the cheap model for classification and the strong one for synthesis with bounded regret, keeps the ceiling in expectation, is reproducible from a seed, and an experiment promotes only a challenger that should win.
import { describe, expect, test } from 'vitest';
import { Pricer, picoToUsd, type Usage } from '@spendtrace/semconv';
import { ModelRouter, seededRandom, type ModelRouterOptions, type RoutingDecision } from '../src/index.ts';

const pricer = new Pricer();

interface Truth {
  /** True success rate per model. */
  success: Record<string, number>;
  /** Tokens of a call: uniform in [min, max]. */
  input: [number, number];
  output: [number, number];
  /** What the task spends besides the routed call (research calls, tool fees), USD. */
  otherSpendUsd?: number;
}

const meanCallCost = (model: string, t: Truth) =>
  picoToUsd(pricer.price(undefined, model, { inputTokens: (t.input[0] + t.input[1]) / 2, outputTokens: (t.output[0] + t.output[1]) / 2 })!.cost.total);
/** The true expected cost per successful task: what the rule minimises (failures are paid in full). */
const costPerSuccess = (model: string, t: Truth, failureCostUsd = 0) =>
  (meanCallCost(model, t) + (t.otherSpendUsd ?? 0) + failureCostUsd * (1 - t.success[model]!)) / t.success[model]!;

interface Run {
  decisions: RoutingDecision[];
  /** Cumulative regret in USD per success after each decision, against always choosing the best model. */
  regret: number[];
  best: string;
}

/** Runs `n` decisions of a task type against the truth; outcomes and tokens come from a world seeded apart from the router. */
function simulate(options: ModelRouterOptions, t: Truth, n: number, worldSeed = 7, router = new ModelRouter(options)): Run {
  const world = seededRandom(worldSeed);
  const models = Object.keys(t.success);
  const cps = Object.fromEntries(models.map((m) => [m, costPerSuccess(m, t, options.failureCostUsd)]));
  const best = models.reduce((a, b) => (cps[a]! <= cps[b]! ? a : b));
  const decisions: RoutingDecision[] = [];
  const regret: number[] = [];
  let total = 0;
  const uniform = (r: [number, number]) => r[0] + Math.floor(world() * (r[1] - r[0] + 1));
  for (let i = 0; i < n; i++) {
    const d = router.choose();
    decisions.push(d);
    total += cps[d.model]! - cps[best]!;
    regret.push(total);
    const usage: Usage = { inputTokens: uniform(t.input), outputTokens: uniform(t.output) };
    const callCost = picoToUsd(pricer.price(undefined, d.model, usage)!.cost.total);
    const ok = world() < t.success[d.model]!;
    router.recordOutcome(d, ok ? 'success' : 'failure', { usage, costUsd: callCost + (t.otherSpendUsd ?? 0) });
  }
  return { decisions, regret, best };
}

const share = (ds: RoutingDecision[], model: string) => ds.filter((d) => d.model === model).length / ds.length;

// The articles' numbers: classification 95 % (gpt-4o-mini) vs 97 % (gpt-4o), ~300 input / 40 output tokens.
const CLASSIFICATION: Truth = { success: { 'gpt-4o-mini': 0.95, 'gpt-4o': 0.97 }, input: [250, 350], output: [30, 50] };
// Synthesis at the end of a research task: the cheap model's report needs rework 18 % of the time vs 4 %,
// and a failed task wastes its research spend ($0.20 of searches and reading) too.
const SYNTHESIS: Truth = { success: { 'gpt-4o-mini': 0.82, 'gpt-4o': 0.96 }, input: [2500, 3500], output: [600, 1000], otherSpendUsd: 0.2 };

describe('choose: the cheapest model that still succeeds', () => {
  test('classification converges to gpt-4o-mini (95 % at 1/16 of the price wins per success), regret bounded', () => {
    const n = 3000;
    const r = simulate(
      { taskType: 'ticket_classification', candidates: ['gpt-4o', 'gpt-4o-mini'], maxCostUsd: 0.002, expectedTokens: { input: 300, output: 40 }, seed: 1 },
      CLASSIFICATION,
      n,
    );
    expect(r.best).toBe('gpt-4o-mini');
    expect(share(r.decisions.slice(-1000), 'gpt-4o-mini')).toBeGreaterThan(0.99);
    const gap = costPerSuccess('gpt-4o', CLASSIFICATION) - costPerSuccess('gpt-4o-mini', CLASSIFICATION);
    const total = r.regret.at(-1)!;
    console.log(
      `classification: cumulative regret after ${n} decisions $${total.toFixed(5)} per success (${(total / gap).toFixed(1)} wrong picks' worth), second half $${(total - r.regret[n / 2 - 1]!).toFixed(5)}`,
    );
    // Bounded: a few dozen wrong picks at most, and (sub-linear) the second half adds less than the first.
    expect(total).toBeLessThan(40 * gap);
    expect(total - r.regret[n / 2 - 1]!).toBeLessThan(r.regret[n / 2 - 1]! + gap);
  });

  test('synthesis converges to gpt-4o: rework wastes the research spend, so 96 % beats 82 % per success', () => {
    const n = 3000;
    const r = simulate(
      { taskType: 'report_synthesis', candidates: ['gpt-4o', 'gpt-4o-mini'], maxCostUsd: 0.05, expectedTokens: { input: 3000, output: 800 }, seed: 2 },
      SYNTHESIS,
      n,
    );
    expect(r.best).toBe('gpt-4o');
    expect(share(r.decisions.slice(-1000), 'gpt-4o')).toBeGreaterThan(0.95);
    const gap = costPerSuccess('gpt-4o-mini', SYNTHESIS) - costPerSuccess('gpt-4o', SYNTHESIS);
    const total = r.regret.at(-1)!;
    const firstHalf = r.regret[n / 2 - 1]!;
    console.log(
      `synthesis: cumulative regret after ${n} decisions $${total.toFixed(4)} per success (${(total / gap).toFixed(1)} wrong picks' worth), second half $${(total - firstHalf).toFixed(4)}`,
    );
    expect(total).toBeLessThan(150 * gap);
    expect(total - firstHalf).toBeLessThan(firstHalf);
  });

  test('the same synthesis call alone (no research spend, no rework cost) goes to the cheap model: the rule prices failures, it does not favour a brand', () => {
    const alone: Truth = { ...SYNTHESIS, otherSpendUsd: 0 };
    const r = simulate(
      { taskType: 'synthesis_alone', candidates: ['gpt-4o', 'gpt-4o-mini'], expectedTokens: { input: 3000, output: 800 }, seed: 3 },
      alone,
      1500,
    );
    expect(r.best).toBe('gpt-4o-mini');
    expect(share(r.decisions.slice(-500), 'gpt-4o-mini')).toBeGreaterThan(0.95);
    // A stated rework cost per failure turns it back to the strong model.
    const reworked = simulate(
      { taskType: 'synthesis_reworked', candidates: ['gpt-4o', 'gpt-4o-mini'], expectedTokens: { input: 3000, output: 800 }, failureCostUsd: 0.25, seed: 3 },
      alone,
      1500,
    );
    expect(reworked.best).toBe('gpt-4o');
    expect(share(reworked.decisions.slice(-500), 'gpt-4o')).toBeGreaterThan(0.9);
  });

  test('the cost ceiling is never exceeded in expectation, even when the model it excludes would win', () => {
    // A rework cost makes gpt-4o the best per success; a $0.0008 ceiling per call rules it out (~$0.00115 a call).
    const truth: Truth = { success: { 'gpt-4o-mini': 0.8, 'gpt-4o': 0.99, 'claude-haiku-4-5': 0.97 }, input: [250, 350], output: [30, 50] };
    const base = {
      taskType: 'ceilinged',
      candidates: ['gpt-4o', 'gpt-4o-mini', 'claude-haiku-4-5'],
      expectedTokens: { input: 300, output: 40 },
      failureCostUsd: 0.1,
      minSuccessRate: 0.9,
      seed: 4,
    };
    const open = simulate(base, truth, 1500);
    expect(open.best).toBe('gpt-4o');
    expect(share(open.decisions.slice(-500), 'gpt-4o')).toBeGreaterThan(0.9);

    const capped = simulate({ ...base, maxCostUsd: 0.0008 }, truth, 1500);
    for (const d of capped.decisions) {
      expect(meanCallCost(d.model, truth)).toBeLessThanOrEqual(0.0008);
      expect(d.expectedCostUsd!).toBeLessThanOrEqual(0.0008);
      expect(d.candidates).not.toContain('gpt-4o');
      expect(d.excluded).toEqual(['gpt-4o: over_ceiling']);
    }
    // Below the ceiling the floor (90 %) keeps the 80 % model out: haiku, the cheapest that still succeeds.
    expect(share(capped.decisions.slice(-500), 'claude-haiku-4-5')).toBeGreaterThan(0.95);
  });

  test('observed tokens replace the prior: a model that fits on the stated prior but not on what calls really use is dropped', () => {
    // Stated 300/40, real calls 900/150: gpt-4o ~$0.00375 a call against a $0.002 ceiling.
    const truth: Truth = { success: { 'gpt-4o-mini': 0.9, 'gpt-4o': 0.99 }, input: [850, 950], output: [140, 160] };
    const r = simulate(
      { taskType: 'drifted', candidates: ['gpt-4o', 'gpt-4o-mini'], maxCostUsd: 0.002, expectedTokens: { input: 300, output: 40 }, failureCostUsd: 1, seed: 5 },
      truth,
      300,
    );
    expect(r.decisions[0]!.candidates).toContain('gpt-4o');
    const afterData = r.decisions.slice(20);
    expect(afterData.every((d) => d.model === 'gpt-4o-mini' && d.excluded.includes('gpt-4o: over_ceiling'))).toBe(true);
  });

  test('decisions are reproducible with a seeded random source', () => {
    const o = { taskType: 'ticket_classification', candidates: ['gpt-4o', 'gpt-4o-mini', 'claude-haiku-4-5'], expectedTokens: { input: 300, output: 40 } };
    const truth: Truth = { success: { 'gpt-4o-mini': 0.95, 'gpt-4o': 0.97, 'claude-haiku-4-5': 0.96 }, input: [250, 350], output: [30, 50] };
    const a = simulate({ ...o, seed: 99 }, truth, 400).decisions.map((d) => d.model);
    const b = simulate({ ...o, seed: 99 }, truth, 400).decisions.map((d) => d.model);
    const c = simulate({ ...o, seed: 100 }, truth, 400).decisions.map((d) => d.model);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
    const d = simulate({ ...o, random: seededRandom(99) }, truth, 400).decisions.map((x) => x.model);
    expect(d).toEqual(a);
  });

  test('when nothing fits the ceiling, the cheapest priced candidate is taken and the decision says so', () => {
    const r = new ModelRouter({
      taskType: 't',
      candidates: ['gpt-4o', 'gpt-4o-mini'],
      maxCostUsd: 0.00001,
      expectedTokens: { input: 300, output: 40 },
      seed: 1,
    });
    const d = r.choose();
    expect(d).toMatchObject({
      model: 'gpt-4o-mini',
      reason: 'none_within_ceiling',
      candidates: [],
      excluded: ['gpt-4o: over_ceiling', 'gpt-4o-mini: over_ceiling'],
    });
  });

  test("history: loading the service's record counts this process's exported observations once, later ones on top", () => {
    const r = new ModelRouter({ taskType: 'fleet', candidates: ['gpt-4o-mini'], seed: 1 });
    const usage = { inputTokens: 300, outputTokens: 40 };
    for (let i = 0; i < 3; i++) r.recordOutcome(r.choose(), 'success', { usage });
    expect(r.stats()[0]!.outcomes).toBe(3);
    // The service has those 3 and 97 from other processes (2 failures); fetched a minute after them.
    const arm = {
      model: 'gpt-4o-mini',
      provider: 'openai',
      tasks: 100,
      outcomes: 100,
      reward: 98,
      successes: 98,
      failures: 2,
      calls: 100,
      inputTokens: 30_000,
      outputTokens: 4_000,
      taskCalls: 100,
      cost: '0.006900000000',
      modelCost: '0.006900000000',
      firstSeen: '',
      lastSeen: '',
    };
    r.loadHistory({ since: '30d', service: null, taskTypes: [{ taskType: 'fleet', models: [arm], experiments: [] }] }, Date.now() + 60_000);
    expect(r.stats()[0]).toMatchObject({ outcomes: 100, successRate: 99 / 102 });
    r.recordOutcome(r.choose(), 'failure', { usage });
    expect(r.stats()[0]).toMatchObject({ outcomes: 101, successRate: 99 / 103 });
    // Another task type's history is not this router's.
    r.loadHistory({ since: '30d', service: null, taskTypes: [{ taskType: 'other', models: [arm], experiments: [] }] }, Date.now() - 60_000);
    expect(r.stats()[0]!.outcomes).toBe(1);
  });

  test('an unpriced candidate is never chosen and is named on the decision', () => {
    const r = new ModelRouter({ taskType: 't', candidates: ['acme-sentiment-7b', 'gpt-4o-mini'], expectedTokens: { input: 300, output: 40 }, seed: 1 });
    for (let i = 0; i < 50; i++) {
      const d = r.choose();
      expect(d.model).toBe('gpt-4o-mini');
      expect(d.excluded).toEqual(['acme-sentiment-7b: unpriced']);
    }
  });

  test('bad configuration is refused with every problem named', () => {
    expect(() => new ModelRouter({ taskType: '', candidates: ['gpt-4o', 'gpt-4o'], maxCostUsd: -1 })).toThrow(
      /taskType: expected a non-empty string; candidates\[1\]: gpt-4o is listed twice; maxCostUsd: expected a finite amount > 0; expectedTokens: needed with maxCostUsd/,
    );
  });
});

describe('experiments: promote a cheaper challenger only when it is within the margin', () => {
  const run = (challengerRate: number, seed: number, n = 12_000) => {
    const truth: Truth = { success: { 'gpt-4o': 0.97, 'gpt-4o-mini': challengerRate }, input: [250, 350], output: [30, 50] };
    const router = new ModelRouter({
      taskType: 'ticket_classification',
      candidates: ['gpt-4o', 'gpt-4o-mini'],
      incumbent: 'gpt-4o',
      seed,
      experiment: { challenger: 'gpt-4o-mini', share: 0.1 },
    });
    const r = simulate({ taskType: 'ticket_classification', candidates: [] }, truth, n, seed + 1000, router);
    return { router, decisions: r.decisions };
  };

  test('a challenger as good as the incumbent is promoted at 95 % confidence, then gets all the traffic', () => {
    const { router, decisions } = run(0.97, 11);
    const e = router.experiment!;
    expect(e.verdict).toBe('promote');
    expect(e.probabilityWithinMargin).toBeGreaterThanOrEqual(0.95);
    expect(e.costPerSuccess.challenger!).toBeLessThan(e.costPerSuccess.incumbent!);
    console.log(`experiment (equal rates): promoted after ${e.outcomes.challenger} challenger / ${e.outcomes.incumbent} incumbent outcomes: ${e.why}`);
    expect(router.incumbent).toBe('gpt-4o-mini');
    expect(decisions.slice(-100).every((d) => d.model === 'gpt-4o-mini' && d.reason === 'incumbent')).toBe(true);
    const during = decisions.filter((d) => d.experiment);
    expect(share(during, 'gpt-4o-mini')).toBeGreaterThan(0.07);
    expect(share(during, 'gpt-4o-mini')).toBeLessThan(0.13);
  });

  test('a challenger 1 point worse (inside the 2-point margin) is promoted too', () => {
    const { router } = run(0.96, 12, 30_000);
    expect(router.experiment!.verdict).toBe('promote');
  });

  test('a challenger 5 points worse is rejected and never promoted, whatever the seed', () => {
    for (const seed of [21, 22, 23, 24, 25]) {
      const { router, decisions } = run(0.92, seed, 8000);
      expect(router.experiment!.verdict).toBe('reject');
      expect(router.experiment!.why).toMatch(/more than 2 points less often/);
      expect(router.incumbent).toBe('gpt-4o');
      expect(decisions.slice(-100).every((d) => d.model === 'gpt-4o')).toBe(true);
    }
  });
});
