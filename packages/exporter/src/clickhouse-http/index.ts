export { startClickHouseHttp, httpStatusOf, type ClickHouseHttpOptions, type ClickHouseHttpServer } from './clickhouse-http-server.ts';
export { openChdbReader, SqlError, type SqlReader, type ReadResult } from './chdb-reader.ts';
export { shapeOf, codeOnly, type QueryShape } from './query-text.ts';
