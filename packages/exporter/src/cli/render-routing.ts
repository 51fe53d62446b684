/** The routing section of `spendtrace report`: models per task type, experiments and their verdicts, over-provisioning. */
import type { RoutingReport } from '../reports/index.ts';
import { count, money, percent, table } from './format.ts';

export function renderRouting(r: RoutingReport): string {
  const lines = ['Model routing (task types routed by ModelRouter)'];
  for (const t of r.taskTypes) {
    lines.push(`  ${t.taskType}`);
    lines.push(
      table(
        t.models,
        [
          { header: 'MODEL', value: (m) => m.model, max: 32 },
          { header: 'TASKS', value: (m) => count(m.tasks), align: 'right' },
          { header: 'SHARE', value: (m) => percent(m.share), align: 'right' },
          { header: 'SUCCESS', value: (m) => percent(m.successRate), align: 'right' },
          { header: 'OUTCOMES', value: (m) => count(m.outcomes), align: 'right' },
          { header: 'PER TASK', value: (m) => money(m.costPerTask), align: 'right' },
          { header: 'PER SUCCESS', value: (m) => money(m.costPerSuccess), align: 'right' },
          {
            header: 'TOKENS/CALL',
            value: (m) => (m.calls ? `${Math.round(m.inputTokens / m.calls)}/${Math.round(m.outputTokens / m.calls)}` : '—'),
            align: 'right',
          },
        ],
        '    ',
      ),
    );
    if (t.saving)
      lines.push(
        `    Saving vs. every task on ${t.saving.baseline}: ${money(t.saving.saved)} of ${money(t.saving.baselineCost)} (${percent(t.saving.share)}); routed cost ${money(t.saving.cost)}`,
      );
    for (const e of t.experiments) {
      const v = e.verdict;
      lines.push(`    Experiment ${e.id}: ${v.verdict.toUpperCase()} — ${v.why}`);
      lines.push(
        `      ${e.incumbent.model}: ${count(e.incumbent.outcomes)} outcomes, ${percent(v.successRate.incumbent)} success, ${v.costPerSuccess.incumbent === null ? '—' : `$${v.costPerSuccess.incumbent.toPrecision(3)}`} per success`,
      );
      lines.push(
        `      ${e.challenger.model}: ${count(e.challenger.outcomes)} outcomes, ${percent(v.successRate.challenger)} success, ${v.costPerSuccess.challenger === null ? '—' : `$${v.costPerSuccess.challenger.toPrecision(3)}`} per success; P(within ${+(e.margin * 100).toFixed(2)} points) ${v.probabilityWithinMargin.toFixed(3)}`,
      );
    }
  }
  for (const f of r.findings) {
    lines.push(`  ! Over-provisioned: ${f.title}: ${money(f.monthlySaving, 2)}/month`);
    lines.push(`    ${f.evidence.text}`);
    lines.push(`    assumes ${f.assumption}`);
  }
  return lines.join('\n');
}
