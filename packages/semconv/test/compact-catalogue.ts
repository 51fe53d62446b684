/**
 * Builds the compact price data `src/price-catalogue.ts` reads from the installed
 * `@pydantic/genai-prices`: per provider only what pricing uses (ids, match expressions, fallback
 * providers, prices), one JSON file each, so a process loads only the providers it prices.
 * price-catalogue.test.ts checks the committed files equal what this builds.
 *
 *   node packages/semconv/test/compact-catalogue.ts --write
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitForUpdate } from '@pydantic/genai-prices';

export const PRICE_DATA_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'price-data');

/** File name -> contents (JSON text, one line). */
export async function compactCatalogue(): Promise<Map<string, string>> {
  const providers = await waitForUpdate();
  if (!providers) throw new Error('@pydantic/genai-prices has no provider data');
  const files = new Map<string, string>();
  const index = providers.map((p) => ({
    id: p.id,
    ...(p.provider_match ? { provider_match: p.provider_match } : {}),
    ...(p.model_match ? { model_match: p.model_match } : {}),
    ...(p.fallback_model_providers?.length ? { fallback_model_providers: p.fallback_model_providers } : {}),
  }));
  files.set('index.json', `${JSON.stringify(index)}\n`);
  for (const p of providers) {
    if (!/^[a-z0-9_.-]+$/i.test(p.id)) throw new Error(`provider id ${p.id} is not a file name`);
    files.set(`${p.id}.json`, `${JSON.stringify(p.models.map((m) => ({ id: m.id, match: m.match, prices: m.prices })))}\n`);
  }
  return files;
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv.includes('--write')) {
  const files = await compactCatalogue();
  rmSync(PRICE_DATA_DIR, { recursive: true, force: true });
  mkdirSync(PRICE_DATA_DIR, { recursive: true });
  for (const [name, text] of files) writeFileSync(join(PRICE_DATA_DIR, name), text);
  console.log(`${files.size} files in ${PRICE_DATA_DIR} (${readdirSync(PRICE_DATA_DIR).length})`);
}
