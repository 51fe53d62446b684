// Zero code: run as `node --import @spendtrace/instrumentation/register register-app.mjs`.
import OpenAI from 'openai';
import { withTask, setTaskOutcome } from '@spendtrace/instrumentation';

const openai = new OpenAI();
await withTask({ name: 'register-task', agent: 'register-agent' }, async () => {
  await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello from --import' }] });
  const stream = await openai.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'stream it' }],
    stream: true,
    stream_options: { include_usage: true },
  });
  for await (const _chunk of stream);
  setTaskOutcome('success');
});
