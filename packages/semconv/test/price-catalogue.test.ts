// The compact catalogue is the installed @pydantic/genai-prices, and resolves every model as its
// own calcPrice does (provider, model and the price in effect), for every provider it ships.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { calcPrice, waitForUpdate } from '@pydantic/genai-prices';
import { lookupCatalogue } from '../src/price-catalogue.ts';
import { compactCatalogue, PRICE_DATA_DIR } from './compact-catalogue.ts';

describe('compact price data', () => {
  it('is what the installed genai-prices makes (node packages/semconv/test/compact-catalogue.ts --write)', async () => {
    const expected = await compactCatalogue();
    expect(readdirSync(PRICE_DATA_DIR).sort()).toEqual([...expected.keys()].sort());
    for (const [name, text] of expected) expect(readFileSync(join(PRICE_DATA_DIR, name), 'utf8'), name).toBe(text);
  });
});

describe('lookupCatalogue agrees with calcPrice', () => {
  const at = Date.parse('2026-06-01T15:30:00Z');
  const same = (providerId: string | undefined, name: string, when = at) => {
    const ref = calcPrice({ input_tokens: 0, output_tokens: 0 }, name, providerId ? { providerId, timestamp: new Date(when) } : { timestamp: new Date(when) });
    const ours = lookupCatalogue(providerId, name, when);
    if (!ref) return expect(ours, `${providerId} ${name}`).toBeUndefined();
    expect(ours, `${providerId} ${name}`).toBeDefined();
    expect([ours!.provider, ours!.model], `${providerId} ${name}`).toEqual([ref.provider.id, ref.model.id]);
    expect(JSON.parse(JSON.stringify(ours!.modelPrice)), `${providerId} ${name}`).toEqual(JSON.parse(JSON.stringify(ref.model_price)));
    expect(ours!.timeDependent).toBe(Array.isArray(ref.model.prices));
  };

  it('for every model of every provider, by provider id and by model name alone', async () => {
    const providers = (await waitForUpdate())!;
    let n = 0;
    for (const p of providers) {
      for (const m of p.models) {
        for (const name of [m.id, m.id.toUpperCase(), ` ${m.id}-20250514`, `${m.id}-2025-13-40`]) {
          same(p.id, name);
          same(undefined, name);
          n++;
        }
      }
    }
    same('no-such-provider', 'gpt-4o');
    same('openai', 'no-such-model');
    expect(n).toBeGreaterThan(1000);
  });

  it('for time-dependent prices at other moments', async () => {
    const providers = (await waitForUpdate())!;
    const timed = providers.flatMap((p) => p.models.filter((m) => Array.isArray(m.prices)).map((m) => [p.id, m.id] as const));
    expect(timed.length).toBeGreaterThan(0);
    for (const [p, m] of timed) {
      for (const when of ['2023-01-01T00:00:00Z', '2025-03-01T02:00:00Z', '2026-01-01T17:00:00Z', '2026-11-30T23:59:59Z']) same(p, m, Date.parse(when));
    }
  });
});
