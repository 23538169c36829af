/**
 * The discrete Laplace (two-sided geometric) mechanism for pure ε-DP.
 *
 * Guarantee: adding Z with P(Z = z) ∝ exp(−|z|/t) to an integer vector whose neighbours differ by at
 * most Δ in L1 is (Δ/t)-DP: the pmf ratio at any output is exp((|z − x'| − |z − x|)/t) ≤ exp(‖x − x'‖₁/t)
 * (Ghosh, Roughgarden, Sundararajan 2009, "Universally Utility-Maximizing Privacy Mechanisms";
 * CKS20 Algorithm 2 for the exact sampler).
 */
import { discreteLaplaceDistribution } from './distributions.ts';
import { buildMechanism, type NoiseMechanism } from './mechanism.ts';
import type { PrivacyLoss } from './privacy-loss.ts';
import { cryptoRandom, type RandomSource } from './random.ts';
import { type Rational, rationalAtLeast, rationalValue, roundedUp } from './rational.ts';
import { sampleDiscreteLaplace } from './samplers.ts';

export type PureLoss = Extract<PrivacyLoss, { kind: 'pure' }>;

export interface DiscreteLaplace extends NoiseMechanism<PureLoss> {
  readonly family: 'discrete_laplace';
  /** The exact scale t the sampler uses (≥ the one asked for). */
  readonly scale: Rational;
}

export interface DiscreteLaplaceOptions {
  /** A float is rounded UP to the least 32-bit dyadic ≥ it (rational.ts); a Rational is used exactly. */
  readonly scale: number | Rational;
  readonly random?: RandomSource;
}

/** Scales the samplers accept: draws stay far inside 2^53 (samplers.ts) and sub-2^-16 noise is pointless. */
const MIN_SCALE = 2 ** -16;
const MAX_SCALE = 2 ** 40;

/**
 * Discrete Laplace with scale t: `loss(Δ1)` = { pure, ε = Δ1/t } (GRS09). Accepts
 * t ∈ [2^-16, 2^40].
 */
export function discreteLaplace(options: DiscreteLaplaceOptions): DiscreteLaplace {
  const scale = typeof options.scale === 'number' ? rationalAtLeast(options.scale) : options.scale;
  const value = rationalValue(scale);
  if (!(value >= MIN_SCALE && value <= MAX_SCALE))
    throw new RangeError('discreteLaplace: scale outside [2^-16, 2^40]');
  const random = options.random ?? cryptoRandom;
  const loss = (sensitivity: number): PureLoss => ({
    kind: 'pure',
    epsilon: roundedUp((sensitivity * scale.denominator) / scale.numerator),
  });
  const mechanism = buildMechanism<PureLoss>({
    family: 'discrete_laplace',
    distribution: () => discreteLaplaceDistribution(value),
    sample: () => sampleDiscreteLaplace(random, scale),
    loss,
    gridSteps: (l1Steps) => l1Steps,
    countLoss: (maxGroupsPerUnit) => loss(maxGroupsPerUnit),
  });
  return Object.assign(mechanism, { family: 'discrete_laplace' as const, scale });
}
