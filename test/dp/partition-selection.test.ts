import { describe, expect, it } from 'vitest';
import { discreteGaussian } from '../../src/dp/discrete-gaussian.ts';
import { discreteLaplace } from '../../src/dp/discrete-laplace.ts';
import { seededRandom } from '../support/seeded-random.ts';
import { discreteGaussianPmf } from './chi-square.ts';

/** Wilson et al. 2020 / Desfontaines et al. 2022: δ(τ) = 1 − (1 − P(Z ≥ τ − 1))^k. */
function selectionDelta(tail: number, k: number): number {
  return 1 - (1 - tail) ** k;
}

describe('partition selection from the mechanism that adds the noise', () => {
  it('discrete Laplace: τ is the least integer with 1 − (1 − q^(τ−1)/(1+q))^k ≤ δ', () => {
    for (const [scale, delta, k] of [
      [1, 1e-6, 1],
      [1, 1e-6, 3],
      [10, 1e-9, 5],
      [0.5, 1e-5, 2],
    ] as const) {
      const selector = discreteLaplace({ scale }).partitionSelector({ delta, maxGroupsPerUnit: k });
      const q = Math.exp(-1 / scale);
      const deltaAt = (tau: number): number => selectionDelta(q ** (tau - 1) / (1 + q), k);
      let expected = 1;
      while (deltaAt(expected) > delta) expected++;
      expect(selector.threshold).toBe(expected);
      expect(selector.delta).toBeLessThanOrEqual(delta);
      expect(selector.delta).toBeCloseTo(deltaAt(expected), 12);
      expect(selector.countLoss).toEqual({ kind: 'pure', epsilon: expect.closeTo(k / scale, 12) });
    }
  });

  it('discrete Gaussian: τ from the pmf tail summed independently; counts priced at L2 = √k', () => {
    const sigma = 6;
    const k = 4;
    const selector = discreteGaussian({ sigma }).partitionSelector({ delta: 1e-7, maxGroupsPerUnit: k });
    const pmf = discreteGaussianPmf(sigma * sigma);
    const tail = (m: number): number => {
      let sum = 0;
      for (let z = m; z <= pmf.reach; z++) sum += pmf.probability(z);
      return sum;
    };
    expect(selectionDelta(tail(selector.threshold - 1), k)).toBeLessThanOrEqual(1e-7);
    expect(selectionDelta(tail(selector.threshold - 2), k)).toBeGreaterThan(1e-7);
    expect(selector.countLoss).toEqual({ kind: 'zcdp', rho: expect.closeTo(k / (2 * sigma * sigma), 12) });
  });

  it('keep() is exactly "noisy count ≥ threshold", and release() agrees with it', () => {
    const selector = discreteLaplace({ scale: 2, random: seededRandom(8) }).partitionSelector({
      delta: 1e-6,
      maxGroupsPerUnit: 1,
    });
    expect(selector.keep(selector.threshold)).toBe(true);
    expect(selector.keep(selector.threshold - 1)).toBe(false);
    for (let i = 0; i < 1000; i++) {
      const released = selector.release(selector.threshold);
      if (released !== undefined) expect(selector.keep(released)).toBe(true);
    }
  });

  it('δ is monotone: a smaller δ never lowers τ, and the achieved δ falls as τ rises', () => {
    for (const mechanism of [discreteLaplace({ scale: 3 }), discreteGaussian({ sigma: 3 })]) {
      let previous = { threshold: 0, delta: 1 };
      for (const delta of [1e-2, 1e-4, 1e-6, 1e-8, 1e-10, 1e-12]) {
        const selector = mechanism.partitionSelector({ delta, maxGroupsPerUnit: 2 });
        expect(selector.threshold).toBeGreaterThanOrEqual(previous.threshold);
        expect(selector.delta).toBeLessThanOrEqual(delta);
        if (selector.threshold > previous.threshold) expect(selector.delta).toBeLessThan(previous.delta);
        previous = selector;
      }
    }
  });

  it('a group only one person is in is released with probability ≤ δ (simulated at δ = 0.05)', () => {
    const selector = discreteLaplace({ scale: 1, random: seededRandom(9) }).partitionSelector({
      delta: 0.05,
      maxGroupsPerUnit: 1,
    });
    const draws = 20_000;
    let released = 0;
    for (let i = 0; i < draws; i++) if (selector.release(1) !== undefined) released++;
    const se = Math.sqrt((selector.delta * (1 - selector.delta)) / draws);
    expect(Math.abs(released / draws - selector.delta)).toBeLessThanOrEqual(5 * se);
  });

  it('rejects invalid options', () => {
    const mechanism = discreteLaplace({ scale: 1 });
    expect(() => mechanism.partitionSelector({ delta: 0, maxGroupsPerUnit: 1 })).toThrow(RangeError);
    expect(() => mechanism.partitionSelector({ delta: 1e-6, maxGroupsPerUnit: 0 })).toThrow(RangeError);
  });
});
