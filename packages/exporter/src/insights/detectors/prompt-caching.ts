/**
 * Prompt caching unused: many calls on a provider with prompt caching that repeat a prefix (one
 * prompt template, or identical requests) yet almost never read from the cache. The shared prefix
 * is estimated as the smallest input of the group (every call sends at least that much of the
 * template); the saving prices it at the cache-read rate instead of the input rate on every call
 * after the first.
 */
import * as A from '@spendtrace/semconv';
import { num, str } from '../../reports/query.ts';
import { finding, pct, ratePerMTok, tokensText } from '../finding.ts';
import type { Detector, Finding } from '../types.ts';

const CACHING_PROVIDERS = ['openai', 'azure.ai.openai', 'anthropic', 'gcp.gemini', 'gcp.vertex_ai', 'deepseek'];

export const promptCachingUnused: Detector = {
  id: 'prompt-caching-unused',
  describe: 'repeated prefixes (one prompt template, identical requests) on a provider with prompt caching, and almost no cache reads',
  async detect(ctx) {
    // OpenAI caches prompts from 1,024 tokens, Anthropic from 1,024 (Sonnet) / 2,048 (Haiku): the default minPrefixTokens.
    const { minCalls: MIN_CALLS, minPrefixTokens: MIN_PREFIX, maxCachedShare: MAX_CACHED_SHARE } = ctx.thresholds.promptCaching;
    const prompt = `s.attributes['${A.ATTR_GEN_AI_PROMPT_NAME}']`;
    const rows = await ctx.store.query<Record<string, unknown>>(
      `SELECT any(s.agent_name) AS agent, s.task_name AS tname, s.provider AS prov, if(s.response_model != '', s.response_model, s.request_model) AS mdl,
  any(s.request_model) AS req_model, ${prompt} AS pname,
  count() AS n, min(s.input_tokens) AS min_in, sum(s.input_tokens) AS tin, sum(s.cache_read_tokens) AS tcr,
  uniqExact(s.request_hash) AS hashes
FROM ${ctx.db}.spans AS s
WHERE s.kind = 'inference' AND s.unpriced = 0 AND s.status_code != 'error' AND s.provider IN {providers:Array(String)} AND ${ctx.where}
GROUP BY tname, prov, mdl, pname
HAVING n >= ${MIN_CALLS} AND min_in >= ${MIN_PREFIX} AND tcr < ${MAX_CACHED_SHARE} * tin AND (pname != '' OR hashes < n)`,
      { ...ctx.params, providers: CACHING_PROVIDERS },
    );
    const out: Finding[] = [];
    for (const r of rows) {
      const provider = str(r.prov);
      const model = str(r.mdl);
      const priced = str(r.req_model) || model;
      const input = ratePerMTok(ctx, provider, priced, 'input') ?? ratePerMTok(ctx, provider, model, 'input');
      const cached = ratePerMTok(ctx, provider, priced, 'cacheRead') ?? ratePerMTok(ctx, provider, model, 'cacheRead');
      if (!input || cached === undefined || cached >= input) continue;
      const n = num(r.n);
      const prefix = num(r.min_in);
      const saving = (BigInt(prefix) * BigInt(n - 1) * (input - cached)) / 1_000_000n;
      const pname = str(r.pname);
      const subject = { agent: str(r.agent), taskName: str(r.tname), model, provider, ...(pname ? { prompt: pname } : {}) };
      out.push(
        finding(ctx, {
          kind: 'prompt-caching-unused',
          title: `${subject.taskName || pname} never reads its prompt prefix from the cache`,
          subject,
          evidence: [
            `${n} calls on ${model}${pname ? ` with prompt template ${pname}` : ''}${num(r.hashes) < n ? ` (${n - num(r.hashes)} identical repeats)` : ''}, each at least ${tokensText(prefix)} input tokens`,
            `cache reads: ${tokensText(num(r.tcr))} of ${tokensText(num(r.tin))} input tokens (${pct(num(r.tin) ? num(r.tcr) / num(r.tin) : 0)})`,
          ],
          metrics: {
            calls: n,
            minInputTokens: prefix,
            inputTokens: num(r.tin),
            cacheReadTokens: num(r.tcr),
            inputRatePerMTok: A.formatPico(input),
            cacheReadRatePerMTok: A.formatPico(cached),
          },
          assumption: `the first ${tokensText(prefix)} input tokens (the smallest call's input) are a shared prefix: put the static part first and mark it cacheable; every call after the first reads it at the cache-read rate (cache writes not counted)`,
          saving,
        }),
      );
    }
    return out;
  },
};
