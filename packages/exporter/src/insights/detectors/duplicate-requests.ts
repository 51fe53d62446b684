/**
 * Duplicate identical requests: the same request hash (model + messages) again within a task, or
 * in another task within the cache TTL. The saving assumes a response cache keyed by the request
 * hash answers every repeat.
 */
import { num, pico, str } from '../../reports/query.ts';
import { finding, usdText } from '../finding.ts';
import type { Detector, Finding } from '../types.ts';

export const duplicateRequests: Detector = {
  id: 'duplicate-requests',
  describe: 'identical requests (same request hash) repeated within a task or across tasks inside the cache TTL',
  async detect(ctx) {
    const MIN_REPEATS = ctx.thresholds.duplicateRequests.minRepeats;
    const rows = await ctx.store.query<Record<string, unknown>>(
      `WITH calls AS (
  SELECT s.agent_name AS agent, s.task_name AS tname, if(s.response_model != '', s.response_model, s.request_model) AS mdl,
    s.task_id AS tid, s.request_hash AS h, s.cost AS c, s.request_repeat AS rep,
    lagInFrame(toNullable(s.start_time), 1) OVER (PARTITION BY s.request_hash ORDER BY s.start_time ASC, s.span_id ASC ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS prev_t,
    lagInFrame(toNullable(s.task_id), 1) OVER (PARTITION BY s.request_hash ORDER BY s.start_time ASC, s.span_id ASC ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS prev_task,
    s.start_time AS t
  FROM ${ctx.db}.spans AS s
  WHERE s.kind = 'inference' AND s.request_hash != '' AND s.status_code != 'error' AND s.unpriced = 0 AND ${ctx.where}
)
SELECT any(agent) AS agent, tname, mdl, count() AS n,
  countIf(prev_t IS NOT NULL AND (prev_task = tid OR dateDiff('second', prev_t, t) <= {ttl:UInt32})) AS dups,
  countIf(prev_t IS NOT NULL AND prev_task = tid) AS in_task, countIf(prev_t IS NOT NULL AND prev_task != tid AND dateDiff('second', prev_t, t) <= {ttl:UInt32}) AS across,
  uniqExactIf(h, prev_t IS NOT NULL AND (prev_task = tid OR dateDiff('second', prev_t, t) <= {ttl:UInt32})) AS hashes,
  toString(sumIf(c, prev_t IS NOT NULL AND (prev_task = tid OR dateDiff('second', prev_t, t) <= {ttl:UInt32}))) AS dup_cost
FROM calls GROUP BY tname, mdl HAVING dups >= ${MIN_REPEATS}`,
      { ...ctx.params, ttl: ctx.thresholds.cacheTtlSeconds },
    );
    const out: Finding[] = [];
    for (const r of rows) {
      const subject = { agent: str(r.agent), taskName: str(r.tname), model: str(r.mdl) };
      const dups = num(r.dups);
      const ttl = ctx.thresholds.cacheTtlSeconds;
      out.push(
        finding(ctx, {
          kind: 'duplicate-requests',
          title: `${subject.taskName || '(no task name)'} sends identical requests again`,
          subject,
          evidence: [
            `${dups} of ${num(r.n)} calls on ${subject.model} repeat an earlier identical request (${num(r.hashes)} distinct requests): ${num(r.in_task)} within the same task, ${num(r.across)} from another task within ${ttl >= 3600 ? `${ttl / 3600} h` : `${ttl} s`}`,
            `${usdText(pico(r.dup_cost))} spent on the repeats in the window`,
          ],
          metrics: {
            calls: num(r.n),
            repeats: dups,
            withinTask: num(r.in_task),
            acrossTasks: num(r.across),
            distinctRequests: num(r.hashes),
            repeatCost: usdText(pico(r.dup_cost)),
            cacheTtlSeconds: ttl,
          },
          assumption: `a response cache keyed by the request hash (model + messages), TTL ${ttl} s, answers every repeat`,
          saving: pico(r.dup_cost),
        }),
      );
    }
    return out;
  },
};
