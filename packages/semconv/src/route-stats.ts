/**
 * The statistics model routing shares between the in-process router (@spendtrace/instrumentation)
 * and the service's reports (@spendtrace/exporter), so an experiment's verdict is the same
 * wherever it is computed: Beta posteriors of success per task type × model, and the
 * non-inferiority rule an experiment promotes on. Also the JSON shape of `/api/routing`, the
 * history a fleet of routers starts from.
 */

/** Success evidence of one model on one task type. A quality score q in [0, 1] counts a success as q of a success. */
export interface SuccessEvidence {
  /** Tasks with an outcome (success or failure). */
  outcomes: number;
  /** Sum of rewards: 1 per success (its quality when one was given), 0 per failure. */
  reward: number;
}

export interface BetaPosterior {
  alpha: number;
  beta: number;
}

/** Beta(1, 1) (uniform) updated with the evidence: alpha = 1 + reward, beta = 1 + outcomes - reward. */
export function posterior(e: SuccessEvidence, prior: BetaPosterior = { alpha: 1, beta: 1 }): BetaPosterior {
  const reward = Math.min(Math.max(e.reward, 0), e.outcomes);
  return { alpha: prior.alpha + reward, beta: prior.beta + e.outcomes - reward };
}

export function posteriorMean(p: BetaPosterior): number {
  return p.alpha / (p.alpha + p.beta);
}

export function posteriorVariance(p: BetaPosterior): number {
  const n = p.alpha + p.beta;
  return (p.alpha * p.beta) / (n * n * (n + 1));
}

/** The standard normal CDF (Abramowitz & Stegun 7.1.26 on erf; absolute error < 1.5e-7). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

/**
 * P(challenger's success rate > incumbent's - margin) under the two Beta posteriors, by the
 * normal approximation of their difference (close from a few dozen outcomes per arm, which the
 * verdict's minimum sample enforces).
 */
export function probabilityWithinMargin(challenger: BetaPosterior, incumbent: BetaPosterior, margin: number): number {
  const diff = posteriorMean(challenger) - posteriorMean(incumbent);
  const sd = Math.sqrt(posteriorVariance(challenger) + posteriorVariance(incumbent));
  return normalCdf((diff + margin) / sd);
}

/** The defaults the articles name: promote if the success rate does not drop more than 2 points. */
export const DEFAULT_EXPERIMENT_MARGIN = 0.02;
export const DEFAULT_EXPERIMENT_CONFIDENCE = 0.95;
export const DEFAULT_EXPERIMENT_MIN_OUTCOMES = 100;

export interface ExperimentArmFigures extends SuccessEvidence {
  model: string;
  /** Tasks routed to the arm (with or without an outcome). */
  tasks: number;
  successes: number;
  /** What the arm's tasks cost in total, USD (doubles: routing estimates, not the ledger). */
  costUsd: number;
}

export type ExperimentVerdictName = 'running' | 'promote' | 'reject';

export interface ExperimentVerdict {
  verdict: ExperimentVerdictName;
  /** One sentence a person can read. */
  why: string;
  /** P(challenger within `margin` of the incumbent's success rate). */
  probabilityWithinMargin: number;
  successRate: { incumbent: number | null; challenger: number | null };
  /** USD spent per success (all of the arm's spend / its successes); null before a success. */
  costPerSuccess: { incumbent: number | null; challenger: number | null };
}

export interface ExperimentRule {
  /** @default 0.02 (2 points) */
  margin?: number;
  /** @default 0.95 */
  confidence?: number;
  /** Outcomes each arm needs before any verdict. @default 100 */
  minOutcomes?: number;
}

const rate = (a: ExperimentArmFigures) => (a.outcomes > 0 ? a.reward / a.outcomes : null);
const perSuccess = (a: ExperimentArmFigures) => (a.reward > 0 ? a.costUsd / a.reward : null);

/**
 * Promote when the challenger's success rate is within `margin` of the incumbent's with
 * probability >= `confidence` AND its cost per success is lower; reject when it is worse by more
 * than the margin with that confidence, or as good but not cheaper per success; else running.
 */
export function experimentVerdict(incumbent: ExperimentArmFigures, challenger: ExperimentArmFigures, rule: ExperimentRule = {}): ExperimentVerdict {
  const margin = rule.margin ?? DEFAULT_EXPERIMENT_MARGIN;
  const confidence = rule.confidence ?? DEFAULT_EXPERIMENT_CONFIDENCE;
  const minOutcomes = rule.minOutcomes ?? DEFAULT_EXPERIMENT_MIN_OUTCOMES;
  const p = probabilityWithinMargin(posterior(challenger), posterior(incumbent), margin);
  const figures = {
    probabilityWithinMargin: p,
    successRate: { incumbent: rate(incumbent), challenger: rate(challenger) },
    costPerSuccess: { incumbent: perSuccess(incumbent), challenger: perSuccess(challenger) },
  };
  const pts = `${+(margin * 100).toFixed(2)} points`;
  const conf = `${+(confidence * 100).toFixed(2)} %`;
  if (incumbent.outcomes < minOutcomes || challenger.outcomes < minOutcomes) {
    return { verdict: 'running', why: `needs ${minOutcomes} outcomes per arm (has ${incumbent.outcomes} / ${challenger.outcomes})`, ...figures };
  }
  if (1 - p >= confidence) {
    return { verdict: 'reject', why: `${challenger.model} succeeds more than ${pts} less often than ${incumbent.model} (${conf} confidence)`, ...figures };
  }
  if (p >= confidence) {
    const c = figures.costPerSuccess;
    if (c.challenger !== null && (c.incumbent === null || c.challenger < c.incumbent)) {
      return {
        verdict: 'promote',
        why: `${challenger.model} is within ${pts} of ${incumbent.model} (${conf} confidence) and costs less per success`,
        ...figures,
      };
    }
    return { verdict: 'reject', why: `${challenger.model} is within ${pts} of ${incumbent.model} but does not cost less per success`, ...figures };
  }
  return { verdict: 'running', why: `not yet ${conf} sure either way (P(within ${pts}) = ${p.toFixed(3)})`, ...figures };
}

/** One model's record on one task type, as `/api/routing` serves it. */
export interface RoutingArmHistory extends SuccessEvidence {
  model: string;
  provider: string;
  /** Routed tasks (with or without an outcome); tasks downgraded mid-way are not counted. */
  tasks: number;
  successes: number;
  failures: number;
  /** LLM calls on this model inside those tasks, and their tokens. */
  calls: number;
  inputTokens: number;
  outputTokens: number;
  /** All LLM calls of those tasks, on any model (what a task of this type makes). */
  taskCalls: number;
  /** Everything those tasks cost (all calls and tool fees), exact decimal USD. */
  cost: string;
  /** What the calls on this model cost, exact decimal USD. */
  modelCost: string;
  firstSeen: string;
  lastSeen: string;
}

export interface RoutingExperimentHistory {
  /** `spendtrace.route.experiment` */
  id: string;
  margin: number;
  confidence: number;
  /** Only the tasks routed inside the experiment, per arm. */
  incumbent: RoutingArmHistory;
  challenger: RoutingArmHistory;
}

export interface RoutingTaskTypeHistory {
  taskType: string;
  models: RoutingArmHistory[];
  experiments: RoutingExperimentHistory[];
}

/** `GET /api/routing?since=30d&task_type=&service=` */
export interface RoutingHistory {
  since: string;
  service: string | null;
  taskTypes: RoutingTaskTypeHistory[];
}
