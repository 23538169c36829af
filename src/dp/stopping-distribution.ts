/**
 * The number of runs K of a private selection by random stopping: the truncated negative binomial
 * distribution D_{η,γ} of Papernot & Steinke 2022 ("Hyperparameter Tuning with Renyi Differential
 * Privacy", ICLR, Def. 1), on k = 1, 2, …:
 *
 *   P[K = k] = (1 − γ)^k / (γ^−η − 1) · Π_{ℓ<k} (ℓ + η)/(ℓ + 1)   for η > 0,
 *   P[K = k] = (1 − γ)^k / (k · log(1/γ))                        for η = 0 (logarithmic),
 *
 * η = 1 is the geometric distribution. For η > 0 it is the negative binomial NB(η, γ) (failures
 * before the η-th success of a γ-coin, P[X = k] = Γ(k + η)/(Γ(η) k!) · (1 − γ)^k γ^η) conditioned
 * on X ≥ 1: the two agree term by term after dividing by P[X ≥ 1] = 1 − γ^η.
 *
 * Exact sampling. γ is a multiple of 2^-32 and η a multiple of 2^-16 (`stoppingDistribution` rounds
 * them; the price is computed for the rounded values, so sampler and bound describe the same law).
 * Then every coin below is a comparison of uniform integers, never a float:
 *  - a γ-coin is "a uniform 32-bit word is below γ·2^32", so the failures before a success, G, is
 *    exactly geometric: P[G = g] = γ(1 − γ)^g;
 *  - η = m + f with m an integer and f ∈ [0, 1): NB(η) is the sum of m independent G (shape adds
 *    over independent negative binomials of the same γ) and one NB(f), drawn by rejection: propose
 *    G and accept with probability Π_{ℓ<G} (ℓ + f)/(ℓ + 1) ≤ 1, one exact rational coin per factor,
 *    which leaves P[X = k] ∝ (1 − γ)^k Π_{ℓ<k}(ℓ + f)/(ℓ + 1), the NB(f) law; a sum of 0 is
 *    rejected and drawn again (the conditioning on X ≥ 1);
 *  - η = 0: propose 1 + G (P ∝ (1 − γ)^{k−1}) and accept with probability 1/k: P ∝ (1 − γ)^k / k.
 * Rejection sampling returns exactly the target law; the expected number of proposals is finite
 * for every γ ∈ (0, 1): NB(f) accepts with probability Σ_k γ(1 − γ)^k Π_{ℓ<k}(ℓ + f)/(ℓ + 1) =
 * γ^{1−f}, the sum is redrawn 1/(1 − γ^η) times on average, and η = 0 accepts with probability
 * γ·log(1/γ)/(1 − γ); each proposal reads about 1/γ words. A job's γ is never small: the price
 * refuses any γ whose tail would need more than 1024 runs.
 *
 * The pmf, mean and tail below are floats: they price the mechanism, they never decide a draw.
 */
import { type RandomSource, uniformInt } from './random.ts';

const TWO_32 = 2 ** 32;
const ETA_DENOMINATOR = 2 ** 16;
/** Largest η accepted: Theorem 2's cost grows with 1 + η, so larger values are never useful. */
export const MAX_ETA = 8;

export interface StoppingDistribution {
  /** η, a multiple of 2^-16 in [0, MAX_ETA]. */
  readonly eta: number;
  /** γ, a multiple of 2^-32 in (0, 1). */
  readonly gamma: number;
  /** E[K]. */
  readonly mean: number;
  /** P[K = k] for k ≥ 1. */
  probability(k: number): number;
  /** An upper bound on P[K > n], for n ≥ 0. */
  tailAbove(n: number): number;
  /** One exact draw of K. */
  sample(random: RandomSource): number;
}

/** D_{η,γ} with η rounded to the nearest multiple of 2^-16 and γ to the nearest of 2^-32. */
export function stoppingDistribution(options: {
  readonly eta: number;
  readonly gamma: number;
}): StoppingDistribution {
  const etaUnits = Math.round(options.eta * ETA_DENOMINATOR);
  const gammaUnits = Math.round(options.gamma * TWO_32);
  if (!(etaUnits >= 0 && etaUnits <= MAX_ETA * ETA_DENOMINATOR))
    throw new RangeError(`eta must be in [0, ${MAX_ETA}]`);
  if (!(gammaUnits >= 1 && gammaUnits < TWO_32)) throw new RangeError('gamma must be in (0, 1)');
  const eta = etaUnits / ETA_DENOMINATOR;
  const gamma = gammaUnits / TWO_32;
  const logOneMinusGamma = Math.log1p(-gamma);
  // log of the normaliser: γ^−η − 1, or log(1/γ) for the logarithmic case.
  const logNormaliser = eta === 0 ? Math.log(-Math.log(gamma)) : Math.log(Math.expm1(-eta * Math.log(gamma)));
  const logWeight = (k: number): number => {
    if (eta === 0) return k * logOneMinusGamma - Math.log(k);
    let sum = k * logOneMinusGamma;
    for (let l = 0; l < k; l++) sum += Math.log((l + eta) / (l + 1));
    return sum;
  };
  const probability = (k: number): number =>
    Number.isInteger(k) && k >= 1 ? Math.exp(logWeight(k) - logNormaliser) : 0;
  const mean =
    eta === 0
      ? (1 / gamma - 1) / -Math.log(gamma)
      : (eta * (1 - gamma)) / (gamma * -Math.expm1(eta * Math.log(gamma)));
  return {
    eta,
    gamma,
    mean,
    probability,
    tailAbove: (n) => tailAbove(n, eta, gamma, probability),
    sample: (random) => sampleStopping(random, etaUnits, gammaUnits),
  };
}

/**
 * Σ_{k>n} P[K = k] ≤ P[K = n + 1]/(1 − r): past k = n + 1 each ratio P[K = k + 1]/P[K = k] =
 * (1 − γ)(k + η)/(k + 1) is at most r = (1 − γ)·max(1, (n + 1 + η)/(n + 2)), since (k + η)/(k + 1)
 * moves monotonically toward 1. A relative margin covers the float error of the terms.
 */
function tailAbove(n: number, eta: number, gamma: number, probability: (k: number) => number): number {
  const ratio = (1 - gamma) * Math.max(1, (n + 1 + eta) / (n + 2));
  if (ratio >= 1) return 1;
  return Math.min(1, (probability(n + 1) / (1 - ratio)) * (1 + 1e-9));
}

/** The failures before the first success of a coin that succeeds when a word is below `units`. */
function failures(random: RandomSource, units: number): number {
  let count = 0;
  while (random.nextUint32() >= units) count++;
  return count;
}

function sampleStopping(random: RandomSource, etaUnits: number, gammaUnits: number): number {
  if (etaUnits === 0) {
    for (;;) {
      const k = 1 + failures(random, gammaUnits);
      if (uniformInt(random, k) === 0) return k;
    }
  }
  const whole = Math.floor(etaUnits / ETA_DENOMINATOR);
  const fractionUnits = etaUnits - whole * ETA_DENOMINATOR;
  for (;;) {
    let k = fractionUnits === 0 ? 0 : fractionalNegativeBinomial(random, fractionUnits, gammaUnits);
    for (let i = 0; i < whole; i++) k += failures(random, gammaUnits);
    if (k >= 1) return k;
  }
}

/** NB(f, γ) for f = fractionUnits/2^16 ∈ (0, 1): propose G, keep it with probability Π_{ℓ<G}(ℓ + f)/(ℓ + 1). */
function fractionalNegativeBinomial(random: RandomSource, fractionUnits: number, gammaUnits: number): number {
  proposals: for (;;) {
    const k = failures(random, gammaUnits);
    for (let l = 0; l < k; l++) {
      if (uniformInt(random, (l + 1) * ETA_DENOMINATOR) >= l * ETA_DENOMINATOR + fractionUnits)
        continue proposals;
    }
    return k;
  }
}
