import { describe, expect, it } from 'vitest';
import { erfc, logErfc, normalCdf, normalSurvival } from '../../src/dp/accounting/index.ts';

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
    expect(Math.abs(normalCdf(-8) - 6.220960574271784e-16) / 6.220960574271784e-16).toBeLessThan(1e-13);
    for (const z of [-3, -0.2, 0, 1.7]) expect(normalCdf(z) + normalSurvival(z)).toBeCloseTo(1, 15);
  });
});
