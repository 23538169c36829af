import { describe, expect, it } from 'vitest';
import {
  conditionalRandomizedRound,
  distributedRho,
  noiseShare,
  planDistributedGaussian,
  roundedL2Bound,
  sumDistanceTau,
  wrapAroundProbability,
} from '../../src/dp/distributed-discrete-gaussian.ts';
import { rationalValue } from '../../src/dp/rational.ts';
import { seededRandom } from '../support/seeded-random.ts';

describe('distributed discrete Gaussian (KLS21)', () => {
  it('τ matches the KLS21 Theorem 1 sum and is negligible from σ ≈ 2 on', () => {
    expect(sumDistanceTau(1, 1)).toBe(0);
    const expected = 10 * (Math.exp(-2 * Math.PI ** 2 * (1 / 2)) + Math.exp(-2 * Math.PI ** 2 * (2 / 3)));
    expect(sumDistanceTau(1, 3)).toBeCloseTo(expected, 15);
    expect(sumDistanceTau(4, 50)).toBeLessThan(1e-15);
    expect(sumDistanceTau(0.25, 3)).toBeGreaterThan(0.1);
  });

  it('ρ tends to the Gaussian Δ²/(2mσ²) when τ vanishes and grows with the dimension when it does not', () => {
    const setting = { l2Sensitivity: 10, dimension: 100, guaranteedParties: 4 };
    expect(distributedRho(setting, 100)).toBeCloseTo(100 / (2 * 4 * 100), 12);
    const small = distributedRho(setting, 0.5);
    expect(small).toBeGreaterThan(100 / (2 * 4 * 0.5));
    expect(distributedRho({ ...setting, dimension: 10_000 }, 0.5)).toBeGreaterThan(small);
  });

  it('plans the least local σ² meeting a ρ target, as an exact rational', () => {
    const setting = { l2Sensitivity: 25, dimension: 31, guaranteedParties: 2 };
    const plan = planDistributedGaussian(setting, 0.05);
    expect(plan.rho).toBeLessThanOrEqual(0.05);
    expect(plan.rho).toBeGreaterThan(0.05 * 0.999);
    const variance = rationalValue(plan.localSigmaSquared);
    expect(distributedRho(setting, variance * 0.99)).toBeGreaterThan(0.05);
    expect(plan.tau).toBeLessThan(1e-12);
  });

  it('the sum of m shares has variance m·σ² (chi-square-free check on 20 000 sums)', () => {
    const plan = planDistributedGaussian({ l2Sensitivity: 10, dimension: 1, guaranteedParties: 3 }, 0.5);
    const random = seededRandom(7);
    const sums = Array.from({ length: 20_000 }, () =>
      [0, 1, 2].reduce((sum) => sum + noiseShare(plan.localSigmaSquared, 1, random)[0]!, 0),
    );
    const mean = sums.reduce((a, b) => a + b, 0) / sums.length;
    const variance = sums.reduce((a, b) => a + (b - mean) ** 2, 0) / (sums.length - 1);
    const target = 3 * rationalValue(plan.localSigmaSquared);
    expect(Math.abs(mean)).toBeLessThan(5 * Math.sqrt(target / sums.length));
    // The sample variance's standard error is about target·√(2/N) ≈ 1% here.
    expect(variance / target).toBeGreaterThan(0.95);
    expect(variance / target).toBeLessThan(1.05);
  });

  it('the rounded L2 bound is √d above the scaled bound at β = 0 and tighter with β > 0', () => {
    expect(roundedL2Bound(10, 100, 0)).toBeCloseTo(20, 10);
    const withBeta = roundedL2Bound(10, 100, Math.exp(-0.5));
    expect(withBeta).toBeLessThan(20);
    expect(withBeta).toBeCloseTo(Math.sqrt(100 + 25 + 1 * (10 + 5)), 10);
  });

  it('conditional randomized rounding is unbiased and never exceeds its bound', () => {
    const random = seededRandom(3);
    const x = [0.25, -1.5, 2.75, 0];
    const bound = roundedL2Bound(Math.hypot(...x), x.length, 0.01);
    const total = [0, 0, 0, 0];
    const runs = 20_000;
    for (let r = 0; r < runs; r++) {
      const rounded = conditionalRandomizedRound(x, bound, random);
      expect(rounded.reduce((s, v) => s + v * v, 0)).toBeLessThanOrEqual(bound * bound);
      rounded.forEach((v, i) => {
        total[i]! += v;
      });
    }
    // Conditioning shifts the mean a little; the bias stays within a few hundredths here.
    for (const [i, sum] of total.entries()) expect(Math.abs(sum / runs - x[i]!)).toBeLessThan(0.05);
  });

  it('bounds the wrap-around probability by the sub-Gaussian tail and a union bound', () => {
    expect(wrapAroundProbability({ bits: 64, dimension: 10, maxAbsData: 1e9, totalVariance: 1e12 })).toBe(0);
    expect(wrapAroundProbability({ bits: 8, dimension: 1, maxAbsData: 200, totalVariance: 1 })).toBe(1);
    const p = wrapAroundProbability({ bits: 20, dimension: 1000, maxAbsData: 1000, totalVariance: 1e8 });
    const slack = 2 ** 19 - 1 - 1000;
    expect(p).toBeCloseTo(2000 * Math.exp(-(slack * slack) / 2e8), 20);
  });
});
