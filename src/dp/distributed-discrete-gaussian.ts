/**
 * The distributed discrete Gaussian (Kairouz, Liu, Steinke 2021, "The Distributed Discrete Gaussian
 * Mechanism for Federated Learning with Secure Aggregation", ICML, arXiv 2102.06387; here KLS21).
 *
 * Each of several parties adds i.i.d. N_Z(0, σ²) noise (CKS20's exact sampler) to its integer vector;
 * only the sum is revealed (secure aggregation). A sum of m discrete Gaussians is not a discrete
 * Gaussian, but it is close: KLS21 Theorem 1 bounds the distance by
 *   τ = 10 · Σ_{k=1}^{m−1} exp(−2π²σ² · k/(k+1)),
 * and KLS21 Proposition 14 (Eq. 17) turns this into Rényi DP for a d-dimensional sum whose L2
 * sensitivity is Δ₂: for every α > 1,
 *   ε(α) ≤ (α/2) · (Δ₂/(√m·σ) + τ·√d)².
 * That bound is ρ-zCDP (Bun & Steinke 2016, Def. 1.1) with ρ = ½(Δ₂/(√m·σ) + τ√d)², which is what
 * `distributedRho` returns and what a ledger charges. It only needs the noise of m parties, so with
 * n parties of which up to f may collude with the aggregator (their noise is known to it) and at
 * most n − t may drop out, m = t − f is the noise that is guaranteed to be in the sum; more parties'
 * noise only adds independent noise (post-processing). That is how federated SQL (no subsampling)
 * is charged. Federated DP-SGD uses the pointwise closeness instead (`sumRatioGap`): the sum of
 * shares is within e^{±Γ_m} of one discrete Gaussian at every point, which carries the pooled
 * argument for Poisson-subsampled grid noise over to it (federation/federated-dp-sgd.ts).
 *
 * Discretisation (KLS21 §4, "conditional randomized rounding"): a real vector x with ‖x‖₂ ≤ c is
 * scaled by 1/γ and rounded coordinate-wise to ⌊x⌋ or ⌈x⌉ with probability of the fractional part
 * (unbiased), redrawn until the rounded norm is at most
 *   Δ̃₂ = min{ c/γ + √d,  √((c/γ)² + d/4 + √(2 ln(1/β)) · (c/γ + √d/2)) }   (KLS21 Thm. 2 / Lemma 25),
 * the first term holding always (each coordinate moves by < 1) and the second with probability
 * ≥ 1 − β before conditioning. Conditioning makes Δ̃₂ a hard bound, so it is the sensitivity.
 */
import { cryptoRandom, type RandomSource, uniformInt } from './random.ts';
import { type Rational, rationalValue, roundedUp, squareAtLeast } from './rational.ts';
import { planDiscreteGaussian, sampleDiscreteGaussian } from './samplers.ts';

/** KLS21 Theorem 1: τ for the sum of `parties` i.i.d. N_Z(0, σ²) with σ² = `localVariance`. */
export function sumDistanceTau(localVariance: number, parties: number): number {
  if (!Number.isInteger(parties) || parties < 1) throw new RangeError('parties must be a positive integer');
  let tau = 0;
  for (let k = 1; k < parties; k++) tau += Math.exp(-2 * Math.PI * Math.PI * localVariance * (k / (k + 1)));
  return roundedUp(10 * tau);
}

/**
 * κ(c) = 2·Σ_{n≥1} e^{−2π²c·n²} ≤ 2e^{−2π²c}/(1 − e^{−2π²c}) (n² ≥ n, a geometric series). By Poisson
 * summation Σ_{x∈ℤ} e^{−(x−μ)²/(2c)} = √(2πc)·(1 + 2Σ_{n≥1} e^{−2π²c·n²}·cos(2πnμ)), so for every shift
 * μ the lattice sum of a Gaussian of variance c lies within a factor 1 ± κ(c) of its integral.
 */
function latticeDeviation(variance: number): number {
  const e = Math.exp(-2 * Math.PI * Math.PI * variance);
  return roundedUp((2 * e) / (1 - e));
}

/**
 * γ(c) = log((1 + κ(c))/(1 − κ(c))): two laws whose ratio is C·(1 ± κ(c)) at every point, C a
 * constant, are within e^{±γ(c)} of each other pointwise (summing the ratio against either law pins
 * C to [1/(1+κ), 1/(1−κ)]). Throws when κ ≥ 1 (variance below about 0.06), where no bound follows.
 */
export function latticeRatioGap(variance: number): number {
  if (!(variance > 0)) throw new RangeError('variance must be positive');
  const kappa = latticeDeviation(variance);
  if (!(kappa < 1)) throw new RangeError('variance too small for a lattice ratio bound');
  return roundedUp(Math.log1p(kappa) - Math.log1p(-kappa));
}

/**
 * Γ_m = Σ_{k=1}^{m−1} γ(σ²·k/(k+1)): the law of a sum of m i.i.d. N_ℤ(0, σ²) is within e^{±Γ_m} of
 * N_ℤ(0, mσ²) at every integer, the pointwise closeness behind KLS21 Theorem 1, with constants
 * derived here. Induction on m: if the sum of k shares is within e^{±Γ_k} of N_ℤ(0, kσ²), convolving
 * both with one more share keeps the ratio bound (a positive kernel); and N_ℤ(0, a) * N_ℤ(0, b) at z
 * is e^{−z²/(2(a+b))}·Σ_x e^{−(x−μ)²/(2c)}/(θ_a·θ_b) with c = ab/(a+b), μ = za/(a+b) (complete the
 * square; θ_a the normaliser of N_ℤ(0, a)), i.e. N_ℤ(0, a+b) at z times C·(1 ± κ(c)) by Poisson
 * summation, so within e^{±γ(c)} of it; a = kσ², b = σ² give c = σ²·k/(k+1).
 */
export function sumRatioGap(localVariance: number, parties: number): number {
  if (!Number.isInteger(parties) || parties < 1) throw new RangeError('parties must be a positive integer');
  let gap = 0;
  for (let k = 1; k < parties; k++) gap += latticeRatioGap((localVariance * k) / (k + 1));
  return roundedUp(gap);
}

export interface DistributedGaussianSetting {
  /** L2 sensitivity of the integer vector sum, in grid units (after rounding: Δ̃₂). */
  readonly l2Sensitivity: number;
  readonly dimension: number;
  /** Parties whose noise is guaranteed to be in the sum: threshold − colluders. */
  readonly guaranteedParties: number;
}

/** ρ (zCDP) of the sum carrying `guaranteedParties` shares of N_Z(0, σ²): KLS21 Prop. 14. */
export function distributedRho(setting: DistributedGaussianSetting, localVariance: number): number {
  const { l2Sensitivity, dimension, guaranteedParties } = setting;
  if (!(l2Sensitivity >= 0) || !(localVariance > 0))
    throw new RangeError('sensitivity ≥ 0 and σ² > 0 needed');
  const tau = sumDistanceTau(localVariance, guaranteedParties);
  const term = l2Sensitivity / Math.sqrt(guaranteedParties * localVariance) + tau * Math.sqrt(dimension);
  return roundedUp((term * term) / 2);
}

export interface DistributedGaussianPlan extends DistributedGaussianSetting {
  /** The exact σ² each party's sampler uses. */
  readonly localSigmaSquared: Rational;
  readonly tau: number;
  /** The zCDP ρ charged for one release. */
  readonly rho: number;
}

/**
 * The least local σ² (to a relative 10⁻⁹, then rounded up to an exact rational) whose KLS21 ρ is at
 * most `rho`. ρ falls as σ grows (both terms do), so bisection applies. Refuses when τ√d alone
 * exceeds √(2ρ), i.e. when no σ on this grid works.
 */
export function planDistributedGaussian(
  setting: DistributedGaussianSetting,
  rho: number,
): DistributedGaussianPlan {
  if (!(rho > 0)) throw new RangeError('rho must be positive');
  let low = 0;
  let high = Math.max(
    1,
    (setting.l2Sensitivity * setting.l2Sensitivity) / (2 * rho * setting.guaranteedParties),
  );
  while (distributedRho(setting, high) > rho) {
    high *= 2;
    if (high > 2 ** 47) throw new RangeError('no local σ reaches this ρ');
  }
  while (high - low > high * 1e-9) {
    const middle = (low + high) / 2;
    if (middle > 0 && distributedRho(setting, middle) <= rho) high = middle;
    else low = middle;
  }
  const localSigmaSquared = squareAtLeast(Math.sqrt(high));
  const variance = rationalValue(localSigmaSquared);
  const planned = distributedRho(setting, variance);
  if (planned > rho) throw new RangeError('planned ρ exceeds the target after rounding');
  return {
    ...setting,
    localSigmaSquared,
    tau: sumDistanceTau(variance, setting.guaranteedParties),
    rho: planned,
  };
}

/** One party's noise share: `length` i.i.d. N_Z(0, σ²) draws from CKS20's exact sampler. */
export function noiseShare(
  localSigmaSquared: Rational,
  length: number,
  random: RandomSource = cryptoRandom,
): number[] {
  const plan = planDiscreteGaussian(localSigmaSquared);
  return Array.from({ length }, () => sampleDiscreteGaussian(random, plan));
}

/** Δ̃₂ of KLS21 (see the file comment), in grid units, for a scaled L2 bound c/γ = `scaledL2`. */
export function roundedL2Bound(scaledL2: number, dimension: number, beta: number): number {
  if (!(beta >= 0 && beta < 1)) throw new RangeError('beta must be in [0, 1)');
  const always = scaledL2 + Math.sqrt(dimension);
  if (beta === 0) return roundedUp(always);
  const likely = Math.sqrt(
    scaledL2 * scaledL2 +
      dimension / 4 +
      Math.sqrt(2 * Math.log(1 / beta)) * (scaledL2 + Math.sqrt(dimension) / 2),
  );
  return roundedUp(Math.min(always, likely));
}

const ROUNDING_RESOLUTION = 2 ** 52;

/**
 * Conditional randomized rounding of already-scaled values: unbiased stochastic rounding, redrawn
 * until the squared L2 norm is at most ⌊bound²⌋. Rounding is not the privacy noise (the norm check is
 * what the guarantee rests on); its coin is still drawn from the RandomSource. Throws after
 * `maxAttempts` (expected attempts ≤ 1/(1 − β)).
 */
export function conditionalRandomizedRound(
  scaled: ArrayLike<number>,
  bound: number,
  random: RandomSource = cryptoRandom,
  maxAttempts = 1_000,
): number[] {
  const limit = Math.floor(bound * bound);
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    const rounded = new Array<number>(scaled.length);
    let squared = 0;
    for (let i = 0; i < scaled.length; i++) {
      const value = scaled[i]!;
      if (!Number.isFinite(value) || Math.abs(value) > 2 ** 50)
        throw new RangeError('value out of range to round');
      const floor = Math.floor(value);
      const up = uniformInt(random, ROUNDING_RESOLUTION) < (value - floor) * ROUNDING_RESOLUTION;
      rounded[i] = up ? floor + 1 : floor;
      squared += rounded[i]! * rounded[i]!;
    }
    if (squared <= limit) return rounded;
  }
  throw new RangeError('conditional rounding did not meet the norm bound');
}

/**
 * Probability that a sum wraps around modulo 2^bits when decoded to [−2^(bits−1), 2^(bits−1)): the
 * data part of each coordinate is at most `maxAbsData` in magnitude (deterministic, from the bounds)
 * and the noise is a sum of independent discrete Gaussians of total variance `totalVariance`. Each
 * N_Z(0, σ²) is σ-sub-Gaussian (CKS20, sub-Gaussianity of the discrete Gaussian: E[e^{tX}] ≤ e^{t²σ²/2}), so their sum is sub-Gaussian with
 * the summed variance and P(|noise| ≥ s) ≤ 2 exp(−s²/(2·totalVariance)); a union bound over the
 * coordinates gives the result. A wrap only corrupts the answer (the decoded sum is a function of
 * the true noisy sum, so privacy is unaffected); callers refuse settings where this is not tiny.
 */
export function wrapAroundProbability(options: {
  readonly bits: number;
  readonly dimension: number;
  readonly maxAbsData: number;
  readonly totalVariance: number;
}): number {
  const { bits, dimension, maxAbsData, totalVariance } = options;
  const slack = 2 ** (bits - 1) - 1 - maxAbsData;
  if (slack <= 0) return 1;
  if (totalVariance === 0) return 0;
  return Math.min(1, dimension * 2 * Math.exp(-(slack * slack) / (2 * totalVariance)));
}

/**
 * The least modulus width, 16 to 53 bits, at which a sum wraps with probability at most
 * `maxProbability` (`wrapAroundProbability`); throws when even 53 bits do not fit it.
 */
export function leastModulusBits(options: {
  readonly dimension: number;
  readonly maxAbsData: number;
  readonly totalVariance: number;
  readonly maxProbability?: number;
}): { readonly bits: number; readonly wrapProbability: number } {
  const maxProbability = options.maxProbability ?? 1e-12;
  for (let bits = 16; bits <= 53; bits++) {
    const wrapProbability = wrapAroundProbability({ ...options, bits });
    if (wrapProbability <= maxProbability) return { bits, wrapProbability };
  }
  throw new RangeError('the sum does not fit 53 bits');
}
