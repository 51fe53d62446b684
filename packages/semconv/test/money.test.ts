// Proves the money conversions are exact in both directions (USD doubles <-> pico-USD <-> Decimal text).
import { describe, expect, it } from 'vitest';
import { formatPico, parsePico, picoToUsd, usdToPico } from '../src/index.ts';

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
