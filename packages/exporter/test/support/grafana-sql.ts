/**
 * What Grafana does to a panel's SQL before ClickHouse sees it, for testing dashboards without a
 * Grafana server: first the frontend interpolates template variables (`${name:singlequote}`), then
 * the grafana-clickhouse-datasource backend expands its macros. The expansions follow the plugin's
 * pkg/macros/macros.go (grafana/clickhouse-datasource) and the argument parsing of grafana/sqlds:
 * `$__name` optionally followed by a bracketed, comma-separated argument list.
 */

export interface GrafanaQueryContext {
  /** The dashboard's time range, Unix seconds. */
  from: number;
  to: number;
  /** The query interval in seconds (Grafana's $__interval, at least the panel's min interval). */
  intervalSeconds: number;
  /** Selected values of each template variable (All = every option). */
  variables: Record<string, string[]>;
}

const quote = (v: string) => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** Grafana's interpolation of `${name}`, `${name:singlequote}`, `${name:csv}` and `$name`; an unknown variable or format throws. */
export function interpolateVariables(sql: string, vars: Record<string, string[]>): string {
  return sql.replace(/\$\{(\w+)(?::(\w+))?\}|\$(?!__)(\w+)/g, (_m, braced: string | undefined, format: string | undefined, bare: string | undefined) => {
    const name = braced ?? bare!;
    const values = vars[name];
    if (!values) throw new Error(`unknown template variable $${name}`);
    switch (format) {
      case 'singlequote':
        return values.map(quote).join(',');
      case 'csv':
      case undefined:
        return values.join(',');
      default:
        throw new Error(`format ${format} of $${name} not supported here`);
    }
  });
}

/** The bracketed argument list at the start of `s` ([] and 0 when there is none), split at top-level commas. */
function parseArgs(s: string): [string[], number] {
  if (!s.startsWith('(')) return [[], 0];
  let depth = 0;
  let arg = '';
  const args: string[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '(') {
      depth++;
      if (depth === 1) continue;
    } else if (c === ')') {
      depth--;
      if (depth === 0) {
        args.push(arg.trim());
        return [args, i + 1];
      }
    } else if (c === ',' && depth === 1) {
      args.push(arg.trim());
      arg = '';
      continue;
    }
    arg += c;
  }
  throw new Error('macro arguments without a closing bracket');
}

const dateTime = (s: number) => `toDateTime(${s})`;
const dateTime64 = (s: number) => `fromUnixTimestamp64Milli(${s * 1000})`;
const date = (s: number) => `toDate('${new Date(s * 1000).toISOString().slice(0, 10)}')`;

type Macro = (args: string[], q: GrafanaQueryContext) => string;
const one = (name: string, args: string[]) => {
  if (args.length !== 1) throw new Error(`$__${name}: expected 1 argument, received ${args.length}`);
  return args[0]!;
};
const MACROS: Record<string, Macro> = {
  fromTime: (_a, q) => dateTime(q.from),
  toTime: (_a, q) => dateTime(q.to),
  fromTime_ms: (_a, q) => dateTime64(q.from),
  toTime_ms: (_a, q) => dateTime64(q.to),
  timeFilter: (a, q) => {
    const c = one('timeFilter', a);
    return `${c} >= ${dateTime(q.from)} AND ${c} <= ${dateTime(q.to)}`;
  },
  timeFilter_ms: (a, q) => {
    const c = one('timeFilter_ms', a);
    return `${c} >= ${dateTime64(q.from)} AND ${c} <= ${dateTime64(q.to)}`;
  },
  dateFilter: (a, q) => {
    const c = one('dateFilter', a);
    return `${c} >= ${date(q.from)} AND ${c} <= ${date(q.to)}`;
  },
  timeInterval: (a, q) => `toStartOfInterval(toDateTime(${one('timeInterval', a)}), INTERVAL ${Math.max(1, Math.floor(q.intervalSeconds))} second)`,
  interval_s: (_a, q) => String(Math.max(1, Math.floor(q.intervalSeconds))),
};

/** The plugin's macro expansion; a macro it does not have throws (Grafana would send it to ClickHouse as is). */
export function expandMacros(sql: string, q: GrafanaQueryContext): string {
  let out = '';
  let rest = sql;
  for (;;) {
    const m = /\$__(\w+)/.exec(rest);
    if (!m) return out + rest;
    const macro = MACROS[m[1]!];
    if (!macro) throw new Error(`$__${m[1]} is not a macro of grafana-clickhouse-datasource`);
    const after = rest.slice(m.index + m[0].length);
    const [args, length] = parseArgs(after);
    out += rest.slice(0, m.index) + macro(args, q);
    rest = after.slice(length);
  }
}

/** Variables, then macros: the SQL Grafana sends for a panel. */
export function grafanaSql(sql: string, q: GrafanaQueryContext): string {
  return expandMacros(interpolateVariables(sql, q.variables), q);
}
