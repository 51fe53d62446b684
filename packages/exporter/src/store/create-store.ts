/** Picks a store from config: a ClickHouse URL means a server, otherwise embedded chDB on a data directory. */
import { ChdbStore } from './chdb-store.ts';
import { ClickHouseStore } from './clickhouse-store.ts';
import { StoreError, type Store, type StoreLogOptions } from './store.ts';

export interface StoreConfig extends StoreLogOptions {
  /** A ClickHouse server, e.g. http://localhost:8123. Env: CLICKHOUSE_URL (read by the CLI). @default undefined (embedded chDB) */
  clickhouseUrl?: string;
  /** chDB data directory when no URL is given. @default './.spendtrace' */
  dataDir?: string;
  username?: string;
  password?: string;
}

/** Reports every problem with the config at once. */
export function validateStoreConfig(config: StoreConfig): string[] {
  const problems: string[] = [];
  if (config.clickhouseUrl !== undefined) {
    try {
      const u = new URL(config.clickhouseUrl);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') problems.push(`clickhouseUrl: expected an http:// or https:// URL, got ${u.protocol}`);
    } catch {
      problems.push(`clickhouseUrl: expected a URL such as http://localhost:8123, got ${JSON.stringify(config.clickhouseUrl)}`);
    }
    if (config.dataDir !== undefined) problems.push('dataDir: not used with clickhouseUrl; give one or the other');
  }
  if (config.dataDir !== undefined && (typeof config.dataDir !== 'string' || config.dataDir === '')) problems.push('dataDir: expected a directory path');
  return problems;
}

export async function createStore(config: StoreConfig = {}): Promise<Store> {
  const problems = validateStoreConfig(config);
  if (problems.length) throw new StoreError('SPENDTRACE_STORE_CONFIG', `invalid store config: ${problems.join('; ')}`);
  const log = { ...(config.logQueries !== undefined ? { logQueries: config.logQueries } : {}), ...(config.log ? { log: config.log } : {}) };
  if (config.clickhouseUrl) {
    return ClickHouseStore.open({
      url: config.clickhouseUrl,
      ...(config.username !== undefined ? { username: config.username } : {}),
      ...(config.password !== undefined ? { password: config.password } : {}),
      ...log,
    });
  }
  return ChdbStore.open({ dataDir: config.dataDir ?? './.spendtrace', ...log });
}
