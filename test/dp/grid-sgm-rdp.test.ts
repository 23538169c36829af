/**
 * The Rényi curve the ledger stores for a DP-SGD job must bound the mechanism dpgate runs: Poisson
 * subsampling with discrete Gaussian noise on an integer grid (src/train/noisy-gradient-sum.ts), in
 * both directions of add/remove. Here the divergences of that mechanism are summed exactly on ℤ for
 * a coarse grid (noise of a few grid steps), where the discrete and continuous Gaussians differ.
 */
import { describe, expect, it } from 'vitest';
import { LEDGER_RDP_ORDERS } from '../../src/dp/accounting/rdp-ledger.ts';
import { subsampledGaussianRdp } from '../../src/dp/accounting/subsampled-gaussian-rdp.ts';
import { SMOOTHING } from '../../src/train/noisy-gradient-sum.ts';

/**
 * D_α((1−q)P + qQ ‖ P) and D_α(P ‖ (1−q)P + qQ) for P = N_ℤ(0, s²)^d, Q = N_ℤ(v, s²)^d, summed over
 * the lattice points of a box wide enough that the rest is below 1e-300.
 */
function gridDivergences(s: number, shift: readonly number[], q: number, order: number) {
  const reach = Math.ceil(40 * s) + Math.max(...shift.map(Math.abs));
  const weight = (x: number, mean: number) => Math.exp(-((x - mean) ** 2) / (2 * s * s));
  let normaliser = 0;
  for (let x = -reach; x <= reach; x++) normaliser += weight(x, 0);
  let removal = 0;
  let addition = 0;
  const visit = (point: number[]) => {
    if (point.length === shift.length) {
      let p = 1;
      let ratio = 1;
      point.forEach((x, j) => {
        p *= weight(x, 0) / normaliser;
        ratio *= weight(x, shift[j]!) / weight(x, 0);
      });
      if (p === 0) return;
      const mixture = 1 - q + q * ratio;
      removal += p * mixture ** order;
      addition += p * mixture ** (1 - order);
      return;
    }
    for (let x = -reach; x <= reach; x++) visit([...point, x]);
  };
  visit([]);
  return { removal: Math.log(removal) / (order - 1), addition: Math.log(addition) / (order - 1) };
}

describe('RDP of grid DP-SGD (subsampled discrete Gaussian)', () => {
  it('at integer orders the removal direction is exactly the continuous value, the addition direction below it', () => {
    const cases = [
      { s: 0.8, shift: [1], q: 0.1 },
      { s: 0.5, shift: [1], q: 0.5 },
      { s: 1.3, shift: [2], q: 0.01 },
      { s: 1, shift: [1, 1], q: 0.2 },
    ];
    for (const { s, shift, q } of cases) {
      const sigma = s / Math.hypot(...shift);
      for (const order of [2, 3, 4, 5, 8]) {
        const continuous = subsampledGaussianRdp({ q, sigma }, order);
        const { removal, addition } = gridDivergences(s, shift, q, order);
        expect(removal).toBeCloseTo(continuous, 9);
        expect(addition).toBeLessThanOrEqual(removal);
      }
    }
  });

  it('without smoothing the continuous curve is too low at fractional orders; with it, every order is covered', () => {
    const q = 0.1;
    const sigma = 0.8;
    // Noise of σ grid steps alone: at α = 1.5 the grid mechanism's divergence is above the curve.
    expect(subsampledGaussianRdp({ q, sigma }, 1.5)).toBeLessThan(
      gridDivergences(sigma, [1], q, 1.5).removal,
    );
    // Noise of √(σ² + t²) steps, as noisy-gradient-sum.ts draws it: below the curve at σ everywhere.
    const smoothed = Math.hypot(sigma, SMOOTHING);
    for (const order of LEDGER_RDP_ORDERS.filter((order) => order <= 16)) {
      const { removal, addition } = gridDivergences(smoothed, [1], q, order);
      expect(Math.max(removal, addition)).toBeLessThanOrEqual(subsampledGaussianRdp({ q, sigma }, order));
    }
  });

  it('the smoothing kernel is a partition of unity within 1e-15 (Poisson summation)', () => {
    const t = SMOOTHING;
    for (let u = 0; u <= 1; u += 1 / 64) {
      let theta = 0;
      for (let j = -40; j <= 40; j++)
        theta += Math.exp(-((u - j) ** 2) / (2 * t * t)) / (t * Math.sqrt(2 * Math.PI));
      expect(Math.abs(theta - 1)).toBeLessThan(1e-15);
    }
  });
});
