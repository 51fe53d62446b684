// A strict TypeScript app, type-checked against the published .d.ts (tsconfig.json beside it),
// then run by Node's type stripping.
import { NodeSDK } from '@opentelemetry/sdk-node';
import { SpendtraceInstrumentation, recordToolCost, setTaskOutcome, withTask, withTool, type TaskHandle } from '@spendtrace/instrumentation';
import OpenAI from 'openai';

const sdk = new NodeSDK({ instrumentations: [new SpendtraceInstrumentation({ captureMessageContent: false })] });
sdk.start();
const openai = new OpenAI();

const reply: string = await withTask({ name: 'typed-task', agent: 'typed-agent', userId: 'u-ts', budgetUsd: 1 }, async (task: TaskHandle) => {
  const res = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello from TypeScript' }] });
  const hits: number = await withTool('web_search', async () => {
    recordToolCost(0.005);
    return 3;
  });
  const spent: number = task.costUsd;
  if (!(spent > 0) || hits !== 3) throw new Error(`task cost not tracked: ${spent}`);
  setTaskOutcome('success');
  return res.choices[0]?.message.content ?? '';
});
console.log(`typed-app: ${reply.length} chars`);
await sdk.shutdown();
