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
 * log(μ/μ₀)(x) = log(1 − q + q e^{(2x − 1)/(2σ²)}) is increasing in x, so tails of L are normal
 * tails at the inverse point x(ℓ).
 */
export interface PrivacyLossDistribution {
  /** P(L > ℓ), to double precision; used only to place the grid's ends (any ends are sound). */
  readonly survival: (loss: number) => number;
  /** P(L ≤ ℓ), likewise. */
  readonly cdf: (loss: number) => number;
  /** δ(ℓ) = E[(1 − e^{ℓ − L})₊] and a proven bound on the floating-point error of `value`. */
  readonly hockeyStick: (loss: number) => BoundedValue;
  /** Essential infimum and supremum of L (±∞ when unbounded). */
  readonly lowest: number;
  readonly highest: number;
}

export interface BoundedValue {
  readonly value: number;
  /** |value − exact| ≤ error. */
  readonly error: number;
}

/**
 * Relative error allowed for each erfc value of src/dp/normal.ts. Its series and continued
 * fractions stop once a term changes the value by < 1e-16 relative (the Laplace continued fraction
 * is a positive S-fraction whose convergents bracket erfc, so that is also its truncation error),
 * and each of at most a few hundred steps rounds by a few u; test/dp/normal.test.ts finds < 1e-14
 * against mpmath at points from −3 to 26 (erfc) and −37 to 3 (Φ). 1e-12 leaves a margin of 100.
 */
export const ERFC_RELATIVE_ERROR = 1e-12;
const U = 2 ** -53;
/** Below this, erfc is subnormal or flushed to 0 (x > 27.3) and only an absolute bound holds. */
const SMALLEST_NORMAL_TAIL = 1e-300;

/**
 * δ = α·Φ̄(z − 1/σ) − β·Φ̄(z) at z = σ·log(β/α) + 1/(2σ), the point where the two terms'
 * derivatives in z cancel: the hockey-stick divergence of two normals 1/σ apart, scaled. Removal
 * has α = q, β = e^ℓ − 1 + q; addition is e^ℓ times the same with α = e^{−ℓ} − 1 + q, β = q
 * (Φ(t) = Φ̄(−t) and a change of variable). Error bound, given |α̂ − α|, |β̂ − β|:
 * - each Φ̄ value has relative error ERFC_RELATIVE_ERROR, plus that of its argument's own rounding
 *   e (relative ≤ e·(|t| + 2), the normal hazard φ/Φ̄ being ≤ max(t, 0) + 1.53); products and the
 *   subtraction add 4u of each term;
 * - |α̂ − α|·Φ̄(ẑ − 1/σ) + |β̂ − β|·Φ̄(ẑ) for the coefficients;
 * - z is stationary (∂δ/∂z = 0 at the exact z), so the error ẑ − z enters at second order only:
 *   |Δδ| ≤ (α + β)·(ẑ − z)²/8, as |d²/dt² Φ̄(t)| = |t|φ(t) < 1/4;
 * - (α + β)·1e-300 for tails where erfc is subnormal or returns 0.
 */
function gaussianHockeyStick(sigma: number, near: BoundedValue, far: BoundedValue): BoundedValue {
  const shift = 1 / sigma;
  const logRatio = Math.log(far.value / near.value);
  const z = sigma * logRatio + shift / 2;
  const nearTerm = near.value * normalSurvival(z - shift);
  const farTerm = far.value * normalSurvival(z);
  const argumentError = 4 * U * (Math.abs(z) + shift + 1);
  const relative = ERFC_RELATIVE_ERROR + 4 * U + 2 * argumentError * (Math.abs(z) + shift + 2);
  const zError =
    sigma * (1.01 * (near.error / near.value + far.error / far.value) + 2 * U * Math.abs(logRatio)) +
    argumentError;
  const error =
    relative * (nearTerm + farTerm) +
    1.01 * (near.error * normalSurvival(z - shift) + far.error * normalSurvival(z)) +
    ((near.value + far.value) * zError * zError) / 8 +
    (near.value + far.value) * SMALLEST_NORMAL_TAIL;
  return { value: nearTerm - farTerm, error: error * (1 + 8 * U) };
}

/** e^{±ℓ} − 1 + q, with its rounding error. */
function shiftedGrowth(q: number, signedLoss: number): BoundedValue {
  const growth = Math.expm1(signedLoss);
  return { value: growth + q, error: 2 * U * (Math.abs(growth) + q) };
}

/** Where the coefficient e^{±ℓ} − 1 + q is lost in rounding, ℓ is at the loss's end of range. */
function atRangeEnd(coefficient: BoundedValue): boolean {
  return !(coefficient.value > 4 * coefficient.error);
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
    hockeyStick(loss) {
      const coefficient = shiftedGrowth(q, loss);
      // Certainly below the infimum log(1 − q): every loss exceeds ℓ under both, δ = 1 − e^ℓ.
      if (coefficient.value < -4 * coefficient.error) return { value: -Math.expm1(loss), error: 2 * U };
      if (atRangeEnd(coefficient)) {
        // ℓ within rounding of log(1 − q): δ = 1 − e^ℓ + e^ℓ·P_{μ₀}(L ≤ ℓ) − P_μ(L ≤ ℓ), and
        // P_{μ₀}(L ≤ ℓ) = Φ(σ·log(β/q) + 1/(2σ)) with β ≤ 5× its rounding error.
        const below = standardNormalCdf(sigma * Math.log((5 * coefficient.error) / q) + 0.5 / sigma);
        return { value: -Math.expm1(loss), error: Math.exp(loss) * below * 1.01 + 4 * U };
      }
      return gaussianHockeyStick(sigma, { value: q, error: 0 }, coefficient);
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
    hockeyStick(loss) {
      const coefficient = shiftedGrowth(q, -loss);
      // Certainly above the supremum −log(1 − q): no loss exceeds ℓ.
      if (coefficient.value < -4 * coefficient.error) return { value: 0, error: 0 };
      const scale = Math.exp(loss);
      // ℓ within rounding of −log(1 − q): 0 ≤ δ ≤ e^ℓ·α·Φ(z) ≤ e^ℓ·α.
      if (atRangeEnd(coefficient)) return { value: 0, error: scale * 5 * coefficient.error * 1.01 };
      const scaled = gaussianHockeyStick(sigma, coefficient, { value: q, error: 0 });
      return {
        value: scale * scaled.value,
        error: (scale * scaled.error + 2 * U * scale * Math.abs(scaled.value)) * (1 + 4 * U),
      };
    },
  };
}
