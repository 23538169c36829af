/**
 * The price of private selection by random stopping, run a FIXED number N of times.
 *
 * The mechanism M (Papernot & Steinke 2022, "Hyperparameter Tuning with Renyi Differential
 * Privacy", ICLR): draw K ~ D_{η,γ} independently of the data (stopping-distribution.ts), run the
 * base mechanism Q K times and release only the best output (outputs totally ordered). Theorem 2:
 * if Q is (λ, ε(λ))-RDP and (λ̂, ε(λ̂))-RDP, then M is (λ, ε'(λ))-RDP with
 *
 *   ε'(λ) = ε(λ) + (1 + η)(1 − 1/λ̂)·ε(λ̂) + (1 + η)·log(1/γ)/λ̂ + log E[K]/(λ − 1),
 *
 * for every λ > 1 and λ̂ ≥ 1; we take, at each λ, the least over the orders λ̂ of the grid (each
 * choice is a valid bound, so the least is too). Balle et al. 2020 Thm. 21 converts at δ_conv.
 *
 * What runs is M' with K' = min(K, N): N runs always happen (so time and progress do not depend on
 * K) and the best of the first K' is released. M and M' use the same K and the same runs, and
 * agree whenever K ≤ N, so for every dataset D and event S, |Pr[M'(D) ∈ S] − Pr[M(D) ∈ S]| ≤
 * p = P[K > N] (p does not depend on D). If M is (ε, δ_conv)-DP then
 *   Pr[M'(D) ∈ S] ≤ Pr[M(D) ∈ S] + p ≤ e^ε Pr[M(D') ∈ S] + δ_conv + p
 *                 ≤ e^ε (Pr[M'(D') ∈ S] + p) + δ_conv + p,
 * so M' is (ε, δ_conv + (1 + e^ε)·p)-DP. N is the least with (1 + e^ε)·p ≤ δ·TAIL_DELTA_SHARE,
 * and δ_conv = δ·(1 − TAIL_DELTA_SHARE): the whole stays within δ.
 *
 * Why not price M' by the paper's general result for the distribution of K' directly: Theorem 2's
 * proof rests on the generating function of D_{η,γ} (its closed form gives the (1 + η) and log(1/γ)
 * terms); K' is not in that family, and a bound for it would need its own proof. The truncation
 * argument above needs none, and costs only a share of δ and log(1/δ)-many extra runs.
 */
import type { StoppingDistribution } from '../stopping-distribution.ts';
import { rdpToApprox } from './rdp-to-approx.ts';

/** The share of δ that pays for running N times instead of K times. */
export const TAIL_DELTA_SHARE = 0.1;

/** ε'(λ) of Theorem 2 at each order of `orders`, from the base mechanism's RDP at the same orders. */
export function randomStoppingRdp(
  baseRdp: readonly number[],
  orders: readonly number[],
  distribution: Pick<StoppingDistribution, 'eta' | 'gamma' | 'mean'>,
): number[] {
  const { eta, gamma, mean } = distribution;
  const logInverseGamma = -Math.log(gamma);
  // The λ̂ part does not depend on λ: its least over the grid serves every λ.
  let hatTerm = Number.POSITIVE_INFINITY;
  orders.forEach((hat, i) => {
    const term = (1 + eta) * ((1 - 1 / hat) * baseRdp[i]! + logInverseGamma / hat);
    if (term < hatTerm) hatTerm = term;
  });
  const logMean = Math.log(mean);
  return orders.map((order, i) => baseRdp[i]! + hatTerm + logMean / (order - 1));
}

export interface RandomStoppingPrice {
  readonly epsilon: number;
  /** The whole δ: δ_conv plus the truncation's (1 + e^ε)·P[K > N], at most the δ asked for. */
  readonly delta: number;
  /** N, the runs the job always does. */
  readonly runs: number;
  /** P[K > N] (an upper bound). */
  readonly tail: number;
  /** The order λ of the conversion. */
  readonly order: number;
}

/**
 * The (ε, δ) of M' and its N: refuses (RangeError) when no N ≤ maxRuns makes the truncation's
 * share fit, or when the bound is not finite.
 */
export function randomStoppingPrice(options: {
  readonly baseRdp: readonly number[];
  readonly orders: readonly number[];
  readonly distribution: StoppingDistribution;
  readonly delta: number;
  readonly maxRuns: number;
}): RandomStoppingPrice {
  const { distribution, delta, maxRuns } = options;
  const curve = randomStoppingRdp(options.baseRdp, options.orders, distribution);
  const conversionDelta = delta * (1 - TAIL_DELTA_SHARE);
  const { epsilon, order } = rdpToApprox(options.orders, curve, conversionDelta);
  if (!Number.isFinite(epsilon)) throw new RangeError('the random-stopping bound is not finite here');
  const tailBudget = (delta * TAIL_DELTA_SHARE) / (1 + Math.exp(epsilon));
  for (let runs = 1; runs <= maxRuns; runs++) {
    const tail = distribution.tailAbove(runs);
    if (tail <= tailBudget)
      return { epsilon, delta: conversionDelta + (1 + Math.exp(epsilon)) * tail, runs, tail, order };
  }
  throw new RangeError(`random stopping would need more than ${maxRuns} runs at this δ`);
}
