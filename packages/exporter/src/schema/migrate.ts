/** Creates the database, tables and materialized views (idempotent: every statement is IF NOT EXISTS). */
import type { Store } from '../store/store.ts';
import { renderSchema, type SchemaOptions } from './render.ts';

export interface MigrateOptions extends SchemaOptions {
  /** Off for operators who own their DDL: migrate then does nothing. @default true */
  createSchema?: boolean;
}

export class MigrationError extends Error {
  readonly code = 'SPENDTRACE_MIGRATION' as const;
  readonly file: string;
  constructor(file: string, options: { cause: unknown }) {
    super(`schema statement ${file} failed: ${(options.cause as Error)?.message ?? String(options.cause)}`, options);
    this.file = file;
  }
}

/** Applies the schema; returns the files applied (empty when createSchema is false). */
export async function migrate(store: Store, opts: MigrateOptions = {}): Promise<string[]> {
  if (opts.createSchema === false) return [];
  const applied: string[] = [];
  for (const { file, sql } of renderSchema(opts)) {
    try {
      await store.command(sql);
    } catch (cause) {
      throw new MigrationError(file, { cause });
    }
    applied.push(file);
  }
  return applied;
}
