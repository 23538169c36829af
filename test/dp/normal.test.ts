import { describe, expect, it } from 'vitest';
import { erfc, standardNormalCdf } from '../../src/dp/normal.ts';

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
