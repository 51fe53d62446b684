/**
 * Model routing as the store saw it: per task type × model, the routed tasks (task spans carrying
 * `spendtrace.route.*`), their outcomes, their calls' tokens and their whole cost. It is
 * (a) the history `/api/routing` serves, which every ModelRouter of a fleet starts from,
 * (b) each experiment's figures and verdict (the same rule the router promotes on, from
 *     @spendtrace/semconv), and
 * (c) over-provisioning findings: a task type still routed to an expensive model while a cheaper
 *     one did as well on it, with the monthly saving and its assumption.
 */
import * as A from '@spendtrace/semconv';
import {
  DEFAULT_EXPERIMENT_CONFIDENCE,
  DEFAULT_EXPERIMENT_MARGIN,
  experimentVerdict,
  formatPico,
  parsePico,
  picoToUsd,
  posterior,
  probabilityWithinMargin,
  type ExperimentArmFigures,
  type ExperimentVerdict,
  type RoutingArmHistory,
  type RoutingExperimentHistory,
} from '@spendtrace/semconv';
import type { QueryableStore, ReportOptions, Usd } from './types.ts';
import { parseSince } from './window.ts';
import { IDENTIFIER, DEFAULT_DATABASE } from '../database-name.ts';

const num = (v: unknown): number => (v === null || v === undefined || v === '' ? 0 : Number(v));
const str = (v: unknown): string => (v === null || v === undefined ? '' : String(v));

export interface RoutingModelRow extends RoutingArmHistory {
  /** reward / outcomes (a quality score counts a success as q of one); null before an outcome. */
  successRate: number | null;
  /** All of the model's routed tasks' spend / their successes, exact; null before a success. */
  costPerSuccess: Usd | null;
  costPerTask: Usd | null;
  /** Share of the task type's routed tasks. */
  share: number;
}

export interface RoutingExperimentRow extends RoutingExperimentHistory {
  verdict: ExperimentVerdict;
}

export interface RoutingTaskType {
  taskType: string;
  models: RoutingModelRow[];
  experiments: RoutingExperimentRow[];
  /** What routing saved against sending every task to the model with the highest cost per task. */
  saving: { baseline: string; cost: Usd; baselineCost: Usd; saved: Usd; share: number } | null;
}

/** An over-provisioning finding, in the shape of an insight: what, evidence, monthly saving, assumption. */
export interface RoutingFinding {
  kind: 'over_provisioned_model';
  title: string;
  taskType: string;
  model: string;
  cheaperModel: string;
  evidence: {
    model: { tasks: number; outcomes: number; successRate: number; costPerSuccess: Usd };
    cheaperModel: { tasks: number; outcomes: number; successRate: number; costPerSuccess: Usd };
    /** P(the cheaper model's success rate is within `margin` of the expensive one's). */
    probabilityWithinMargin: number;
    margin: number;
    text: string;
  };
  /** the cheaper model's saving on the window's successes: successes x cost-per-success gap */
  windowSaving: Usd;
  monthlySaving: Usd;
  assumption: string;
}

/** `GET /api/routing`: the history a router starts from, plus what reports show of it. */
export interface RoutingReport {
  since: string;
  service: string | null;
  taskTypes: RoutingTaskType[];
  findings: RoutingFinding[];
}

export interface RoutingOptions extends ReportOptions {
  /** Only this task type. @default all */
  taskType?: string;
  /** Outcomes each model needs before an over-provisioning finding compares them. @default 30 */
  minOutcomes?: number;
}

interface Row {
  task_type: string;
  model: string;
  provider: string;
  experiment: string;
  arm: string;
  margin: string;
  confidence: string;
  tasks: number;
  ok: number;
  failed: number;
  reward: number;
  m_calls: number;
  m_in: number;
  m_out: number;
  all_calls: number;
  t_cost: string;
  m_cost: string;
  first_ms: number;
  last_ms: number;
}

const attr = (name: string) => `attributes['${name}']`;

/** Per task type × model × experiment arm: routed tasks, outcomes, calls on the model and spend. */
async function routedRows(store: QueryableStore, opts: RoutingOptions): Promise<Row[]> {
  const database = opts.database ?? DEFAULT_DATABASE;
  if (!IDENTIFIER.test(database)) throw new RangeError(`invalid database name "${database}": expected letters, digits and _`);
  const db = `\`${database}\``;
  const params = { since_s: parseSince(opts.since ?? '7d'), service: opts.service ?? '', task_type: opts.taskType ?? '' };
  const rows = await store.query<Record<string, unknown>>(
    `WITH routed AS (
  SELECT task_id,
    any(${attr(A.ATTR_SPENDTRACE_ROUTE_TASK_TYPE)}) AS r_type,
    any(${attr(A.ATTR_SPENDTRACE_ROUTE_MODEL)}) AS r_model,
    any(${attr(A.ATTR_SPENDTRACE_ROUTE_EXPERIMENT)}) AS r_experiment,
    any(${attr(A.ATTR_SPENDTRACE_ROUTE_EXPERIMENT_ARM)}) AS r_arm,
    any(${attr(A.ATTR_SPENDTRACE_ROUTE_EXPERIMENT_MARGIN)}) AS r_margin,
    any(${attr(A.ATTR_SPENDTRACE_ROUTE_EXPERIMENT_CONFIDENCE)}) AS r_confidence,
    max(${attr(A.ATTR_SPENDTRACE_ROUTE_DOWNGRADED_TO)} != '') AS r_downgraded,
    any(outcome) AS r_outcome,
    any(toFloat64OrNull(${attr(A.ATTR_SPENDTRACE_TASK_QUALITY)})) AS r_quality,
    min(start_time) AS r_first, max(end_time) AS r_last
  FROM ${db}.spans
  WHERE kind = 'task' AND ${attr(A.ATTR_SPENDTRACE_ROUTE_TASK_TYPE)} != ''
    AND start_time >= now64(9) - toIntervalSecond({since_s:UInt64})
    AND ({service:String} = '' OR service_name = {service:String})
    AND ({task_type:String} = '' OR ${attr(A.ATTR_SPENDTRACE_ROUTE_TASK_TYPE)} = {task_type:String})
  GROUP BY task_id
),
spend AS (
  SELECT s.task_id AS s_task,
    countIf(s.kind = 'inference') AS s_calls,
    countIf(s.kind = 'inference' AND s.request_model = r.r_model) AS s_m_calls,
    sumIf(s.input_tokens, s.kind = 'inference' AND s.request_model = r.r_model) AS s_m_in,
    sumIf(s.output_tokens, s.kind = 'inference' AND s.request_model = r.r_model) AS s_m_out,
    sum(s.cost) AS s_cost,
    sumIf(s.cost, s.kind = 'inference' AND s.request_model = r.r_model) AS s_m_cost,
    anyIf(s.provider, s.kind = 'inference' AND s.request_model = r.r_model) AS s_provider
  FROM ${db}.spans AS s INNER JOIN routed AS r ON s.task_id = r.task_id
  WHERE s.kind IN ('inference', 'tool')
  GROUP BY s.task_id
)
SELECT r_type AS task_type, r_model AS model, any(s_provider) AS provider, r_experiment AS experiment, r_arm AS arm,
  any(r_margin) AS margin, any(r_confidence) AS confidence,
  count() AS tasks,
  countIf(r_outcome = 'success' AND NOT r_downgraded) AS ok,
  countIf(r_outcome = 'failure' AND NOT r_downgraded) AS failed,
  sum(if(r_downgraded OR r_outcome != 'success', 0, if(isNull(r_quality), 1, least(greatest(assumeNotNull(r_quality), 0), 1)))) AS reward,
  sum(s_m_calls) AS m_calls, sum(s_m_in) AS m_in, sum(s_m_out) AS m_out, sum(s_calls) AS all_calls,
  toString(sum(s_cost)) AS t_cost, toString(sum(s_m_cost)) AS m_cost,
  toUnixTimestamp64Milli(min(r_first)) AS first_ms, toUnixTimestamp64Milli(max(r_last)) AS last_ms
FROM routed LEFT JOIN spend ON spend.s_task = routed.task_id
GROUP BY task_type, model, experiment, arm
ORDER BY task_type, model, experiment, arm`,
    params,
  );
  return rows.map((r) => ({
    task_type: str(r.task_type),
    model: str(r.model),
    provider: str(r.provider),
    experiment: str(r.experiment),
    arm: str(r.arm),
    margin: str(r.margin),
    confidence: str(r.confidence),
    tasks: num(r.tasks),
    ok: num(r.ok),
    failed: num(r.failed),
    reward: num(r.reward),
    m_calls: num(r.m_calls),
    m_in: num(r.m_in),
    m_out: num(r.m_out),
    all_calls: num(r.all_calls),
    t_cost: str(r.t_cost) || '0',
    m_cost: str(r.m_cost) || '0',
    first_ms: num(r.first_ms),
    last_ms: num(r.last_ms),
  }));
}

function emptyArm(model: string, provider: string): RoutingArmHistory & { firstMs: number; lastMs: number; costPico: bigint; modelCostPico: bigint } {
  return {
    model,
    provider,
    outcomes: 0,
    reward: 0,
    tasks: 0,
    successes: 0,
    failures: 0,
    calls: 0,
    inputTokens: 0,
    outputTokens: 0,
    taskCalls: 0,
    cost: '0',
    modelCost: '0',
    firstSeen: '',
    lastSeen: '',
    firstMs: Infinity,
    lastMs: 0,
    costPico: 0n,
    modelCostPico: 0n,
  };
}

type ArmAcc = ReturnType<typeof emptyArm>;

function addRow(a: ArmAcc, r: Row): void {
  if (!a.provider && r.provider) a.provider = r.provider;
  a.tasks += r.tasks;
  a.successes += r.ok;
  a.failures += r.failed;
  a.outcomes += r.ok + r.failed;
  a.reward += r.reward;
  a.calls += r.m_calls;
  a.inputTokens += r.m_in;
  a.outputTokens += r.m_out;
  a.taskCalls += r.all_calls;
  a.costPico += parsePico(r.t_cost);
  a.modelCostPico += parsePico(r.m_cost);
  a.firstMs = Math.min(a.firstMs, r.first_ms);
  a.lastMs = Math.max(a.lastMs, r.last_ms);
}

function finish(a: ArmAcc): RoutingArmHistory {
  const { firstMs, lastMs, costPico, modelCostPico, ...rest } = a;
  return {
    ...rest,
    reward: Math.round(rest.reward * 1e6) / 1e6,
    cost: formatPico(costPico),
    modelCost: formatPico(modelCostPico),
    firstSeen: Number.isFinite(firstMs) ? new Date(firstMs).toISOString() : '',
    lastSeen: lastMs ? new Date(lastMs).toISOString() : '',
  };
}

/** pico / n rounded half-up, as a decimal string; null when n is 0. */
function per(pico: bigint, n: number): Usd | null {
  if (n <= 0) return null;
  const d = BigInt(n);
  const q = pico / d;
  return formatPico((pico % d) * 2n >= d ? q + 1n : q);
}

const figures = (a: RoutingArmHistory): ExperimentArmFigures => ({
  model: a.model,
  tasks: a.tasks,
  outcomes: a.outcomes,
  reward: a.reward,
  successes: a.successes,
  costUsd: picoToUsd(parsePico(a.cost)),
});

/** The routing history and what reports show of it (one read of the spans table). */
export async function routingReport(store: QueryableStore, opts: RoutingOptions = {}): Promise<RoutingReport> {
  const rows = await routedRows(store, opts);
  const byType = new Map<
    string,
    { models: Map<string, ArmAcc>; experiments: Map<string, { margin: number; confidence: number; arms: Map<string, ArmAcc> }> }
  >();
  for (const r of rows) {
    let t = byType.get(r.task_type);
    if (!t) byType.set(r.task_type, (t = { models: new Map(), experiments: new Map() }));
    let m = t.models.get(r.model);
    if (!m) t.models.set(r.model, (m = emptyArm(r.model, r.provider)));
    addRow(m, r);
    if (r.experiment && (r.arm === 'incumbent' || r.arm === 'challenger')) {
      let e = t.experiments.get(r.experiment);
      if (!e) {
        const margin = Number(r.margin);
        const confidence = Number(r.confidence);
        t.experiments.set(
          r.experiment,
          (e = {
            margin: margin >= 0 && margin < 1 ? margin : DEFAULT_EXPERIMENT_MARGIN,
            confidence: confidence > 0.5 && confidence < 1 ? confidence : DEFAULT_EXPERIMENT_CONFIDENCE,
            arms: new Map(),
          }),
        );
      }
      let a = e.arms.get(r.arm);
      if (!a) e.arms.set(r.arm, (a = emptyArm(r.model, r.provider)));
      addRow(a, r);
    }
  }
  const taskTypes: RoutingTaskType[] = [];
  for (const [taskType, t] of byType) {
    const accs = [...t.models.values()].sort((a, b) => b.tasks - a.tasks || a.model.localeCompare(b.model));
    const allTasks = accs.reduce((n, a) => n + a.tasks, 0);
    const models: RoutingModelRow[] = accs.map((a) => ({
      ...finish(a),
      successRate: a.outcomes > 0 ? Math.round((a.reward / a.outcomes) * 1e6) / 1e6 : null,
      costPerSuccess: per(a.costPico, a.successes),
      costPerTask: per(a.costPico, a.tasks),
      share: allTasks ? Math.round((a.tasks / allTasks) * 1e6) / 1e6 : 0,
    }));
    const experiments: RoutingExperimentRow[] = [];
    for (const [id, e] of t.experiments) {
      const inc = e.arms.get('incumbent');
      const ch = e.arms.get('challenger');
      if (!inc || !ch) continue;
      const incumbent = finish(inc);
      const challenger = finish(ch);
      experiments.push({
        id,
        margin: e.margin,
        confidence: e.confidence,
        incumbent,
        challenger,
        verdict: experimentVerdict(figures(incumbent), figures(challenger), { margin: e.margin, confidence: e.confidence }),
      });
    }
    taskTypes.push({ taskType, models, experiments, saving: savingOf(accs) });
  }
  return { since: opts.since ?? '7d', service: opts.service || null, taskTypes, findings: findingsOf(taskTypes, opts) };
}

/** What the routed tasks cost against every one of them at the highest cost per task seen. */
function savingOf(accs: ArmAcc[]): RoutingTaskType['saving'] {
  if (accs.length < 2) return null;
  let baseline = accs[0]!;
  for (const a of accs) if (a.tasks > 0 && a.costPico * BigInt(baseline.tasks) > baseline.costPico * BigInt(a.tasks)) baseline = a;
  const tasks = accs.reduce((n, a) => n + a.tasks, 0);
  const cost = accs.reduce((s, a) => s + a.costPico, 0n);
  // baseline cost per task × all tasks, rounded half-up to the pico.
  const num = baseline.costPico * BigInt(tasks);
  const d = BigInt(baseline.tasks);
  const baselineCost = num / d + ((num % d) * 2n >= d ? 1n : 0n);
  const saved = baselineCost - cost;
  return {
    baseline: baseline.model,
    cost: formatPico(cost),
    baselineCost: formatPico(baselineCost),
    saved: formatPico(saved),
    share: baselineCost > 0n ? Number((saved * 1_000_000n) / baselineCost) / 1e6 : 0,
  };
}

const DAY_MS = 86_400_000;
const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

/**
 * A task type whose traffic mostly goes to model E while a model C with a lower cost per success
 * succeeded as often (within the default 2 points, at 95 %) on it: the monthly saving of moving
 * E's successes to C at C's cost per success.
 */
function findingsOf(taskTypes: RoutingTaskType[], opts: RoutingOptions): RoutingFinding[] {
  const minOutcomes = opts.minOutcomes ?? 30;
  const margin = DEFAULT_EXPERIMENT_MARGIN;
  const windowMs = opts.since === 'all' ? undefined : parseSince(opts.since ?? '7d') * 1000;
  const out: RoutingFinding[] = [];
  for (const t of taskTypes) {
    const e = t.models[0];
    if (!e || e.outcomes < minOutcomes || e.costPerSuccess === null || e.successRate === null) continue;
    let best: { c: RoutingModelRow; p: number; gain: bigint } | undefined;
    for (const c of t.models.slice(1)) {
      if (c.outcomes < minOutcomes || c.costPerSuccess === null || c.successRate === null) continue;
      const gain = parsePico(e.costPerSuccess) - parsePico(c.costPerSuccess);
      if (gain <= 0n) continue;
      const p = probabilityWithinMargin(posterior(c), posterior(e), margin);
      if (p < DEFAULT_EXPERIMENT_CONFIDENCE) continue;
      if (!best || gain > best.gain) best = { c, p, gain };
    }
    if (!best) continue;
    const { c, p, gain } = best;
    const observedMs = Math.max(Date.parse(e.lastSeen) - Date.parse(e.firstSeen), 0);
    const spanMs = windowMs ?? Math.max(observedMs, DAY_MS);
    // Successes on E per 30 days at the window's rate, each costing `gain` less on C.
    const perMonth = (BigInt(e.successes) * gain * BigInt(30 * DAY_MS)) / BigInt(Math.round(spanMs));
    const windowText = windowMs ? `the last ${opts.since ?? '7d'}` : `the ${(spanMs / DAY_MS).toFixed(1)} days of history`;
    out.push({
      kind: 'over_provisioned_model',
      title: `${t.taskType} runs on ${e.model}; ${c.model} succeeds as often for ${pct(Number((gain * 1000n) / parsePico(e.costPerSuccess)) / 1000)} less per success`,
      taskType: t.taskType,
      model: e.model,
      cheaperModel: c.model,
      evidence: {
        model: { tasks: e.tasks, outcomes: e.outcomes, successRate: e.successRate, costPerSuccess: e.costPerSuccess },
        cheaperModel: { tasks: c.tasks, outcomes: c.outcomes, successRate: c.successRate!, costPerSuccess: c.costPerSuccess! },
        probabilityWithinMargin: Math.round(p * 1e4) / 1e4,
        margin,
        text: `${e.model}: ${e.outcomes} outcomes, ${pct(e.successRate)} success, $${picoToUsd(parsePico(e.costPerSuccess)).toPrecision(3)} per success; ${c.model}: ${c.outcomes} outcomes, ${pct(c.successRate!)} success, $${picoToUsd(parsePico(c.costPerSuccess!)).toPrecision(3)} per success; P(within ${margin * 100} points) = ${p.toFixed(3)}`,
      },
      windowSaving: formatPico(BigInt(e.successes) * gain),
      monthlySaving: formatPico(perMonth),
      assumption: `${e.model}'s ${e.successes} successes in ${windowText} continue at that rate for 30 days, and ${c.model} keeps the success rate and cost per success it showed on ${t.taskType}`,
    });
  }
  return out;
}
