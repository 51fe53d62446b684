/** Task budgets: the error an over-budget task's next LLM call fails with, and what apps can choose instead. */

/** What an over-budget task reports to `onBudgetExceeded` and carries on `BudgetExceededError`. */
export interface BudgetExceededInfo {
  taskId: string;
  taskName: string;
  budgetUsd: number;
  /** Running cost (LLM + paid tools) when the call was attempted. */
  costUsd: number;
  /** The request model of the call that was stopped (or allowed, with `warn` / a callback). */
  model: string | undefined;
}

/**
 * `throw` (default): the next LLM call rejects with {@link BudgetExceededError} and no request is
 * made. `warn`: the call goes ahead, a warning goes to the OTel diag logger. A function: called
 * with the details before each over-budget call; it may throw to stop the call.
 */
export type OnBudgetExceeded = 'throw' | 'warn' | ((info: BudgetExceededInfo) => void);

export class BudgetExceededError extends Error {
  readonly code = 'SPENDTRACE_BUDGET_EXCEEDED';
  readonly taskId: string;
  readonly taskName: string;
  readonly budgetUsd: number;
  readonly costUsd: number;
  readonly model: string | undefined;

  constructor(info: BudgetExceededInfo) {
    super(`task "${info.taskName}" (${info.taskId}) spent $${info.costUsd.toFixed(6)} of its $${info.budgetUsd} budget; LLM call to ${info.model ?? 'a model'} refused`);
    this.name = 'BudgetExceededError';
    this.taskId = info.taskId;
    this.taskName = info.taskName;
    this.budgetUsd = info.budgetUsd;
    this.costUsd = info.costUsd;
    this.model = info.model;
  }
}
