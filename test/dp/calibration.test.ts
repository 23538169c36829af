import { describe, expect, it } from 'vitest';
import {
  analyticGaussianDelta,
  analyticGaussianSigma,
  classicalGaussianSigma,
  discreteGaussianDelta,
  discreteGaussianVarianceForApproxDp,
  gaussianSigmaForRho,
  laplaceScaleForEpsilon,
} from '../../src/dp/calibration.ts';
import { discreteGaussian } from '../../src/dp/discrete-gaussian.ts';
import { discreteLaplace } from '../../src/dp/discrete-laplace.ts';
import { rationalValue } from '../../src/dp/rational.ts';
import { discreteGaussianPmf, discreteLaplacePmf, type ExactPmf } from './chi-square.ts';

/** The hockey-stick divergence of P from P shifted by Δ: the exact δ at ε, by summing the pmf. */
function hockeyStick(pmf: ExactPmf, shift: number, epsilon: number): number {
  let delta = 0;
  for (let z = -pmf.reach; z <= pmf.reach + shift; z++) {
    delta += Math.max(0, pmf.probability(z) - Math.exp(epsilon) * pmf.probability(z - shift));
  }
  return delta;
}

/** Rényi divergence of order α between P and P shifted by Δ, by summing the pmf. */
function renyi(pmf: ExactPmf, shift: number, alpha: number): number {
  let sum = 0;
  for (let z = -pmf.reach; z <= pmf.reach; z++) {
    const p = pmf.probability(z);
    const q = pmf.probability(z - shift);
    if (p > 0 && q > 0) sum += Math.exp(alpha * Math.log(p) + (1 - alpha) * Math.log(q));
  }
  return Math.log(sum) / (alpha - 1);
}

describe('Gaussian calibration for (ε, δ)', () => {
  // Balle & Wang 2018, "Improving the Gaussian Mechanism for Differential Privacy", Thm. 8: the
  // analytic σ for ε = 1, δ = 1e-5, Δ = 1 is 3.7306. The 8-digit
  // references below were solved from Thm. 8 with mpmath 1.3 at 40 digits.
  it.each([
    [1, 1e-5, 3.73063163482],
    [0.5, 1e-6, 8.05761848073],
    [2, 1e-8, 2.65292676806],
    [0.1, 1e-5, 30.749566132],
  ])('analytic Gaussian σ(ε = %d, δ = %d) = %d (BW18 Thm. 8)', (epsilon, delta, expected) => {
    const sigma = analyticGaussianSigma({ epsilon, delta, sensitivity: 1 });
    expect(sigma).toBeGreaterThanOrEqual(expected * (1 - 1e-10));
    expect(Math.abs(sigma - expected) / expected).toBeLessThan(1e-9);
    expect(analyticGaussianDelta({ sigma, epsilon, sensitivity: 1 })).toBeLessThanOrEqual(delta);
  });

  it('classical σ = Δ√(2 ln(1.25/δ))/ε (Dwork & Roth 2014, Thm. A.1) = 4.8448 at ε = 1, δ = 1e-5', () => {
    expect(classicalGaussianSigma({ epsilon: 1, delta: 1e-5, sensitivity: 1 })).toBeCloseTo(4.84480526261, 9);
    expect(classicalGaussianSigma({ epsilon: 0.5, delta: 1e-6, sensitivity: 1 })).toBeCloseTo(
      10.5976050537,
      8,
    );
  });

  it('scales linearly with the sensitivity', () => {
    const one = analyticGaussianSigma({ epsilon: 1, delta: 1e-5, sensitivity: 1 });
    expect(analyticGaussianSigma({ epsilon: 1, delta: 1e-5, sensitivity: 3 }) / one).toBeCloseTo(3, 9);
  });

  it('rejects nonsense', () => {
    expect(() => analyticGaussianSigma({ epsilon: 0, delta: 1e-5, sensitivity: 1 })).toThrow(RangeError);
    expect(() => analyticGaussianSigma({ epsilon: 1, delta: 1, sensitivity: 1 })).toThrow(RangeError);
    expect(() => laplaceScaleForEpsilon({ epsilon: Number.NaN, sensitivity: 1 })).toThrow(RangeError);
  });
});

describe('discrete Gaussian (ε, δ), CKS20 Thm. 7', () => {
  it.each([
    [1, 1, 1],
    [3.7, 1, 1],
    [7 / 3, 0.5, 1],
    [10, 0.3, 2],
    [25, 0.1, 3],
  ])(
    'σ² = %d², ε = %d, Δ = %d: equals the hockey-stick divergence summed from the pmf',
    (sigma, epsilon, shift) => {
      const sigmaSquared = sigma * sigma;
      const exact = hockeyStick(discreteGaussianPmf(sigmaSquared), shift, epsilon);
      const computed = discreteGaussianDelta({ sigmaSquared, epsilon, sensitivity: shift });
      expect(exact).toBeGreaterThan(1e-6);
      expect(computed).toBeGreaterThanOrEqual(exact * (1 - 1e-9));
      expect(Math.abs(computed - exact)).toBeLessThanOrEqual(1e-7 * exact + 1e-15);
    },
  );

  it('calibrates an exact σ² whose δ meets the target, close to the continuous σ', () => {
    const target = { epsilon: 1, delta: 1e-5, sensitivity: 1 };
    const sigmaSquared = discreteGaussianVarianceForApproxDp(target);
    const variance = rationalValue(sigmaSquared);
    expect(hockeyStick(discreteGaussianPmf(variance), 1, 1)).toBeLessThanOrEqual(1e-5);
    expect(Math.sqrt(variance) / analyticGaussianSigma(target)).toBeLessThan(1.01);
    const mechanism = discreteGaussian({ sigmaSquared });
    expect(mechanism.approxLoss({ sensitivity: 1, epsilon: 1 }).delta).toBeLessThanOrEqual(1e-5);
  });
});

describe('mechanism privacy maps agree with the distributions', () => {
  it('discrete Laplace: the largest log pmf ratio at shift Δ is Δ/t = loss(Δ).epsilon', () => {
    const scale = laplaceScaleForEpsilon({ epsilon: 0.7, sensitivity: 2 });
    const mechanism = discreteLaplace({ scale });
    const pmf = discreteLaplacePmf(rationalValue(mechanism.scale));
    const { epsilon } = mechanism.loss(2);
    expect(epsilon).toBeLessThanOrEqual(0.7);
    expect(epsilon).toBeGreaterThan(0.7 * (1 - 1e-9));
    expect(hockeyStick(pmf, 2, epsilon)).toBeLessThan(1e-12);
    expect(hockeyStick(pmf, 2, epsilon * 0.99)).toBeGreaterThan(1e-4);
  });

  it.each([
    [1, 1],
    [3, 2],
    [7, 1],
  ])(
    'discrete Gaussian σ = %d, Δ = %d: Rényi divergences are ≤ α·ρ (ρ-zCDP, CKS20 Thm. 4)',
    (sigma, shift) => {
      const mechanism = discreteGaussian({ sigma });
      const { rho } = mechanism.loss(shift);
      expect(rho).toBeCloseTo((shift * shift) / (2 * sigma * sigma), 12);
      const pmf = discreteGaussianPmf(sigma * sigma);
      for (const alpha of [1.5, 2, 4, 8])
        expect(renyi(pmf, shift, alpha)).toBeLessThanOrEqual(alpha * rho * (1 + 1e-9));
    },
  );

  it('gaussianSigmaForRho inverts the zCDP map', () => {
    const sigma = gaussianSigmaForRho({ rho: 0.125, sensitivity: 1 });
    expect(discreteGaussian({ sigma }).loss(1).rho).toBeLessThanOrEqual(0.125);
  });
});
