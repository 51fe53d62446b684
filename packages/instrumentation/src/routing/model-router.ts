/**
 * ModelRouter: routes one task type to the cheapest model that still succeeds.
 *
 * The rule. Each decision draws a success rate p̃ for every eligible candidate from its Beta
 * posterior on this task type (Thompson sampling) and picks the lowest sampled cost per
 * successful task: (expected task cost + failureCostUsd × (1 − p̃)) / p̃, ties to the cheaper
 * call. Eligible: priced, expected cost per call within `maxCostUsd`, p̃ >= `minSuccessRate`.
 * Outcome-first because a failure is paid for in full — every call and tool fee of the task,
 * plus what rework costs — so the success rate dominates wherever the routed call is a small part
 * of what its task spends (the synthesis step of a research task), while a cheaper model that is
 * nearly as good wins where the call is the task (classification: 95 % at $0.00007 beats 97 % at
 * $0.00115). Ranking by success alone would pay 16× for two points; ranking by cost per call is
 * the trap of a router drifting to models that fail more.
 *
 * It learns from outcomes: inside `withTask` the task's outcome (setTaskOutcome, or `failure`
 * when it throws), its calls' tokens and its whole cost, read when the task ends; outside a task
 * from `recordOutcome`. It starts from the service's `/api/routing` history and keeps working on
 * its own observations while the service is unreachable.
 */
import { diag, trace, type Attributes } from '@opentelemetry/api';
import * as A from '@spendtrace/semconv';
import {
  DEFAULT_EXPERIMENT_CONFIDENCE,
  DEFAULT_EXPERIMENT_MARGIN,
  DEFAULT_EXPERIMENT_MIN_OUTCOMES,
  experimentVerdict,
  picoToUsd,
  posterior,
  Pricer,
  ROUTE_REASON,
  type ExperimentArmFigures,
  type RouteReason,
  type RoutingHistory,
  type Usage,
} from '@spendtrace/semconv';
import { currentScope, type TaskState } from '../task-context.ts';
import { ArmStats, type Observation } from './arm-stats.ts';
import { Sampler, seededRandom } from './random.ts';
import type {
  ExperimentOptions,
  ExperimentStatus,
  ModelRouterOptions,
  RecordOutcomeDetails,
  RouterCandidate,
  RouterHistoryOptions,
  RouterModelStats,
  RoutingDecision,
} from './types.ts';

export class RouterConfigError extends Error {
  readonly code = 'SPENDTRACE_ROUTER_CONFIG';
}

interface Candidate {
  model: string;
  provider: string | undefined;
  priorAlpha: number;
  priorBeta: number;
}

interface Experiment {
  id: string;
  incumbent: string;
  challenger: string;
  share: number;
  margin: number;
  confidence: number;
  minOutcomes: number;
  verdict: ExperimentStatus['verdict'];
  why: string;
  /** The verdict is taken when the smaller arm's outcomes reach this, which then doubles (see evaluateExperiment). */
  nextLook: number;
}

/** What a router keeps on a task it decided for: one decision per task (its outcome is one outcome). */
interface Binding {
  first: Decision;
  current: Decision;
  downgraded: boolean;
  /** recordOutcome was called for it: the task's end adds nothing. */
  recorded: boolean;
  calls: number;
  inputTokens: number;
  outputTokens: number;
  modelCostUsd: number;
  taskCalls: number;
}

interface Decision extends RoutingDecision {
  binding: Binding | undefined;
}

/** One Pricer for every router that is not given one (it caches model resolutions). */
let sharedPricer: Pricer | undefined;

const MAX_OBSERVATIONS = 50_000;
const FALLBACK_TOKENS = { input: 1000, output: 1000 };

export class ModelRouter {
  readonly taskType: string;
  readonly maxCostUsd: number | undefined;
  readonly minSuccessRate: number;
  readonly failureCostUsd: number;
  private readonly candidates: Candidate[];
  private readonly byModel: Map<string, Candidate>;
  private readonly expectedTokens: { input: number; output: number } | undefined;
  private readonly pricer: Pricer;
  private readonly sampler: Sampler;
  private incumbentModel: string | undefined;
  private experimentState: Experiment | undefined;
  /** The service's history and this process's observations since (by model; by experiment id and model). */
  private history = new Map<string, ArmStats>();
  private historyExperiments = new Map<string, Map<string, ArmStats>>();
  private local = new Map<string, ArmStats>();
  private localExperiments = new Map<string, Map<string, ArmStats>>();
  private observations: Observation[] = [];
  private decisions = new Map<string, number>();
  /** Estimates cached until the next observation or history load. */
  private version = 0;
  private cachedVersion = -1;
  private cached = new Map<string, { arm: ArmStats; alpha: number; beta: number; callCost: number | undefined; taskCost: number | undefined }>();
  private readonly historyOptions: RouterHistoryOptions | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private failingSince = 0;
  private warnedCeiling = false;
  /** Settles once the first history fetch has (either way); choose() never waits for it. */
  readonly ready: Promise<void>;

  constructor(options: ModelRouterOptions) {
    const problems: string[] = [];
    const o = options ?? ({} as ModelRouterOptions);
    if (typeof o.taskType !== 'string' || !o.taskType) problems.push('taskType: expected a non-empty string');
    const candidates: Candidate[] = [];
    for (const [i, c] of (Array.isArray(o.candidates) ? o.candidates : []).entries()) {
      const cand: RouterCandidate | undefined = typeof c === 'string' ? { model: c } : c;
      if (!cand || typeof cand.model !== 'string' || !cand.model) {
        problems.push(`candidates[${i}]: expected a model name or { model }`);
        continue;
      }
      if (candidates.some((x) => x.model === cand.model)) problems.push(`candidates[${i}]: ${cand.model} is listed twice`);
      const prior = cand.prior;
      if (prior && !(prior.successes >= 0 && prior.failures >= 0)) problems.push(`candidates[${i}].prior: expected successes and failures >= 0`);
      candidates.push({ model: cand.model, provider: cand.provider, priorAlpha: 1 + (prior?.successes ?? 0), priorBeta: 1 + (prior?.failures ?? 0) });
    }
    if (!candidates.length) problems.push('candidates: expected at least one model');
    if (o.maxCostUsd !== undefined && !(o.maxCostUsd > 0 && Number.isFinite(o.maxCostUsd))) problems.push('maxCostUsd: expected a finite amount > 0');
    const t = o.expectedTokens;
    if (t !== undefined && !(t.input >= 0 && t.output >= 0 && Number.isFinite(t.input + t.output)))
      problems.push('expectedTokens: expected { input, output } >= 0');
    if (o.maxCostUsd !== undefined && t === undefined)
      problems.push('expectedTokens: needed with maxCostUsd (the prior the ceiling is checked on before calls are observed)');
    if (o.minSuccessRate !== undefined && !(o.minSuccessRate >= 0 && o.minSuccessRate <= 1)) problems.push('minSuccessRate: expected 0..1');
    if (o.failureCostUsd !== undefined && !(o.failureCostUsd >= 0 && Number.isFinite(o.failureCostUsd)))
      problems.push('failureCostUsd: expected a finite amount >= 0');
    if (o.incumbent !== undefined && !candidates.some((c) => c.model === o.incumbent)) problems.push(`incumbent: ${o.incumbent} is not a candidate`);
    if (problems.length) throw new RouterConfigError(`ModelRouter: ${problems.join('; ')}`);

    this.taskType = o.taskType;
    this.candidates = candidates;
    this.byModel = new Map(candidates.map((c) => [c.model, c]));
    this.maxCostUsd = o.maxCostUsd;
    this.expectedTokens = t;
    this.minSuccessRate = o.minSuccessRate ?? 0;
    this.failureCostUsd = o.failureCostUsd ?? 0;
    this.incumbentModel = o.incumbent;
    this.pricer = o.pricer ?? (sharedPricer ??= new Pricer());
    this.sampler = new Sampler(o.random ?? (o.seed !== undefined ? seededRandom(o.seed) : Math.random));
    if (o.experiment) this.startExperiment(o.experiment);

    const h = o.history;
    if (h && 'taskTypes' in h) {
      this.loadHistory(h);
      this.ready = Promise.resolve();
    } else if (h && typeof h.url === 'string') {
      this.historyOptions = h;
      this.ready = this.refresh();
      if (h.refreshMs && h.refreshMs > 0) {
        this.timer = setInterval(() => void this.refresh(), h.refreshMs);
        this.timer.unref?.();
      }
    } else {
      this.ready = Promise.resolve();
    }
  }

  /** The model this router routes to outside experiments when it has a fixed incumbent. */
  get incumbent(): string | undefined {
    return this.incumbentModel;
  }

  /**
   * Decides which model the next call (inside a task: the task's calls) should use. In-process,
   * a few microseconds. Inside `withTask` the first decision is the task's: later calls in the
   * same task get it again (one outcome judges one model), unless the task tracks over its budget
   * with `budgetDowngrade`, when the rest of its calls get the next cheaper eligible model.
   */
  choose(): RoutingDecision {
    const task = currentScope()?.task;
    const binding = task?.routing?.get(this) as Binding | undefined;
    if (binding) {
      if (!binding.downgraded && task!.budgetDowngrade && task!.budgetPico !== undefined) this.maybeDowngrade(task!, binding);
      return binding.current;
    }
    const d = this.decide();
    this.decisions.set(d.model, (this.decisions.get(d.model) ?? 0) + 1);
    try {
      if (task) this.bind(task, d);
      else trace.getActiveSpan()?.addEvent(A.EVENT_SPENDTRACE_ROUTE_DECISION, d.attributes);
    } catch (err) {
      diag.error('spendtrace: ModelRouter could not record its decision on the span', err);
    }
    return d;
  }

  /**
   * Credits an outcome to a decision explicitly: outside a task, or to judge it before the task
   * ends (the task's own outcome then adds nothing for this router).
   */
  recordOutcome(decision: RoutingDecision, outcome: 'success' | 'failure' | string, details: RecordOutcomeDetails = {}): void {
    try {
      const d = decision as Decision;
      if (!d || typeof d.model !== 'string' || !this.byModel.has(d.model)) {
        diag.warn(`spendtrace: ModelRouter(${this.taskType}).recordOutcome got a decision it did not make; ignored`);
        return;
      }
      const reward = rewardOf(outcome, details.quality);
      if (reward === undefined) return;
      const b = d.binding;
      if (b) {
        if (b.recorded) return;
        b.recorded = true;
      }
      const usages = details.usage === undefined ? [] : Array.isArray(details.usage) ? (details.usage as Usage[]) : [details.usage as Usage];
      let calls = b?.calls ?? 0;
      let inputTokens = b?.inputTokens ?? 0;
      let outputTokens = b?.outputTokens ?? 0;
      let modelCostUsd = b?.modelCostUsd ?? 0;
      for (const u of usages) {
        calls++;
        inputTokens += u.inputTokens;
        outputTokens += u.outputTokens;
        const q = this.pricer.price(this.byModel.get(d.model)!.provider, d.model, u);
        if (q) modelCostUsd += picoToUsd(q.cost.total);
      }
      const costUsd = typeof details.costUsd === 'number' && details.costUsd >= 0 ? details.costUsd : modelCostUsd;
      this.observe({
        at: Date.now(),
        model: (b?.first ?? d).model,
        experiment: (b?.first ?? d).experiment?.id,
        reward: b?.downgraded ? undefined : reward,
        calls,
        inputTokens,
        outputTokens,
        taskCalls: Math.max(b?.taskCalls ?? 0, calls),
        costUsd,
        modelCostUsd,
      });
    } catch (err) {
      diag.error('spendtrace: ModelRouter.recordOutcome failed', err);
    }
  }

  /** Starts an experiment: `share` of the decisions go to the challenger until a verdict. */
  startExperiment(o: ExperimentOptions): ExperimentStatus {
    const incumbent = o.incumbent ?? this.incumbentModel;
    const problems: string[] = [];
    if (!o || !this.byModel.has(o.challenger)) problems.push(`challenger: ${o?.challenger} is not a candidate`);
    if (!incumbent || !this.byModel.has(incumbent))
      problems.push(`incumbent: ${incumbent ?? '(none)'} is not a candidate (give experiment.incumbent or the router's incumbent)`);
    if (incumbent === o.challenger) problems.push('challenger: must differ from the incumbent');
    const share = o.share ?? 0.1;
    if (!(share > 0 && share < 1)) problems.push('share: expected a fraction in (0, 1)');
    const margin = o.margin ?? DEFAULT_EXPERIMENT_MARGIN;
    if (!(margin >= 0 && margin < 1)) problems.push('margin: expected a fraction in [0, 1), 0.02 = 2 points');
    const confidence = o.confidence ?? DEFAULT_EXPERIMENT_CONFIDENCE;
    if (!(confidence > 0.5 && confidence < 1)) problems.push('confidence: expected a probability in (0.5, 1)');
    const minOutcomes = o.minOutcomes ?? DEFAULT_EXPERIMENT_MIN_OUTCOMES;
    if (!(minOutcomes >= 1)) problems.push('minOutcomes: expected >= 1');
    if (this.maxCostUsd !== undefined) {
      for (const m of [incumbent, o.challenger]) {
        const c = m ? this.estimate(m).callCost : undefined;
        if (m && this.byModel.has(m) && !(c !== undefined && c <= this.maxCostUsd))
          problems.push(
            `${m}: expected cost per call ${c === undefined ? 'unknown (unpriced)' : `$${c.toPrecision(3)}`} does not fit maxCostUsd $${this.maxCostUsd}`,
          );
      }
    }
    if (problems.length) throw new RouterConfigError(`ModelRouter(${this.taskType}) experiment: ${problems.join('; ')}`);
    this.incumbentModel = incumbent;
    this.experimentState = {
      id: o.id ?? `${incumbent}->${o.challenger}`,
      incumbent: incumbent!,
      challenger: o.challenger,
      share,
      margin,
      confidence,
      minOutcomes,
      verdict: 'running',
      why: 'started',
      nextLook: minOutcomes,
    };
    this.evaluateExperiment();
    return this.experiment!;
  }

  /** The current (or last) experiment, its figures and its verdict. */
  get experiment(): ExperimentStatus | undefined {
    const e = this.experimentState;
    if (!e) return undefined;
    const fig = this.experimentFigures(e);
    const now = experimentVerdict(fig.incumbent, fig.challenger, { margin: e.margin, confidence: e.confidence, minOutcomes: e.minOutcomes });
    return {
      id: e.id,
      incumbent: e.incumbent,
      challenger: e.challenger,
      share: e.share,
      margin: e.margin,
      confidence: e.confidence,
      verdict: e.verdict,
      why: e.verdict === 'running' ? (now.verdict === 'running' ? now.why : `next look at ${e.nextLook} outcomes per arm`) : e.why,
      probabilityWithinMargin: now.probabilityWithinMargin,
      successRate: now.successRate,
      costPerSuccess: now.costPerSuccess,
      outcomes: { incumbent: fig.incumbent.outcomes, challenger: fig.challenger.outcomes },
    };
  }

  /** What the router believes per candidate (history + this process). */
  stats(): RouterModelStats[] {
    return this.candidates.map((c) => {
      const e = this.estimate(c.model);
      const p = e.alpha / (e.alpha + e.beta);
      return {
        model: c.model,
        outcomes: e.arm.outcomes,
        successRate: p,
        expectedCostUsd: e.callCost,
        expectedCostPerSuccessUsd: e.taskCost === undefined ? undefined : (e.taskCost + this.failureCostUsd * (1 - p)) / p,
        decisions: this.decisions.get(c.model) ?? 0,
      };
    });
  }

  /** Replaces the service history this router starts from (what `/api/routing` answered). */
  loadHistory(h: RoutingHistory, fetchedAt?: number, lagMs = 15_000): void {
    const tt = h?.taskTypes?.find((x) => x.taskType === this.taskType);
    const history = new Map<string, ArmStats>();
    for (const m of tt?.models ?? []) if (this.byModel.has(m.model)) history.set(m.model, ArmStats.fromHistory(m));
    const experiments = new Map<string, Map<string, ArmStats>>();
    for (const e of tt?.experiments ?? []) {
      const arms = new Map<string, ArmStats>();
      for (const a of [e.incumbent, e.challenger]) arms.set(a.model, ArmStats.fromHistory(a));
      experiments.set(e.id, arms);
    }
    this.history = history;
    this.historyExperiments = experiments;
    if (fetchedAt !== undefined) {
      // What this process saw before the fetch (less the export lag) is in the history now.
      const cutoff = fetchedAt - lagMs;
      this.observations = this.observations.filter((o) => o.at >= cutoff);
      this.local = new Map();
      this.localExperiments = new Map();
      for (const o of this.observations) this.count(o);
    }
    this.version++;
    this.evaluateExperiment();
  }

  /** Fetches the history again now (never throws: an unreachable service leaves the router on what it has). */
  async refresh(): Promise<void> {
    const h = this.historyOptions;
    if (!h) return;
    const started = Date.now();
    try {
      const url = new URL('/api/routing', h.url);
      url.searchParams.set('since', h.since ?? '30d');
      url.searchParams.set('task_type', this.taskType);
      if (h.service) url.searchParams.set('service', h.service);
      const res = await fetch(url, { signal: AbortSignal.timeout(h.timeoutMs ?? 2000) });
      if (!res.ok) throw new Error(`${url} answered ${res.status}`);
      this.loadHistory((await res.json()) as RoutingHistory, started, h.lagMs ?? 15_000);
      if (this.failingSince) diag.info(`spendtrace: ModelRouter(${this.taskType}) history from ${h.url} available again`);
      this.failingSince = 0;
    } catch (err) {
      if (!this.failingSince) diag.warn(`spendtrace: ModelRouter(${this.taskType}) cannot load history from ${h.url}; routing on its own observations`, err);
      this.failingSince ||= started;
    }
  }

  /** Stops the history refresh timer. */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  // --- deciding ---------------------------------------------------------------------------------

  private decide(): Decision {
    const eligible: Candidate[] = [];
    const excluded: string[] = [];
    for (const c of this.candidates) {
      const e = this.estimate(c.model);
      if (e.callCost === undefined && !this.pricer.knows(c.provider, c.model)) excluded.push(`${c.model}: unpriced`);
      else if (this.maxCostUsd !== undefined && !(e.callCost! <= this.maxCostUsd)) excluded.push(`${c.model}: over_ceiling`);
      else eligible.push(c);
    }
    eligible.sort((a, b) => (this.estimate(a.model).callCost ?? 0) - (this.estimate(b.model).callCost ?? 0));
    const names = eligible.map((c) => c.model);

    const exp = this.experimentState?.verdict === 'running' ? this.experimentState : undefined;
    if (exp) {
      const challenger = this.sampler.next() < exp.share;
      const model = challenger ? exp.challenger : exp.incumbent;
      return this.decision(
        model,
        challenger ? ROUTE_REASON.EXPERIMENT_CHALLENGER : ROUTE_REASON.EXPERIMENT_INCUMBENT,
        names,
        excluded,
        { id: exp.id, arm: challenger ? 'challenger' : 'incumbent' },
        exp,
      );
    }
    if (this.incumbentModel) return this.decision(this.incumbentModel, ROUTE_REASON.INCUMBENT, names, excluded);
    if (!eligible.length) {
      // Nothing fits: the cheapest priced candidate, said so on the span (never a silent $0 pick).
      const priced = this.candidates.filter((c) => this.estimate(c.model).callCost !== undefined);
      priced.sort((a, b) => this.estimate(a.model).callCost! - this.estimate(b.model).callCost!);
      const pick = priced[0] ?? this.candidates[0]!;
      if (!this.warnedCeiling)
        diag.warn(
          `spendtrace: ModelRouter(${this.taskType}): no candidate fits maxCostUsd $${this.maxCostUsd} (${excluded.join('; ')}); routing to ${pick.model}`,
        );
      this.warnedCeiling = true;
      return this.decision(pick.model, ROUTE_REASON.NONE_WITHIN_CEILING, names, excluded);
    }

    let best: Candidate | undefined;
    let bestScore = Infinity;
    let bestCall = Infinity;
    let top: Candidate = eligible[0]!;
    let topP = -1;
    for (const c of eligible) {
      const e = this.estimate(c.model);
      const p = this.sampler.beta(e.alpha, e.beta);
      if (p > topP) {
        topP = p;
        top = c;
      }
      if (p < this.minSuccessRate) continue;
      const call = e.callCost ?? 0;
      // Before any token data or prior, candidates compare at 1,000 + 1,000 tokens (relative prices).
      const score = ((e.taskCost ?? this.fallbackCost(c)) + this.failureCostUsd * (1 - p)) / Math.max(p, 1e-12);
      if (score < bestScore - 1e-15 || (Math.abs(score - bestScore) <= 1e-15 && call < bestCall)) {
        best = c;
        bestScore = score;
        bestCall = call;
      }
    }
    if (!best) return this.decision(top.model, ROUTE_REASON.BELOW_SUCCESS_FLOOR, names, excluded);
    return this.decision(best.model, ROUTE_REASON.COST_PER_SUCCESS, names, excluded);
  }

  private fallbackCost(c: Candidate): number {
    const q = this.pricer.price(c.provider, c.model, { inputTokens: FALLBACK_TOKENS.input, outputTokens: FALLBACK_TOKENS.output });
    return q ? picoToUsd(q.cost.total) : Infinity;
  }

  private decision(
    model: string,
    reason: RouteReason,
    candidates: string[],
    excluded: string[],
    experiment?: { id: string; arm: 'incumbent' | 'challenger' },
    exp?: Experiment,
    downgradedFrom?: string,
  ): Decision {
    const e = this.estimate(model);
    const expectedSuccess = e.alpha / (e.alpha + e.beta);
    const attributes: Attributes = {
      [A.ATTR_SPENDTRACE_ROUTE_TASK_TYPE]: this.taskType,
      [A.ATTR_SPENDTRACE_ROUTE_MODEL]: model,
      [A.ATTR_SPENDTRACE_ROUTE_REASON]: reason,
      [A.ATTR_SPENDTRACE_ROUTE_CANDIDATES]: candidates,
      [A.ATTR_SPENDTRACE_ROUTE_EXPECTED_SUCCESS]: Math.round(expectedSuccess * 1e6) / 1e6,
    };
    if (excluded.length) attributes[A.ATTR_SPENDTRACE_ROUTE_EXCLUDED] = excluded;
    if (e.callCost !== undefined) attributes[A.ATTR_SPENDTRACE_ROUTE_EXPECTED_COST] = e.callCost;
    if (this.maxCostUsd !== undefined) attributes[A.ATTR_SPENDTRACE_ROUTE_MAX_COST] = this.maxCostUsd;
    if (experiment && exp) {
      attributes[A.ATTR_SPENDTRACE_ROUTE_EXPERIMENT] = experiment.id;
      attributes[A.ATTR_SPENDTRACE_ROUTE_EXPERIMENT_ARM] = experiment.arm;
      attributes[A.ATTR_SPENDTRACE_ROUTE_EXPERIMENT_MARGIN] = exp.margin;
      attributes[A.ATTR_SPENDTRACE_ROUTE_EXPERIMENT_CONFIDENCE] = exp.confidence;
    }
    return {
      taskType: this.taskType,
      model,
      provider: this.byModel.get(model)?.provider,
      reason,
      candidates,
      excluded,
      expectedCostUsd: e.callCost,
      expectedSuccess,
      experiment,
      downgradedFrom,
      attributes,
      binding: undefined,
    };
  }

  // --- tasks ------------------------------------------------------------------------------------

  private bind(task: TaskState, d: Decision): void {
    const b: Binding = { first: d, current: d, downgraded: false, recorded: false, calls: 0, inputTokens: 0, outputTokens: 0, modelCostUsd: 0, taskCalls: 0 };
    d.binding = b;
    (task.routing ??= new Map()).set(this, b);
    task.span.setAttributes(d.attributes);
    (task.callListeners ??= []).push((model, usage, pico) => {
      b.taskCalls++;
      if (model !== b.first.model) return;
      b.calls++;
      b.inputTokens += usage.inputTokens;
      b.outputTokens += usage.outputTokens;
      b.modelCostUsd += picoToUsd(pico);
    });
    (task.endListeners ??= []).push((t) => {
      if (b.recorded) return;
      b.recorded = true;
      const reward = rewardOf(t.outcome, t.quality);
      this.observe({
        at: Date.now(),
        model: b.first.model,
        experiment: b.first.experiment?.id,
        // A task that ran on two models judges neither.
        reward: b.downgraded ? undefined : reward,
        calls: b.calls,
        inputTokens: b.inputTokens,
        outputTokens: b.outputTokens,
        taskCalls: b.taskCalls,
        costUsd: t.costUsd,
        modelCostUsd: b.modelCostUsd,
      });
    });
  }

  /** At or past the task's midpoint, a projection over budget moves its remaining calls one model cheaper. */
  private maybeDowngrade(task: TaskState, b: Binding): void {
    const budget = task.budgetUsd!;
    const spent = task.costUsd;
    const expected = task.budgetDowngrade!.expectedCalls ?? this.callsPerTask();
    let over: boolean;
    let projected: number;
    if (expected !== undefined && expected > 0) {
      if (task.calls < expected / 2 || task.calls === 0) return;
      projected = (spent / task.calls) * expected;
      over = projected > budget;
    } else {
      projected = spent * 2;
      over = spent > budget / 2;
    }
    if (!over) return;
    const currentCost = this.estimate(b.current.model).callCost;
    let next: { model: string; cost: number } | undefined;
    for (const c of this.candidates) {
      const cost = this.estimate(c.model).callCost;
      if (cost === undefined || currentCost === undefined || !(cost < currentCost)) continue;
      if (this.maxCostUsd !== undefined && cost > this.maxCostUsd) continue;
      if (!next || cost > next.cost) next = { model: c.model, cost };
    }
    b.downgraded = true;
    if (!next) {
      diag.info(`spendtrace: task "${task.name}" tracks over its $${budget} budget but ${b.current.model} is the cheapest candidate`);
      return;
    }
    const d = this.decision(
      next.model,
      ROUTE_REASON.BUDGET_DOWNGRADE,
      b.first.candidates as string[],
      b.first.excluded as string[],
      undefined,
      undefined,
      b.current.model,
    );
    d.binding = b;
    b.current = d;
    try {
      task.span.setAttribute(A.ATTR_SPENDTRACE_ROUTE_DOWNGRADED_TO, next.model);
      task.span.addEvent(A.EVENT_SPENDTRACE_ROUTE_DOWNGRADE, {
        ...d.attributes,
        'spendtrace.route.downgraded_from': b.first.model,
        'spendtrace.task.cost_usd': spent,
        'spendtrace.route.projected_cost_usd': projected,
        [A.ATTR_SPENDTRACE_TASK_BUDGET]: budget,
      });
    } catch (err) {
      diag.error('spendtrace: ModelRouter could not record a downgrade on the task span', err);
    }
  }

  // --- learning ---------------------------------------------------------------------------------

  private observe(o: Observation): void {
    this.observations.push(o);
    // Trimmed in chunks: a splice per observation would copy the whole log every time.
    if (this.observations.length > MAX_OBSERVATIONS * 1.25) this.observations.splice(0, this.observations.length - MAX_OBSERVATIONS);
    this.count(o);
    this.version++;
    if (o.experiment && this.experimentState?.id === o.experiment) this.evaluateExperiment();
  }

  private count(o: Observation): void {
    let s = this.local.get(o.model);
    if (!s) this.local.set(o.model, (s = new ArmStats()));
    s.add(o);
    if (o.experiment) {
      let arms = this.localExperiments.get(o.experiment);
      if (!arms) this.localExperiments.set(o.experiment, (arms = new Map()));
      let a = arms.get(o.model);
      if (!a) arms.set(o.model, (a = new ArmStats()));
      a.add(o);
    }
  }

  private experimentFigures(e: Experiment): { incumbent: ExperimentArmFigures; challenger: ExperimentArmFigures } {
    const arm = (model: string): ExperimentArmFigures => {
      const s = new ArmStats();
      const h = this.historyExperiments.get(e.id)?.get(model);
      const l = this.localExperiments.get(e.id)?.get(model);
      if (h) s.add(h);
      if (l) s.add(l);
      return { model, tasks: s.tasks, outcomes: s.outcomes, reward: s.reward, successes: s.successes, costUsd: s.costUsd };
    };
    return { incumbent: arm(e.incumbent), challenger: arm(e.challenger) };
  }

  /**
   * Looks at the evidence when the smaller arm's outcomes reach minOutcomes, 2×, 4×, … of it:
   * a few looks, not one per outcome, so a chance excursion of a challenger that sits on the
   * margin is not read as a verdict (each look at a fixed confidence would add a false promotion).
   */
  private evaluateExperiment(): void {
    const e = this.experimentState;
    if (!e || e.verdict !== 'running') return;
    const f = this.experimentFigures(e);
    const smaller = Math.min(f.incumbent.outcomes, f.challenger.outcomes);
    if (smaller < e.nextLook) return;
    while (e.nextLook <= smaller) e.nextLook *= 2;
    const v = experimentVerdict(f.incumbent, f.challenger, { margin: e.margin, confidence: e.confidence, minOutcomes: e.minOutcomes });
    e.why = v.why;
    if (v.verdict === 'running') return;
    e.verdict = v.verdict;
    if (v.verdict === 'promote') this.incumbentModel = e.challenger;
    diag.info(`spendtrace: ModelRouter(${this.taskType}) experiment ${e.id}: ${v.verdict} (${v.why})`);
  }

  // --- estimates --------------------------------------------------------------------------------

  /** Mean LLM calls per task of this type (any model), from tasks whose calls were counted. */
  private callsPerTask(): number | undefined {
    let calls = 0;
    let tasks = 0;
    for (const m of this.byModel.keys()) {
      const a = this.estimate(m).arm;
      calls += a.taskCalls;
      tasks += a.tasks;
    }
    return tasks > 0 && calls > 0 ? calls / tasks : undefined;
  }

  private estimate(model: string): { arm: ArmStats; alpha: number; beta: number; callCost: number | undefined; taskCost: number | undefined } {
    if (this.cachedVersion !== this.version) this.recompute();
    return this.cached.get(model)!;
  }

  private recompute(): void {
    this.cached = new Map();
    this.cachedVersion = this.version;
    const arms = new Map<string, ArmStats>();
    const all = new ArmStats();
    for (const c of this.candidates) {
      const s = new ArmStats();
      const h = this.history.get(c.model);
      const l = this.local.get(c.model);
      if (h) s.add(h);
      if (l) s.add(l);
      arms.set(c.model, s);
      all.add(s);
    }
    // What a task of this type spends besides its routed calls (other models, tools), per task.
    const otherPerTask = all.tasks > 0 ? Math.max(0, all.costUsd - all.modelCostUsd) / all.tasks : 0;
    for (const c of this.candidates) {
      const s = arms.get(c.model)!;
      // Tokens: this model's own calls, else the task type's on any model, else the stated prior.
      const tokens =
        s.calls > 0
          ? { input: s.inputTokens / s.calls, output: s.outputTokens / s.calls }
          : all.calls > 0
            ? { input: all.inputTokens / all.calls, output: all.outputTokens / all.calls }
            : this.expectedTokens;
      let callCost: number | undefined;
      if (tokens) {
        const q = this.pricer.price(c.provider, c.model, { inputTokens: Math.round(tokens.input), outputTokens: Math.round(tokens.output) });
        callCost = q ? picoToUsd(q.cost.total) : undefined;
      }
      const callsPerTask = s.tasks > 0 && s.calls > 0 ? s.calls / s.tasks : all.tasks > 0 && all.calls > 0 ? all.calls / all.tasks : 1;
      const p = posterior(s, { alpha: c.priorAlpha, beta: c.priorBeta });
      this.cached.set(c.model, {
        arm: s,
        alpha: p.alpha,
        beta: p.beta,
        callCost,
        taskCost: callCost === undefined ? undefined : callsPerTask * callCost + otherPerTask,
      });
    }
  }
}

function rewardOf(outcome: string | undefined, quality: number | undefined): number | undefined {
  if (outcome === A.TASK_OUTCOME.FAILURE) return 0;
  if (outcome !== A.TASK_OUTCOME.SUCCESS) return undefined;
  return typeof quality === 'number' && Number.isFinite(quality) ? Math.min(1, Math.max(0, quality)) : 1;
}
