/**
 * Prices token usage exactly, from `@pydantic/genai-prices` (the catalogue, read in its compact
 * form: price-catalogue.ts) and user overrides.
 *
 * The catalogue's own `calcPrice` works in floating point and costs ~24 µs a call; we only
 * resolve a (provider, model) to its published rates once, cache that, and do the arithmetic
 * in integer pico-USD (money.ts). The arithmetic mirrors the catalogue's engine: a tier applies
 * when total input tokens exceed its `start`, to every token kind; a cache rate falls back to its
 * ancestor rate (cache write 1h -> cache write -> input). The test suite checks every OpenAI,
 * Anthropic and Google model against `calcPrice` itself.
 */
import { readFileSync } from 'node:fs';
import { lookupCatalogue, matches, type MatchLogic, type ModelPrice, type TieredPrices } from './price-catalogue.ts';
import { costOf, roundedQuotient, usdToPico, type Pico } from './money.ts';
import type { Usage } from './usage.ts';

export const CATALOGUE_VERSION = 'genai-prices@0.1.8';

export interface Cost {
  total: Pico;
  /** Uncached input tokens. */
  input: Pico;
  cacheRead: Pico;
  cacheWrite: Pico;
  /** Output tokens other than reasoning. */
  output: Pico;
  reasoning: Pico;
  /** Per-request fees some models carry. */
  request: Pico;
  /** Provider-run tool fees billed with the call (web searches, file searches), per call. */
  tool: Pico;
}

export interface PriceQuote {
  cost: Cost;
  /** The catalogue's provider id (or the override's). */
  provider: string;
  /** The catalogue's model id that matched (or the override's). */
  model: string;
  source: 'catalogue' | 'override';
  version: string;
}

/** One user price: a custom, fine-tuned or self-hosted model, or a negotiated rate on a catalogue one. */
export interface PriceOverride {
  /** `gen_ai.provider.name` or catalogue provider id; `*` or absent matches any provider. */
  provider?: string;
  /** Exact model name (case-insensitive)... */
  model?: string;
  /** ...or a genai-prices match expression: { starts_with }, { regex }, { or: [...] }, ... */
  match?: MatchLogic;
  /** Rates in USD: input_mtok, output_mtok, cache_read_mtok, cache_write_mtok, cache_write_1h_mtok, requests_kcount, web_searches_kcount, storage_searches_kcount. */
  prices?: Record<string, number>;
  /** Multiplies the catalogue (or `prices`) rates: 0.5 for the Batch API, 0.8 for a negotiated 20% off. */
  multiplier?: number;
  /** ISO date (inclusive) from which this price applies. */
  effective_from?: string;
  /** ISO date (exclusive) from which it no longer applies. */
  effective_to?: string;
}

export interface PricerOptions {
  /** A JSON file `{ "models": PriceOverride[] }`. Env: SPENDTRACE_PRICES_FILE. */
  overridesFile?: string;
  /** Overrides given in code; checked before the file's. */
  overrides?: PriceOverride[];
}

/** `gen_ai.provider.name` (and common `gen_ai.system` values) -> genai-prices provider id. */
const PROVIDER_IDS: Record<string, string> = {
  openai: 'openai',
  'azure.ai.openai': 'azure',
  az_ai_openai: 'azure',
  azure: 'azure',
  anthropic: 'anthropic',
  'gcp.gemini': 'google',
  'gcp.vertex_ai': 'google',
  'gcp.gen_ai': 'google',
  gemini: 'google',
  vertex_ai: 'google',
  google: 'google',
  groq: 'groq',
  deepseek: 'deepseek',
  mistral_ai: 'mistral',
  mistral: 'mistral',
  x_ai: 'x-ai',
  xai: 'x-ai',
  openrouter: 'openrouter',
  together_ai: 'together',
  together: 'together',
  fireworks: 'fireworks',
  'aws.bedrock': 'aws',
};

/** Providers whose models are never in a public catalogue: priced only through overrides. */
const NEVER_CATALOGUED = new Set(['self_hosted', 'vllm', 'ollama']);

export function catalogueProviderId(providerName: string | undefined): string | undefined {
  if (!providerName) return undefined;
  return PROVIDER_IDS[providerName.toLowerCase()];
}

/**
 * Rates in pico-USD per block, as doubles: a published rate is an integer number of pico-USD
 * (exact to 12 decimals of a dollar, see usdToPico) far below 2^53, so doubles hold it exactly and
 * the per-call arithmetic stays in doubles while it is exact (computeCost).
 */
interface Rates {
  /** pico-USD per 1e6 tokens, or tiered. */
  input?: RateValue;
  cacheRead?: RateValue;
  cacheWrite?: RateValue;
  cacheWrite1h?: RateValue;
  output?: RateValue;
  /** pico-USD per 1000 requests. */
  request?: RateValue;
  /** pico-USD per 1000 web searches / file (storage) searches. */
  webSearch?: RateValue;
  fileSearch?: RateValue;
}
type RateValue = number | { base: number; tiers: Array<{ start: number; price: number }> };

interface Resolved {
  rates: Rates;
  provider: string;
  model: string;
  source: 'catalogue' | 'override';
  /** Parts per million applied to every cost (override multiplier); 1e6 = none. */
  multiplierPpm: bigint;
}

const MTOK = 1_000_000;
const KCOUNT = 1_000;
const PPM = 1_000_000n;

/** A USD rate as pico-USD in a double (exact: rates beyond 2^53 pico-USD, $9,007 per block, are refused). */
function picoRate(usd: number): number {
  const pico = Number(usdToPico(usd));
  if (!Number.isSafeInteger(pico)) throw new RangeError(`price ${usd} USD per block is out of range`);
  return pico;
}

function toRateValue(v: number | TieredPrices | undefined): RateValue | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'number') return picoRate(v);
  return { base: picoRate(v.base), tiers: [...v.tiers].sort((a, b) => a.start - b.start).map((t) => ({ start: t.start, price: picoRate(t.price) })) };
}

function ratesOf(mp: ModelPrice | Record<string, number>): Rates {
  const get = (k: string) => toRateValue(mp[k] as number | TieredPrices | undefined);
  const input = get('input_mtok');
  const cacheRead = get('cache_read_mtok') ?? input;
  const cacheWrite = get('cache_write_mtok') ?? input;
  return {
    input,
    cacheRead,
    cacheWrite,
    cacheWrite1h: get('cache_write_1h_mtok') ?? cacheWrite,
    output: get('output_mtok'),
    request: get('requests_kcount'),
    webSearch: get('web_searches_kcount'),
    fileSearch: get('storage_searches_kcount'),
  };
}

function pick(rate: RateValue | undefined, inputTotal: number): number {
  if (rate === undefined) return 0;
  if (typeof rate === 'number') return rate;
  let p = rate.base;
  for (const t of rate.tiers) if (inputTotal > t.start) p = t.price;
  return p;
}

function ppm(multiplier: number | undefined): bigint {
  if (multiplier === undefined) return PPM;
  if (!(multiplier >= 0) || !Number.isFinite(multiplier)) throw new RangeError(`override multiplier must be a number >= 0, got ${multiplier}`);
  return BigInt(Math.round(multiplier * 1e6));
}

export class PricingConfigError extends Error {
  readonly code = 'SPENDTRACE_PRICING_CONFIG';
}

/** Reads and validates an overrides file, reporting every problem at once. */
export function loadOverrides(file: string): PriceOverride[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new PricingConfigError(`cannot read price overrides from ${file}`, { cause });
  }
  const models = (raw as { models?: unknown })?.models;
  if (!Array.isArray(models)) throw new PricingConfigError(`${file}: expected { "models": [ ... ] }`);
  const problems: string[] = [];
  models.forEach((m: PriceOverride, i) => {
    if (!m || typeof m !== 'object') return problems.push(`models[${i}]: expected an object`);
    if (!m.model && !m.match) problems.push(`models[${i}]: needs "model" or "match"`);
    if (!m.prices && m.multiplier === undefined) problems.push(`models[${i}]: needs "prices" or "multiplier"`);
    for (const [k, v] of Object.entries(m.prices ?? {})) {
      if (typeof v !== 'number' || !(v >= 0)) problems.push(`models[${i}].prices.${k}: expected a number >= 0`);
    }
    for (const k of ['effective_from', 'effective_to'] as const) {
      if (m[k] !== undefined && Number.isNaN(Date.parse(m[k]!))) problems.push(`models[${i}].${k}: expected an ISO date`);
    }
    return undefined;
  });
  if (problems.length) throw new PricingConfigError(`${file}: ${problems.join('; ')}`);
  return models as PriceOverride[];
}

/**
 * Prices usage. Keep one per process: it caches model resolution, so the hot path is a Map
 * lookup and a few bigint multiplications.
 */
export class Pricer {
  readonly version: string;
  private readonly overrides: PriceOverride[];
  /** Resolutions by provider name, then model (no key string built per call). */
  private readonly cache = new Map<string, Map<string, CacheEntry>>();
  private cached = 0;

  constructor(options: PricerOptions = {}) {
    const file = options.overridesFile ?? process.env.SPENDTRACE_PRICES_FILE;
    this.overrides = [...(options.overrides ?? []), ...(file ? loadOverrides(file) : [])];
    this.version = this.overrides.length ? `${CATALOGUE_VERSION}+overrides(${this.overrides.length})` : CATALOGUE_VERSION;
  }

  /** The exact cost of `usage`, or undefined when neither an override nor the catalogue knows the model. */
  price(providerName: string | undefined, model: string | undefined, usage: Usage, at?: number): PriceQuote | undefined {
    if (!model) return undefined;
    const r = this.resolve(providerName, model, at);
    if (!r) return undefined;
    return { cost: computeCost(r, usage), provider: r.provider, model: r.model, source: r.source, version: this.version };
  }

  /** Whether a model has a price at all (cheap after the first call). */
  knows(providerName: string | undefined, model: string, at?: number): boolean {
    return this.resolve(providerName, model, at) !== null;
  }

  /** `at` undefined: now (the clock is only read for time-dependent prices). */
  private resolve(providerName: string | undefined, model: string, atOrNow: number | undefined): Resolved | null {
    const provider = providerName ?? '';
    let byModel = this.cache.get(provider);
    const hit = byModel?.get(model);
    if (hit && hit.until === Infinity && hit.from === -Infinity) return hit.resolved;
    const at = atOrNow ?? Date.now();
    if (hit && at >= hit.from && at < hit.until) return hit.resolved;
    const { resolved, timeDependent } = this.resolveUncached(providerName, model, at);
    // Date-constrained prices (overrides, catalogue price changes) are cached per minute of time.
    const from = timeDependent ? at - (at % CACHE_WINDOW_MS) : -Infinity;
    const until = timeDependent ? from + CACHE_WINDOW_MS : Infinity;
    if (this.cached > 10_000) {
      this.cache.clear();
      this.cached = 0;
      byModel = undefined;
    }
    if (!byModel) this.cache.set(provider, (byModel = new Map()));
    if (!byModel.has(model)) this.cached++;
    byModel.set(model, { resolved, from, until });
    return resolved;
  }

  private resolveUncached(providerName: string | undefined, model: string, at: number): { resolved: Resolved | null; timeDependent: boolean } {
    const providerId = catalogueProviderId(providerName);
    let timeDependent = false;
    // Later overrides in the list win over earlier ones only when more specific in time; the
    // first matching entry that is in effect at `at` is used.
    let override: PriceOverride | undefined;
    for (const o of this.overrides) {
      if (o.provider && o.provider !== '*' && o.provider !== providerName && o.provider !== providerId) continue;
      if (o.model ? o.model.toLowerCase() !== model.toLowerCase() : !(o.match && matches(o.match, model))) continue;
      if (o.effective_from || o.effective_to) timeDependent = true;
      if (o.effective_from && at < Date.parse(o.effective_from)) continue;
      if (o.effective_to && at >= Date.parse(o.effective_to)) continue;
      override = o;
      break;
    }
    if (override?.prices) {
      return {
        timeDependent,
        resolved: {
          rates: ratesOf(override.prices),
          provider: override.provider ?? providerName ?? 'custom',
          model: override.model ?? model,
          source: 'override',
          multiplierPpm: ppm(override.multiplier),
        },
      };
    }
    if (providerName && NEVER_CATALOGUED.has(providerName.toLowerCase())) return { resolved: null, timeDependent };
    // Provider-prefixed names ("openai/gpt-4o" through a router) resolve by their last segment too.
    const found =
      lookupCatalogue(providerId, model, at) ?? (model.includes('/') ? lookupCatalogue(providerId, model.slice(model.lastIndexOf('/') + 1), at) : undefined);
    if (!found) return { resolved: null, timeDependent };
    timeDependent ||= found.timeDependent;
    return {
      timeDependent,
      resolved: {
        rates: ratesOf(found.modelPrice),
        provider: found.provider,
        model: found.model,
        source: override ? 'override' : 'catalogue',
        multiplierPpm: ppm(override?.multiplier),
      },
    };
  }
}

const CACHE_WINDOW_MS = 60_000;

interface CacheEntry {
  resolved: Resolved | null;
  from: number;
  until: number;
}

/** An exact amount of pico-USD: an integer double while below 2^53, a bigint beyond. */
type Amount = number | bigint;

/** units × rate / per, rounded half-up to the pico (only sub-pico rates ever round), exactly. */
function part(units: number, rate: number, per: number): Amount {
  if (units <= 0 || rate === 0) return 0;
  const u = Math.round(units);
  // Integers whose product stays below 2^53 are exact in doubles: no bigint made.
  if (u > Number.MAX_SAFE_INTEGER / rate) return costOf(u, BigInt(rate), BigInt(per));
  return roundedQuotient(u * rate, per);
}

function add(a: Amount, b: Amount): Amount {
  if (typeof a === 'number' && typeof b === 'number') {
    const s = a + b;
    if (s <= Number.MAX_SAFE_INTEGER) return s;
  }
  return big(a) + big(b);
}

/** One bigint per non-zero amount (0n is a constant). */
function big(a: Amount): Pico {
  return typeof a === 'bigint' ? a : a === 0 ? 0n : BigInt(a);
}

function computeCost(r: Resolved, u: Usage): Cost {
  const rates = r.rates;
  const inTotal = u.inputTokens;
  const cacheRead = u.cacheReadTokens ?? 0;
  const cacheWrite = u.cacheWriteTokens ?? 0;
  const cacheWrite1h = Math.min(u.cacheWrite1hTokens ?? 0, cacheWrite);
  const reasoning = Math.min(u.reasoningTokens ?? 0, u.outputTokens);
  const uncached = Math.max(0, inTotal - cacheRead - cacheWrite);
  const outRate = pick(rates.output, inTotal);
  const input = part(uncached, pick(rates.input, inTotal), MTOK);
  const read = part(cacheRead, pick(rates.cacheRead, inTotal), MTOK);
  const write = add(part(cacheWrite - cacheWrite1h, pick(rates.cacheWrite, inTotal), MTOK), part(cacheWrite1h, pick(rates.cacheWrite1h, inTotal), MTOK));
  const output = part(u.outputTokens - reasoning, outRate, MTOK);
  const thinking = part(reasoning, outRate, MTOK);
  const request = part(1, pick(rates.request, inTotal), KCOUNT);
  const tool = add(part(u.webSearches ?? 0, pick(rates.webSearch, inTotal), KCOUNT), part(u.fileSearches ?? 0, pick(rates.fileSearch, inTotal), KCOUNT));
  if (r.multiplierPpm !== PPM) {
    const m = (p: Amount) => costOf(1, big(p) * r.multiplierPpm, PPM);
    const cost: Cost = {
      input: m(input),
      cacheRead: m(read),
      cacheWrite: m(write),
      output: m(output),
      reasoning: m(thinking),
      request: m(request),
      tool: m(tool),
      total: 0n,
    };
    cost.total = sumParts(cost);
    return cost;
  }
  const total = add(add(add(input, read), add(write, output)), add(add(thinking, request), tool));
  return {
    input: big(input),
    cacheRead: big(read),
    cacheWrite: big(write),
    output: big(output),
    reasoning: big(thinking),
    request: big(request),
    tool: big(tool),
    total: big(total),
  };
}

/** The parts' sum, adding only the non-zero ones (each bigint addition makes a new bigint; most parts are 0n). */
function sumParts(c: Cost): Pico {
  let t = c.input;
  if (c.cacheRead) t += c.cacheRead;
  if (c.cacheWrite) t += c.cacheWrite;
  if (c.output) t += c.output;
  if (c.reasoning) t += c.reasoning;
  if (c.request) t += c.request;
  if (c.tool) t += c.tool;
  return t;
}

/** Both OpenAI and Anthropic publish the Batch API price as half the token price. */
const BATCH_TOKEN_SHARE = 2n;

/**
 * A quote at the Batch API discount: token parts halved (rounded half-up to the pico), per-request
 * and tool fees unchanged. The catalogue (genai-prices 0.1.8) has no batch rates for openai or
 * anthropic, so the providers' published 50% rule is applied here, in one place, for the
 * instrumentation's batch spans, the exporter's pricing and reprice alike.
 */
export function batchQuote(q: PriceQuote): PriceQuote {
  const half = (p: Pico) => p / BATCH_TOKEN_SHARE + ((p % BATCH_TOKEN_SHARE) * 2n >= BATCH_TOKEN_SHARE ? 1n : 0n);
  const c = q.cost;
  const cost: Cost = {
    input: half(c.input),
    cacheRead: half(c.cacheRead),
    cacheWrite: half(c.cacheWrite),
    output: half(c.output),
    reasoning: half(c.reasoning),
    request: c.request,
    tool: c.tool,
    total: 0n,
  };
  cost.total = cost.input + cost.cacheRead + cost.cacheWrite + cost.output + cost.reasoning + cost.request + cost.tool;
  return { ...q, cost };
}
