/** The store flags most commands share, resolved flag > env > config file > default. */
import { resolve } from 'node:path';
import { DATABASE_NAME, ENV, loadConfigFile, pick } from './config.ts';
import type { FileConfig } from './config.ts';
import type { Ctx } from './context.ts';
import { CliError, EXIT, usageError } from './errors.ts';
import type { StoreSettings } from './open-store.ts';
import { DEFAULT_DATABASE } from '../database-name.ts';

export const STORE_FLAGS = {
  data: { type: 'string' },
  'clickhouse-url': { type: 'string' },
  database: { type: 'string' },
  config: { type: 'string' },
} as const;

export const STORE_FLAGS_HELP = `Store:
  --data DIR               embedded chDB data directory            [env SPENDTRACE_DATA, default ./.spendtrace]
  --clickhouse-url URL     use a ClickHouse server instead          [env SPENDTRACE_CLICKHOUSE_URL]
  --database NAME          ClickHouse database                      [env SPENDTRACE_DATABASE, default spendtrace]
  --config FILE            JSON config file                         [env SPENDTRACE_CONFIG, default ./spendtrace.config.json if present]`;

export interface StoreFlagValues {
  data?: string;
  'clickhouse-url'?: string;
  database?: string;
  config?: string;
}

export function resolveStore(command: string, v: StoreFlagValues, ctx: Ctx): { store: StoreSettings; file: FileConfig } {
  const file = loadConfigFile(v.config, ctx.env, ctx.cwd);
  const id = (s: string) => s;
  const clickhouseUrl = pick<string | undefined>(v['clickhouse-url'], ctx.env[ENV.CLICKHOUSE_URL], file.clickhouseUrl, undefined, id);
  const data = resolve(ctx.cwd, pick(v.data, ctx.env[ENV.DATA], file.data, './.spendtrace', id));
  const database = pick(v.database, ctx.env[ENV.DATABASE], file.database, DEFAULT_DATABASE, id);
  if (v.data !== undefined && v['clickhouse-url'] !== undefined)
    throw usageError('give either --data (embedded chDB) or --clickhouse-url (a server), not both', command);
  if (!DATABASE_NAME.test(database)) {
    const msg = `invalid database name "${database}": expected letters, digits and _ (not starting with a digit)`;
    throw v.database !== undefined ? usageError(msg, command) : new CliError(EXIT.CONFIG, msg);
  }
  if (clickhouseUrl !== undefined) {
    try {
      const u = new URL(clickhouseUrl);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('protocol');
    } catch {
      const msg = `invalid ClickHouse URL "${clickhouseUrl}": expected http(s)://host:8123`;
      throw v['clickhouse-url'] !== undefined ? usageError(msg, command) : new CliError(EXIT.CONFIG, msg);
    }
  }
  return { store: { data, clickhouseUrl, database }, file };
}
