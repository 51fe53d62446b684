/** Task budgets: the error a refused LLM call fails with, and what apps can choose instead. */

/**
 * How a budgeted task decides, before any request is sent, whether a call may go:
 * - `worst-case` (default): refused when the running cost, plus the worst case of the calls in
 *   flight, plus this call's worst case (its input tokens counted locally + its output cap,
 *   `max_tokens` / `max_output_tokens`, at the model's prices) would cross the budget. A budget is
 *   a cap: a call that can spend 300x the budget should never be sent.
 * - `spent`: refused only once the running cost has passed the budget (the call that crosses it
 *   goes through): cheaper on a call's own input, for budgets used as a soft alarm.
 */
export type BudgetCheck = 'worst-case' | 'spent';

/** What a refused (or, with `warn` / a callback, allowed) call reports to `onBudgetExceeded` and carries on `BudgetExceededError`. */
export interface BudgetExceededInfo {
  taskId: string;
  taskName: string;
  budgetUsd: number;
  /** Running cost (LLM + paid tools) when the call was attempted. */
  costUsd: number;
  /** The request model of the call that was stopped (or allowed, with `warn` / a callback). */
  model: string | undefined;
  /** `spent`: the budget is used up. `worst-case`: this call's worst case would cross it. */
  reason?: 'spent' | 'worst-case';
  /** The call's worst-case cost (present with `reason: 'worst-case'`), USD. */
  estimateUsd?: number;
  /** The worst case of the task's calls still in flight, counted against the budget, USD. */
  inFlightUsd?: number;
}

/**
 * `throw` (default): the LLM call rejects with {@link BudgetExceededError} and no request is
 * made. `warn`: the call goes ahead, a warning goes to the OTel diag logger. A function: called
 * with the details before each refused call; it may throw to stop the call.
 */
export type OnBudgetExceeded = 'throw' | 'warn' | ((info: BudgetExceededInfo) => void);

const money = (usd: number) => `$${usd.toFixed(6)}`;

export class BudgetExceededError extends Error {
  readonly code = 'SPENDTRACE_BUDGET_EXCEEDED';
  readonly taskId: string;
  readonly taskName: string;
  readonly budgetUsd: number;
  readonly costUsd: number;
  readonly model: string | undefined;
  readonly reason: 'spent' | 'worst-case';
  readonly estimateUsd: number | undefined;
  readonly inFlightUsd: number | undefined;

  constructor(info: BudgetExceededInfo) {
    const reason = info.reason ?? 'spent';
    super(
      reason === 'worst-case'
        ? `task "${info.taskName}" (${info.taskId}) has spent ${money(info.costUsd)} of its $${info.budgetUsd} budget` +
            (info.inFlightUsd ? ` (+ up to ${money(info.inFlightUsd)} in flight)` : '') +
            `; LLM call to ${info.model ?? 'a model'} refused: it could cost up to ${money(info.estimateUsd ?? 0)} (input counted locally + its output cap)`
        : `task "${info.taskName}" (${info.taskId}) spent ${money(info.costUsd)} of its $${info.budgetUsd} budget; LLM call to ${info.model ?? 'a model'} refused`,
    );
    this.name = 'BudgetExceededError';
    this.taskId = info.taskId;
    this.taskName = info.taskName;
    this.budgetUsd = info.budgetUsd;
    this.costUsd = info.costUsd;
    this.model = info.model;
    this.reason = reason;
    this.estimateUsd = info.estimateUsd;
    this.inFlightUsd = info.inFlightUsd;
  }
}
