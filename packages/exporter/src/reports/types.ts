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
  /** share of all LLM cost in the window, 0..1 */
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
  /** cost per task, nearest-rank percentiles; null when there are no tasks */
  costPerTask: { p50: Usd; p95: Usd; p99: Usd } | null;
  topTasks: TaskRow[];
  llmCalls: number;
  toolCalls: number;
  errors: number;
  retries: number;
  /** LLM calls on models without a known price: their cost is missing from every total */
  unpricedCalls: number;
  retryCost: Usd;
  /** retryCost / totalCost, 0..1; null when nothing was spent */
  retryOverhead: number | null;
  /** the model with the largest LLM spend and its share of it; null when there was no LLM spend */
  topModel: { provider: string; model: string; cost: Usd; share: number } | null;
}

export interface FullReport {
  summary: Summary;
  byTask: TaskRow[];
  byTool: ToolRow[];
  byModel: ModelRow[];
  byAgent: AgentRow[];
  byHour: HourRow[];
}
