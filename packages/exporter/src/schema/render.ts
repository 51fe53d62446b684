/**
 * Renders the schema's .sql files (one statement each, read in the order below) with the few
 * variables they take. The SQL stays in the files so a reader sees the schema without TypeScript.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { IDENTIFIER, DEFAULT_DATABASE } from '../database-name.ts';

/** Statement files in dependency order: database, tables, then the views that feed the rollups. */
export const SCHEMA_FILES = [
  'database.sql',
  'spans-table.sql',
  'task-costs-table.sql',
  'hourly-costs-table.sql',
  'task-costs-mv.sql',
  'hourly-costs-mv.sql',
] as const;

/** With a cluster, after the replicated `*_local` tables: the Distributed tables every reader and writer uses. */
export const CLUSTER_FILES = ['spans-distributed.sql', 'task-costs-distributed.sql', 'hourly-costs-distributed.sql'] as const;

/** Each TTL option also becomes an ALTER, so it reaches a store whose tables already exist (CREATE IF NOT EXISTS would skip it). */
export const TTL_FILES = [
  ['ttlDays', 'spans-ttl.sql'],
  ['taskTtlDays', 'task-costs-ttl.sql'],
  ['hourlyTtlDays', 'hourly-costs-ttl.sql'],
] as const;

export interface SchemaOptions {
  /** Database holding every table. @default 'spendtrace' */
  database?: string;
  /**
   * Cluster name: DDL gets ON CLUSTER, the tables become Replicated* `*_local` tables and
   * Distributed tables sharded by task id take the plain names. @default undefined (single node)
   */
  cluster?: string;
  /** ZooKeeper/Keeper path of replicated tables (ClickHouse macros allowed). @default '/clickhouse/tables/{shard}/{database}/{table}' */
  replicationPath?: string;
  /** Raw spans are dropped this many days after they started. @default undefined (kept) */
  ttlDays?: number;
  /** Task rollups are dropped this many days after the task was last seen. @default undefined (kept) */
  taskTtlDays?: number;
  /** Hourly rollups are dropped this many days after their hour. @default undefined (kept) */
  hourlyTtlDays?: number;
}

export class SchemaConfigError extends Error {
  readonly code = 'SPENDTRACE_SCHEMA_CONFIG' as const;
}

/** Reports every problem at once. */
export function validateSchemaOptions(o: SchemaOptions): string[] {
  const p: string[] = [];
  if (o.database !== undefined && !IDENTIFIER.test(o.database))
    p.push(`database: expected an identifier [A-Za-z_][A-Za-z0-9_]*, got ${JSON.stringify(o.database)}`);
  if (o.cluster !== undefined && !/^[A-Za-z0-9_.-]+$/.test(o.cluster))
    p.push(`cluster: expected a cluster name [A-Za-z0-9_.-]+, got ${JSON.stringify(o.cluster)}`);
  if (o.replicationPath !== undefined && /['\\]/.test(o.replicationPath)) p.push('replicationPath: must not contain quotes or backslashes');
  for (const k of ['ttlDays', 'taskTtlDays', 'hourlyTtlDays'] as const) {
    const v = o[k];
    if (v !== undefined && !(Number.isInteger(v) && v > 0)) p.push(`${k}: expected a whole number of days > 0, got ${v}`);
  }
  return p;
}

export function schemaVariables(o: SchemaOptions = {}): Record<string, string> {
  const problems = validateSchemaOptions(o);
  if (problems.length) throw new SchemaConfigError(`invalid schema options: ${problems.join('; ')}`);
  const replicated = o.cluster !== undefined;
  const path = o.replicationPath ?? '/clickhouse/tables/{shard}/{database}/{table}';
  return {
    database: o.database ?? DEFAULT_DATABASE,
    on_cluster: replicated ? `ON CLUSTER \`${o.cluster}\`` : '',
    cluster: o.cluster ?? '',
    // On a cluster the MergeTree tables are shard-local; the plain names go to the Distributed tables.
    local: replicated ? '_local' : '',
    engine_prefix: replicated ? 'Replicated' : '',
    engine_args: replicated ? `('${path}', '{replica}')` : '',
    ttl: o.ttlDays ? `TTL toDateTime(start_time) + INTERVAL ${o.ttlDays} DAY` : '',
    ttl_task: o.taskTtlDays ? `TTL toDateTime(last_seen) + INTERVAL ${o.taskTtlDays} DAY` : '',
    ttl_hourly: o.hourlyTtlDays ? `TTL hour + INTERVAL ${o.hourlyTtlDays} DAY` : '',
  };
}

/** Replaces `{{name}}`; an unknown name is an error (a typo must not reach ClickHouse). Single braces (ClickHouse macros) pass through. */
export function renderSql(template: string, vars: Record<string, string>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (_m, name: string) => {
    const v = vars[name];
    if (v === undefined) throw new SchemaConfigError(`schema template uses unknown variable {{${name}}}`);
    return v;
  });
}

export interface RenderedStatement {
  file: string;
  sql: string;
}

const cache = new Map<string, string>();
function readTemplate(file: string): string {
  let t = cache.get(file);
  if (t === undefined) {
    t = readFileSync(fileURLToPath(new URL(`./${file}`, import.meta.url)), 'utf8');
    cache.set(file, t);
  }
  return t;
}

/** The statement files for these options, in order: creates, Distributed tables on a cluster, then TTL alters. */
export function schemaFiles(o: SchemaOptions = {}): string[] {
  return [
    ...SCHEMA_FILES,
    ...(o.cluster !== undefined ? CLUSTER_FILES : []),
    ...TTL_FILES.filter(([option]) => o[option] !== undefined).map(([, file]) => file),
  ];
}

/** Every schema statement, rendered, in order. */
export function renderSchema(o: SchemaOptions = {}): RenderedStatement[] {
  const vars = schemaVariables(o);
  return schemaFiles(o).map((file) => ({ file, sql: renderSql(readTemplate(file), vars).trim() }));
}
