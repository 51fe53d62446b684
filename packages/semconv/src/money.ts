/**
 * Exact money. Costs are carried as integer pico-USD (1e-12 USD) in a bigint: per-token rates
 * are published with up to six decimals per million tokens ($0.0375/Mtok is 37,500 pico-USD a
 * token), so every token cost is an exact integer here and sums of a million calls equal the sum
 * of their parts. Span attributes carry USD doubles (the conventions' type); ClickHouse stores
 * Decimal(38, 12), the same pico-USD integer.
 */
export type Pico = bigint;

export const PICO_PER_USD = 1_000_000_000_000n;
export const ZERO: Pico = 0n;

/** USD double -> pico-USD, rounding to the nearest pico (toFixed rounds the double's exact value). */
export function usdToPico(usd: number): Pico {
  if (!Number.isFinite(usd)) throw new RangeError(`not a finite USD amount: ${usd}`);
  const neg = usd < 0;
  const fixed = Math.abs(usd).toFixed(12);
  const dot = fixed.indexOf('.');
  const pico = BigInt(fixed.slice(0, dot) + fixed.slice(dot + 1));
  return neg ? -pico : pico;
}

/** pico-USD -> the nearest USD double (exact below ~$9,000 per value, far above any single call). */
export function picoToUsd(pico: Pico): number {
  return Number(pico) / 1e12;
}

/** pico-USD -> a decimal string with 12 fractional digits, what ClickHouse Decimal(38, 12) parses exactly. */
export function formatPico(pico: Pico): string {
  const neg = pico < 0n;
  const s = (neg ? -pico : pico).toString().padStart(13, '0');
  return `${neg ? '-' : ''}${s.slice(0, -12)}.${s.slice(-12)}`;
}

/** A decimal string (as ClickHouse returns Decimal) -> pico-USD. */
export function parsePico(text: string): Pico {
  const m = /^(-?)(\d*)(?:\.(\d*))?$/.exec(text.trim());
  if (!m) throw new RangeError(`not a decimal amount: ${text}`);
  const frac = (m[3] ?? '').padEnd(12, '0');
  if (frac.length > 12 && /[1-9]/.test(frac.slice(12))) throw new RangeError(`more precision than pico-USD: ${text}`);
  const v = BigInt((m[2] || '0') + frac.slice(0, 12));
  return m[1] ? -v : v;
}

/** A rate in USD per `per` units -> pico-USD per `per` units, exact for rates with <= 12 decimals. */
export function rateToPico(ratePerUnitBlock: number): Pico {
  return usdToPico(ratePerUnitBlock);
}

/**
 * n / d rounded half-up, for non-negative integers n < 2^53 and d > 0 held in doubles: exact,
 * because the floating quotient is at most one off and the remainder says which way.
 */
export function roundedQuotient(n: number, d: number): number {
  let q = Math.floor(n / d);
  let r = n - q * d;
  if (r < 0) {
    q -= 1;
    r += d;
  } else if (r >= d) {
    q += 1;
    r -= d;
  }
  return r * 2 >= d ? q + 1 : q;
}

/** units * (pico per `per` units) / per, rounded half-up to the pico (only sub-pico rates ever round). */
export function costOf(units: number, picoPerBlock: Pico, per: bigint): Pico {
  if (units <= 0 || picoPerBlock === 0n) return 0n;
  const u = Math.round(units);
  const rate = Number(picoPerBlock);
  // Integers whose product stays below 2^53 are exact in doubles: one BigInt made, not five.
  if (rate > 0 && rate <= Number.MAX_SAFE_INTEGER && u <= Number.MAX_SAFE_INTEGER / rate) return BigInt(roundedQuotient(u * rate, Number(per)));
  const n = BigInt(u) * picoPerBlock;
  const q = n / per;
  return (n % per) * 2n >= per ? q + 1n : q;
}

/** Human display: $0.0123 with enough digits to be useful for tiny amounts. */
export function formatUsd(pico: Pico, digits = 6): string {
  const usd = picoToUsd(pico);
  return `$${usd.toFixed(digits)}`;
}
