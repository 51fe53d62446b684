/**
 * Report rows. Money is an exact decimal string in USD with 12 fractional digits (pico-USD, the
 * same value ClickHouse Decimal(38, 12) holds): `"0.004350000000"`. Parse it with `parsePico`
 * from @spendtrace/semconv to add or compare; never through a float.
 */
export type Usd = string;

/** The minimal part of the exporter's Store the reports need (see ../store). */
export interface QueryableStore {
  query<T = Record<string, unknown>>(sql: string, params?: Record<string, unknown>): Promise<T[]>;
}

export interface ReportOptions {
  /** Window before now: `30m`, `24h`, `7d`, `all`. @default '7d' */
  since?: string;
  /** Only this service.name. @default all services */
  service?: string;
  /** Database holding the spendtrace tables. @default 'spendtrace' */
  database?: string;
  /** A model above this share of LLM spend is flagged as concentrated (0..1). @default 0.7 */
  concentrationThreshold?: number;
}

/** Cost per task, nearest-rank percentiles over the tasks whose every call is priced. */
export interface CostPercentiles {
  p50: Usd;
  p90: Usd;
  p95: Usd;
  p99: Usd;
}

export type GroupBy = 'task' | 'tool' | 'model' | 'agent' | 'hour';
export const GROUP_BYS: readonly GroupBy[] = ['task', 'tool', 'model', 'agent', 'hour'];

/** Latency percentiles in milliseconds (from the t-digest-free exact states of hourly_costs). */
export interface LatencyMs {
  p50: number;
  p95: number;
  p99: number;
}

export interface TokenCounts {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  reasoning: number;
}

export interface TaskRow {
  taskId: string;
  taskName: string;
  agent: string;
  service: string;
  userId: string;
  /** success | failure | '' (not reported by the app) */
  outcome: string;
  firstSeen: string; // ISO-8601, UTC
  lastSeen: string;
  cost: Usd;
  llmCost: Usd;
  toolCost: Usd;
  retryCost: Usd;
  llmCalls: number;
  toolCalls: number;
  errors: number;
  retries: number;
  unpricedCalls: number;
  tokens: TokenCounts;
  /** cost / the median cost of its task name's priced tasks; null when unpriced or no median */
  vsMedian: number | null;
  /** over 2x its task name's median cost */
  overMedian: boolean;
}

/** Per task name: how many tasks, their percentiles, and which are over 2x the median. */
export interface TaskNameRow {
  taskName: string;
  agent: string;
  tasks: number;
  successfulTasks: number;
  failedTasks: number;
  /** tasks with a call on an unpriced model: left out of the percentiles and the per-success cost */
  unpricedTasks: number;
  cost: Usd;
  /** cost of the priced tasks / their successes; null when none succeeded */
  costPerSuccessfulTask: Usd | null;
  costPerTask: CostPercentiles | null;
  /** tasks costing more than 2x the median */
  overMedianTasks: number;
}

export interface ToolRow {
  tool: string;
  /** execute_tool spans */
  calls: number;
  /** the tool's own fee (recordToolCost) */
  toolCost: Usd;
  /** LLM calls made inside the tool */
  llmCalls: number;
  llmCost: Usd;
  /** toolCost + llmCost */
  cost: Usd;
  errors: number;
  unpricedCalls: number;
  latencyMs: LatencyMs;
  /** errors / calls of the tool's own spans; null without calls */
  errorRate: number | null;
  /** share of the tool's calls made in tasks that succeeded (of those in tasks that reported an outcome); null when none did */
  successRate: number | null;
}

export interface ModelRow {
  provider: string;
  model: string;
  calls: number;
  errors: number;
  retries: number;
  /** calls on a model with no known price: their cost is missing, not zero */
  unpricedCalls: number;
  tokens: TokenCounts;
  cost: Usd;
  retryCost: Usd;
  /** share of all priced LLM cost in the window, 0..1 */
  share: number;
  latencyMs: LatencyMs;
}

export interface AgentRow {
  agent: string;
  tasks: number;
  successfulTasks: number;
  failedTasks: number;
  cost: Usd;
  llmCost: Usd;
  toolCost: Usd;
  /** all the agent's cost (failed attempts included) / its successful tasks; null when none succeeded */
  costPerSuccessfulTask: Usd | null;
  llmCalls: number;
  toolCalls: number;
  errors: number;
  unpricedCalls: number;
}

export interface HourRow {
  hour: string; // ISO-8601 start of the hour, UTC
  cost: Usd;
  llmCalls: number;
  toolCalls: number;
  errors: number;
  unpricedCalls: number;
  tokens: TokenCounts;
  latencyMs: LatencyMs;
}

export interface Summary {
  since: string;
  service: string | null;
  totalCost: Usd;
  llmCost: Usd;
  toolCost: Usd;
  tasks: number;
  successfulTasks: number;
  failedTasks: number;
  /** tasks that never reported an outcome */
  unknownOutcomeTasks: number;
  /** total cost of ALL tasks (failed attempts included) / successful tasks; null when none succeeded */
  costPerSuccessfulTask: Usd | null;
  /** successful / (successful + failed); null when no task reported an outcome */
  successRate: number | null;
  /** cost per task, nearest-rank percentiles over priced tasks; null when there are none */
  costPerTask: CostPercentiles | null;
  /** tasks with a call on an unpriced model: their cost is incomplete, so they are left out of the percentiles and the per-success cost */
  unpricedTasks: number;
  /** tasks costing more than 2x their task name's median */
  overMedianTasks: number;
  topTasks: TaskRow[];
  llmCalls: number;
  toolCalls: number;
  errors: number;
  /** LLM calls that needed SDK retries (calls retried, not attempts) */
  retries: number;
  /** HTTP attempts the SDKs made for the LLM calls: calls + their retries */
  attempts: number;
  /** LLM calls on models without a known price: their cost is missing from every total */
  unpricedCalls: number;
  retryCost: Usd;
  /** retryCost / totalCost, 0..1; null when nothing was spent */
  retryOverhead: number | null;
  /** the model with the largest LLM spend and its share of it; null when there was no LLM spend */
  topModel: { provider: string; model: string; cost: Usd; share: number; concentrated: boolean; threshold: number } | null;
}

export interface FullReport {
  summary: Summary;
  byTask: TaskRow[];
  byTool: ToolRow[];
  byModel: ModelRow[];
  byAgent: AgentRow[];
  byHour: HourRow[];
  byTaskName: TaskNameRow[];
  dailyTrend: DayRow[];
  projection: Projection;
  ticker: Ticker;
}

/** One UTC day of tasks (by the day they started). */
export interface DayRow {
  day: string; // YYYY-MM-DD
  tasks: number;
  successfulTasks: number;
  unpricedTasks: number;
  /** priced tasks' cost */
  cost: Usd;
  /** priced tasks' cost / their successes; null when none succeeded */
  costPerSuccessfulTask: Usd | null;
}

/** The month's spend projected from the last 7 days. */
export interface Projection {
  /** how it was computed, in words */
  method: string;
  /** the 24-hour periods ending now, newest first, that had data (at most 7) */
  days: Array<{ start: string; cost: Usd }>;
  dailyMean: Usd;
  dailyMin: Usd;
  dailyMax: Usd;
  /** population standard deviation of the daily totals */
  dailyStdDev: Usd;
  month: string; // YYYY-MM
  daysInMonth: number;
  /** dailyMean x daysInMonth */
  projectedMonth: Usd;
  /** (dailyMean -/+ dailyStdDev) x daysInMonth, never below 0 */
  range: { low: Usd; high: Usd };
  /** LLM calls in those days with no known price: not in the projection */
  unpricedCalls: number;
}

/** The dashboard's ticker: what is happening now. */
export interface Ticker {
  /** spend in the last 60 minutes */
  costLastHour: Usd;
  /** LLM calls in the last 60 minutes with no known price: not in costLastHour nor the projection */
  unpricedCallsLastHour: number;
  /** tasks with spans in the last 5 minutes whose root has not arrived (still running) */
  activeTasks: number;
  /** spent today (UTC) so far */
  costToday: Usd;
  /** costToday + costLastHour x hours left in the UTC day */
  projectedDay: Usd;
  at: string;
}
