/**
 * Wrong model for the task: an expensive model on many calls with short outputs (classification,
 * extraction, routing). Where the same task name also ran on a cheaper model with an equal or
 * better success rate, that model is named with both rates and the saving priced on it; otherwise
 * on the provider's small model. The saving is the same tokens priced on the cheaper model.
 */
import { num, pico, str } from '../../reports/query.ts';
import { finding, pct, ratePerMTok, tokensText, usdText } from '../finding.ts';
import type { Detector, DetectorContext, Finding } from '../types.ts';

import { DEFAULT_INSIGHT_THRESHOLDS } from '../thresholds.ts';

/** Each provider's small model: what a short-output task could run on. */
const SMALL_MODEL: Record<string, string> = {
  openai: 'gpt-4.1-nano',
  'azure.ai.openai': 'gpt-4.1-nano',
  anthropic: 'claude-haiku-4-5',
  'gcp.gemini': 'gemini-2.5-flash-lite',
  'gcp.vertex_ai': 'gemini-2.5-flash-lite',
};

interface Usage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
}

function priceOn(ctx: DetectorContext, provider: string, model: string, u: Usage): bigint | undefined {
  return ctx.pricer.price(provider || undefined, model, { inputTokens: u.inputTokens, outputTokens: u.outputTokens, cacheReadTokens: u.cacheReadTokens })?.cost
    .total;
}

export const wrongModel: Detector = {
  id: 'wrong-model',
  describe: `an expensive model on high-volume calls with short outputs (< ${DEFAULT_INSIGHT_THRESHOLDS.wrongModel.maxOutputTokens} tokens by default), and a cheaper one that does as well`,
  async detect(ctx) {
    // At least minCalls calls averaging under maxOutputTokens, on a model whose input rate is priceRatio× the small model's.
    const { minCalls: MIN_CALLS, maxOutputTokens: MAX_OUTPUT, priceRatio: PRICE_RATIO } = ctx.thresholds.wrongModel;
    const rows = await ctx.store.query<Record<string, unknown>>(
      `WITH outcomes AS (SELECT task_id AS tid, max(outcome) AS oc FROM ${ctx.db}.task_costs GROUP BY task_id)
SELECT s.task_name AS tname, any(s.agent_name) AS agent, s.provider AS prov, if(s.response_model != '', s.response_model, s.request_model) AS mdl,
  any(s.request_model) AS req_model,
  count() AS n, sum(s.input_tokens) AS tin, sum(s.output_tokens) AS tout, sum(s.cache_read_tokens) AS tcr,
  toString(sum(s.cost)) AS c, uniqExactIf(s.task_id, o.oc = 'success') AS ok, uniqExactIf(s.task_id, o.oc IN ('success', 'failure')) AS decided
FROM ${ctx.db}.spans AS s LEFT JOIN outcomes AS o ON o.tid = s.task_id
WHERE s.kind = 'inference' AND s.unpriced = 0 AND s.task_name != '' AND s.operation IN ('chat', 'generate_content', 'text_completion') AND ${ctx.where}
GROUP BY tname, prov, mdl`,
      ctx.params,
    );
    const out: Finding[] = [];
    for (const r of rows) {
      const n = num(r.n);
      const avgOut = n ? num(r.tout) / n : 0;
      const provider = str(r.prov);
      const model = str(r.mdl);
      const small = SMALL_MODEL[provider];
      if (n < MIN_CALLS || avgOut >= MAX_OUTPUT || !small) continue;
      const rate = ratePerMTok(ctx, provider, str(r.req_model) || model, 'input') ?? ratePerMTok(ctx, provider, model, 'input');
      const smallRate = ratePerMTok(ctx, provider, small, 'input');
      if (!rate || !smallRate || rate * 1000n < BigInt(Math.round(PRICE_RATIO * 1000)) * smallRate) continue;
      const usage: Usage = { inputTokens: num(r.tin), outputTokens: num(r.tout), cacheReadTokens: num(r.tcr) };
      const cost = pico(r.c);
      const rateOf = (x: Record<string, unknown>) => (num(x.decided) ? num(x.ok) / num(x.decided) : null);
      const myRate = rateOf(r);
      // A cheaper model the data already has on this task name, doing at least as well.
      const peers = rows
        .filter((p) => str(p.tname) === str(r.tname) && str(p.mdl) !== model && str(p.prov) === provider)
        .map((p) => ({ p, rate: rateOf(p), price: priceOn(ctx, provider, str(p.req_model) || str(p.mdl), usage) }))
        .filter((x) => x.price !== undefined && x.price < cost && (myRate === null || (x.rate !== null && x.rate >= myRate)))
        .sort((a, b) => (a.price! < b.price! ? -1 : 1));
      const peer = peers[0];
      const target = peer ? str(peer.p.mdl) : small;
      const targetCost = peer ? peer.price! : priceOn(ctx, provider, small, usage);
      if (targetCost === undefined || targetCost >= cost) continue;
      const subject = { agent: str(r.agent), taskName: str(r.tname), model, provider };
      const evidence = [
        `${n} calls of ${subject.taskName} on ${model} average ${tokensText(avgOut)} output tokens (${tokensText(num(r.tin) / n)} input): ${usdText(cost)} in the window`,
        `${model}'s input rate is ${(Number(rate) / Number(smallRate)).toFixed(1)}× ${small}'s`,
      ];
      if (peer)
        evidence.push(
          `${subject.taskName} also runs on ${target}: success rate ${peer.rate === null ? 'n/a' : pct(peer.rate)} there against ${myRate === null ? 'n/a' : pct(myRate)} on ${model}`,
        );
      out.push(
        finding(ctx, {
          kind: 'wrong-model',
          title: `${subject.taskName} runs short-output calls on ${model}`,
          subject,
          evidence,
          metrics: {
            calls: n,
            avgOutputTokens: Math.round(avgOut),
            cost: usdText(cost),
            cheaperModel: target,
            costOnCheaperModel: usdText(targetCost),
            successRate: myRate,
            cheaperModelSuccessRate: peer ? peer.rate : null,
          },
          assumption: peer
            ? `the same calls on ${target}, which already serves ${subject.taskName} at an equal or better success rate (same tokens, its published rates)`
            : `the same calls on ${small} (same tokens, its published rates), if it classifies as well: check on a sample first`,
          saving: cost - targetCost,
        }),
      );
    }
    return out;
  },
};
