/**
 * Noise calibration: from a privacy target and a sensitivity to a noise scale. Floats are fine
 * here (they choose a parameter, never a noise value); each result is rounded towards more noise.
 * The mechanism built from the result reports its own exact loss, which is what gets charged.
 */
import { discreteGaussianDistribution } from './distributions.ts';
import { standardNormalCdf } from './normal.ts';
import { type Rational, rationalValue, roundedUp, squareAtLeast } from './rational.ts';

export interface EpsilonTarget {
  readonly epsilon: number;
  readonly sensitivity: number;
}
export interface ApproxTarget extends EpsilonTarget {
  readonly delta: number;
}

/** Discrete Laplace scale Δ1/ε for ε-DP (Ghosh, Roughgarden, Sundararajan 2009). */
export function laplaceScaleForEpsilon({ epsilon, sensitivity }: EpsilonTarget): number {
  checkPositive({ epsilon, sensitivity });
  return roundedUp(sensitivity / epsilon);
}

/** σ = Δ2/√(2ρ) for ρ-zCDP (Bun & Steinke 2016 Prop. 1.6; discrete: CKS20 Thm. 4). */
export function gaussianSigmaForRho({ rho, sensitivity }: { rho: number; sensitivity: number }): number {
  checkPositive({ rho, sensitivity });
  return roundedUp(sensitivity / Math.sqrt(2 * rho));
}

/**
 * The classical σ = Δ2·√(2 ln(1.25/δ))/ε (Dwork & Roth 2014, Thm. A.1), valid only for ε < 1 and
 * looser than the analytic calibration; kept for comparison.
 */
export function classicalGaussianSigma({ epsilon, delta, sensitivity }: ApproxTarget): number {
  checkPositive({ epsilon, delta, sensitivity });
  return roundedUp((sensitivity * Math.sqrt(2 * Math.log(1.25 / delta))) / epsilon);
}

/**
 * The exact δ(ε) of the continuous Gaussian mechanism with std σ and L2 sensitivity Δ (Balle & Wang
 * 2018, "Improving the Gaussian Mechanism for DP", Thm. 8):
 * δ = Φ(Δ/(2σ) − εσ/Δ) − e^ε·Φ(−Δ/(2σ) − εσ/Δ).
 */
export function analyticGaussianDelta({
  sigma,
  epsilon,
  sensitivity,
}: EpsilonTarget & { sigma: number }): number {
  const a = sensitivity / (2 * sigma);
  const b = (epsilon * sigma) / sensitivity;
  return Math.max(0, standardNormalCdf(a - b) - Math.exp(epsilon) * standardNormalCdf(-a - b));
}

/**
 * The least σ with analyticGaussianDelta ≤ δ (Balle & Wang 2018, Thm. 8; Algorithm 1 solves the same
 * equation): δ(σ) decreases in σ, so bisection keeps an upper end that satisfies the target.
 */
export function analyticGaussianSigma(target: ApproxTarget): number {
  checkPositive({ ...target });
  const meets = (sigma: number): boolean => analyticGaussianDelta({ ...target, sigma }) <= target.delta;
  return leastMeeting(meets, target.sensitivity / target.epsilon);
}

/**
 * The exact (ε, δ) of adding discrete Gaussian noise N_Z(0, σ²) to an integer with sensitivity Δ
 * (CKS20 Thm. 7): δ = P[X > εσ²/Δ − Δ/2] − e^ε·P[X > εσ²/Δ + Δ/2], X ~ N_Z(0, σ²). The first tail
 * is taken at its proven upper bound and the second at its proven lower bound (distributions.ts), so
 * the result is an upper bound on the exact δ, in O(1) for σ > 256.
 */
export function discreteGaussianDelta({
  sigmaSquared,
  epsilon,
  sensitivity,
}: EpsilonTarget & { sigmaSquared: number }): number {
  const distribution = discreteGaussianDistribution(sigmaSquared);
  const centre = (epsilon * sigmaSquared) / sensitivity;
  // X is an integer, so P[X > y] = P[X ≥ ⌊y⌋ + 1].
  const above = (y: number) => distribution.upperTailBounds(Math.floor(y) + 1);
  const delta =
    above(centre - sensitivity / 2).upper * (1 + 2 ** -50) -
    Math.exp(epsilon) * (1 - 2 ** -50) * above(centre + sensitivity / 2).lower;
  return Math.max(0, delta);
}

/**
 * An exact σ² for the discrete Gaussian that gives (ε, δ)-DP for one integer with sensitivity Δ by
 * CKS20 Thm. 7: bisection on σ, then σ² rounded up to a rational and checked again at that exact
 * value (the check, not monotonicity, is what the guarantee rests on).
 */
export function discreteGaussianVarianceForApproxDp(target: ApproxTarget): Rational {
  checkPositive({ ...target });
  const meets = (sigma: number): boolean =>
    discreteGaussianDelta({ ...target, sigmaSquared: sigma * sigma }) <= target.delta;
  let sigma = leastMeeting(meets, analyticGaussianSigma(target));
  for (;;) {
    const sigmaSquared = squareAtLeast(sigma);
    if (discreteGaussianDelta({ ...target, sigmaSquared: rationalValue(sigmaSquared) }) <= target.delta) {
      return sigmaSquared;
    }
    sigma *= 1 + 1e-9;
  }
}

/** The least x > 0 (to 1e-12 relative) with meets(x), for meets monotone in x; returns a meeting x. */
function leastMeeting(meets: (x: number) => boolean, guess: number): number {
  let high = guess;
  while (!meets(high)) high *= 2;
  let low = high / 2;
  while (meets(low) && low > Number.MIN_VALUE) low /= 2;
  while (high - low > 1e-12 * high) {
    const middle = (low + high) / 2;
    if (meets(middle)) high = middle;
    else low = middle;
  }
  return high;
}

function checkPositive(values: Record<string, number>): void {
  for (const [name, value] of Object.entries(values)) {
    if (!(Number.isFinite(value) && value > 0)) throw new RangeError(`${name} must be a positive number`);
  }
  if ('delta' in values && values.delta! >= 1) throw new RangeError('delta must be below 1');
}
