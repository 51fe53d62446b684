export { reprice, ensureSignedCounts, REPRICEABLE_SOURCES, type RepriceOptions, type RepriceProgress, type RepriceResult } from './reprice.ts';
