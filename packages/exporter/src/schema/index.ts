export { renderSchema, renderSql, schemaVariables, validateSchemaOptions, SchemaConfigError, SCHEMA_FILES, type SchemaOptions, type RenderedStatement } from './render.ts';
export { migrate, MigrationError, type MigrateOptions } from './migrate.ts';
