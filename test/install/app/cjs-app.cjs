// A CommonJS app: its own NodeSDK, then require('openai'), patched through require-in-the-middle.
const { NodeSDK } = require('@opentelemetry/sdk-node');
const { SpendtraceInstrumentation, withTask, setTaskOutcome } = require('@spendtrace/instrumentation');

const sdk = new NodeSDK({ instrumentations: [new SpendtraceInstrumentation()] });
sdk.start();
const OpenAI = require('openai');

const openai = new OpenAI();
withTask({ name: 'cjs-task', agent: 'cjs-agent' }, async () => {
  await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello from CommonJS' }] });
  setTaskOutcome('success');
})
  .then(() => sdk.shutdown())
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
