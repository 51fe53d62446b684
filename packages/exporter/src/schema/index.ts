export {
  renderSchema,
  renderSql,
  schemaVariables,
  validateSchemaOptions,
  SchemaConfigError,
  SCHEMA_FILES,
  CLUSTER_FILES,
  TTL_FILES,
  schemaFiles,
  type SchemaOptions,
  type RenderedStatement,
} from './render.ts';
export { migrate, MigrationError, type MigrateOptions } from './migrate.ts';
