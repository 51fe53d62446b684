/**
 * Over-provisioned models: a task type still routed to an expensive model where the routing history
 * shows a cheaper candidate succeeding as often (within the experiment margin, at its confidence).
 * The evidence and the comparison are the router's own (reports/routing.ts), so the insight and
 * `/api/routing` never disagree; the monthly figure uses the insights' scale like every detector.
 */
import { parsePico } from '@spendtrace/semconv';
import { routingReport } from '../../reports/routing.ts';
import { finding } from '../finding.ts';
import type { Detector } from '../types.ts';

export const overProvisioned: Detector = {
  id: 'over-provisioned-model',
  describe: 'task types routed to a model whose cheaper candidate succeeds as often in the routing history',
  async detect(ctx) {
    const r = await routingReport(ctx.store, {
      since: `${ctx.params.since_s}s`,
      service: ctx.params.service,
      database: ctx.db.slice(1, -1),
    });
    return r.findings.map((f) =>
      finding(ctx, {
        kind: 'over-provisioned-model',
        title: f.title,
        subject: { taskName: f.taskType, model: f.model },
        evidence: [f.evidence.text],
        metrics: {
          cheaperModel: f.cheaperModel,
          successRate: f.evidence.model.successRate,
          cheaperSuccessRate: f.evidence.cheaperModel.successRate,
          costPerSuccess: f.evidence.model.costPerSuccess,
          cheaperCostPerSuccess: f.evidence.cheaperModel.costPerSuccess,
          probabilityWithinMargin: f.evidence.probabilityWithinMargin,
        },
        saving: parsePico(f.windowSaving),
        assumption: `${f.assumption}; switching ${f.taskType} to ${f.cheaperModel}`,
      }),
    );
  },
};
