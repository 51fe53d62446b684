/**
 * The demo's routed agent: ticket classification under a ModelRouter. It starts on gpt-4o (last
 * month's record, 97 successes in 100, is its prior) and tries gpt-4o-mini now and then; once
 * the cheap model's successes show it clears the 80 % floor (below it, re-triaging by hand costs more than the model saves), it wins on cost per success (~1/16
 * of the price) and takes the traffic. The report's routing section shows both success rates and
 * the saving against running every ticket on gpt-4o.
 */
import { ModelRouter, setTaskOutcome, withTask } from '@spendtrace/instrumentation';
import { seeded } from './random.ts';

interface ChatClient {
  chat: { completions: { create(body: never, options: { headers: Record<string, string> }): PromiseLike<unknown> } };
}

export interface ClassifierFleet {
  client: ChatClient;
  log: (line: string) => void;
  tasks: Array<{ agent: string; task: string; outcome: 'success' | 'failure'; reason?: string }>;
}

const LABELS = ['billing', 'bug', 'feature-request', 'account', 'spam'];
/** How often each model's label is usable (the articles' classification numbers, give or take). */
const SUCCESS = { 'gpt-4o': 0.97, 'gpt-4o-mini': 0.96 } as Record<string, number>;
export const CLASSIFIER_TASKS = 60;

export async function classifierAgent(f: ClassifierFleet): Promise<void> {
  const router = new ModelRouter({
    taskType: 'ticket-classification',
    candidates: [{ model: 'gpt-4o', prior: { successes: 97, failures: 3 } }, 'gpt-4o-mini'],
    maxCostUsd: 0.002,
    expectedTokens: { input: 300, output: 40 },
    minSuccessRate: 0.8,
    seed: 42,
  });
  // Its own generator: the agent's numbers do not depend on what the other agents drew.
  const rnd = seeded(1500);
  const models: string[] = [];
  for (let i = 0; i < CLASSIFIER_TASKS; i++) {
    const rec = {
      agent: 'classifier-agent',
      task: 'ticket-classification',
      outcome: 'success' as 'success' | 'failure',
      reason: undefined as string | undefined,
    };
    await withTask({ name: 'ticket-classification', agent: 'classifier-agent' }, async () => {
      const { model } = router.choose();
      models.push(model);
      const usable = rnd.next() < SUCCESS[model]!;
      const label = LABELS[Math.floor(rnd.next() * LABELS.length)]!;
      const behaviour = {
        promptTokens: 260 + Math.floor(rnd.next() * 80),
        completionTokens: 30 + Math.floor(rnd.next() * 20),
        delayMs: 5,
        content: usable ? label : `${label}, or maybe not`,
      };
      const res = (await f.client.chat.completions.create(
        {
          model,
          messages: [
            { role: 'system', content: `Classify the ticket as one of: ${LABELS.join(', ')}.` },
            { role: 'user', content: `Ticket #${2000 + i}` },
          ],
        } as never,
        { headers: { 'x-fake-behavior': JSON.stringify(behaviour) } },
      )) as { choices?: Array<{ message?: { content?: string } }> };
      // The app's own check, as in production: a label it can file the ticket under.
      if (LABELS.includes(res.choices?.[0]?.message?.content ?? '')) setTaskOutcome('success');
      else {
        rec.outcome = 'failure';
        rec.reason = 'label not usable';
        setTaskOutcome('failure', { reason: rec.reason });
      }
    });
    f.tasks.push(rec);
  }
  const on = (ms: string[], m: string) => ms.filter((x) => x === m).length;
  const first = models.slice(0, 10);
  const last = models.slice(-20);
  const rate = (m: string) => {
    const s = router.stats().find((x) => x.model === m)!;
    return `${(s.successRate * 100).toFixed(1)} %`;
  };
  f.log(
    `classifier-agent: ${CLASSIFIER_TASKS} tickets routed by ModelRouter: the first 10 on gpt-4o ${on(first, 'gpt-4o')}×, the last 20 on gpt-4o-mini ${on(last, 'gpt-4o-mini')}× ` +
      `(posterior success gpt-4o ${rate('gpt-4o')}, gpt-4o-mini ${rate('gpt-4o-mini')}; the report's routing section has the saving)`,
  );
}
