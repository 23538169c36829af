/**
 * The weighted Gaussian partition selection (Gopi et al. 2020) on the discrete Gaussian: the weights
 * keep a person's vector within L2 ≤ G, the threshold is the paper's formula on a fine grid, and on
 * small grids the (ε, δ) the charge states holds for neighbouring databases, computed exactly over the
 * noise distribution (every output, both directions).
 */
import { describe, expect, it } from 'vitest';
import { zcdpToEpsilon } from '../../src/dp/accounting/index.ts';
import { gaussianSigmaForRho } from '../../src/dp/calibration.ts';
import { discreteGaussian } from '../../src/dp/discrete-gaussian.ts';
import { normalSurvival } from '../../src/dp/normal.ts';
import {
  MAX_WEIGHTED_GROUPS,
  SELECTION_GRID,
  selectionWeights,
  weightedGaussianSelector,
} from '../../src/dp/weighted-gaussian-selection.ts';
import { seededRandom } from '../support/seeded-random.ts';
import { discreteGaussianPmf } from './chi-square.ts';

describe('selection weights', () => {
  it('w(j) is the largest integer with j·w(j)² ≤ G², so a person in j groups moves the vector by ≤ G in L2', () => {
    const weights = selectionWeights(MAX_WEIGHTED_GROUPS);
    const square = BigInt(SELECTION_GRID) ** 2n;
    weights.forEach((w, i) => {
      const j = BigInt(i + 1);
      expect(j * BigInt(w) ** 2n <= square).toBe(true);
      expect(j * BigInt(w + 1) ** 2n > square).toBe(true);
    });
    expect(weights.slice(0, 5)).toEqual([1024, 724, 591, 512, 457]);
  });
});

/** Φ⁻¹(q) by bisection on the normal survival function, for the paper's formula. */
function normalQuantile(q: number): number {
  const survival = 1 - q;
  let [low, high] = [-40, 40];
  for (let i = 0; i < 200; i++) {
    const middle = (low + high) / 2;
    if (normalSurvival(middle) > survival) low = middle;
    else high = middle;
  }
  return (low + high) / 2;
}

describe('the threshold', () => {
  it.each([
    [0.01, 3, 1e-7],
    [0.1, 5, 1e-6],
    [1, 10, 1e-9],
    [0.5, 2, 1e-5],
  ] as const)(
    'ρ = %s, k = %s, δ = %s: T/G is the paper’s max_t (1/√t + σ·Φ⁻¹((1 − δ)^(1/t)))',
    (rho, k, delta) => {
      const noise = discreteGaussian({ sigma: gaussianSigmaForRho({ rho, sensitivity: SELECTION_GRID }) });
      const selector = weightedGaussianSelector(noise, { delta, maxGroupsPerUnit: k });
      const sigma = noise.sigma / SELECTION_GRID;
      let paper = Number.NEGATIVE_INFINITY;
      for (let t = 1; t <= k; t++) {
        // (1 − δ)^(1/t) computed as 1 − (its complement), which is what the quantile needs.
        const complement = -Math.expm1(Math.log1p(-delta) / t);
        paper = Math.max(paper, 1 / Math.sqrt(t) + sigma * normalQuantile(1 - complement));
      }
      // Within a few grid steps: weights rounded down, integer threshold, the noise on the grid.
      expect(Math.abs(selector.threshold / SELECTION_GRID - paper)).toBeLessThan(4 / SELECTION_GRID);
      expect(selector.delta).toBeLessThanOrEqual(delta);
      expect(selector.loss.rho).toBeCloseTo(rho, 6);
      expect(selector.medianCounts[0]).toBe(Math.ceil(selector.threshold / SELECTION_GRID));
    },
  );
});

/**
 * Exact output distributions on a small grid. A database is the list of groups with their weight
 * sums; each group is kept iff W + Z ≥ T, independently; an output is the set of kept groups.
 */
function outputDistribution(
  weights: ReadonlyMap<string, number>,
  keep: (weight: number) => number,
): Map<string, number> {
  let outputs = new Map<string, number>([['', 1]]);
  for (const [group, weight] of [...weights].sort()) {
    const p = keep(weight);
    const next = new Map<string, number>();
    for (const [output, probability] of outputs) {
      next.set(`${output}|${group}`, (next.get(`${output}|${group}`) ?? 0) + probability * p);
      next.set(output, (next.get(output) ?? 0) + probability * (1 - p));
    }
    outputs = next;
  }
  return outputs;
}

/** max over both directions of Σ_o max(0, P(o) − e^ε·Q(o)): the least δ at this ε. */
function hockeyStick(p: Map<string, number>, q: Map<string, number>, epsilon: number): number {
  const side = (a: Map<string, number>, b: Map<string, number>) => {
    let sum = 0;
    for (const [output, probability] of a)
      sum += Math.max(0, probability - Math.exp(epsilon) * (b.get(output) ?? 0));
    return sum;
  };
  return Math.max(side(p, q), side(q, p));
}

describe('(ε, δ) on neighbouring databases, exactly', () => {
  const grid = 4;
  const sigmaSquared = 64; // σ = two units of weight: ρ = 1/8
  const delta = 0.02;
  const k = 3;
  const noise = discreteGaussian({ sigmaSquared: { numerator: sigmaSquared, denominator: 1 } });
  const selector = weightedGaussianSelector(noise, { delta, maxGroupsPerUnit: k, grid });
  const pmf = discreteGaussianPmf(sigmaSquared);
  const keep = (weight: number) => {
    let sum = 0;
    for (let z = selector.threshold - weight; z <= pmf.reach; z++) sum += pmf.probability(z);
    return Math.min(1, sum);
  };
  // The person's groups: shared (with the others' weight there) or theirs alone.
  const cases: readonly { readonly name: string; readonly others: Record<string, number> }[] = [
    { name: 'one group, alone', others: { a: 0 } },
    { name: 'two groups, both alone', others: { a: 0, b: 0 } },
    { name: 'three groups, one shared', others: { a: 5, b: 0, c: 0 } },
    { name: 'three groups, all shared', others: { a: 3, b: 8, c: 12 } },
    { name: 'two groups, one shared near the threshold', others: { a: selector.threshold - 2, b: 0 } },
  ];

  it('the threshold meets δ, and the weights are the grid’s', () => {
    expect(selector.weights).toEqual([4, 2, 2]);
    expect(selector.delta).toBeLessThanOrEqual(delta);
    expect(selector.loss.rho).toBeCloseTo(grid ** 2 / (2 * sigmaSquared), 12);
  });

  it.each(cases)('$name: δ(ε) ≤ δ_A(ε) + δ_B, and ≤ δ_c + δ_B at ε = zcdpToEpsilon(ρ, δ_c)', ({ others }) => {
    const groups = Object.keys(others);
    const w = selector.weights[groups.length - 1]!;
    const without = new Map(groups.filter((g) => others[g]! > 0).map((g) => [g, others[g]!]));
    const withPerson = new Map(groups.map((g) => [g, others[g]! + w]));
    const [p, q] = [outputDistribution(withPerson, keep), outputDistribution(without, keep)];
    // The shared groups alone (present on both sides): the part zCDP prices.
    const sharedWith = new Map([...without.keys()].map((g) => [g, others[g]! + w]));
    const [pShared, qShared] = [outputDistribution(sharedWith, keep), outputDistribution(without, keep)];
    for (const epsilon of [0, 0.1, 0.5, 1, 2]) {
      const full = hockeyStick(p, q, epsilon);
      expect(full).toBeLessThanOrEqual(hockeyStick(pShared, qShared, epsilon) + selector.delta + 1e-15);
    }
    for (const conversionDelta of [1e-2, 1e-3, 1e-4]) {
      const epsilon = zcdpToEpsilon(selector.loss.rho, conversionDelta);
      expect(hockeyStick(p, q, epsilon)).toBeLessThanOrEqual(conversionDelta + selector.delta);
    }
    // With no shared group the person's groups are the whole difference: δ(ε) ≤ δ_B at every ε ≥ 0.
    if (without.size === 0) expect(hockeyStick(p, q, 0)).toBeLessThanOrEqual(selector.delta);
  });

  it('a group of weight sum T is kept about as often as P(Z ≥ 0) says', () => {
    const random = seededRandom(7);
    const sampled = weightedGaussianSelector(
      discreteGaussian({ sigmaSquared: { numerator: sigmaSquared, denominator: 1 }, random }),
      { delta, maxGroupsPerUnit: k, grid },
    );
    const draws = 4000;
    let kept = 0;
    for (let i = 0; i < draws; i++) if (sampled.release(selector.threshold)) kept++;
    const p = keep(selector.threshold);
    expect(Math.abs(kept / draws - p)).toBeLessThan(4.5 * Math.sqrt((p * (1 - p)) / draws));
  });
});
