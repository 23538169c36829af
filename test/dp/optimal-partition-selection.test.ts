/**
 * The optimal partition selection of Desfontaines, Voss, Gipson & Mandayam 2022 (Thm. 1): its keep
 * probabilities against the paper's recurrence and closed form, the (ε, δ) inequalities at every
 * count, the exact coin, and the keep probability next to thresholding's at the same (ε, δ).
 */
import { describe, expect, it } from 'vitest';
import { bernoulliDyadic } from '../../src/dp/bernoulli.ts';
import { discreteLaplace } from '../../src/dp/discrete-laplace.ts';
import {
  KEEP_PROBABILITY_BITS,
  optimalMedianCountAtLeast,
  optimalPartitionSelector,
  optimalSelectionFits,
} from '../../src/dp/optimal-partition-selection.ts';
import { seededRandom } from '../support/seeded-random.ts';

/** π(n) = min(e^ε π(n−1) + δ, 1 − e^−ε (1 − π(n−1) − δ), 1), in floats: the paper's recurrence. */
function recurrence(epsilon: number, delta: number, upTo: number): number[] {
  const pi = [0];
  for (let n = 1; n <= upTo; n++) {
    const previous = pi[n - 1]!;
    pi.push(
      Math.min(Math.exp(epsilon) * previous + delta, 1 - Math.exp(-epsilon) * (1 - previous - delta), 1),
    );
  }
  return pi;
}

/** Discrete Laplace thresholding's keep probability P(n + Z ≥ τ), q = e^(−1/t). */
function thresholdKeep(scale: number, threshold: number, n: number): number {
  const q = Math.exp(-1 / scale);
  const m = threshold - n;
  return m >= 0 ? q ** m / (1 + q) : 1 - q ** (-m + 1) / (1 + q);
}

const SETTINGS = [
  [1, 1e-5],
  [0.5, 1e-6],
  [0.1, 1e-6],
  [2, 1e-9],
  [0.05, 1e-3],
] as const;

describe('optimal partition selection (Desfontaines et al. 2022, Thm. 1)', () => {
  it.each(SETTINGS)(
    'ε = %s, δ = %s: the keep probabilities are the recurrence, within 1e-12',
    (epsilon, delta) => {
      const selector = optimalPartitionSelector({ epsilon, delta, maxGroupsPerUnit: 1 });
      const expected = recurrence(epsilon, delta, selector.certainCount + 3);
      for (let n = 0; n <= selector.certainCount + 3; n++) {
        expect(Math.abs(selector.keepProbability(n) - expected[n]!)).toBeLessThan(1e-12);
      }
      expect(selector.keepProbability(0)).toBe(0);
      expect(selector.keepNumerator(selector.certainCount)).toBe(1n << BigInt(KEEP_PROBABILITY_BITS));
      expect(selector.keepProbability(selector.certainCount - 1)).toBeLessThan(1);
      // Before the first crossover the paper's closed form: δ·(e^(nε) − 1)/(e^ε − 1).
      const geometric = (n: number) => (delta * Math.expm1(n * epsilon)) / Math.expm1(epsilon);
      for (
        let n = 1;
        n <= selector.certainCount && geometric(n) <= 1 - Math.exp(-epsilon) * (1 - geometric(n - 1) - delta);
        n++
      ) {
        expect(selector.keepProbability(n) / geometric(n)).toBeCloseTo(1, 9);
      }
    },
  );

  it.each(SETTINGS)('ε = %s, δ = %s: (ε, δ)-DP at every pair of neighbouring counts', (epsilon, delta) => {
    const selector = optimalPartitionSelector({ epsilon, delta, maxGroupsPerUnit: 1 });
    const slack = 1e-15;
    for (let n = 1; n <= selector.certainCount + 1; n++) {
      const [before, after] = [selector.keepProbability(n - 1), selector.keepProbability(n)];
      expect(after).toBeGreaterThanOrEqual(before);
      // Keep and drop, in both directions (the reverse two follow from monotonicity, checked anyway).
      expect(after).toBeLessThanOrEqual(Math.exp(epsilon) * before + delta + slack);
      expect(1 - before).toBeLessThanOrEqual(Math.exp(epsilon) * (1 - after) + delta + slack);
      expect(before).toBeLessThanOrEqual(Math.exp(epsilon) * after + delta + slack);
      expect(1 - after).toBeLessThanOrEqual(Math.exp(epsilon) * (1 - before) + delta + slack);
    }
  });

  it.each(SETTINGS)(
    'ε = %s, δ = %s: the closed-form lower bound on the median count holds',
    (epsilon, delta) => {
      for (const maxGroupsPerUnit of [1, 3]) {
        const options = { epsilon, delta, maxGroupsPerUnit };
        if (!optimalSelectionFits(options)) continue;
        const median = optimalPartitionSelector(options).medianCount;
        const atLeast = optimalMedianCountAtLeast(options);
        expect(atLeast).toBeLessThanOrEqual(median);
        // Close: the ramp's first branch decides the median while π < 1/2.
        expect(atLeast).toBeGreaterThanOrEqual(median - 2);
      }
    },
  );

  it('k groups per person: each group gets (ε/k, δ/k), and the charge is the (ε, δ) asked', () => {
    const [epsilon, delta, k] = [1, 1e-5, 4];
    const selector = optimalPartitionSelector({ epsilon, delta, maxGroupsPerUnit: k });
    expect(selector.loss).toEqual({ kind: 'approx', epsilon, delta });
    const expected = recurrence(epsilon / k, delta / k, selector.certainCount);
    for (let n = 0; n <= selector.certainCount; n++) {
      expect(Math.abs(selector.keepProbability(n) - expected[n]!)).toBeLessThan(1e-12);
    }
  });

  it('keeps a group at least as often as discrete Laplace thresholding at the same (ε, δ), at every count', () => {
    for (const [epsilon, delta] of SETTINGS) {
      for (const k of [1, 4]) {
        const optimal = optimalPartitionSelector({ epsilon, delta, maxGroupsPerUnit: k });
        const threshold = discreteLaplace({ scale: k / epsilon }).partitionSelector({
          delta,
          maxGroupsPerUnit: k,
        });
        // Thresholding's own δ is at most δ, and its keep coin per group is (ε/k, δ/k)-DP or better.
        for (let n = 1; n <= optimal.certainCount; n++) {
          expect(optimal.keepProbability(n)).toBeGreaterThanOrEqual(
            thresholdKeep(k / epsilon, threshold.threshold, n) - 1e-12,
          );
        }
        expect(optimal.medianCount).toBeLessThan(threshold.threshold);
      }
    }
  });

  it('keep frequencies over many draws match π(n) (4.5σ binomial bounds)', () => {
    const selector = optimalPartitionSelector({
      epsilon: 0.5,
      delta: 0.02,
      maxGroupsPerUnit: 1,
      random: seededRandom(21),
    });
    const draws = 20_000;
    for (let n = 0; n <= selector.certainCount; n++) {
      const p = selector.keepProbability(n);
      let kept = 0;
      for (let i = 0; i < draws; i++) if (selector.keep(n)) kept++;
      const spread = 4.5 * Math.sqrt((p * (1 - p)) / draws) + 1 / draws;
      expect(Math.abs(kept / draws - p)).toBeLessThanOrEqual(spread);
    }
  });

  it('refuses parameters whose keep function would not reach 1 within the table', () => {
    expect(optimalSelectionFits({ epsilon: 1, delta: 1e-6, maxGroupsPerUnit: 1 })).toBe(true);
    expect(optimalSelectionFits({ epsilon: 1e-4, delta: 1e-6, maxGroupsPerUnit: 1 })).toBe(false);
    expect(() => optimalPartitionSelector({ epsilon: 1e-4, delta: 1e-6, maxGroupsPerUnit: 1 })).toThrow(
      RangeError,
    );
    expect(() => optimalPartitionSelector({ epsilon: 1, delta: 0, maxGroupsPerUnit: 1 })).toThrow(RangeError);
    expect(() => optimalPartitionSelector({ epsilon: 1, delta: 1e-6, maxGroupsPerUnit: 0 })).toThrow(
      RangeError,
    );
  });
});

describe('bernoulliDyadic: Bernoulli(m/2^bits) from whole words', () => {
  it('is exact at the ends and matches m/2^bits in frequency', () => {
    const random = seededRandom(22);
    expect(bernoulliDyadic(random, 0n, 128)).toBe(false);
    expect(bernoulliDyadic(random, 1n << 128n, 128)).toBe(true);
    for (const [m, bits] of [
      [1n, 2],
      [3n, 3],
      [(1n << 127n) + 1n, 128],
      [5n, 35],
    ] as const) {
      const p = Number(m) / 2 ** bits;
      const draws = 40_000;
      let hits = 0;
      for (let i = 0; i < draws; i++) if (bernoulliDyadic(random, m, bits)) hits++;
      expect(Math.abs(hits / draws - p)).toBeLessThanOrEqual(
        4.5 * Math.sqrt((p * (1 - p)) / draws) + 1 / draws,
      );
    }
  });
});
