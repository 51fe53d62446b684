// Proves setTaskTenant / recordTaskCharge land on the task root (charges add up exactly) and withPrompt names the prompt template of the LLM calls started inside it, and only those.
import { describe, expect, test } from 'vitest';
import * as A from '@spendtrace/semconv';
import { recordTaskCharge, setTaskOutcome, setTaskTenant, withPrompt, withTask } from '../src/index.ts';
import { useHarness } from './setup.ts';

const h = useHarness();

const ask = (content: string) => h.client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }] });

describe('tenant, charge and prompt template', () => {
  test('the task root carries the tenant and the sum of its charges; calls inside withPrompt carry the template', async () => {
    h.fake.enqueue({ promptTokens: 100, completionTokens: 10 }, { promptTokens: 200, completionTokens: 20 });
    await withTask({ name: 'answer', agent: 'support' }, async () => {
      setTaskTenant('acme-corp');
      await withPrompt({ name: 'support-answer', version: '3' }, () => ask('how do I reset my password?'));
      await ask('and my email?');
      recordTaskCharge(0.1);
      recordTaskCharge(0.2); // 0.1 + 0.2 as floats is 0.30000000000000004; pico-dollars add exactly
      setTaskOutcome('success');
    });
    const root = h.spans().find((s) => s.name === 'invoke_agent support')!;
    expect(root.attributes[A.ATTR_SPENDTRACE_TENANT_ID]).toBe('acme-corp');
    expect(root.attributes[A.ATTR_SPENDTRACE_TASK_CHARGED]).toBe(0.3);
    const [templated, plain] = h.chatSpans();
    expect(templated!.attributes[A.ATTR_GEN_AI_PROMPT_NAME]).toBe('support-answer');
    expect(templated!.attributes[A.ATTR_GEN_AI_PROMPT_VERSION]).toBe('3');
    expect(plain!.attributes[A.ATTR_GEN_AI_PROMPT_NAME]).toBeUndefined();
  });

  test('outside a task, or with bad values, nothing is set and nothing throws', async () => {
    expect(() => setTaskTenant('x')).not.toThrow();
    expect(() => recordTaskCharge(1)).not.toThrow();
    h.fake.enqueue({ promptTokens: 100, completionTokens: 10 });
    await withTask({ name: 'bad', agent: 'bad-agent' }, async () => {
      setTaskTenant('');
      recordTaskCharge(-1);
      recordTaskCharge(Number.NaN);
      await withPrompt({ name: '' }, () => ask('hi'));
    });
    const root = h.spans().find((s) => s.name === 'invoke_agent bad-agent')!;
    expect(root.attributes[A.ATTR_SPENDTRACE_TENANT_ID]).toBeUndefined();
    expect(root.attributes[A.ATTR_SPENDTRACE_TASK_CHARGED]).toBeUndefined();
    expect(h.chatSpans()[0]!.attributes[A.ATTR_GEN_AI_PROMPT_NAME]).toBeUndefined();
  });
});
