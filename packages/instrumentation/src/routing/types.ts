/** The ModelRouter's public configuration and results. */
import type { Attributes } from '@opentelemetry/api';
import type { Pricer, RouteReason, RoutingHistory, Usage } from '@spendtrace/semconv';
import type { RandomSource } from './random.ts';

export interface RouterCandidate {
  model: string;
  /** `gen_ai.provider.name` of the model, for pricing (`openai`, `anthropic`, `gcp.gemini`). @default the catalogue's match by model name */
  provider?: string;
  /** What you already know, as if observed: e.g. last month's numbers for the incumbent. @default none (Beta(1, 1)) */
  prior?: { successes: number; failures: number };
}

export interface ExperimentOptions {
  /** The model the experiment tests; one of the candidates. */
  challenger: string;
  /** The model it must match. @default the router's `incumbent` */
  incumbent?: string;
  /** Share of the task type's decisions routed to the challenger while the experiment runs. @default 0.1 */
  share?: number;
  /** How far (success-rate points as a fraction) the challenger may trail the incumbent. @default 0.02 */
  margin?: number;
  /** How sure the verdict must be, either way. @default 0.95 */
  confidence?: number;
  /** Outcomes each arm needs before any verdict. @default 100 */
  minOutcomes?: number;
  /** `spendtrace.route.experiment`. @default `{incumbent}->{challenger}` */
  id?: string;
}

export interface RouterHistoryOptions {
  /** The spendtrace service, e.g. `http://127.0.0.1:4318` (its `GET /api/routing`). */
  url: string;
  /** History window. @default '30d' */
  since?: string;
  /** Only tasks of this `service.name`. @default every service */
  service?: string;
  /** Fetch again every so often (0: once, at construction). @default 0 */
  refreshMs?: number;
  /** @default 2000 */
  timeoutMs?: number;
  /**
   * How long spans take to reach the service: on a refresh, this process's observations older
   * than (fetch time - lag) are taken to be in the history and are not counted twice. @default 15000
   */
  lagMs?: number;
}

export interface ModelRouterOptions {
  /** What the router decides for; its outcomes and history are kept per task type. */
  taskType: string;
  /** The models it may choose, as names or with a provider / prior. */
  candidates: ReadonlyArray<string | RouterCandidate>;
  /**
   * Cost ceiling per call, USD: a candidate whose expected cost per call (this task type's mean
   * tokens on that model × its catalogue price) is above it is not chosen. Needs `expectedTokens`
   * until calls are observed.
   */
  maxCostUsd?: number;
  /** The stated prior of a call's tokens before any are observed (e.g. `{ input: 300, output: 40 }`). */
  expectedTokens?: { input: number; output: number };
  /** A candidate whose sampled success rate is below this is not chosen (unless none reaches it). @default 0 */
  minSuccessRate?: number;
  /** What a failure costs beyond its spend (a person's rework, a refund), USD. @default 0 */
  failureCostUsd?: number;
  /** Route every decision to this model (no bandit) until an experiment promotes a challenger. */
  incumbent?: string;
  /** An experiment to start with the router. */
  experiment?: ExperimentOptions;
  /** Start from the service's history (and keep refreshing it), or from a history already fetched. */
  history?: RouterHistoryOptions | RoutingHistory;
  /** Seed of the router's random draws: the same seed and observations give the same decisions. */
  seed?: number;
  /** Or the random source itself ([0, 1)). @default Math.random */
  random?: RandomSource;
  /** Prices for expected costs. @default a Pricer with the catalogue (and SPENDTRACE_PRICES_FILE) */
  pricer?: Pricer;
}

export interface RoutingDecision {
  readonly taskType: string;
  /** The model to call. */
  readonly model: string;
  readonly provider: string | undefined;
  readonly reason: RouteReason;
  /** Eligible candidates (priced, within the ceiling), cheapest first. */
  readonly candidates: readonly string[];
  /** Candidates left out, as `model: why`. */
  readonly excluded: readonly string[];
  /** The model's expected cost per call, USD (undefined: no token data or prior). */
  readonly expectedCostUsd: number | undefined;
  /** Its posterior mean success rate on this task type. */
  readonly expectedSuccess: number;
  readonly experiment: { id: string; arm: 'incumbent' | 'challenger' } | undefined;
  /** Set on a budget downgrade: the model the task was on. */
  readonly downgradedFrom: string | undefined;
  /** The `spendtrace.route.*` attributes of this decision (on the task span, or an event outside a task). */
  readonly attributes: Attributes;
}

export interface RecordOutcomeDetails {
  /** 0..1 from an eval: counts a success as `quality` of a success. */
  quality?: number;
  /** The calls made on the chosen model, when they ran outside a task (inside one they are seen). */
  usage?: Usage | readonly Usage[];
  /** Everything the task cost, USD. @default the priced `usage` */
  costUsd?: number;
}

export interface RouterModelStats {
  model: string;
  /** Outcomes credited (history + this process), and the posterior mean success rate. */
  outcomes: number;
  successRate: number;
  /** Expected cost per call and per successful task (at the posterior mean), USD. */
  expectedCostUsd: number | undefined;
  expectedCostPerSuccessUsd: number | undefined;
  /** Decisions this process routed to the model. */
  decisions: number;
}

export interface ExperimentStatus {
  id: string;
  incumbent: string;
  challenger: string;
  share: number;
  margin: number;
  confidence: number;
  verdict: 'running' | 'promote' | 'reject';
  why: string;
  probabilityWithinMargin: number;
  successRate: { incumbent: number | null; challenger: number | null };
  costPerSuccess: { incumbent: number | null; challenger: number | null };
  outcomes: { incumbent: number; challenger: number };
}
