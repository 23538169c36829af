/**
 * A DP quantile over a bounded domain by the exponential mechanism in its permute-and-flip form
 * (McKenna & Sheldon 2020, "Permute-and-Flip: A new mechanism for differentially private
 * selection", NeurIPS; Thm. 1: ε-DP for a utility of sensitivity Δu), with the quantile utility of
 * Smith 2011 ("Privacy-preserving statistical estimation with optimal convergence rates", STOC) as
 * used by Gillenwater, Joseph & Kulesza 2021 ("Differentially Private Quantiles", ICML).
 *
 * Candidates are the B + 1 edges o_j = lo + j·(hi − lo)/B of B equal buckets. With n_i values in
 * bucket i and the percentile p = a/c,
 *   u(j) = −| (c − a)·#{i < j} − a·#{i ≥ j} |     (#{…} = number of values in those buckets),
 * which is 0 where a fraction p of the values lies below o_j. Adding or removing one value changes
 * one count by 1 and so u(j) by at most max(a, c − a); with r rows per person per group,
 * Δu = r·max(a, c − a) (cost.ts). Permute-and-flip visits the candidates in uniformly random order
 * and stops at j with probability exp(−ε·(u* − u(j))/(2Δu)); the best candidate always stops it.
 * Every probability is exp(−n/d) with integers n, d, drawn exactly (CKS20 Algorithm 1,
 * bernoulli.ts), so no floating point touches the selection.
 */
import { bernoulliExpMinus } from '../dp/bernoulli.ts';
import { type RandomSource, uniformInt } from '../dp/random.ts';
import type { Rational } from '../dp/rational.ts';

export interface QuantileSelection {
  /** True row counts per bucket in one group. */
  readonly counts: readonly number[];
  readonly percentile: { readonly numerator: number; readonly denominator: number };
  readonly epsilon: Rational;
  readonly utilitySensitivity: number;
  readonly random: RandomSource;
}

/** The index j ∈ [0, B] of the chosen bucket edge. */
export function selectQuantileEdge(selection: QuantileSelection): number {
  const { counts, random } = selection;
  const { numerator: a, denominator: c } = selection.percentile;
  const total = counts.reduce((sum, n) => sum + n, 0);
  const utilities: bigint[] = [];
  let below = 0;
  let best: bigint | undefined;
  for (let j = 0; j <= counts.length; j++) {
    const utility = -absolute(BigInt(c - a) * BigInt(below) - BigInt(a) * BigInt(total - below));
    utilities.push(utility);
    if (best === undefined || utility > best) best = utility;
    below += counts[j] ?? 0;
  }
  const order = utilities.map((_, j) => j);
  for (let i = order.length - 1; i > 0; i--) {
    const k = uniformInt(random, i + 1);
    [order[i], order[k]] = [order[k]!, order[i]!];
  }
  const denominator = selection.epsilon.denominator * 2 * selection.utilitySensitivity;
  if (!Number.isSafeInteger(denominator)) throw new RangeError('permute-and-flip: ε denominator too large');
  for (const j of order) {
    const gap = best! - utilities[j]!;
    if (acceptWithExpMinus(random, BigInt(selection.epsilon.numerator) * gap, denominator)) return j;
  }
  // Unreachable: the best candidate has gap 0 and is accepted with probability exp(0) = 1.
  throw new Error('permute-and-flip accepted no candidate');
}

/**
 * Bernoulli(exp(−n/d)) for a BigInt n and a safe integer d: exp(−n/d) = exp(−1)^⌊n/d⌋ · exp(−(n mod d)/d),
 * one exact Bernoulli per factor (as bernoulli.ts does), so every draw uses the safe-integer sampler.
 */
function acceptWithExpMinus(random: RandomSource, n: bigint, d: number): boolean {
  const whole = n / BigInt(d);
  for (let i = 0n; i < whole; i++) if (!bernoulliExpMinus(random, 1, 1)) return false;
  return bernoulliExpMinus(random, Number(n % BigInt(d)), d);
}

function absolute(x: bigint): bigint {
  return x < 0n ? -x : x;
}
