// Proves the money conversions are exact in both directions (USD doubles <-> pico-USD <-> Decimal text).
import { describe, expect, it } from 'vitest';
import { formatPico, parsePico, picoToUsd, roundedQuotient, usdToPico } from '../src/index.ts';

describe('money', () => {
  it('round-trips doubles produced from pico amounts', () => {
    for (const p of [0n, 1n, 37_500n, 435_000_000n, 123_456_789_012n, 9_000_000_000_000_000n]) {
      expect(usdToPico(picoToUsd(p))).toBe(p);
    }
  });
  it('formats and parses Decimal(38, 12) text', () => {
    expect(formatPico(435_000_000n)).toBe('0.000435000000');
    expect(formatPico(-5n)).toBe('-0.000000000005');
    expect(formatPico(12_000_000_000_001n)).toBe('12.000000000001');
    expect(parsePico('12.000000000001')).toBe(12_000_000_000_001n);
    expect(parsePico('0.0004350375')).toBe(435_037_500n);
    expect(parsePico('3')).toBe(3_000_000_000_000n);
    expect(() => parsePico('1e-3')).toThrow(RangeError);
  });
  it('rejects non-finite amounts', () => {
    expect(() => usdToPico(Number.NaN)).toThrow(RangeError);
  });
});

describe('roundedQuotient', () => {
  it('agrees with bigint half-up division for integers up to 2^53', () => {
    // A fixed-seed LCG: the same 20,000 cases every run, spread over the whole exact range.
    let seed = 12345;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const ds = [1, 2, 3, 1000, 1_000_000, 999_983, 2 ** 31 - 1];
    for (let i = 0; i < 20_000; i++) {
      const n = Math.floor(next() * 2 ** 22) * 2 ** 31 + Math.floor(next() * 2 ** 31); // every bit random, < 2^53
      const d = ds[i % ds.length]!;
      const q = BigInt(n) / BigInt(d);
      const expected = (BigInt(n) % BigInt(d)) * 2n >= BigInt(d) ? q + 1n : q;
      expect(BigInt(roundedQuotient(n, d))).toBe(expected);
    }
    expect(roundedQuotient(5, 10)).toBe(1); // half rounds up
    expect(roundedQuotient(4, 10)).toBe(0);
    expect(roundedQuotient(Number.MAX_SAFE_INTEGER, 1)).toBe(Number.MAX_SAFE_INTEGER);
  });
});
