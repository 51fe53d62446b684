/**
 * Who a task was done for and what it was sold for: `setTaskTenant` and `recordTaskCharge` put
 * `spendtrace.tenant.id` and `spendtrace.task.charged_usd` on the current task's root span, so
 * reports can show spend and margin per tenant / customer. Separate from task-context.ts, which
 * only lends it the current scope.
 */
import { diag } from '@opentelemetry/api';
import * as A from '@spendtrace/semconv';
import { picoToUsd, usdToPico, type Pico } from '@spendtrace/semconv';
import { currentScope } from './task-context.ts';

/** Charges recorded per task root span, in pico-USD, so several charges add up exactly. */
const charged = new WeakMap<object, Pico>();

/** Sets the tenant (customer, workspace, account) the current task is done for. */
export function setTaskTenant(tenantId: string): void {
  try {
    const task = currentScope()?.task;
    if (!task) return diag.warn('spendtrace: setTaskTenant called outside withTask; ignored');
    if (typeof tenantId !== 'string' || tenantId === '') return diag.warn('spendtrace: setTaskTenant expects a non-empty string; ignored');
    task.span.setAttribute(A.ATTR_SPENDTRACE_TENANT_ID, tenantId);
  } catch (err) {
    diag.error('spendtrace: setTaskTenant failed', err);
  }
}

/** Records what the app charged for the current task, in USD; called more than once, the amounts add up. */
export function recordTaskCharge(usd: number): void {
  try {
    const task = currentScope()?.task;
    if (!task) return diag.warn('spendtrace: recordTaskCharge called outside withTask; ignored');
    if (typeof usd !== 'number' || !Number.isFinite(usd) || usd < 0)
      return diag.warn(`spendtrace: recordTaskCharge expects a finite amount >= 0 in USD, got ${String(usd)}; ignored`);
    const total = (charged.get(task.span) ?? 0n) + usdToPico(usd);
    charged.set(task.span, total);
    task.span.setAttribute(A.ATTR_SPENDTRACE_TASK_CHARGED, picoToUsd(total));
  } catch (err) {
    diag.error('spendtrace: recordTaskCharge failed', err);
  }
}
