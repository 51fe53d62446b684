/** The most expensive prompt templates (`gen_ai.prompt.name` / `.version`), with a month of their cost. */
import * as A from '@spendtrace/semconv';
import { formatPico } from '@spendtrace/semconv';
import { num, pico, str } from '../reports/query.ts';
import type { DetectorContext, PromptTemplateRow } from './types.ts';

export async function topPromptTemplates(ctx: DetectorContext, limit = 10): Promise<PromptTemplateRow[]> {
  const rows = await ctx.store.query<Record<string, unknown>>(
    `SELECT s.attributes['${A.ATTR_GEN_AI_PROMPT_NAME}'] AS pname, s.attributes['${A.ATTR_GEN_AI_PROMPT_VERSION}'] AS pver,
  count() AS n, avg(s.input_tokens) AS ain, avg(s.output_tokens) AS aout, toString(sum(s.cost)) AS c, countIf(s.unpriced = 1) AS unpriced
FROM ${ctx.db}.spans AS s
WHERE s.kind = 'inference' AND pname != '' AND ${ctx.where}
GROUP BY pname, pver ORDER BY sum(s.cost) DESC, n DESC, pname, pver LIMIT {limit:UInt32}`,
    { ...ctx.params, limit },
  );
  return rows.map((r) => ({
    prompt: str(r.pname),
    version: str(r.pver),
    calls: num(r.n),
    avgInputTokens: Math.round(num(r.ain)),
    avgOutputTokens: Math.round(num(r.aout)),
    cost: formatPico(pico(r.c)),
    monthlyCost: formatPico(ctx.monthly(pico(r.c))),
    unpricedCalls: num(r.unpriced),
  }));
}
