import { describe, expect, it } from 'vitest';
import { rational, rationalAtLeast, squareAtLeast } from '../../src/dp/rational.ts';

/** x as an exact bigint fraction: every double in the tested range is a multiple of 2^-1074. */
function exactFraction(x: number): [bigint, bigint] {
  let numerator = x;
  let denominator = 1n;
  while (!Number.isInteger(numerator)) {
    numerator *= 2;
    denominator *= 2n;
  }
  return [BigInt(numerator), denominator];
}

describe('exact rational parameters', () => {
  it('reduces and validates', () => {
    expect(rational(14, 6)).toEqual({ numerator: 7, denominator: 3 });
    expect(() => rational(0, 1)).toThrow(RangeError);
    expect(() => rational(1.5, 1)).toThrow(RangeError);
    expect(() => rational(2 ** 49, 1)).toThrow(RangeError);
  });

  it('keeps floats with ≤ 32 significant bits exactly', () => {
    expect(rationalAtLeast(1)).toEqual({ numerator: 1, denominator: 1 });
    expect(rationalAtLeast(10_000)).toEqual({ numerator: 10_000, denominator: 1 });
    expect(rationalAtLeast(0.375)).toEqual({ numerator: 3, denominator: 8 });
    expect(rationalAtLeast(2 ** 40)).toEqual({ numerator: 2 ** 40, denominator: 1 });
  });

  it.each([0.1, 1 / 3, Math.PI, 3.7306316348185646, 12345.678901234, 2 ** -15 * 1.1, 7e11])(
    'rounds %d UP by less than 2^-31 relative',
    (x) => {
      const r = rationalAtLeast(x);
      const [n, d] = exactFraction(x);
      // r ≥ x  ⇔  r.numerator · d ≥ n · r.denominator, in exact integers.
      expect(BigInt(r.numerator) * d >= n * BigInt(r.denominator)).toBe(true);
      expect(r.numerator / r.denominator / x - 1).toBeLessThan(2 ** -31);
    },
  );

  it.each([0.1, 1 / 3, 3.7306316348185646, 10_000, 1234.5678])('squares %d UP exactly', (x) => {
    const r = squareAtLeast(x);
    const [n, d] = exactFraction(x);
    expect(BigInt(r.numerator) * d * d >= n * n * BigInt(r.denominator)).toBe(true);
    expect(r.numerator / r.denominator / (x * x) - 1).toBeLessThan(2 ** -29);
  });

  it('squares an exact square exactly', () => {
    expect(squareAtLeast(100)).toEqual({ numerator: 10_000, denominator: 1 });
    expect(squareAtLeast(0.5)).toEqual({ numerator: 1, denominator: 4 });
  });
});
