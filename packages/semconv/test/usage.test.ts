// Proves usage normalization reads our attribute names and peers' (OpenInference, Vercel AI, older gen_ai).
import { describe, expect, it } from 'vitest';
import { usageFromAttributes } from '../src/index.ts';

describe('usageFromAttributes', () => {
  it('reads the GenAI conventions', () => {
    expect(
      usageFromAttributes({
        'gen_ai.usage.input_tokens': 100,
        'gen_ai.usage.output_tokens': 20,
        'gen_ai.usage.cache_read.input_tokens': 60,
        'gen_ai.usage.reasoning.output_tokens': 5,
      }),
    ).toEqual({ inputTokens: 100, outputTokens: 20, cacheReadTokens: 60, reasoningTokens: 5 });
  });
  it('reads older gen_ai names and OpenInference', () => {
    expect(usageFromAttributes({ 'gen_ai.usage.prompt_tokens': 7, 'gen_ai.usage.completion_tokens': 3 })).toEqual({ inputTokens: 7, outputTokens: 3 });
    expect(usageFromAttributes({ 'llm.token_count.prompt': '12', 'llm.token_count.completion': 4, 'llm.token_count.prompt_details.cache_read': 10 })).toEqual({
      inputTokens: 12,
      outputTokens: 4,
      cacheReadTokens: 10,
    });
    expect(usageFromAttributes({ 'ai.usage.promptTokens': 9, 'ai.usage.completionTokens': 1 })).toEqual({ inputTokens: 9, outputTokens: 1 });
  });
  it('ignores spans without tokens and absurd values', () => {
    expect(usageFromAttributes({ 'http.method': 'GET' })).toBeUndefined();
    expect(usageFromAttributes({ 'gen_ai.usage.input_tokens': -5, 'gen_ai.usage.output_tokens': Number.NaN })).toBeUndefined();
  });
  it('widens the input total when cached parts exceed it', () => {
    expect(usageFromAttributes({ 'gen_ai.usage.input_tokens': 10, 'gen_ai.usage.output_tokens': 1, 'gen_ai.usage.cache_read.input_tokens': 50 })).toEqual({
      inputTokens: 50,
      outputTokens: 1,
      cacheReadTokens: 50,
    });
  });
});
