/**
 * Settings, resolved in one order everywhere: flag, then environment variable, then config file,
 * then default. The config file is JSON: `--config FILE`, else SPENDTRACE_CONFIG, else
 * `./spendtrace.config.json` when it exists.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { AlertsConfigError, parseAlertsConfig } from '../alerts/rules.ts';
import type { AlertsConfig } from '../alerts/rules.ts';
import { InsightsConfigError, parseInsightsConfig } from '../insights/thresholds.ts';
import type { InsightThresholds } from '../insights/thresholds.ts';
import { CliError, EXIT, usageError } from './errors.ts';

export type Env = Record<string, string | undefined>;

/** Keys the config file may hold; anything else is reported as a config error. */
export interface FileConfig {
  data?: string;
  clickhouseUrl?: string;
  database?: string;
  port?: number;
  host?: string;
  since?: string;
  service?: string;
  prices?: string;
  /** false: `serve` does not create the schema (the operator owns the DDL). */
  createSchema?: boolean;
  /** Alert sinks and rules, checked by `parseAlertsConfig` (README "Alerts"). */
  alerts?: unknown;
  /** The insight detectors' thresholds, checked by `parseInsightsConfig` (exporter README "Insights"). */
  insights?: unknown;
  /** OTLP/gRPC port (default 4317); "off" turns the receiver off. */
  grpcPort?: number | 'off';
  /** ClickHouse HTTP interface port on the embedded store (default 8123); "off" turns it off. */
  clickhouseHttpPort?: number | 'off';
  /** File of auth tokens, one per line. */
  authTokensFile?: string;
}

const FILE_KEYS: Record<keyof FileConfig, 'string' | 'number' | 'boolean' | 'object' | 'port or "off"'> = {
  data: 'string',
  clickhouseUrl: 'string',
  database: 'string',
  port: 'number',
  host: 'string',
  since: 'string',
  service: 'string',
  prices: 'string',
  createSchema: 'boolean',
  alerts: 'object',
  insights: 'object',
  grpcPort: 'port or "off"',
  clickhouseHttpPort: 'port or "off"',
  authTokensFile: 'string',
};

export const ENV = {
  DATA: 'SPENDTRACE_DATA',
  CLICKHOUSE_URL: 'SPENDTRACE_CLICKHOUSE_URL',
  PORT: 'SPENDTRACE_PORT',
  HOST: 'SPENDTRACE_HOST',
  DATABASE: 'SPENDTRACE_DATABASE',
  SERVER: 'SPENDTRACE_SERVER',
  CONFIG: 'SPENDTRACE_CONFIG',
  PRICES: 'SPENDTRACE_PRICES_FILE',
  SKIP_SCHEMA: 'SPENDTRACE_SKIP_SCHEMA',
  WAL_DIR: 'SPENDTRACE_WAL_DIR',
  WAL_MAX_BYTES: 'SPENDTRACE_WAL_MAX_BYTES',
  SHUTDOWN_TIMEOUT: 'SPENDTRACE_SHUTDOWN_TIMEOUT',
  GRPC_PORT: 'SPENDTRACE_GRPC_PORT',
  CLICKHOUSE_HTTP_PORT: 'SPENDTRACE_CLICKHOUSE_HTTP_PORT',
  AUTH_TOKENS: 'SPENDTRACE_AUTH_TOKENS',
  AUTH_TOKENS_FILE: 'SPENDTRACE_AUTH_TOKENS_FILE',
  /** The token `spendtrace sql` and `report --server` send. */
  TOKEN: 'SPENDTRACE_TOKEN',
} as const;

export function loadConfigFile(flag: string | undefined, env: Env, cwd: string): FileConfig {
  const explicit = flag ?? env[ENV.CONFIG];
  const file = explicit ? resolve(cwd, explicit) : resolve(cwd, 'spendtrace.config.json');
  if (!explicit && !existsSync(file)) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new CliError(EXIT.CONFIG, `cannot read config file ${file}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new CliError(EXIT.CONFIG, `config file ${file}: expected a JSON object such as {"data": "./.spendtrace", "port": 4318}`);
  }
  const problems: string[] = [];
  for (const [k, v] of Object.entries(parsed)) {
    const want = FILE_KEYS[k as keyof FileConfig];
    if (!want) problems.push(`unknown key "${k}" (expected one of ${Object.keys(FILE_KEYS).join(', ')})`);
    else if (want === 'port or "off"') {
      if (v !== 'off' && !(Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 65535))
        problems.push(`"${k}" must be a port number 0-65535 or "off", got ${JSON.stringify(v)}`);
    } else if (typeof v !== want) problems.push(`"${k}" must be a${want === 'object' ? 'n' : ''} ${want}, got ${JSON.stringify(v)}`);
    else if (k === 'alerts') {
      try {
        parseAlertsConfig(v, env);
      } catch (err) {
        if (!(err instanceof AlertsConfigError)) throw err;
        problems.push(...err.problems);
      }
    } else if (k === 'insights') {
      try {
        parseInsightsConfig(v);
      } catch (err) {
        if (!(err instanceof InsightsConfigError)) throw err;
        problems.push(...err.problems);
      }
    }
  }
  if (problems.length) throw new CliError(EXIT.CONFIG, `config file ${file}: ${problems.join('; ')}`);
  return parsed as FileConfig;
}

/** The config file's alerts, with defaults; undefined when it has none. Run after loadConfigFile (which validated them). */
export function alertsOf(file: FileConfig, env: Env): AlertsConfig | undefined {
  if (file.alerts === undefined) return undefined;
  try {
    return parseAlertsConfig(file.alerts, env);
  } catch (err) {
    if (err instanceof AlertsConfigError) throw new CliError(EXIT.CONFIG, `config file: ${err.problems.join('; ')}`, { cause: err });
    throw err;
  }
}

/** The config file's insight thresholds over the defaults. Run after loadConfigFile (which validated them). */
export function insightsOf(file: FileConfig): InsightThresholds {
  try {
    return parseInsightsConfig(file.insights);
  } catch (err) {
    if (err instanceof InsightsConfigError) throw new CliError(EXIT.CONFIG, `config file: ${err.problems.join('; ')}`, { cause: err });
    throw err;
  }
}

/** flag > env > config file > default. Empty env values count as unset. */
export function pick<T>(flag: T | undefined, envValue: string | undefined, file: T | undefined, fallback: T, parse: (s: string) => T): T {
  if (flag !== undefined) return flag;
  if (envValue !== undefined && envValue !== '') return parse(envValue);
  if (file !== undefined) return file;
  return fallback;
}

export function parsePort(text: string, source: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n > 65535) {
    const msg = `invalid ${source} "${text}": expected a port number 0-65535 (0 picks a free port)`;
    throw source.startsWith('--') ? usageError(msg, 'serve') : new CliError(EXIT.CONFIG, msg);
  }
  return n;
}

/** A port that can be turned off: a number, or "off". */
export function parseOptionalPort(text: string, source: string): number | 'off' {
  return text.trim().toLowerCase() === 'off' ? 'off' : parsePort(text, source);
}

export { IDENTIFIER as DATABASE_NAME } from '../database-name.ts';
