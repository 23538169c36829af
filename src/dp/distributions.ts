/**
 * Probability mass and tails of the integer noise distributions, in floating point. These describe
 * the noise (accuracy, partition-selection thresholds, (ε, δ) statements); they never produce it.
 */

export interface NoiseDistribution {
  /** P(Z = z) for an integer z. */
  pmf(z: number): number;
  /** P(Z ≥ m) for an integer m. */
  upperTail(m: number): number;
  readonly variance: number;
  /** A bound on the relative error of pmf and upperTail. */
  readonly relativeTolerance: number;
}

/**
 * Discrete Laplace with scale t: P(z) = tanh(1/(2t))·e^(−|z|/t), P(Z ≥ m) = e^(−m/t)/(1 + e^(−1/t))
 * for m ≥ 1, variance 2q/(1 − q)² with q = e^(−1/t) (CKS20; Inusah & Kozubowski 2006).
 * Closed forms: the only error is a few ulps of exp.
 */
export function discreteLaplaceDistribution(scale: number): NoiseDistribution {
  const q = Math.exp(-1 / scale);
  const upperTail = (m: number): number => (m >= 1 ? Math.exp(-m / scale) / (1 + q) : 1 - upperTail(1 - m));
  return {
    pmf: (z) => Math.tanh(1 / (2 * scale)) * Math.exp(-Math.abs(z) / scale),
    upperTail,
    variance: (2 * q) / (-Math.expm1(-1 / scale)) ** 2,
    relativeTolerance: 1e-13,
  };
}

// Terms below e^-46 ≈ 1e-20 of the peak are dropped; what they sum to is far under the tolerance.
const GAUSSIAN_CUTOFF = 46;

/**
 * Discrete Gaussian with variance parameter σ²: P(z) = e^(−z²/(2σ²)) / Σ_y e^(−y²/(2σ²)) (CKS20 Def. 1).
 * No closed form: the normalising sum, tails and variance are summed term by term (to |z| ≈ 9.6σ for
 * the normaliser), O(σ) work per call, relative error below 1e-9 (float summation of ≤ 2·10^6 positive terms).
 */
export function discreteGaussianDistribution(sigmaSquared: number): NoiseDistribution {
  const weight = (z: number): number => Math.exp(-(z * z) / (2 * sigmaSquared));
  const reach = Math.ceil(Math.sqrt(2 * GAUSSIAN_CUTOFF * sigmaSquared)) + 1;
  let normaliser = 1;
  let secondMoment = 0;
  for (let z = 1; z <= reach; z++) {
    normaliser += 2 * weight(z);
    secondMoment += 2 * z * z * weight(z);
  }
  const upperTail = (m: number): number => {
    if (m < 1) return 1 - upperTail(1 - m);
    // Terms fall monotonically for z ≥ 1; stop once they no longer move the sum.
    let sum = 0;
    for (let z = m; ; z++) {
      const term = weight(z);
      sum += term;
      if (term === 0 || term < 1e-20 * sum) return sum / normaliser;
    }
  };
  return {
    pmf: (z) => weight(z) / normaliser,
    upperTail,
    variance: secondMoment / normaliser,
    relativeTolerance: 1e-9,
  };
}
