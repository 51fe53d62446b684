/**
 * The `@pydantic/genai-prices` catalogue in a compact form (src/price-data/, made from the
 * installed package by test/compact-catalogue.ts and checked equal to it by the tests): one JSON
 * file per provider with only ids, match expressions and prices, read the first time a model of
 * that provider is priced. Importing the package itself keeps its whole bundle (descriptions,
 * usage extractors, every provider) alive in the host process: +3.3 MB of heap and +17 MB RSS
 * (bench/README.md); a process pricing OpenAI calls holds only openai.json here.
 *
 * The lookup is the package's `calcPrice` resolution, step for step: provider by id (or its
 * `provider_match`), else by the model's `model_match`; the model by its `match` in the
 * provider, then in its fallback providers, then again with a compact date (`-20250514` ->
 * `-2025-05-14`); the price in effect at the timestamp (start dates, times of day).
 */
import { readFileSync } from 'node:fs';

export type MatchLogic =
  | { and: MatchLogic[] }
  | { or: MatchLogic[] }
  | { equals: string }
  | { starts_with: string }
  | { ends_with: string }
  | { contains: string }
  | { regex: string };

export interface TieredPrices {
  base: number;
  tiers: Array<{ start: number; price: number }>;
}
export type ModelPrice = Record<string, number | TieredPrices | undefined>;

type Constraint = { type: 'start_date'; start_date: string } | { type: 'time_of_date'; start_time: string; end_time: string };

interface CatalogueModel {
  id: string;
  match: MatchLogic;
  prices: ModelPrice | Array<{ constraint?: Constraint; prices: ModelPrice }>;
}

interface CatalogueProvider {
  id: string;
  provider_match?: MatchLogic;
  model_match?: MatchLogic;
  fallback_model_providers?: string[];
}

interface CatalogueMatch {
  modelPrice: ModelPrice;
  provider: string;
  model: string;
  /** The model's prices change with time (start dates, times of day). */
  timeDependent: boolean;
}

const DATA = new URL('./price-data/', import.meta.url);

let index: CatalogueProvider[] | undefined;
const models = new Map<string, CatalogueModel[]>();

function providers(): CatalogueProvider[] {
  return (index ??= JSON.parse(readFileSync(new URL('index.json', DATA), 'utf8')) as CatalogueProvider[]);
}

function modelsOf(providerId: string): CatalogueModel[] {
  let m = models.get(providerId);
  if (!m) models.set(providerId, (m = JSON.parse(readFileSync(new URL(`${providerId}.json`, DATA), 'utf8')) as CatalogueModel[]));
  return m;
}

/** The catalogue's match semantics: case-insensitive, a regex tested on the name as given. */
export function matches(m: MatchLogic, name: string): boolean {
  if ('or' in m) return m.or.some((x) => matches(x, name));
  if ('and' in m) return m.and.every((x) => matches(x, name));
  const n = name.toLowerCase();
  if ('equals' in m) return n === m.equals.toLowerCase();
  if ('starts_with' in m) return n.startsWith(m.starts_with.toLowerCase());
  if ('ends_with' in m) return n.endsWith(m.ends_with.toLowerCase());
  if ('contains' in m) return n.includes(m.contains.toLowerCase());
  if ('regex' in m) return new RegExp(m.regex).test(name);
  return false;
}

function findProvider(providerId: string | undefined, model: string): CatalogueProvider | undefined {
  const all = providers();
  if (providerId) {
    const id = providerId.toLowerCase().trim();
    return all.find((p) => p.id === id) ?? all.find((p) => p.provider_match && matches(p.provider_match, id));
  }
  return all.find((p) => p.model_match && matches(p.model_match, model));
}

function findModel(provider: CatalogueProvider, model: string, withFallbacks: boolean): CatalogueModel | undefined {
  const found = modelsOf(provider.id).find((m) => matches(m.match, model));
  if (found || !withFallbacks || !provider.fallback_model_providers) return found;
  for (const id of provider.fallback_model_providers) {
    const fallback = providers().find((p) => p.id === id);
    const m = fallback && findModel(fallback, model, false);
    if (m) return m;
  }
  return undefined;
}

const COMPACT_DATE = /(-)(20\d{2})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?=-|:|$)/g;

/** `-20250514` -> `-2025-05-14` where it is a real date. */
function dashedDates(model: string): string {
  return model.replace(COMPACT_DATE, (all, dash: string, y: string, m: string, d: string) => {
    const t = new Date(Date.UTC(Number(y), Number(m) - 1, Number(d)));
    return t.getUTCFullYear() !== Number(y) || t.getUTCMonth() !== Number(m) - 1 || t.getUTCDate() !== Number(d) ? all : `${dash}${y}-${m}-${d}`;
  });
}

/** Seconds after midnight UTC of an `HH:MM:SS[.frac](Z|±HH:MM)` time of day. */
function secondOfDay(time: string): number {
  const t = /^(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|([+-])(\d{2}):(\d{2}))$/.exec(time);
  if (!t) throw new Error(`Invalid time-of-day constraint: ${time}`);
  const [, h, m, s, frac = '', zone, sign, oh = '00', om = '00'] = t;
  if (Number(h) > 23 || Number(m) > 59 || Number(s) > 59 || oh > '23' || om > '59') throw new Error(`Invalid time-of-day constraint: ${time}`);
  const local = Number(h) * 3600 + Number(m) * 60 + Number(s) + Number(`0.${frac}`);
  const offset = zone === 'Z' ? 0 : (sign === '+' ? 1 : -1) * (Number(oh) * 60 + Number(om)) * 60;
  return (local - offset + 86400) % 86400;
}

function priceAt(model: CatalogueModel, at: Date): ModelPrice {
  const prices = model.prices;
  if (!Array.isArray(prices)) return prices;
  for (let i = prices.length - 1; i >= 0; i--) {
    const c = prices[i]!.constraint;
    if (c === undefined) return prices[i]!.prices;
    if (c.type === 'start_date') {
      if (at >= new Date(c.start_date)) return prices[i]!.prices;
    } else if (c.type === 'time_of_date') {
      const now = at.getUTCHours() * 3600 + at.getUTCMinutes() * 60 + at.getUTCSeconds() + at.getUTCMilliseconds() / 1000;
      const start = secondOfDay(c.start_time);
      const end = secondOfDay(c.end_time);
      if (end < start ? now >= start || now < end : now >= start && now < end) return prices[i]!.prices;
    } else {
      throw new Error(`Unknown price constraint for model '${model.id}': ${JSON.stringify(c)}`);
    }
  }
  return prices[0]!.prices;
}

/** The catalogue's price of `model` (at `at`, ms since the epoch), or undefined if it has none. */
export function lookupCatalogue(providerId: string | undefined, modelName: string, at: number): CatalogueMatch | undefined {
  const name = modelName.toLowerCase().trim();
  const provider = findProvider(providerId, name);
  if (!provider) return undefined;
  let model = findModel(provider, name, true);
  if (!model) {
    const dashed = dashedDates(name);
    if (dashed !== name) model = findModel(provider, dashed, true);
  }
  if (!model) return undefined;
  return { modelPrice: priceAt(model, new Date(at)), provider: provider.id, model: model.id, timeDependent: Array.isArray(model.prices) };
}
