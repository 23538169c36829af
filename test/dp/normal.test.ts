import { describe, expect, it } from 'vitest';
import { erfc, logErfc, normalSurvival, standardNormalCdf } from '../../src/dp/normal.ts';

// Reference values computed with mpmath 1.3 at 40 significant digits (mpmath.erfc, mpmath.ncdf),
// rounded to the nearest double.
const ERFC: Array<[number, number]> = [
  [-3, 1.9999779095030015],
  [-1, 1.842700792949715],
  [-0.5, 1.5204998778130465],
  [0, 1.0],
  [0.1, 0.8875370839817152],
  [0.5, 0.4795001221869535],
  [0.99, 0.1614919304446302],
  [1, 0.15729920705028513],
  [1.5, 0.033894853524689274],
  [2, 0.004677734981047266],
  [3, 2.209049699858544e-5],
  [5, 1.537459794428035e-12],
  [7, 4.183825607779414e-23],
  [10, 2.088487583762545e-45],
  [15, 7.212994172451207e-100],
  [20, 5.395865611607901e-176],
  [26, 5.663192408856143e-296],
];
const PHI: Array<[number, number]> = [
  [-37, 5.725571222524577e-300],
  [-20, 2.7536241186062337e-89],
  [-10, 7.619853024160525e-24],
  [-5, 2.866515718791939e-7],
  [1, 0.8413447460685429],
  [3, 0.9986501019683699],
];

describe('erfc and the standard normal CDF', () => {
  it.each(ERFC)('erfc(%d) has relative error below 1e-14, deep into the tail', (x, exact) => {
    expect(Math.abs(erfc(x) - exact) / exact).toBeLessThan(1e-14);
  });
  it.each(PHI)('Φ(%d) has relative error below 1e-13', (x, exact) => {
    expect(Math.abs(standardNormalCdf(x) - exact) / exact).toBeLessThan(1e-13);
  });
  it('is monotone and symmetric', () => {
    let previous = 2;
    for (let x = -6; x <= 6; x += 0.01) {
      const value = erfc(x);
      expect(value).toBeLessThanOrEqual(previous);
      expect(Math.abs(value + erfc(-x) - 2)).toBeLessThan(1e-15);
      previous = value;
    }
  });
});

// Reference values: mpmath at 30 significant digits, rounded to 16 (mpmath.erfc, mpmath.log, mpmath.ncdf).
describe('erfc and the normal tail', () => {
  it.each([
    [0.5, 0.4795001221869535],
    [1, 0.15729920705028513],
    [3, 2.2090496998585441e-5],
    [5, 1.5374597944280349e-12],
    [10, 2.088487583762545e-45],
  ])('erfc(%d) to 1e-13 relative (e^{−x²} alone amplifies the rounding of x² by x²)', (x, expected) => {
    expect(Math.abs(erfc(x) - expected) / expected).toBeLessThan(1e-13);
  });

  it('log erfc stays exact where erfc underflows', () => {
    expect(logErfc(30)).toBeCloseTo(-903.9741171106439, 10);
    expect(logErfc(100)).toBeCloseTo(-10005.17758512266, 8);
  });

  it('is continuous where the method switches (x = √2) and symmetric: erfc(−x) = 2 − erfc(x)', () => {
    const below = erfc(Math.SQRT2 * (1 - 1e-12));
    const above = erfc(Math.SQRT2 * (1 + 1e-12));
    expect(Math.abs(below - above) / above).toBeLessThan(1e-11);
    for (const x of [0.1, 0.9, 2.5]) expect(erfc(-x)).toBeCloseTo(2 - erfc(x), 15);
  });

  it('normal tails: Φ(−8) to 1e-13 relative, and Φ(z) + Φ(−z) = 1', () => {
    expect(Math.abs(standardNormalCdf(-8) - 6.220960574271784e-16) / 6.220960574271784e-16).toBeLessThan(
      1e-13,
    );
    for (const z of [-3, -0.2, 0, 1.7]) expect(standardNormalCdf(z) + normalSurvival(z)).toBeCloseTo(1, 15);
  });
});
