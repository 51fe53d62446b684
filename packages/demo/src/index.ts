export { runDemoFleet, UNPRICED_MODEL, WEB_SEARCH_FEE_USD } from './fleet.ts';
export type { DemoFleetOptions, DemoFleetResult, DemoTaskRecord } from './fleet.ts';
export { seeded } from './random.ts';
export type { Random } from './random.ts';
