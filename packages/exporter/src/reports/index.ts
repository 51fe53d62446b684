export * from './types.ts';
export { costsByAgent, costsByHour, costsByModel, costsByTask, costsByTool, fullReport, summary } from './costs.ts';
export { budgetsByTask } from './budgets.ts';
export type { BudgetRow } from './budgets.ts';
export { costsBy, createReportRoutes, isGroupBy } from './api.ts';
export type { ExtraRoutes, ReportRoutesOptions } from './api.ts';
export { ALL_TIME_SECONDS, InvalidWindowError, parseSince } from './window.ts';
