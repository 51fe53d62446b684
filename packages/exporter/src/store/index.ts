export { StoreError, type Lane, type QueryOptions, type Store, type StoreErrorCode, type StoreLogOptions } from './store.ts';
export { ChdbStore, type ChdbStoreOptions } from './chdb-store.ts';
export { ClickHouseStore, type ClickHouseStoreOptions } from './clickhouse-store.ts';
export { createStore, validateStoreConfig, type StoreConfig } from './create-store.ts';
