import { normalSurvival, standardNormalCdf } from '../normal.ts';
import type { SubsampledGaussian } from './subsampled-gaussian-rdp.ts';

/**
 * The privacy-loss random variable of one Poisson-subsampled Gaussian step, for each direction
 * of add/remove adjacency. With μ₀ = N(0, σ²) and μ = (1 − q)μ₀ + q N(1, σ²):
 * - removal: L = log(μ/μ₀)(x), x ∼ μ (the person is in the data set being protected);
 * - addition: L = log(μ₀/μ)(x), x ∼ μ₀.
 * These pairs dominate every neighbouring pair of the step (Zhu, Dong & Wang 2022, "Optimal
 * Accounting of Differential Privacy via Characteristic Function"; Koskela, Jälkö & Honkela 2020),
 * and δ(ε) = E[(1 − e^{ε − L})₊] is their hockey-stick divergence (Sommer, Meiser & Mohammadi
 * 2019, "Privacy Loss Classes").
 * log(μ/μ₀)(x) = log(1 − q + q e^{(2x − 1)/(2σ²)}) is increasing in x, so tail masses of L are
 * normal tails at the inverse point x(ℓ), exact up to erfc rounding.
 */
export interface PrivacyLossDistribution {
  /** P(L > ℓ). */
  readonly survival: (loss: number) => number;
  /** P(L ≤ ℓ), computed separately for precision in the lower tail. */
  readonly cdf: (loss: number) => number;
  /** Essential infimum and supremum of L (±∞ when unbounded). */
  readonly lowest: number;
  readonly highest: number;
}

/** The x at which log(μ/μ₀)(x) = ℓ, for ℓ > log(1 − q). */
function inverseLoss({ q, sigma }: SubsampledGaussian, loss: number): number {
  const logRatio = q === 1 ? loss : Math.log((Math.expm1(loss) + q) / q);
  return sigma * sigma * logRatio + 0.5;
}

export function removalLoss(mechanism: SubsampledGaussian): PrivacyLossDistribution {
  const { q, sigma } = mechanism;
  const lowest = Math.log1p(-q);
  return {
    lowest,
    highest: Number.POSITIVE_INFINITY,
    survival(loss) {
      if (loss <= lowest) return 1;
      const x = inverseLoss(mechanism, loss);
      return (1 - q) * normalSurvival(x / sigma) + q * normalSurvival((x - 1) / sigma);
    },
    cdf(loss) {
      if (loss <= lowest) return 0;
      const x = inverseLoss(mechanism, loss);
      return (1 - q) * standardNormalCdf(x / sigma) + q * standardNormalCdf((x - 1) / sigma);
    },
  };
}

export function additionLoss(mechanism: SubsampledGaussian): PrivacyLossDistribution {
  const { q, sigma } = mechanism;
  const highest = -Math.log1p(-q);
  return {
    lowest: Number.NEGATIVE_INFINITY,
    highest,
    survival(loss) {
      if (loss >= highest) return 0;
      return standardNormalCdf(inverseLoss(mechanism, -loss) / sigma);
    },
    cdf(loss) {
      if (loss >= highest) return 1;
      return normalSurvival(inverseLoss(mechanism, -loss) / sigma);
    },
  };
}
