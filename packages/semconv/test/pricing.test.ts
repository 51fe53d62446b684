// Proves exact pricing: published per-million-token rates give exact pico-USD costs, and the
// integer engine agrees with the catalogue's own calcPrice for every OpenAI, Anthropic and Google model.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calcPrice, findProvider } from '@pydantic/genai-prices';
import { describe, expect, it } from 'vitest';
import { formatPico, PricingConfigError, Pricer, type Usage } from '../src/index.ts';

const pricer = new Pricer();
// pico-USD per token = (USD per Mtok) * 1e6
const perMtok = (usd: number, tokens: number) => BigInt(Math.round(usd * 1e6)) * BigInt(tokens);

describe('published prices', () => {
  it('prices plain input and output (gpt-4o-mini: $0.15 in, $0.60 out per Mtok)', () => {
    const q = pricer.price('openai', 'gpt-4o-mini', { inputTokens: 1234, outputTokens: 567 })!;
    expect(q.cost.input).toBe(perMtok(0.15, 1234));
    expect(q.cost.output).toBe(perMtok(0.6, 567));
    expect(q.cost.total).toBe(185_100_000n + 340_200_000n);
    expect(formatPico(q.cost.total)).toBe('0.000525300000');
    expect(q).toMatchObject({ provider: 'openai', model: 'gpt-4o-mini', source: 'catalogue' });
  });

  it('discounts cached input reads (gpt-4o-mini cached: $0.075 per Mtok)', () => {
    const q = pricer.price('openai', 'gpt-4o-mini-2024-07-18', { inputTokens: 10_000, outputTokens: 100, cacheReadTokens: 8_192 })!;
    expect(q.cost.input).toBe(perMtok(0.15, 10_000 - 8_192));
    expect(q.cost.cacheRead).toBe(perMtok(0.075, 8_192));
    expect(q.cost.output).toBe(perMtok(0.6, 100));
    expect(q.cost.total).toBe(perMtok(0.15, 1_808) + perMtok(0.075, 8_192) + perMtok(0.6, 100));
  });

  it('prices reasoning tokens at the output rate (o3-mini: $1.10 in, $4.40 out per Mtok)', () => {
    const q = pricer.price('openai', 'o3-mini', { inputTokens: 500, outputTokens: 3_000, reasoningTokens: 2_400 })!;
    expect(q.cost.reasoning).toBe(perMtok(4.4, 2_400));
    expect(q.cost.output).toBe(perMtok(4.4, 600));
    expect(q.cost.total).toBe(perMtok(1.1, 500) + perMtok(4.4, 3_000));
  });

  it('prices Anthropic cache writes at 5m and 1h rates (claude-sonnet-4-5: $3 in, $3.75 5m write, $6 1h write, $0.30 read, $15 out)', () => {
    const q = pricer.price('anthropic', 'claude-sonnet-4-5', {
      inputTokens: 100 + 2_000 + 3_000 + 4_000,
      outputTokens: 50,
      cacheReadTokens: 4_000,
      cacheWriteTokens: 5_000,
      cacheWrite1hTokens: 3_000,
    })!;
    expect(q.cost.input).toBe(perMtok(3, 100));
    expect(q.cost.cacheRead).toBe(perMtok(0.3, 4_000));
    expect(q.cost.cacheWrite).toBe(perMtok(3.75, 2_000) + perMtok(6, 3_000));
    expect(q.cost.output).toBe(perMtok(15, 50));
  });

  it('applies the long-context tier to every token kind (gemini-2.5-pro above 200k input: $2.50 in, $15 out)', () => {
    const q = pricer.price('gcp.gemini', 'gemini-2.5-pro', { inputTokens: 250_000, outputTokens: 1_000 })!;
    expect(q.cost.input).toBe(perMtok(2.5, 250_000));
    expect(q.cost.output).toBe(perMtok(15, 1_000));
    const small = pricer.price('gcp.gemini', 'gemini-2.5-pro', { inputTokens: 200_000, outputTokens: 1_000 })!;
    expect(small.cost.input).toBe(perMtok(1.25, 200_000));
  });

  it('sums a million calls exactly', () => {
    let sum = 0n;
    for (let i = 0; i < 1_000_000; i += 1000) sum += pricer.price('openai', 'gpt-4o-mini', { inputTokens: 1 + (i % 7), outputTokens: 3 })!.cost.total;
    let expected = 0n;
    for (let i = 0; i < 1_000_000; i += 1000) expected += perMtok(0.15, 1 + (i % 7)) + perMtok(0.6, 3);
    expect(sum).toBe(expected);
  });
});

describe('unknown models', () => {
  it('returns no price rather than $0', () => {
    expect(pricer.price('openai', 'gpt-does-not-exist', { inputTokens: 10, outputTokens: 10 })).toBeUndefined();
    expect(pricer.price('self_hosted', 'llama-3.1-8b', { inputTokens: 10, outputTokens: 10 })).toBeUndefined();
    expect(pricer.price('openai', undefined, { inputTokens: 10, outputTokens: 10 })).toBeUndefined();
  });
});

describe('overrides', () => {
  const dir = mkdtempSync(join(tmpdir(), 'spendtrace-prices-'));
  const file = join(dir, 'prices.json');
  writeFileSync(
    file,
    JSON.stringify({
      models: [
        { provider: 'openai', model: 'ft:gpt-4o-mini-2024-07-18:acme::abc123', prices: { input_mtok: 0.3, output_mtok: 1.2, cache_read_mtok: 0.15 } },
        { provider: 'self_hosted', match: { starts_with: 'llama-' }, prices: { input_mtok: 0.05, output_mtok: 0.05 } },
        { provider: 'openai', model: 'gpt-4.1', multiplier: 0.5, effective_from: '2026-01-01', effective_to: '2026-02-01' },
      ],
    }),
  );
  const p = new Pricer({ overridesFile: file });

  it('prices fine-tuned and self-hosted models from the file', () => {
    const ft = p.price('openai', 'ft:gpt-4o-mini-2024-07-18:acme::abc123', { inputTokens: 1000, outputTokens: 1000, cacheReadTokens: 400 })!;
    expect(ft.source).toBe('override');
    expect(ft.cost.total).toBe(perMtok(0.3, 600) + perMtok(0.15, 400) + perMtok(1.2, 1000));
    expect(p.price('self_hosted', 'llama-3.1-70b', { inputTokens: 1e6, outputTokens: 0 })!.cost.total).toBe(50_000_000_000n);
    expect(p.version).toBe('genai-prices@0.1.8+overrides(3)');
  });

  it('applies a negotiated multiplier only inside its effective dates', () => {
    const usage: Usage = { inputTokens: 1_000_000, outputTokens: 0 };
    const inside = p.price('openai', 'gpt-4.1', usage, Date.parse('2026-01-15T00:00:00Z'))!;
    const after = p.price('openai', 'gpt-4.1', usage, Date.parse('2026-03-01T00:00:00Z'))!;
    expect(inside.cost.total).toBe(1_000_000_000_000n); // $2.00/Mtok at half price
    expect(after.cost.total).toBe(2_000_000_000_000n);
    expect(after.source).toBe('catalogue');
  });

  it('reports every problem in a bad file at once', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ models: [{ prices: { input_mtok: -1 } }, { model: 'x' }] }));
    expect(() => new Pricer({ overridesFile: bad })).toThrow(PricingConfigError);
    expect(() => new Pricer({ overridesFile: bad })).toThrow(/models\[0\]: needs "model".*input_mtok.*models\[1\]: needs "prices"/);
  });
});

describe('agreement with the catalogue engine', () => {
  const shapes: Usage[] = [
    { inputTokens: 1_000, outputTokens: 200 },
    { inputTokens: 50_000, outputTokens: 4_000, cacheReadTokens: 30_000, reasoningTokens: 1_000 },
    { inputTokens: 300_000, outputTokens: 9_000, cacheReadTokens: 100_000, cacheWriteTokens: 20_000 },
  ];
  for (const [gen, providerId] of [
    ['openai', 'openai'],
    ['anthropic', 'anthropic'],
    ['gcp.gemini', 'google'],
  ] as const) {
    it(`matches calcPrice for every ${providerId} model`, () => {
      let checked = 0;
      for (const model of findProvider({ providerId })!.models) {
        for (const u of shapes) {
          const ref = calcPrice(
            {
              input_tokens: u.inputTokens,
              output_tokens: u.outputTokens,
              ...(u.cacheReadTokens ? { cache_read_tokens: u.cacheReadTokens } : {}),
              ...(u.cacheWriteTokens ? { cache_write_tokens: u.cacheWriteTokens } : {}),
            },
            model.id,
            { providerId },
          );
          const ours = pricer.price(gen, model.id, u);
          if (!ref) {
            expect(ours).toBeUndefined();
            continue;
          }
          expect(ours, model.id).toBeDefined();
          const total = Number(ours!.cost.total) / 1e12;
          expect(Math.abs(total - ref.total_price), `${model.id} ${JSON.stringify(u)}`).toBeLessThanOrEqual(1e-12 + ref.total_price * 1e-12);
          checked++;
        }
      }
      expect(checked).toBeGreaterThan(30);
    });
  }
});
