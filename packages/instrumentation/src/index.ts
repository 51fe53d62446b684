export { SpendtraceInstrumentation, OPENAI_SUPPORTED_VERSIONS } from './instrumentation.ts';
export type { SpendtraceInstrumentationConfig, StreamUsageMode, OpenAIProviderMap } from './types.ts';
export { withTask, withTool, recordToolCost, setTaskOutcome, currentTask } from './task-context.ts';
export type { TaskOptions, TaskHandle, TaskOutcomeDetails } from './task-context.ts';
export { setTaskTenant, recordTaskCharge } from './task-billing.ts';
export { withPrompt } from './prompt-template.ts';
export type { PromptTemplate } from './prompt-template.ts';
export { BudgetExceededError } from './budget.ts';
export type { BudgetCheck, BudgetExceededInfo, OnBudgetExceeded } from './budget.ts';
export { manuallyInstrument } from './manual.ts';
export { recordBatchResults } from './batch-results.ts';
export type { AsyncBatchLines, BatchLines, BatchProvider, BatchResultsOptions, BatchResultsSummary } from './batch-results.ts';
export type { ManualModules } from './manual.ts';
export { ModelRouter, RouterConfigError } from './routing/model-router.ts';
export { seededRandom } from './routing/random.ts';
export type { RandomSource } from './routing/random.ts';
export type {
  ExperimentOptions,
  ExperimentStatus,
  ModelRouterOptions,
  RecordOutcomeDetails,
  RouterCandidate,
  RouterHistoryOptions,
  RouterModelStats,
  RoutingDecision,
} from './routing/types.ts';
