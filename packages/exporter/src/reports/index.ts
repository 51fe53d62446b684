export * from './types.ts';
export { costsByAgent, costsByHour, costsByModel, costsByTask, costsByTool, DEFAULT_CONCENTRATION, fullReport, summary } from './costs.ts';
export { costsBy, costsByAny, createReportRoutes, isGroupBy } from './api.ts';
export { breakdown, DIMENSIONS, InvalidDimensionError, parseDimensions } from './breakdown.ts';
export type { BreakdownRow, Dimension } from './breakdown.ts';
export { costsByTaskName, OVER_MEDIAN_FACTOR } from './task-stats.ts';
export { costPerSuccessByDay, projection, ticker } from './trend.ts';
export type { ExtraRoutes, ReportRoutesOptions } from './api.ts';
export { ALL_TIME_SECONDS, InvalidWindowError, parseSince } from './window.ts';
