/**
 * Probability mass and tails of the integer noise distributions, in floating point. These describe
 * the noise (accuracy, partition-selection thresholds, (ε, δ) statements); they never produce it.
 *
 * Every tail comes with proven bounds (`upperTailBounds`): whatever promises a coverage or a δ uses
 * the side of the bound that keeps the promise, so the float and truncation errors are inside it.
 * Every call costs O(1) or O(σ) with σ ≤ 256 (a few thousand terms at most): nothing here grows
 * with the scale beyond that.
 */
import { erfc } from './normal.ts';

export interface TailBounds {
  /** lower ≤ P(Z ≥ m) ≤ upper, proven (float error included). */
  readonly lower: number;
  readonly upper: number;
}

export interface NoiseDistribution {
  /** P(Z = z) for an integer z (an estimate, accurate to ~1e-12 relative). */
  pmf(z: number): number;
  /** P(Z ≥ m) for an integer m: the midpoint of `upperTailBounds(m)`. */
  upperTail(m: number): number;
  /** Proven bounds on P(Z ≥ m) for an integer m. */
  upperTailBounds(m: number): TailBounds;
  readonly variance: number;
}

/** 2^-52: the relative spacing of doubles. */
const ULP = 2 ** -52;
/** Relative error allowed for each elementary function value (exp, erfc): V8's exp is within 1 ulp; erfc is checked to 1e-14 against mpmath (normal.ts). */
const FUNCTION_ERROR = 1e-12;

function widened(lower: number, upper: number, relative: number): TailBounds {
  return {
    lower: Math.max(0, lower * (1 - relative)),
    // A true tail below the smallest double still rounds up to a positive number.
    upper: Math.min(1, Math.max(Number.MIN_VALUE, upper * (1 + relative))),
  };
}

/** P(Z ≥ m) for m ≤ 0 from the symmetric tail: 1 − P(Z ≥ 1 − m). */
function withSymmetry(positive: (m: number) => TailBounds): (m: number) => TailBounds {
  return (m) => {
    if (m >= 1) return positive(m);
    const other = positive(1 - m);
    return { lower: Math.max(0, 1 - other.upper), upper: Math.min(1, 1 - other.lower) };
  };
}

function distribution(
  pmf: (z: number) => number,
  bounds: (m: number) => TailBounds,
  variance: number,
): NoiseDistribution {
  const upperTailBounds = withSymmetry(bounds);
  return {
    pmf,
    upperTail: (m) => {
      const { lower, upper } = upperTailBounds(m);
      return (lower + upper) / 2;
    },
    upperTailBounds,
    variance,
  };
}

/**
 * Discrete Laplace with scale t: P(z) = tanh(1/(2t))·e^(−|z|/t), P(Z ≥ m) = e^(−m/t)/(1 + e^(−1/t))
 * for m ≥ 1, variance 2q/(1 − q)² with q = e^(−1/t) (CKS20; Inusah & Kozubowski 2006).
 * Closed forms: the only error is a few ulps of exp and a division, inside the bounds' 1e-13.
 */
export function discreteLaplaceDistribution(scale: number): NoiseDistribution {
  const q = Math.exp(-1 / scale);
  return distribution(
    (z) => Math.tanh(1 / (2 * scale)) * Math.exp(-Math.abs(z) / scale),
    (m) => {
      const tail = Math.exp(-m / scale) / (1 + q);
      return widened(tail, tail, 1e-13);
    },
    (2 * q) / (-Math.expm1(-1 / scale)) ** 2,
  );
}

/** Up to this σ the discrete Gaussian is summed term by term (≤ 9.6σ ≈ 2500 terms a call). */
const DIRECT_SUM_MAX_SIGMA = 256;
/** Terms below e^-46 ≈ 1e-20 of the peak are not summed; a geometric bound covers them. */
const GAUSSIAN_CUTOFF = 46;

/**
 * Discrete Gaussian with variance parameter σ²: P(z) = e^(−z²/(2σ²)) / N, N = Σ_y e^(−y²/(2σ²))
 * (CKS20 Def. 1). Two regimes, each with a proven error:
 *
 * σ ≤ 256 — direct sums. Terms e^(−z²/(2σ²)) fall for z ≥ 0 with ratio r(z) = e^(−(2z+1)/(2σ²)),
 * itself falling, so the terms left out after z are at most term·r/(1 − r) (a geometric series);
 * n positive terms each within a few ulps sum with relative error ≤ (n + 50)·2^-52.
 *
 * σ > 256 — closed forms.
 *  - Normaliser, by Poisson summation (the Fourier transform of a Gaussian is a Gaussian; CKS20
 *    §2.3 uses the same identity): N = σ√(2π)·(1 + 2Σ_{k≥1} e^(−2π²σ²k²)); the correction is below
 *    e^(−2π²·256²), far below one ulp, so N = σ√(2π) to float precision.
 *  - Tail T(m) = Σ_{z≥m} w(z) (m ≥ 1), by the Euler–Maclaurin formula to the fourth derivative
 *    (e.g. DLMF 2.10.1 with the Bernoulli-function remainder):
 *      T(m) = ∫_m^∞ w + w(m)/2 − w′(m)/12 + w‴(m)/720 + R,  |R| ≤ (|B₄|/4!)·∫_m^∞ |w⁗| = (1/720)∫_m^∞ |w⁗|.
 *    With u = m/σ, E = e^(−u²/2), J = ∫_u^∞ e^(−t²/2) dt = √(π/2)·erfc(u/√2): ∫_m^∞ w = σJ,
 *    w′(m) = −(u/σ)E, w‴(m) = −(u³ − 3u)E/σ³, w⁗ = He₄(x/σ)·w/σ⁴ with |He₄(t)| ≤ t⁴ + 6t² + 3, so
 *    ∫_m^∞ |w⁗| ≤ ((u³ + 9u)E + 12J)/σ³. Relative to T ≈ σJ that is ≈ (u⁴ + 9u² + 12)/(720σ⁴),
 *    at most 3e-9 for u ≤ 8 just above σ = 256, below 1e-6 even at u = 38, where the tail underflows.
 * Probabilities are T/N with the bounds divided crosswise. At σ = 1.6·10^7 (the largest σ² accepted,
 * 2^48) the bounds are within ~1e-12 relative; they are what coverage and δ statements use.
 */
export function discreteGaussianDistribution(sigmaSquared: number): NoiseDistribution {
  const sigma = Math.sqrt(sigmaSquared);
  const weight = (z: number): number => Math.exp(-(z * z) / (2 * sigmaSquared));
  return sigma <= DIRECT_SUM_MAX_SIGMA
    ? summedGaussian(sigmaSquared, weight)
    : closedFormGaussian(sigma, weight);
}

/** Σ_{z ≥ from} w(z) for from ≥ 0, with the geometric bound on what is left out. */
function gaussianSum(
  sigmaSquared: number,
  weight: (z: number) => number,
  from: number,
  moment: (z: number) => number = () => 1,
): { sum: number; leftOut: number; terms: number } {
  let sum = 0;
  let z = from;
  for (; ; z++) {
    const term = weight(z);
    sum += moment(z) * term;
    if (term === 0 || (z >= 1 && term < Math.exp(-GAUSSIAN_CUTOFF) * Math.max(sum, weight(from)))) break;
  }
  const ratio = Math.exp(-(2 * z + 1) / (2 * sigmaSquared));
  const last = weight(z);
  // For the moment z² the ratio of successive terms is r(z)·((z+1)/z)², still < 1 this far out.
  const momentRatio = Math.min(1, (ratio * moment(z + 1)) / Math.max(moment(z), Number.MIN_VALUE));
  const leftOut = momentRatio < 1 ? (moment(z) * last * momentRatio) / (1 - momentRatio) : 0;
  return { sum, leftOut, terms: z - from + 1 };
}

function summedGaussian(sigmaSquared: number, weight: (z: number) => number): NoiseDistribution {
  const half = gaussianSum(sigmaSquared, weight, 1);
  const error = (terms: number) => (terms + 50) * ULP;
  const normaliser = {
    lower: (1 + 2 * half.sum) * (1 - error(half.terms)),
    upper: (1 + 2 * (half.sum + half.leftOut)) * (1 + error(half.terms)),
  };
  const second = gaussianSum(sigmaSquared, weight, 1, (z) => z * z);
  return distribution(
    (z) => weight(z) / (1 + 2 * half.sum),
    (m) => {
      const tail = gaussianSum(sigmaSquared, weight, m);
      return {
        lower: Math.max(0, (tail.sum * (1 - error(tail.terms))) / normaliser.upper),
        upper: Math.min(
          1,
          Math.max(
            Number.MIN_VALUE,
            ((tail.sum + tail.leftOut) * (1 + error(tail.terms))) / normaliser.lower,
          ),
        ),
      };
    },
    (2 * second.sum) / (1 + 2 * half.sum),
  );
}

function closedFormGaussian(sigma: number, weight: (z: number) => number): NoiseDistribution {
  const normaliser = sigma * Math.sqrt(2 * Math.PI);
  const cube = sigma * sigma * sigma;
  return distribution(
    (z) => weight(z) / normaliser,
    (m) => {
      const u = m / sigma;
      const e = weight(m);
      const j = Math.sqrt(Math.PI / 2) * erfc(u / Math.SQRT2);
      const estimate = sigma * j + e / 2 + (u / (12 * sigma)) * e - ((u * u * u - 3 * u) / (720 * cube)) * e;
      const remainder = ((u * u * u + 9 * u) * e + 12 * j) / (720 * cube);
      // Each of the few terms carries FUNCTION_ERROR; their sum, and N = σ√(2π), a few ulps more.
      const slack = FUNCTION_ERROR * (sigma * j + e) + remainder;
      return widened((estimate - slack) / normaliser, (estimate + slack) / normaliser, 16 * ULP);
    },
    sigma * sigma,
  );
}
