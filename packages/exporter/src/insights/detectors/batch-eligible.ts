/**
 * Batch-eligible background work: tasks nobody waits for (no user, and a name or agent that says
 * nightly / batch / backfill / cron / sync / digest / report) on providers with a Batch API. The
 * saving assumes their calls sent through it at the 50 % discount.
 */
import * as A from '@spendtrace/semconv';
import { num, pico, str } from '../../reports/query.ts';
import { finding, usdText } from '../finding.ts';
import type { Detector, Finding } from '../types.ts';

const BATCH_PROVIDERS = ['openai', 'azure.ai.openai', 'anthropic', 'gcp.gemini', 'gcp.vertex_ai'];
const BACKGROUND = '(?i)(nightly|batch|backfill|cron|scheduled|offline|etl|digest|sync|report|job)';

export const batchEligible: Detector = {
  id: 'batch-eligible',
  describe: 'background tasks (no user, a nightly/batch/cron-like name) whose calls could take the 50 % Batch API discount',
  async detect(ctx) {
    const rows = await ctx.store.query<Record<string, unknown>>(
      `SELECT any(s.agent_name) AS agent, s.task_name AS tname, s.provider AS prov,
  arrayStringConcat(arraySort(groupUniqArray(if(s.response_model != '', s.response_model, s.request_model))), ', ') AS models,
  count() AS n, uniqExact(s.task_id) AS tasks, toString(sum(s.cost)) AS c, countIf(s.user_id != '') AS with_user
FROM ${ctx.db}.spans AS s
WHERE s.kind = 'inference' AND s.unpriced = 0 AND s.provider IN {providers:Array(String)}
  AND s.attributes['${A.ATTR_SPENDTRACE_BATCH}'] NOT IN ('true', '1')
  AND (match(s.task_name, {bg:String}) OR match(s.agent_name, {bg:String})) AND ${ctx.where}
GROUP BY tname, prov
HAVING with_user = 0 AND sum(s.cost) > 0`,
      { ...ctx.params, providers: BATCH_PROVIDERS, bg: BACKGROUND },
    );
    const out: Finding[] = [];
    for (const r of rows) {
      const cost = pico(r.c);
      const subject = { agent: str(r.agent), taskName: str(r.tname), provider: str(r.prov), model: str(r.models) };
      out.push(
        finding(ctx, {
          kind: 'batch-eligible',
          title: `${subject.taskName} is background work paying live prices`,
          subject,
          evidence: [
            `${num(r.tasks)} ${subject.taskName} task${num(r.tasks) === 1 ? '' : 's'} with no user waiting made ${num(r.n)} live calls on ${subject.model} (${subject.provider}): ${usdText(cost)} in the window`,
          ],
          metrics: { tasks: num(r.tasks), calls: num(r.n), cost: usdText(cost) },
          assumption: `the same calls sent through ${subject.provider}'s Batch API at 50 % off (results within 24 h; spendtrace prices batch results at that rate)`,
          saving: cost / 2n,
        }),
      );
    }
    return out;
  },
};
