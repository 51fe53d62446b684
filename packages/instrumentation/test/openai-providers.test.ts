// Proves gen_ai.provider.name for AzureOpenAI, OpenAI-compatible hosts, local model servers and the openaiProviders map, and that a provider-reported cost (OpenRouter's usage.cost) wins over local pricing.
import { beforeEach, describe, expect, test } from 'vitest';
import * as A from '@spendtrace/semconv';
import { endpointOf } from '../src/openai/provider.ts';
import { OpenAI, openaiModule, useHarness } from './setup.ts';

const h = useHarness();
beforeEach(() => h.instrumentation.setConfig({}));

const hello = [{ role: 'user' as const, content: 'hello' }];

describe('base URL -> gen_ai.provider.name', () => {
  test.each([
    ['https://api.openai.com/v1', 'openai'],
    ['https://my-res.openai.azure.com/openai', 'azure.ai.openai'],
    ['https://openrouter.ai/api/v1', 'openrouter'],
    ['https://api.groq.com/openai/v1', 'groq'],
    ['https://api.deepseek.com', 'deepseek'],
    ['https://api.mistral.ai/v1', 'mistral_ai'],
    ['https://api.x.ai/v1', 'x_ai'],
    ['https://api.together.xyz/v1', 'together_ai'],
    ['https://api.fireworks.ai/inference/v1', 'fireworks'],
    ['http://localhost:11434/v1', 'self_hosted'], // Ollama's port
    ['http://ollama:11434/v1', 'self_hosted'],
    ['http://vllm.internal:9000/v1', 'self_hosted'],
    ['http://127.0.0.1:8000/v1', 'self_hosted'], // vLLM's default port on a local address
    ['http://10.1.2.3:8000/v1', 'self_hosted'],
    ['http://127.0.0.1:43127/v1', 'openai'], // a fake or proxy on loopback stays OpenAI
    ['https://proxy.example.com:8000/v1', 'openai'], // port 8000 only means vLLM on a local address
    ['not a url', 'openai'],
  ])('%s -> %s', (url, provider) => {
    expect(endpointOf(url).provider).toBe(provider);
  });

  test('the openaiProviders map wins: URL prefix (longest first), host:port, host', () => {
    const map = { 'http://127.0.0.1:9/v1': 'groq', 'http://127.0.0.1:9/v1/special': 'deepseek', '10.0.0.5:8000': 'openai', 'llm.internal': 'self_hosted' };
    expect(endpointOf('http://127.0.0.1:9/v1', map).provider).toBe('groq');
    expect(endpointOf('http://127.0.0.1:9/v1/special', map).provider).toBe('deepseek');
    expect(endpointOf('http://10.0.0.5:8000/v1', map).provider).toBe('openai');
    expect(endpointOf('https://llm.internal/v1', map).provider).toBe('self_hosted');
  });
});

describe('through the SDK', () => {
  test('AzureOpenAI: azure.ai.openai, the deployment as request model, priced by the response model at Azure rates', async () => {
    const azure = new openaiModule.AzureOpenAI({ endpoint: `http://127.0.0.1:${h.fake.port}`, apiKey: 'k', apiVersion: '2024-10-21', deployment: 'prod-mini' });
    h.fake.enqueue({ promptTokens: 1000, completionTokens: 100, responseModel: 'gpt-4o-mini-2024-07-18' });
    await azure.chat.completions.create({ model: 'gpt-4o-mini', messages: hello });
    expect(h.fake.requests[0]!.path).toBe('/openai/deployments/prod-mini/chat/completions');
    const [span] = h.chatSpans();
    expect(span!.name).toBe('chat prod-mini');
    const a = span!.attributes;
    expect(a[A.ATTR_GEN_AI_PROVIDER_NAME]).toBe('azure.ai.openai');
    expect(a[A.ATTR_GEN_AI_REQUEST_MODEL]).toBe('prod-mini');
    expect(a[A.ATTR_GEN_AI_RESPONSE_MODEL]).toBe('gpt-4o-mini-2024-07-18');
    expect(a[A.ATTR_GEN_AI_USAGE_COST_AMOUNT]).toBe(0.00021); // 1000 × $0.15 + 100 × $0.60 per million
  });

  test('AzureOpenAI embeddings and responses are instrumented by the same patches', async () => {
    const azure = new openaiModule.AzureOpenAI({ endpoint: `http://127.0.0.1:${h.fake.port}`, apiKey: 'k', apiVersion: '2025-03-01-preview' });
    await azure.embeddings.create({ model: 'text-embedding-3-small', input: 'abcd' });
    await azure.responses.create({ model: 'gpt-4o-mini', input: 'hi' });
    const providers = h.spans().map((s) => [s.name, s.attributes[A.ATTR_GEN_AI_PROVIDER_NAME]]);
    expect(providers).toEqual([
      ['embeddings text-embedding-3-small', 'azure.ai.openai'],
      ['chat gpt-4o-mini', 'azure.ai.openai'],
    ]);
  });

  test('OpenRouter-style usage.cost wins over local pricing: gen_ai.usage.cost.source=provider, counted into the task', async () => {
    h.instrumentation.setConfig({ openaiProviders: { [h.fake.url]: 'openrouter' } });
    h.fake.enqueue({ promptTokens: 1000, completionTokens: 100, cost: 0.00042, responseModel: 'openai/gpt-4o-mini' });
    await h.client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: hello });
    const a = h.chatSpans()[0]!.attributes;
    expect(a[A.ATTR_GEN_AI_PROVIDER_NAME]).toBe('openrouter');
    expect(a[A.ATTR_GEN_AI_USAGE_COST_AMOUNT]).toBe(0.00042);
    expect(a[A.ATTR_GEN_AI_USAGE_COST_SOURCE]).toBe('provider');
    expect(a).not.toHaveProperty(A.ATTR_SPENDTRACE_COST_INPUT);
  });

  test('OpenRouter without a reported cost is priced from its catalogue entry; a self_hosted model is unpriced, never $0', async () => {
    h.instrumentation.setConfig({ openaiProviders: { [h.fake.url]: 'openrouter' } });
    h.fake.enqueue({ promptTokens: 1000, completionTokens: 100, responseModel: 'openai/gpt-4o-mini' });
    await h.client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: hello });
    h.instrumentation.setConfig({ openaiProviders: { [`127.0.0.1:${h.fake.port}`]: 'self_hosted' } });
    await h.client.chat.completions.create({ model: 'gpt-4o-mini', messages: hello });
    const [routed, local] = h.chatSpans().map((s) => s.attributes);
    expect(routed![A.ATTR_GEN_AI_USAGE_COST_AMOUNT]).toBe(0.00021); // 1000 × $0.15 + 100 × $0.60 per million
    expect(local![A.ATTR_GEN_AI_PROVIDER_NAME]).toBe('self_hosted');
    expect(local![A.ATTR_SPENDTRACE_COST_UNPRICED]).toBe(true);
    expect(local).not.toHaveProperty(A.ATTR_GEN_AI_USAGE_COST_AMOUNT);
  });

  test('Groq through the map: priced at Groq rates', async () => {
    h.instrumentation.setConfig({ openaiProviders: { [h.fake.url]: 'groq' } });
    h.fake.enqueue({ promptTokens: 1_000_000, completionTokens: 1_000_000 });
    const groq = new OpenAI({ baseURL: h.fake.url, apiKey: 'k' });
    await groq.chat.completions.create({ model: 'llama-3.1-8b-instant', messages: hello });
    const a = h.chatSpans()[0]!.attributes;
    expect(a[A.ATTR_GEN_AI_PROVIDER_NAME]).toBe('groq');
    expect(a[A.ATTR_GEN_AI_USAGE_COST_AMOUNT]).toBe(0.13); // $0.05 in + $0.08 out per million (genai-prices groq)
  });
});
