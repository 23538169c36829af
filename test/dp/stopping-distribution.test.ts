/**
 * The number of runs of a random-stopping search: the exact sampler of D_{η,γ} against the
 * distribution's pmf (written out here from its definition, normalised by direct summation), its
 * mean, and the tail bound that fixes the number of runs.
 */
import { describe, expect, it } from 'vitest';
import { stoppingDistribution } from '../../src/dp/stopping-distribution.ts';
import { seededRandom } from '../support/seeded-random.ts';
import { chiSquareTest, type ExactPmf } from './chi-square.ts';

/** P[K = k] ∝ (1 − γ)^k Π_{ℓ<k} (ℓ + η)/(ℓ + 1), or ∝ (1 − γ)^k / k for η = 0, on k ≥ 1. */
function definitionPmf(eta: number, gamma: number): ExactPmf {
  const weights = [0];
  let product = 1;
  for (let k = 1; k < 20_000; k++) {
    product *= eta === 0 ? 1 : (k - 1 + eta) / k;
    const weight = (1 - gamma) ** k * (eta === 0 ? 1 / k : product);
    weights.push(weight);
    if (weight < 1e-40) break;
  }
  const total = weights.reduce((a, b) => a + b, 0);
  return { probability: (z) => (weights[z] ?? 0) / total, reach: weights.length };
}

describe('the truncated negative binomial D_{η,γ}', () => {
  const cases: [number, number][] = [
    [0, 0.1],
    [0.5, 0.1],
    [1, 0.25],
    [2.5, 0.3],
  ];

  it.each(cases)('samples η = %s, γ = %s exactly (chi-square against the definition)', (eta, gamma) => {
    const law = stoppingDistribution({ eta, gamma });
    const random = seededRandom(Math.round(eta * 100 + gamma * 10_000));
    const samples = Array.from({ length: 20_000 }, () => law.sample(random));
    // The law as sampled: η and γ rounded to the sampler's grid (by less than 2^-17 and 2^-33).
    const pmf = definitionPmf(law.eta, law.gamma);
    const result = chiSquareTest(samples, pmf);
    expect(result.passes, JSON.stringify(result)).toBe(true);
    for (let k = 1; k < 40; k++) expect(law.probability(k)).toBeCloseTo(pmf.probability(k), 12);
    const mean = Array.from({ length: pmf.reach }, (_, k) => k * pmf.probability(k)).reduce((a, b) => a + b);
    expect(law.mean).toBeCloseTo(mean, 9);
  });

  it('tells a wrong law apart: γ = 0.27 samples fail the test against γ = 0.25', () => {
    const random = seededRandom(99);
    const law = stoppingDistribution({ eta: 1, gamma: 0.27 });
    const samples = Array.from({ length: 20_000 }, () => law.sample(random));
    expect(chiSquareTest(samples, definitionPmf(1, 0.25)).passes).toBe(false);
  });

  it.each(cases)('bounds P[K > n] from above, closely (η = %s, γ = %s)', (eta, gamma) => {
    const law = stoppingDistribution({ eta, gamma });
    const pmf = definitionPmf(law.eta, law.gamma);
    for (const n of [1, 5, 20, 80]) {
      let tail = 0;
      for (let k = n + 1; k < pmf.reach; k++) tail += pmf.probability(k);
      expect(law.tailAbove(n)).toBeGreaterThanOrEqual(tail * (1 - 1e-9));
      if (tail > 1e-300) expect(law.tailAbove(n)).toBeLessThan(tail * 4);
    }
  });

  it('rounds its parameters to the grid the sampler uses, and refuses ones outside its range', () => {
    const law = stoppingDistribution({ eta: 1 / 3, gamma: 0.1 });
    expect(law.eta * 2 ** 16).toBe(Math.round(2 ** 16 / 3));
    expect(law.gamma * 2 ** 32).toBe(Math.round(0.1 * 2 ** 32));
    expect(() => stoppingDistribution({ eta: -1, gamma: 0.5 })).toThrow(RangeError);
    expect(() => stoppingDistribution({ eta: 1, gamma: 1 })).toThrow(RangeError);
    expect(() => stoppingDistribution({ eta: 1, gamma: 0 })).toThrow(RangeError);
  });
});
