/**
 * The tails of the noise distributions: proven bounds that contain the exact value (summed here
 * independently, with compensated summation), tight enough to be useful, and O(1) at every σ the
 * DP core accepts (σ² up to 2^48).
 */
import { describe, expect, it } from 'vitest';
import { noiseInterval } from '../../src/dp/accuracy.ts';
import { discreteGaussian } from '../../src/dp/discrete-gaussian.ts';
import { discreteGaussianDistribution, discreteLaplaceDistribution } from '../../src/dp/distributions.ts';

/** Σ_{z ≥ from} e^(−z²/(2σ²)) by Neumaier summation, to 40σ (the rest is below e^-800). */
function exactGaussianSum(sigmaSquared: number, from: number): number {
  const last = Math.ceil(40 * Math.sqrt(sigmaSquared)) + 2;
  let sum = 0;
  let compensation = 0;
  for (let z = from; z <= last; z++) {
    const term = Math.exp(-(z * z) / (2 * sigmaSquared));
    const t = sum + term;
    compensation += Math.abs(sum) >= term ? sum - t + term : term - t + sum;
    sum = t;
  }
  return sum + compensation;
}

function exactGaussianTail(sigmaSquared: number, m: number): number {
  const normaliser = 1 + 2 * exactGaussianSum(sigmaSquared, 1);
  return exactGaussianSum(sigmaSquared, m) / normaliser;
}

describe('discrete Gaussian tails', () => {
  it.each([
    [0.3, [1, 2, 3]],
    [7 / 3, [1, 2, 5, 9]],
    [25 ** 2, [1, 10, 50, 120]],
    [255 ** 2, [1, 300, 1000]],
    [257 ** 2, [1, 300, 1000, 2000]],
    [3000 ** 2, [1, 1500, 6000, 15000]],
    [1e5 ** 2, [1, 200_000, 500_000]],
  ] as const)(
    'σ² = %d: the bounds contain the exact tail and are within 1e-8 of it',
    (sigmaSquared, points) => {
      const distribution = discreteGaussianDistribution(sigmaSquared);
      for (const m of points) {
        const exact = exactGaussianTail(sigmaSquared, m);
        const { lower, upper } = distribution.upperTailBounds(m);
        expect(lower).toBeLessThanOrEqual(exact * (1 + 1e-14));
        expect(upper).toBeGreaterThanOrEqual(exact * (1 - 1e-14));
        expect((upper - lower) / exact).toBeLessThan(1e-8);
        // The symmetric side: P(Z ≥ 1 − m) = 1 − P(Z ≥ m).
        const mirrored = distribution.upperTailBounds(1 - m);
        expect(mirrored.lower).toBeLessThanOrEqual(1 - exact + 1e-15);
        expect(mirrored.upper).toBeGreaterThanOrEqual(1 - exact - 1e-15);
      }
    },
  );

  it('at the largest σ accepted (σ² = 2^48) the bounds are within 1e-9 and cost microseconds', () => {
    const sigma = 2 ** 24;
    const distribution = discreteGaussianDistribution(sigma * sigma);
    const started = performance.now();
    for (const u of [0, 1, 2, 5, 10, 30]) {
      const { lower, upper } = distribution.upperTailBounds(Math.max(1, Math.round(u * sigma)));
      expect(upper).toBeGreaterThanOrEqual(lower);
      expect((upper - lower) / upper).toBeLessThan(1e-9);
    }
    expect(performance.now() - started).toBeLessThan(50);
  });

  it('the 95% interval at σ ≈ 1.6·10^7 takes milliseconds and covers at least 95%', () => {
    const mechanism = discreteGaussian({ sigma: 1.6e7 });
    const started = performance.now();
    const interval = mechanism.interval(0.95);
    expect(performance.now() - started).toBeLessThan(50);
    expect(interval.coverage).toBeGreaterThanOrEqual(0.95);
    // The continuous Gaussian's 95% half-width is 1.95996σ; the discrete one is within a step.
    expect(interval.halfWidth / 1.6e7).toBeCloseTo(1.959964, 5);
  });

  it('is a distribution: the pmf sums to 1 and the variance is σ² to float precision at large σ', () => {
    const distribution = discreteGaussianDistribution(1000 ** 2);
    let total = 0;
    for (let z = -40_000; z <= 40_000; z++) total += distribution.pmf(z);
    expect(total).toBeCloseTo(1, 12);
    expect(distribution.variance / 1e6).toBeCloseTo(1, 12);
  });
});

describe('discrete Laplace tails', () => {
  it('the closed form sits inside its bounds, and the interval is the least that covers', () => {
    const distribution = discreteLaplaceDistribution(1);
    const { lower, upper } = distribution.upperTailBounds(4);
    const exact = Math.exp(-4) / (1 + Math.exp(-1));
    expect(lower).toBeLessThanOrEqual(exact);
    expect(upper).toBeGreaterThanOrEqual(exact);
    const interval = noiseInterval(distribution, 0.95);
    expect(interval.halfWidth).toBe(3);
    expect(interval.coverage).toBeCloseTo(0.973, 3);
  });
});
