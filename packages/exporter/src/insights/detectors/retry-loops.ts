/**
 * Silent retry loops: tasks whose LLM attempts (calls + SDK retries) are far above their task
 * name's median. The saving assumes a retry cap that holds each such task to the median task's cost.
 */
import { num, pico, str } from '../../reports/query.ts';
import { finding, usdText } from '../finding.ts';
import type { Detector, Finding } from '../types.ts';

import { DEFAULT_INSIGHT_THRESHOLDS } from '../thresholds.ts';

export const retryLoops: Detector = {
  id: 'retry-loops',
  describe: `tasks whose LLM attempts (calls + SDK retries) are over ${DEFAULT_INSIGHT_THRESHOLDS.retryLoops.factor}× (by default) their task name's median`,
  async detect(ctx) {
    // A task loops when its attempts reach `factor`× the median, and minExtraAttempts more; a median needs minTasks tasks.
    const { factor: FACTOR, minExtraAttempts: MIN_EXTRA, minTasks: MIN_TASKS } = ctx.thresholds.retryLoops;
    const rows = await ctx.store.query<Record<string, unknown>>(
      `WITH per_task AS (
  SELECT s.task_id AS tid, any(s.agent_name) AS agent, s.task_name AS tname, count() AS n, count() + sum(s.retry_attempt) AS attempts,
    sum(s.retry_attempt) AS retried, toDecimal128(sum(s.cost), 12) AS c, countIf(s.unpriced = 1) AS unpriced,
    arrayStringConcat(arraySort(groupUniqArray(if(s.response_model != '', s.response_model, s.request_model))), ', ') AS models
  FROM ${ctx.db}.spans AS s
  WHERE s.kind = 'inference' AND s.task_name != '' AND ${ctx.where}
  GROUP BY s.task_id, s.task_name
),
base AS (
  SELECT tname, count() AS n_tasks, arraySort(groupArray(attempts)) AS a, a[greatest(1, intDiv(length(a) + 1, 2))] AS median_attempts,
    arraySort(groupArrayIf(c, unpriced = 0)) AS cs, if(length(cs) > 0, cs[greatest(1, intDiv(length(cs) + 1, 2))], toDecimal128(0, 12)) AS median_cost
  FROM per_task GROUP BY tname HAVING n_tasks >= ${MIN_TASKS}
)
SELECT p.tname AS tname, any(p.agent) AS agent, any(b.n_tasks) AS n_tasks, any(b.median_attempts) AS med, any(toString(b.median_cost)) AS med_cost,
  count() AS loops, sum(p.attempts) AS loop_attempts, max(p.attempts) AS worst, sum(p.retried) AS retried, sum(p.n) AS loop_calls,
  toString(sum(p.c)) AS loop_cost, toString(sum(greatest(p.c - b.median_cost, toDecimal128(0, 12)))) AS over_cost, any(p.models) AS models
FROM per_task AS p INNER JOIN base AS b ON b.tname = p.tname
WHERE p.attempts >= ${FACTOR} * b.median_attempts AND p.attempts >= b.median_attempts + ${MIN_EXTRA}
GROUP BY p.tname`,
      ctx.params,
    );
    const out: Finding[] = [];
    for (const r of rows) {
      const loops = num(r.loops);
      const subject = { agent: str(r.agent), taskName: str(r.tname), model: str(r.models) };
      out.push(
        finding(ctx, {
          kind: 'retry-loops',
          title: `${subject.taskName} retries in a loop`,
          subject,
          evidence: [
            `${loops} of ${num(r.n_tasks)} ${subject.taskName} tasks made up to ${num(r.worst)} LLM attempts, against a median of ${num(r.med)} per task`,
            `those tasks: ${num(r.loop_calls)} calls${num(r.retried) ? ` + ${num(r.retried)} SDK retries` : ''}, ${usdText(pico(r.loop_cost))}; a median task costs ${usdText(pico(r.med_cost))}`,
          ],
          metrics: {
            tasks: num(r.n_tasks),
            loopingTasks: loops,
            medianAttempts: num(r.med),
            worstAttempts: num(r.worst),
            loopCalls: num(r.loop_calls),
            sdkRetries: num(r.retried),
            loopCost: usdText(pico(r.loop_cost)),
          },
          assumption: "a retry cap (max attempts, back-off, an alert) holds each looping task to the median task's cost",
          saving: pico(r.over_cost),
        }),
      );
    }
    return out;
  },
};
