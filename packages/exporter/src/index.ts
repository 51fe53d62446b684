/**
 * @spendtrace/exporter: the service's building blocks. The export path, top to bottom:
 * otlp (decode) -> ingest (classify, normalize, price, dedupe, batch) -> store (chDB or ClickHouse),
 * with schema (DDL + migrate) and server (OTLP/HTTP receiver) around it.
 */
export { startServer, type ServerOptions, type RunningServer } from './server.ts';
export { createStore, validateStoreConfig, ChdbStore, ClickHouseStore, StoreError } from './store/index.ts';
export type { Store, StoreConfig, StoreErrorCode, StoreLogOptions, ChdbStoreOptions, ClickHouseStoreOptions } from './store/index.ts';
export { migrate, MigrationError, renderSchema, renderSql, schemaVariables, validateSchemaOptions, SchemaConfigError, SCHEMA_FILES } from './schema/index.ts';
export type { MigrateOptions, SchemaOptions, RenderedStatement } from './schema/index.ts';
export {
  decodeProtobufRequest,
  decodeProtobufRequestWithProtobufjs,
  decodeJsonRequest,
  encodeExportResponse,
  encodeStatus,
  OtlpDecodeError,
  countSpans,
} from './otlp/index.ts';
export type { TraceRequest, OtlpSpan, OtlpScopeSpans, OtlpResourceSpans, Attributes, AttrValue, OtlpEncoding } from './otlp/index.ts';
export {
  Ingester,
  BackpressureError,
  IngesterClosedError,
  Drainer,
  SpanWriter,
  StoreUnavailableError,
  WriteAheadLog,
  WalFullError,
  requestToRows,
  spanToRow,
  classifySpan,
  SeenWindow,
  LIMITS,
} from './ingest/index.ts';
export type { DrainerOptions, IngesterOptions, IngestResult, RequestRows, SpanRow, SpanClass } from './ingest/index.ts';
export * from './reports/index.ts';
export { run, CliError, EXIT, type ExitCode, type CliIO } from './cli/index.ts';
export { insights, DETECTORS } from './insights/index.ts';
export type { Finding, Insights, InsightOptions, Detector } from './insights/index.ts';
