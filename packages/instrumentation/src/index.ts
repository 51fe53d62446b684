export { SpendtraceInstrumentation, OPENAI_SUPPORTED_VERSIONS } from './instrumentation.ts';
export type { SpendtraceInstrumentationConfig, StreamUsageMode, OpenAIProviderMap } from './types.ts';
export { withTask, withTool, recordToolCost, setTaskOutcome, currentTask } from './task-context.ts';
export type { TaskOptions, TaskHandle, TaskOutcomeDetails } from './task-context.ts';
export { BudgetExceededError } from './budget.ts';
export type { BudgetExceededInfo, OnBudgetExceeded } from './budget.ts';
export { manuallyInstrument } from './manual.ts';
export type { ManualModules } from './manual.ts';
