/**
 * The discrete Gaussian mechanism for zero-concentrated DP.
 *
 * Guarantee: adding independent Z_i with P(Z_i = z) ∝ exp(−z²/(2σ²)) to an integer vector whose
 * neighbours differ by at most Δ in L2 is (Δ²/(2σ²))-zCDP (CKS20 Thm. 4 and its multivariate
 * extension), the same as the continuous Gaussian. For one integer with integer sensitivity the
 * exact (ε, δ) curve is CKS20 Thm. 7 (`approxLoss`). Exact sampler: CKS20 Algorithm 3.
 */
import { discreteGaussianDelta } from './calibration.ts';
import { discreteGaussianDistribution } from './distributions.ts';
import { buildMechanism, type NoiseMechanism } from './mechanism.ts';
import type { PrivacyLoss } from './privacy-loss.ts';
import { cryptoRandom, type RandomSource } from './random.ts';
import { type Rational, rationalValue, roundedUp, squareAtLeast } from './rational.ts';
import { planDiscreteGaussian, sampleDiscreteGaussian } from './samplers.ts';

export type ZcdpLoss = Extract<PrivacyLoss, { kind: 'zcdp' }>;
export type ApproxLoss = Extract<PrivacyLoss, { kind: 'approx' }>;

export interface DiscreteGaussian extends NoiseMechanism<ZcdpLoss> {
  readonly family: 'discrete_gaussian';
  /** The exact σ² the sampler uses (≥ the one asked for). */
  readonly sigmaSquared: Rational;
  readonly sigma: number;
  /** (ε, δ) of releasing ONE integer with integer sensitivity Δ, at the given ε (CKS20 Thm. 7). */
  approxLoss(options: { sensitivity: number; epsilon: number }): ApproxLoss;
}

export type DiscreteGaussianOptions = (
  | { /** Rounded up: σ² becomes a 32-bit dyadic ≥ σ² (rational.ts). */ readonly sigma: number }
  | { /** Used exactly, e.g. 7/3. */ readonly sigmaSquared: Rational }
) & { readonly random?: RandomSource };

const MIN_SIGMA_SQUARED = 2 ** -16;

/**
 * Discrete Gaussian with variance parameter σ²: `loss(Δ2)` = { zcdp, ρ = Δ2²/(2σ²) } (CKS20 Thm. 4).
 * Accepts σ² ∈ [2^-16, 2^48] (σ up to 1.6·10^7).
 */
export function discreteGaussian(options: DiscreteGaussianOptions): DiscreteGaussian {
  const sigmaSquared = 'sigma' in options ? squareAtLeast(options.sigma) : options.sigmaSquared;
  const variance = rationalValue(sigmaSquared);
  if (!(variance >= MIN_SIGMA_SQUARED)) throw new RangeError('discreteGaussian: σ² below 2^-16');
  const random = options.random ?? cryptoRandom;
  const plan = planDiscreteGaussian(sigmaSquared);
  const loss = (sensitivity: number): ZcdpLoss => ({
    kind: 'zcdp',
    rho: roundedUp((sensitivity * sensitivity * sigmaSquared.denominator) / (2 * sigmaSquared.numerator)),
  });
  const mechanism = buildMechanism<ZcdpLoss>({
    family: 'discrete_gaussian',
    distribution: () => discreteGaussianDistribution(variance),
    sample: () => sampleDiscreteGaussian(random, plan),
    loss,
    // The L2 norm of integer steps is at most their L1 norm, and at most Δ/g + √k (grid.ts).
    gridSteps: (l1Steps, ratio, maxChangedCells) => Math.min(ratio + Math.sqrt(maxChangedCells), l1Steps),
    countLoss: (maxGroupsPerUnit) => loss(Math.sqrt(maxGroupsPerUnit)),
  });
  return Object.assign(mechanism, {
    family: 'discrete_gaussian' as const,
    sigmaSquared,
    sigma: Math.sqrt(variance),
    approxLoss: ({ sensitivity, epsilon }: { sensitivity: number; epsilon: number }): ApproxLoss => {
      if (!Number.isInteger(sensitivity) || sensitivity < 1) {
        throw new RangeError('approxLoss: CKS20 Thm. 7 needs a positive integer sensitivity');
      }
      return {
        kind: 'approx',
        epsilon,
        delta: discreteGaussianDelta({ sigmaSquared: variance, epsilon, sensitivity }),
      };
    },
  });
}
