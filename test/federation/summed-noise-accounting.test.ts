/**
 * Federated DP-SGD is charged by the continuous Poisson-subsampled Gaussian accountant at σ, with
 * the guaranteed nodes' summed discrete Gaussian shares of variance ((σΔ)² + t²)/m each
 * (src/federation/federated-dp-sgd.ts). Here the bound behind that charge is checked against exact
 * sums on ℤ at small variances, where the sum of shares is visibly not one discrete Gaussian and
 * the correction Γ is not negligible.
 */
import { describe, expect, it } from 'vitest';
import { subsampledGaussianRdp } from '../../src/dp/accounting/subsampled-gaussian-rdp.ts';
import { latticeRatioGap, sumRatioGap } from '../../src/dp/distributed-discrete-gaussian.ts';
import { discreteGaussian, summedShares } from './exact-sums.ts';

/** Both directions of add/remove for the Poisson-subsampled shift by `shift` of the law `pmf`. */
function subsampledDivergences(pmf: Float64Array, shift: number, q: number, order: number) {
  let removal = 0;
  let addition = 0;
  for (let i = shift; i < pmf.length; i++) {
    const p = pmf[i]!;
    if (p < 1e-250) continue;
    const mixture = 1 - q + (q * pmf[i - shift]!) / p;
    removal += p * mixture ** order;
    addition += p * mixture ** (1 - order);
  }
  return { removal: Math.log(removal) / (order - 1), addition: Math.log(addition) / (order - 1) };
}

describe('accounting for summed discrete Gaussian shares under Poisson sampling', () => {
  it('κ bounds the lattice sum of a Gaussian at every shift (Poisson summation)', () => {
    for (const variance of [0.15, 0.3, 0.8]) {
      const kappa = Math.tanh(latticeRatioGap(variance) / 2);
      let worst = 0;
      for (let mu = 0; mu <= 1; mu += 1 / 32) {
        let sum = 0;
        for (let x = -60; x <= 60; x++) sum += Math.exp(-((x - mu) ** 2) / (2 * variance));
        worst = Math.max(worst, Math.abs(sum / Math.sqrt(2 * Math.PI * variance) - 1));
      }
      expect(worst).toBeLessThanOrEqual(kappa);
      expect(worst).toBeGreaterThan(kappa / 2);
    }
  });

  it('the sum of m shares is within e^{±Γ_m} of one discrete Gaussian of m times the variance, pointwise', () => {
    for (const [variance, parties] of [
      [0.4, 2],
      [0.6, 3],
      [1, 5],
    ] as const) {
      const reach = 30;
      const sum = summedShares(variance, parties, reach);
      const single = discreteGaussian(parties * variance, reach * parties);
      let worst = 0;
      sum.forEach((p, i) => {
        if (p > 1e-200) worst = Math.max(worst, Math.abs(Math.log(p / single[i]!)));
      });
      const gap = sumRatioGap(variance, parties);
      expect(worst).toBeLessThanOrEqual(gap);
      // Not vacuous: for two shares the bound is the true gap up to a small factor (later shares
      // smooth the earlier ones' ripple, so the induction is looser for more).
      if (parties === 2) expect(worst).toBeGreaterThan(gap / 4);
    }
  });

  it('the subsampled sum of shares stays under the continuous curve at σ plus the (2α−1)Γ/(α−1) correction', () => {
    const cases = [
      { variance: 0.45, parties: 2, smoothing: 0.3, shift: 1, q: 0.2 },
      { variance: 0.7, parties: 3, smoothing: 0.5, shift: 1, q: 0.05 },
      { variance: 1.2, parties: 2, smoothing: 0.4, shift: 2, q: 0.5 },
    ];
    for (const { variance, parties, smoothing, shift, q } of cases) {
      const sum = summedShares(variance, parties, 30);
      // The continuous mechanism the run is compared with: noise of variance m·σ_loc² − t².
      const sigma = Math.sqrt(parties * variance - smoothing) / shift;
      const gap = sumRatioGap(variance, parties) + latticeRatioGap(smoothing);
      for (const order of [1.5, 2, 3, 4.5, 8]) {
        const bound = subsampledGaussianRdp({ q, sigma }, order) + ((2 * order - 1) * gap) / (order - 1);
        const { removal, addition } = subsampledDivergences(sum, shift, q, order);
        expect(removal).toBeLessThanOrEqual(bound);
        expect(addition).toBeLessThanOrEqual(bound);
      }
    }
  });

  it('at the sizes federated DP-SGD uses, Γ is far below any digit of ε', () => {
    // σ = 10⁻³ with 2^20 grid steps per clip norm, 50 guaranteed nodes: the smallest shares the
    // federation plans; γ(t²) for the t² ≥ 8 float rounding leaves.
    const local = ((1e-3 * 2 ** 20) ** 2 + 9) / 50;
    expect(sumRatioGap(local, 50)).toBe(0);
    expect(latticeRatioGap(8)).toBeLessThan(1e-67);
  });
});
