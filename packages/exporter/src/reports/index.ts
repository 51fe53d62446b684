export * from './types.ts';
export { costsByAgent, costsByHour, costsByModel, costsByTask, costsByTool, fullReport, summary } from './costs.ts';
export { costsBy, createReportRoutes, isGroupBy } from './api.ts';
export { routingReport } from './routing.ts';
export type { RoutingExperimentRow, RoutingFinding, RoutingModelRow, RoutingOptions, RoutingReport, RoutingTaskType } from './routing.ts';
export type { ExtraRoutes, ReportRoutesOptions } from './api.ts';
export { ALL_TIME_SECONDS, InvalidWindowError, parseSince } from './window.ts';
