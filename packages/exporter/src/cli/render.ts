/** Renders reports as text for people (the JSON form is the report objects themselves). */
import { parsePico } from '@spendtrace/semconv';
import type {
  AgentRow,
  BreakdownRow,
  DayRow,
  Dimension,
  FullReport,
  GroupBy,
  HourRow,
  ModelRow,
  Projection,
  RoutingReport,
  Summary,
  TaskNameRow,
  TaskRow,
  ToolRow,
} from '../reports/index.ts';
import { count, hour, money, ms, percent, table, time } from './format.ts';
import { renderRouting } from './render-routing.ts';
import type { Column } from './format.ts';

const dash = (s: string) => s || '—';
const isZero = (usd: string) => parsePico(usd) === 0n;

/** Cost cell that never shows an unpriced model as $0. */
function costCell(cost: string, unpriced: number): string {
  if (unpriced > 0 && isZero(cost)) return 'unpriced';
  return unpriced > 0 ? `${money(cost)} +unpriced` : money(cost);
}

const taskColumns: Column<TaskRow>[] = [
  { header: 'TASK', value: (r) => dash(r.taskName), max: 24 },
  { header: 'AGENT', value: (r) => dash(r.agent), max: 20 },
  { header: 'OUTCOME', value: (r) => dash(r.outcome) },
  { header: 'COST', value: (r) => costCell(r.cost, r.unpricedCalls), align: 'right' },
  { header: 'LLM', value: (r) => money(r.llmCost), align: 'right' },
  { header: 'TOOLS', value: (r) => money(r.toolCost), align: 'right' },
  { header: 'CALLS', value: (r) => `${r.llmCalls}+${r.toolCalls}`, align: 'right' },
  { header: 'TOKENS IN/OUT', value: (r) => `${count(r.tokens.input)}/${count(r.tokens.output)}`, align: 'right' },
  { header: 'ERR', value: (r) => String(r.errors), align: 'right' },
  { header: 'VS MEDIAN', value: (r) => (r.vsMedian === null ? '—' : `${r.vsMedian.toFixed(1)}×${r.overMedian ? ' !' : ''}`), align: 'right' },
  { header: 'STARTED', value: (r) => time(r.firstSeen).slice(11) },
  { header: 'TASK ID', value: (r) => r.taskId.slice(0, 8) },
];

const toolColumns: Column<ToolRow>[] = [
  { header: 'TOOL', value: (r) => r.tool, max: 28 },
  { header: 'CALLS', value: (r) => count(r.calls), align: 'right' },
  { header: 'TOOL FEES', value: (r) => money(r.toolCost), align: 'right' },
  { header: 'LLM CALLS', value: (r) => count(r.llmCalls), align: 'right' },
  { header: 'LLM COST', value: (r) => costCell(r.llmCost, r.unpricedCalls), align: 'right' },
  { header: 'TOTAL', value: (r) => money(r.cost), align: 'right' },
  { header: 'ERR', value: (r) => String(r.errors), align: 'right' },
  { header: 'ERROR RATE', value: (r) => percent(r.errorRate), align: 'right' },
  { header: 'IN OK TASKS', value: (r) => percent(r.successRate), align: 'right' },
  { header: 'P50', value: (r) => (r.calls ? ms(r.latencyMs.p50) : '—'), align: 'right' },
  { header: 'P95', value: (r) => (r.calls ? ms(r.latencyMs.p95) : '—'), align: 'right' },
];

const modelColumns: Column<ModelRow>[] = [
  { header: 'PROVIDER', value: (r) => dash(r.provider) },
  { header: 'MODEL', value: (r) => dash(r.model), max: 32 },
  { header: 'CALLS', value: (r) => count(r.calls), align: 'right' },
  { header: 'TOKENS IN', value: (r) => count(r.tokens.input), align: 'right' },
  { header: 'CACHED', value: (r) => count(r.tokens.cacheRead), align: 'right' },
  { header: 'TOKENS OUT', value: (r) => count(r.tokens.output), align: 'right' },
  { header: 'COST', value: (r) => costCell(r.cost, r.unpricedCalls), align: 'right' },
  { header: 'SHARE', value: (r) => (r.unpricedCalls && isZero(r.cost) ? '—' : percent(r.share)), align: 'right' },
  { header: 'ERR', value: (r) => String(r.errors), align: 'right' },
  { header: 'P50', value: (r) => ms(r.latencyMs.p50), align: 'right' },
  { header: 'P95', value: (r) => ms(r.latencyMs.p95), align: 'right' },
];

const agentColumns: Column<AgentRow>[] = [
  { header: 'AGENT', value: (r) => dash(r.agent), max: 28 },
  { header: 'TASKS', value: (r) => count(r.tasks), align: 'right' },
  { header: 'OK', value: (r) => count(r.successfulTasks), align: 'right' },
  { header: 'FAILED', value: (r) => count(r.failedTasks), align: 'right' },
  { header: 'COST', value: (r) => costCell(r.cost, r.unpricedCalls), align: 'right' },
  { header: 'PER SUCCESS', value: (r) => money(r.costPerSuccessfulTask), align: 'right' },
  { header: 'LLM', value: (r) => money(r.llmCost), align: 'right' },
  { header: 'TOOLS', value: (r) => money(r.toolCost), align: 'right' },
  { header: 'CALLS', value: (r) => `${r.llmCalls}+${r.toolCalls}`, align: 'right' },
  { header: 'ERR', value: (r) => String(r.errors), align: 'right' },
];

const hourColumns: Column<HourRow>[] = [
  { header: 'HOUR (UTC)', value: (r) => hour(r.hour) },
  { header: 'COST', value: (r) => costCell(r.cost, r.unpricedCalls), align: 'right' },
  { header: 'LLM CALLS', value: (r) => count(r.llmCalls), align: 'right' },
  { header: 'TOOL CALLS', value: (r) => count(r.toolCalls), align: 'right' },
  { header: 'TOKENS IN', value: (r) => count(r.tokens.input), align: 'right' },
  { header: 'TOKENS OUT', value: (r) => count(r.tokens.output), align: 'right' },
  { header: 'ERR', value: (r) => String(r.errors), align: 'right' },
  { header: 'LLM P50', value: (r) => (r.llmCalls ? ms(r.latencyMs.p50) : '—'), align: 'right' },
  { header: 'LLM P95', value: (r) => (r.llmCalls ? ms(r.latencyMs.p95) : '—'), align: 'right' },
];

const taskNameColumns: Column<TaskNameRow>[] = [
  { header: 'TASK NAME', value: (r) => dash(r.taskName), max: 24 },
  { header: 'AGENT', value: (r) => dash(r.agent), max: 20 },
  { header: 'TASKS', value: (r) => count(r.tasks), align: 'right' },
  { header: 'OK', value: (r) => count(r.successfulTasks), align: 'right' },
  { header: 'COST', value: (r) => costCell(r.cost, r.unpricedTasks), align: 'right' },
  { header: 'PER SUCCESS', value: (r) => money(r.costPerSuccessfulTask), align: 'right' },
  { header: 'P50', value: (r) => money(r.costPerTask?.p50), align: 'right' },
  { header: 'P90', value: (r) => money(r.costPerTask?.p90), align: 'right' },
  { header: 'P95', value: (r) => money(r.costPerTask?.p95), align: 'right' },
  { header: 'P99', value: (r) => money(r.costPerTask?.p99), align: 'right' },
  { header: '>2× MEDIAN', value: (r) => String(r.overMedianTasks), align: 'right' },
  { header: 'UNPRICED', value: (r) => (r.unpricedTasks ? `${r.unpricedTasks} left out` : '—'), align: 'right' },
];

const dayColumns: Column<DayRow>[] = [
  { header: 'DAY (UTC)', value: (r) => r.day },
  { header: 'TASKS', value: (r) => count(r.tasks), align: 'right' },
  { header: 'OK', value: (r) => count(r.successfulTasks), align: 'right' },
  { header: 'COST', value: (r) => money(r.cost), align: 'right' },
  { header: 'PER SUCCESS', value: (r) => money(r.costPerSuccessfulTask), align: 'right' },
  { header: 'UNPRICED', value: (r) => (r.unpricedTasks ? `${r.unpricedTasks} left out` : '—'), align: 'right' },
];

const DIM_HEADERS: Record<Dimension, string> = {
  agent: 'AGENT',
  task: 'TASK NAME',
  model: 'MODEL',
  provider: 'PROVIDER',
  user: 'USER',
  tenant: 'TENANT',
  tool: 'TOOL',
  service: 'SERVICE',
  prompt: 'PROMPT',
};

/** `--by agent,task,model` and friends: one column per dimension, then the figures (and margin when there is one). */
export function renderBreakdown(dims: readonly Dimension[], rows: readonly BreakdownRow[], opts: { limit?: number } = {}): string {
  const title = `By ${dims.join(' × ')}`;
  if (rows.length === 0)
    return `${title}
  (none in this window)`;
  const limit = opts.limit && opts.limit > 0 ? opts.limit : rows.length;
  const shown = rows.slice(0, limit);
  const withMargin = rows.some((r) => r.chargedTasks);
  const cols: Column<BreakdownRow>[] = [
    ...dims.map((d): Column<BreakdownRow> => ({
      header: DIM_HEADERS[d],
      value: (r) => (d === 'model' && !r.key.model && !r.calls ? '(tool fees)' : dash(r.key[d] ?? '')),
      max: 28,
    })),
    { header: 'CALLS', value: (r) => count(r.calls), align: 'right' },
    { header: 'ATTEMPTS', value: (r) => count(r.attempts), align: 'right' },
    { header: 'AVG IN', value: (r) => count(r.avgInputTokens), align: 'right' },
    { header: 'AVG OUT', value: (r) => count(r.avgOutputTokens), align: 'right' },
    { header: 'COST', value: (r) => costCell(r.cost, r.unpricedCalls), align: 'right' },
    { header: 'SHARE', value: (r) => percent(r.share), align: 'right' },
    ...(withMargin
      ? [
          { header: 'CHARGED', value: (r: BreakdownRow) => (r.chargedTasks ? money(r.charged) : '—'), align: 'right' as const },
          {
            header: 'MARGIN',
            value: (r: BreakdownRow) =>
              r.margin === undefined || r.margin === null ? (r.chargedTasks ? 'unpriced' : '—') : `${money(r.margin)} (${percent(r.marginRate)})`,
            align: 'right' as const,
          },
        ]
      : []),
  ];
  const more = rows.length > shown.length ? `\n  … ${rows.length - shown.length} more (--limit 0 shows all)` : '';
  return `${title}\n${table(shown, cols)}${more}`;
}

export function renderProjection(p: Projection): string {
  const lines = ['Projection'];
  if (!p.days.length) return `${lines[0]}\n  No spend in the last 7 days.`;
  lines.push(`  ${p.month}: ${money(p.projectedMonth)}   (range ${money(p.range.low)} – ${money(p.range.high)})`);
  lines.push(`  daily mean ${money(p.dailyMean)} · min ${money(p.dailyMin)} · max ${money(p.dailyMax)} · std dev ${money(p.dailyStdDev)}`);
  lines.push(`  method: ${p.method}`);
  if (p.unpricedCalls) lines.push(`  ! ${count(p.unpricedCalls)} unpriced calls in those days are not in the projection`);
  return lines.join('\n');
}

const TITLES: Record<GroupBy, string> = {
  task: 'By task (most expensive first; times UTC)',
  tool: 'By tool',
  model: 'By model',
  agent: 'By agent',
  hour: 'By hour',
};

export function renderRows(by: GroupBy, rows: readonly unknown[], opts: { limit?: number } = {}): string {
  const title = TITLES[by];
  if (rows.length === 0) return `${title}\n  (none in this window)`;
  const limit = opts.limit && opts.limit > 0 ? opts.limit : rows.length;
  const shown = rows.slice(0, limit);
  const body = (() => {
    switch (by) {
      case 'task':
        return table(shown as TaskRow[], taskColumns);
      case 'tool':
        return table(shown as ToolRow[], toolColumns);
      case 'model':
        return table(shown as ModelRow[], modelColumns);
      case 'agent':
        return table(shown as AgentRow[], agentColumns);
      case 'hour':
        return table(shown as HourRow[], hourColumns);
    }
  })();
  const more = rows.length > shown.length ? `\n  … ${rows.length - shown.length} more (--by ${by} --limit 0 shows all)` : '';
  return `${title}\n${body}${more}`;
}

function windowLabel(s: Summary): string {
  const w = s.since === 'all' ? 'all time' : `last ${s.since}`;
  return `${w}, ${s.service ? `service ${s.service}` : 'all services'}`;
}

export function renderSummary(s: Summary, opts: { emptyHint?: string } = {}): string {
  const lines = [`Summary (${windowLabel(s)})`];
  if (s.tasks === 0) {
    lines.push(`  No tasks in this window.${opts.emptyHint ? ` ${opts.emptyHint}` : ''}`);
    return lines.join('\n');
  }
  const kv = (k: string, v: string) => lines.push(`  ${k.padEnd(26)}${v}`);
  kv('Total cost', `${money(s.totalCost)}   (LLM ${money(s.llmCost)} · tools ${money(s.toolCost)})`);
  const outcomes = [`${count(s.successfulTasks)} succeeded`, `${count(s.failedTasks)} failed`];
  if (s.unknownOutcomeTasks) outcomes.push(`${count(s.unknownOutcomeTasks)} no outcome`);
  kv('Tasks', `${count(s.tasks)}   (${outcomes.join(', ')})   success rate ${percent(s.successRate)}`);
  kv(
    'Cost per successful task',
    s.costPerSuccessfulTask === null
      ? '—   (no task reported success)'
      : `${money(s.costPerSuccessfulTask)}   (cost of all ${count(s.tasks - s.unpricedTasks)} priced tasks, failures included / their successes)`,
  );
  if (s.costPerTask)
    kv(
      'Cost per task',
      `p50 ${money(s.costPerTask.p50)} · p90 ${money(s.costPerTask.p90)} · p95 ${money(s.costPerTask.p95)} · p99 ${money(s.costPerTask.p99)}${s.overMedianTasks ? `   (${count(s.overMedianTasks)} task${s.overMedianTasks === 1 ? '' : 's'} over 2× their task name's median)` : ''}`,
    );
  if (s.unpricedTasks)
    kv('', `${count(s.unpricedTasks)} task${s.unpricedTasks === 1 ? '' : 's'} with an unpriced call left out of the per-task and per-success figures`);
  kv(
    'Calls',
    `${count(s.llmCalls)} LLM (${count(s.attempts)} attempts: ${count(s.attempts - s.llmCalls)} SDK retries on ${count(s.retries)} calls retried) · ${count(s.toolCalls)} tool · ${count(s.errors)} errors`,
  );
  kv('Retry overhead', `${percent(s.retryOverhead)}   (${money(s.retryCost)} on failed-but-billed calls and repeated identical requests)`);
  if (s.topModel)
    kv(
      s.topModel.concentrated ? '! Top model' : 'Top model',
      `${s.topModel.provider}/${s.topModel.model}: ${percent(s.topModel.share)} of LLM spend (${money(s.topModel.cost)})${s.topModel.concentrated ? `: concentrated, over ${percent(s.topModel.threshold, 0)}` : ''}`,
    );
  if (s.unpricedCalls > 0) {
    kv(
      '! Unpriced calls',
      `${count(s.unpricedCalls)} LLM call${s.unpricedCalls === 1 ? '' : 's'} on models with no known price: NOT included in the totals above`,
    );
    lines.push(`  ${''.padEnd(26)}(add the model to a prices file: spendtrace serve --prices prices.json)`);
  }
  if (s.topTasks.length) {
    lines.push('', `Top ${s.topTasks.length} most expensive tasks`);
    lines.push(
      table(s.topTasks, [
        { header: '#', value: (r) => String(s.topTasks.indexOf(r) + 1), align: 'right' },
        ...taskColumns.filter((c) => ['TASK', 'AGENT', 'OUTCOME', 'COST', 'CALLS', 'TASK ID'].includes(c.header)),
        { header: 'SHARE', value: (r) => percent(Number((parsePico(r.cost) * 1_000_000n) / (parsePico(s.totalCost) || 1n)) / 1e6), align: 'right' },
      ]),
    );
  }
  return lines.join('\n');
}

/** `routing`: task types routed by ModelRouter (reports/routing.ts); absent from an older service's /api/report. */
export function renderFull(r: FullReport & { routing?: RoutingReport }, opts: { taskLimit?: number; emptyHint?: string } = {}): string {
  const parts = [renderSummary(r.summary, opts)];
  if (r.summary.tasks === 0 && r.byHour.length === 0) return parts.join('\n') + '\n';
  parts.push(
    renderRows('task', r.byTask, { limit: opts.taskLimit ?? 20 }),
    renderRows('tool', r.byTool),
    renderRows('model', r.byModel),
    renderRows('agent', r.byAgent),
    renderRows('hour', r.byHour),
    `By task name (cost per task; tasks with an unpriced call left out)\n${r.byTaskName.length ? table(r.byTaskName, taskNameColumns) : '  (none in this window)'}`,
    `Cost per successful task by day\n${r.dailyTrend.length ? table(r.dailyTrend, dayColumns) : '  (none in this window)'}`,
    renderProjection(r.projection),
  );
  if (r.routing?.taskTypes.length) parts.push(renderRouting(r.routing));
  return parts.join('\n\n') + '\n';
}
