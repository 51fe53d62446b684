export * from './attributes.ts';
export * from './money.ts';
export * from './usage.ts';
export * from './pricing.ts';
export * from './cost-attributes.ts';
export * from './route-stats.ts';
