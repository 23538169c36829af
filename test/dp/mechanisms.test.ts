import { describe, expect, it } from 'vitest';
import { discreteGaussian } from '../../src/dp/discrete-gaussian.ts';
import { discreteLaplace } from '../../src/dp/discrete-laplace.ts';
import { nearestStep } from '../../src/dp/grid.ts';
import type { NoiseMechanism } from '../../src/dp/mechanism.ts';
import type { PrivacyLoss } from '../../src/dp/privacy-loss.ts';
import { rational } from '../../src/dp/rational.ts';
import { seededRandom } from '../support/seeded-random.ts';

const DRAWS = 20_000;

describe('mechanisms know their privacy loss', () => {
  it('discrete Laplace: ε = Δ1/t from the exact (rounded-up) scale', () => {
    expect(discreteLaplace({ scale: 2 }).loss(3)).toEqual({ kind: 'pure', epsilon: expect.closeTo(1.5, 12) });
    const mechanism = discreteLaplace({ scale: 0.1 });
    expect(mechanism.scale.numerator / mechanism.scale.denominator).toBeGreaterThanOrEqual(0.1);
    expect(mechanism.loss(1).epsilon).toBeLessThanOrEqual(10);
    expect(mechanism.loss(1).epsilon).toBeGreaterThan(10 * (1 - 2 ** -30));
  });

  it('discrete Gaussian: ρ = Δ2²/(2σ²), exact for σ² = 7/3', () => {
    const mechanism = discreteGaussian({ sigmaSquared: rational(7, 3) });
    expect(mechanism.loss(2)).toEqual({ kind: 'zcdp', rho: expect.closeTo(6 / 7, 12) });
    expect(mechanism.sigma).toBeCloseTo(Math.sqrt(7 / 3), 12);
  });

  it('rejects bad sensitivities and scales', () => {
    expect(() => discreteLaplace({ scale: 1 }).loss(-1)).toThrow(RangeError);
    expect(() => discreteLaplace({ scale: 0 })).toThrow(RangeError);
    expect(() => discreteLaplace({ scale: 2 ** 41 })).toThrow(RangeError);
    expect(() => discreteGaussian({ sigma: Number.NaN })).toThrow(RangeError);
  });
});

describe('release', () => {
  it('adds integer noise to integers and refuses non-integers', () => {
    const mechanism = discreteLaplace({ scale: 3, random: seededRandom(1) });
    const released = mechanism.releaseVector([0, 10, -5, 1_000_000]);
    expect(released.every(Number.isSafeInteger)).toBe(true);
    expect(() => mechanism.release(1.5)).toThrow(TypeError);
  });

  it('clamps instead of losing exactness near 2^53', () => {
    const mechanism = discreteGaussian({ sigma: 1e6, random: seededRandom(2) });
    for (let i = 0; i < 100; i++) {
      expect(Number.isSafeInteger(mechanism.release(Number.MAX_SAFE_INTEGER))).toBe(true);
    }
  });

  it('grid release: every output is an exact multiple of the power-of-two grid (Mironov 2012)', () => {
    const granularity = 2 ** -3;
    const mechanism = discreteLaplace({ scale: 4, random: seededRandom(3) }).onGrid(granularity);
    for (const value of [0, 0.1, 1 / 3, 12345.678, -2.0625]) {
      const released = mechanism.release(value);
      expect(Number.isInteger(released / granularity)).toBe(true);
    }
  });

  it('grid loss covers rounding: L1 steps ⌈Δ/g⌉ + k − 1, L2 steps min(Δ/g + √k, that)', () => {
    const laplace = discreteLaplace({ scale: 8 });
    // Δ = 2.3 on g = 0.5: ⌈4.6⌉ = 5 steps, ε = 5/8; 3 cells: 5 + 2 = 7 steps.
    expect(laplace.onGrid(0.5).loss(2.3).epsilon).toBeCloseTo(5 / 8, 12);
    expect(laplace.onGrid(0.5).loss(2.3, 3).epsilon).toBeCloseTo(7 / 8, 12);
    const gaussian = discreteGaussian({ sigma: 4 });
    // Δ = 1 on g = 0.25: 4 steps, ρ = 16/32 (the former bound Δ/g + 1 = 5 steps gave 25/32).
    expect(gaussian.onGrid(0.25).loss(1).rho).toBeCloseTo(16 / 32, 12);
    // 4 cells: min(4 + √4, 4 + 3) = 6 steps.
    expect(gaussian.onGrid(0.25).loss(1, 4).rho).toBeCloseTo(36 / 32, 12);
    expect(laplace.onGrid(0.5).loss(0).epsilon).toBe(0);
  });

  it('grid loss of a whole number of steps is that number: new next to the former ⌊Δ/g⌋ + 1', () => {
    // Scale-1 discrete Laplace, Δ = 1 on g = 1: ε = 1 (formerly 2).
    expect(discreteLaplace({ scale: 1 }).onGrid(1).loss(1).epsilon).toBeCloseTo(1, 12);
    // Δ = 100 on g = 0.5: 200 steps (formerly 201), ε = 200/t.
    expect(discreteLaplace({ scale: 50 }).onGrid(0.5).loss(100).epsilon).toBeCloseTo(4, 12);
    // The bound is tight: round(0.5) − round(−0.49) = 1 − 0 is one step for a change of 0.99 < 1.
    expect(nearestStep(0.5, 1) - nearestStep(-0.49, 1)).toBe(1);
    // And a change of exactly one step never moves the rounded value by two.
    const random = seededRandom(11);
    for (let i = 0; i < 10_000; i++) {
      const u = (random.nextUint32() - 2 ** 31) / 2 ** 20;
      expect(Math.abs(nearestStep(u + 1, 1) - nearestStep(u, 1))).toBeLessThanOrEqual(1);
    }
  });

  it('rounds to the grid exactly: like Math.round(x/g) for g = 2^k, from exact values otherwise', () => {
    const random = seededRandom(6);
    for (let i = 0; i < 10_000; i++) {
      const value = (random.nextUint32() - 2 ** 31) / 2 ** (random.nextUint32() % 40);
      const granularity = 2 ** ((random.nextUint32() % 41) - 20);
      expect(nearestStep(value, granularity)).toBe(Math.round(value / granularity) + 0); // + 0: no −0
    }
    expect(nearestStep(0.3, 0.1)).toBe(3); // exact 0.29999…9889 / 0.10000…0555 = 2.99999…98
    expect(nearestStep(0.25, 0.5)).toBe(1);
    expect(nearestStep(-0.25, 0.5)).toBe(0);
    expect(nearestStep(-0.75, 0.5)).toBe(-1);
    expect(nearestStep(1e300, 0.1)).toBe(2 ** 52);
    expect(() => nearestStep(Number.NaN, 1)).toThrow(TypeError);
  });

  it('grid loss takes ⌈Δ/g⌉ of the exact doubles, not of their float quotient', () => {
    // The doubles 0.3 and 0.1 have the exact ratio 2.99999999999999983…: a change of at most the
    // double 0.3 moves the rounded steps by at most 3 (their float quotient is 2.9999999999999996).
    expect(discreteLaplace({ scale: 1 }).onGrid(0.1).loss(0.3).epsilon).toBeCloseTo(3, 12);
    // The doubles 1.1 and 0.1 have an exact ratio just above 11 (their float quotient is 11): 12 steps.
    expect(discreteLaplace({ scale: 1 }).onGrid(0.1).loss(1.1).epsilon).toBeCloseTo(12, 12);
  });
});

type AnyMechanism = NoiseMechanism<PrivacyLoss>;
const coverageCases: Array<[string, (seed: number) => AnyMechanism]> = [
  ['discrete Laplace t = 1', (seed) => discreteLaplace({ scale: 1, random: seededRandom(seed) })],
  ['discrete Laplace t = 10', (seed) => discreteLaplace({ scale: 10, random: seededRandom(seed) })],
  ['discrete Laplace t = 10^4', (seed) => discreteLaplace({ scale: 10_000, random: seededRandom(seed) })],
  ['discrete Gaussian σ = 1', (seed) => discreteGaussian({ sigma: 1, random: seededRandom(seed) })],
  [
    'discrete Gaussian σ² = 7/3',
    (seed) => discreteGaussian({ sigmaSquared: rational(7, 3), random: seededRandom(seed) }),
  ],
  ['discrete Gaussian σ = 100', (seed) => discreteGaussian({ sigma: 100, random: seededRandom(seed) })],
];

describe('95% intervals', () => {
  // Discrete noise cannot hit 95% exactly: the interval is the smallest ±h with coverage ≥ 95%, and
  // reports its exact coverage (97.3% for the discrete Laplace at t = 1, 98.8% for the discrete
  // Gaussian at σ = 1). We test that the promise is ≥ 95% and that 20,000 draws land within ±1.5% of
  // it (±10 binomial standard errors); at larger scales the promise itself is within 95% + 0.15%.
  it.each(coverageCases)('%s: empirical coverage matches the promised one', (_, make) => {
    const mechanism = make(41);
    const { halfWidth, coverage } = mechanism.interval(0.95);
    expect(coverage).toBeGreaterThanOrEqual(0.95);
    let covered = 0;
    for (let i = 0; i < DRAWS; i++) if (Math.abs(mechanism.release(1000) - 1000) <= halfWidth) covered++;
    expect(Math.abs(covered / DRAWS - coverage)).toBeLessThanOrEqual(0.015);
  });

  it('large scales are within 95% ± 1.5% outright', () => {
    expect(discreteLaplace({ scale: 100 }).interval(0.95).coverage).toBeLessThan(0.9515);
    expect(discreteGaussian({ sigma: 100 }).interval(0.95).coverage).toBeLessThan(0.9515);
  });

  it('the discrete Laplace interval matches its closed form', () => {
    // P(|Z| > h) = 2q^(h+1)/(1+q), q = e^(−1/t): at t = 1, h = 3 is the first with ≤ 5%.
    const q = Math.exp(-1);
    const { halfWidth, coverage } = discreteLaplace({ scale: 1 }).interval(0.95);
    expect(halfWidth).toBe(3);
    expect(coverage).toBeCloseTo(1 - (2 * q ** 4) / (1 + q), 14);
  });

  it('grid intervals cover |released − true value|, rounding included', () => {
    const mechanism = discreteGaussian({ sigma: 3, random: seededRandom(5) }).onGrid(0.5);
    const { halfWidth, coverage } = mechanism.interval(0.9);
    let covered = 0;
    for (let i = 0; i < DRAWS; i++) if (Math.abs(mechanism.release(10.26) - 10.26) <= halfWidth) covered++;
    expect(covered / DRAWS).toBeGreaterThanOrEqual(coverage - 0.015);
  });
});
