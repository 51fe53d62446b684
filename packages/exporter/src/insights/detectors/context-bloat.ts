/**
 * Context bloat: calls whose input grows within a task (each call resends the whole history) or
 * across runs of the same task name. The saving assumes each call's input held at the task's
 * first call's size (a running summary instead of the history), at the rate the task paid per
 * input token.
 */
import { num, pico, str } from '../../reports/query.ts';
import { finding, tokensText, usdText } from '../finding.ts';
import type { Detector, Finding } from '../types.ts';

export const contextBloat: Detector = {
  id: 'context-bloat',
  describe: 'input tokens per call that grow within a task, or across runs of a task name',
  async detect(ctx) {
    // Thresholds (thresholds.ts): a task grows with minCalls calls and its last input `growth`× its first;
    // runs grow with minRuns runs, the newest `runGrowth`× the oldest; under minInputTokens nothing counts.
    const { minCalls: MIN_CALLS, growth: GROWTH, runGrowth: RUN_GROWTH, minRuns: MIN_RUNS, minInputTokens: MIN_INPUT } = ctx.thresholds.contextBloat;
    const inCost = 's.cost_input + s.cost_cache_read + s.cost_cache_write';
    const rows = await ctx.store.query<Record<string, unknown>>(
      `WITH calls AS (
  SELECT s.task_id AS tid, s.agent_name AS agent, s.task_name AS tname, if(s.response_model != '', s.response_model, s.request_model) AS mdl,
    s.start_time AS t, s.input_tokens AS tin, ${inCost} AS in_cost
  FROM ${ctx.db}.spans AS s
  WHERE s.kind = 'inference' AND s.unpriced = 0 AND s.status_code != 'error' AND s.input_tokens > 0 AND s.task_name != '' AND ${ctx.where}
),
per_task AS (
  SELECT tid, any(agent) AS agent, tname, mdl, count() AS n, min(t) AS t0, argMin(tin, t) AS first_in, argMax(tin, t) AS last_in,
    sum(tin) AS sum_in, sum(in_cost) AS task_in_cost
  FROM calls GROUP BY tid, tname, mdl
),
excess AS (
  SELECT c.tid AS tid, c.mdl AS mdl, sum(c.in_cost * toDecimal128(c.tin - least(c.tin, p.first_in), 0) / toDecimal128(c.tin, 0)) AS over_cost
  FROM calls AS c INNER JOIN per_task AS p ON p.tid = c.tid AND p.mdl = c.mdl GROUP BY c.tid, c.mdl
)
SELECT any(p.agent) AS agent, p.tname AS tname, p.mdl AS mdl, count() AS runs, sum(p.n) AS n_calls,
  countIf(p.n >= ${MIN_CALLS} AND p.last_in >= ${GROWTH} * p.first_in AND p.last_in >= ${MIN_INPUT}) AS growing,
  sum(p.sum_in) / sum(p.n) AS avg_in, avg(p.first_in) AS avg_first, avg(p.last_in) AS avg_last,
  toString(sumIf(e.over_cost, p.n >= ${MIN_CALLS} AND p.last_in >= ${GROWTH} * p.first_in AND p.last_in >= ${MIN_INPUT})) AS growing_excess,
  toString(sum(p.task_in_cost)) AS in_cost,
  argMin(p.sum_in / p.n, p.t0) AS oldest_per_call, argMax(p.sum_in / p.n, p.t0) AS newest_per_call
FROM per_task AS p INNER JOIN excess AS e ON e.tid = p.tid AND e.mdl = p.mdl
GROUP BY p.tname, p.mdl`,
      ctx.params,
    );
    const out: Finding[] = [];
    for (const r of rows) {
      const runs = num(r.runs);
      const growing = num(r.growing);
      const subject = { agent: str(r.agent), taskName: str(r.tname), model: str(r.mdl) };
      if (growing > 0 && growing * 2 >= runs) {
        const saving = pico(r.growing_excess);
        out.push(
          finding(ctx, {
            kind: 'context-bloat',
            title: `${subject.taskName} resends its growing history on every call`,
            subject,
            evidence: [
              `${growing} of ${runs} ${subject.taskName} run${runs === 1 ? '' : 's'} on ${subject.model} grow from ${tokensText(num(r.avg_first))} input tokens on the first call to ${tokensText(num(r.avg_last))} on the last (average over runs)`,
              `${tokensText(num(r.avg_in))} input tokens per call on average over ${num(r.n_calls)} calls; ${usdText(pico(r.in_cost))} of input in the window`,
            ],
            metrics: {
              runs,
              growingRuns: growing,
              calls: num(r.n_calls),
              avgInputTokens: Math.round(num(r.avg_in)),
              firstCallInputTokens: Math.round(num(r.avg_first)),
              lastCallInputTokens: Math.round(num(r.avg_last)),
              inputCost: usdText(pico(r.in_cost)),
            },
            assumption:
              "each call's input held at the task's first-call size (carry a running summary, not the whole history); the excess input tokens saved at the rate the task paid for them",
            saving,
          }),
        );
        continue;
      }
      const oldest = num(r.oldest_per_call);
      const newest = num(r.newest_per_call);
      if (runs >= MIN_RUNS && oldest > 0 && newest >= MIN_INPUT && newest >= RUN_GROWTH * oldest) {
        // Runs grow over time: the input above the oldest run's size, at the input rate paid.
        const share = 1 - oldest / (num(r.avg_in) || oldest);
        const saving = share > 0 ? (pico(r.in_cost) * BigInt(Math.round(share * 1e6))) / 1_000_000n : 0n;
        out.push(
          finding(ctx, {
            kind: 'context-bloat',
            title: `${subject.taskName} sends more context with every run`,
            subject,
            evidence: [`input per call grew from ${tokensText(oldest)} tokens in the oldest of ${runs} runs to ${tokensText(newest)} in the newest`],
            metrics: { runs, oldestRunInputPerCall: Math.round(oldest), newestRunInputPerCall: Math.round(newest), avgInputTokens: Math.round(num(r.avg_in)) },
            assumption: "input per call held at the oldest run's size; the excess saved at the rate paid",
            saving,
          }),
        );
      }
    }
    return out;
  },
};
