/**
 * Private selection by random stopping: Papernot & Steinke 2022, "Hyperparameter Tuning with Renyi
 * Differential Privacy" (ICLR). A base mechanism Q (train one randomly chosen candidate, score it
 * once with noise) is run K times, K drawn independently of the data, and only the best-scoring
 * run is released. If Q is (λ, ε(λ))-RDP at every order, the whole selection is RDP with a bound of
 * one run plus a term that grows with log E[K], not with K:
 *
 * - truncated negative binomial D_{η,γ} (η > −1, γ ∈ (0, 1); η = 1 is the geometric distribution,
 *   η = 0 the logarithmic), their Theorem 2: for all λ > 1 and λ̂ ≥ 1,
 *   ε'(λ) = ε(λ) + (1 + η)(1 − 1/λ̂)ε(λ̂) + (1 + η)·log(1/γ)/λ̂ + log(E[K])/(λ − 1),
 *   with E[K] = η(1 − γ)/(γ(1 − γ^η)) (η ≠ 0) or (1/γ − 1)/log(1/γ) (η = 0), their Definition 1;
 *
 * Their Poisson variant (Theorem 6) is not offered: it needs an exact Poisson sampler, and K must be
 * drawn exactly from the distribution the bound is for. The geometric K is exact from uniform
 * integers (below).
 *
 * The bound at each order is minimised over λ̂ on the same grid of orders; RDP is non-decreasing in
 * the order (van Erven & Harremoës 2014, Thm. 3), so a bound at a higher order also holds at a lower
 * one. The guarantee needs K to stay hidden: nothing the job releases may depend on it.
 */
import { type RandomSource, uniformInt } from '../dp/random.ts';

/** D_{η,γ}: P[K = k] ∝ (1 − γ)^k·∏_{ℓ<k}(ℓ + η)/(ℓ + 1), k ≥ 1 (η = `shape`). */
export interface StoppingRule {
  readonly kind: 'truncated_negative_binomial';
  readonly shape: number;
  readonly gamma: number;
}

/** E[K] under D_{η,γ} (Papernot & Steinke 2022, Definition 1). */
export function truncatedNegativeBinomialMean(shape: number, gamma: number): number {
  if (!(shape > -1 && gamma > 0 && gamma < 1)) throw new RangeError('need η > −1 and γ ∈ (0, 1)');
  if (shape === 0) return (1 / gamma - 1) / Math.log(1 / gamma);
  return (shape * (1 - gamma)) / (gamma * (1 - gamma ** shape));
}

/**
 * The Rényi curve of releasing the best of K runs of Q, on `orders` (all > 1), from Q's curve
 * `baseRdp` on the same orders.
 */
export function randomStoppingRdp(
  rule: StoppingRule,
  orders: readonly number[],
  baseRdp: readonly number[],
): number[] {
  if (orders.length !== baseRdp.length || orders.some((order) => !(order > 1)))
    throw new RangeError('orders must be > 1, one per RDP value');
  const { shape, gamma } = rule;
  const logMean = Math.log(truncatedNegativeBinomialMean(shape, gamma));
  // The λ̂ term does not depend on λ: minimise it once over the grid.
  const constant =
    (1 + shape) *
    Math.min(...orders.map((order, j) => (1 - 1 / order) * baseRdp[j]! + Math.log(1 / gamma) / order));
  const bound = orders.map((order, i) => baseRdp[i]! + constant + logMean / (order - 1));
  // Monotonicity in the order: the bound at any higher order holds here too.
  for (let i = orders.length - 1; i >= 0; i--)
    for (let j = 0; j < orders.length; j++)
      if (orders[j]! >= orders[i]!) bound[i] = Math.min(bound[i]!, bound[j]!);
  return bound;
}

/**
 * K from the geometric distribution with mean `mean` (an integer ≥ 1): trials of an exact
 * Bernoulli(1/mean) from uniform integers of the CSPRNG, counted up to the first success. This is
 * D_{1,γ} with γ = 1/mean.
 */
export function sampleGeometricRuns(random: RandomSource, mean: number): number {
  if (!(Number.isSafeInteger(mean) && mean >= 1)) throw new RangeError('mean must be an integer ≥ 1');
  let runs = 1;
  while (uniformInt(random, mean) !== 0) runs++;
  return runs;
}

/** The geometric rule with integer mean, as the job runs it. */
export function geometricRule(mean: number): StoppingRule {
  if (!(Number.isSafeInteger(mean) && mean >= 2)) throw new RangeError('mean must be an integer ≥ 2');
  return { kind: 'truncated_negative_binomial', shape: 1, gamma: 1 / mean };
}
