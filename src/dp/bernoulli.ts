/**
 * Bernoulli(exp(−γ)) for rational γ = n/d, exactly: CKS20 Algorithm 1 (Canonne, Kamath, Steinke
 * 2020, "The Discrete Gaussian for Differential Privacy", arXiv 2004.00010).
 *
 * For γ ∈ [0, 1] it draws A_k ~ Bernoulli(γ/k) for k = 1, 2, … until the first A_k = 0 and answers
 * whether that k is odd: P(k odd) = Σ_j (−γ)^j / j! = exp(−γ). Each Bernoulli(γ/k) is "a uniform
 * integer below d·k is below n", so only integer comparisons happen. For γ > 1,
 * exp(−γ) = exp(−1)^⌊γ⌋ · exp(−(γ − ⌊γ⌋)), one Bernoulli per factor.
 *
 * Number arithmetic is exact while d·k < 2^53: the product is formed in doubles and used only if it
 * is ≤ 2^53 − 1 (rounding is monotone, so a true product ≥ 2^53 cannot pass); otherwise the loop
 * continues in BigInt from the same k (for d ≤ 2^48 that needs k > 32, probability below 1/32!).
 */
import { type RandomSource, uniformBigInt, uniformInt } from './random.ts';

/** Bernoulli(exp(−n/d)) for safe integers n ≥ 0, d ≥ 1. */
export function bernoulliExpMinus(random: RandomSource, n: number, d: number): boolean {
  // n % d is exact in doubles, and so is the division of the multiple n − rest by d.
  const rest = n % d;
  const whole = (n - rest) / d;
  for (let i = 0; i < whole; i++) if (!bernoulliExpMinusUnit(random, 1, 1)) return false;
  return bernoulliExpMinusUnit(random, rest, d);
}

/** Bernoulli(exp(−n/d)) for safe integers 0 ≤ n ≤ d. */
export function bernoulliExpMinusUnit(random: RandomSource, n: number, d: number): boolean {
  for (let k = 1; ; k++) {
    const range = d * k;
    if (range > Number.MAX_SAFE_INTEGER) return unitLoopBig(random, BigInt(n), BigInt(d), BigInt(k));
    if (uniformInt(random, range) >= n) return k % 2 === 1;
  }
}

/** The BigInt twin of bernoulliExpMinus for parameters beyond 2^53. */
export function bernoulliExpMinusBig(random: RandomSource, n: bigint, d: bigint): boolean {
  const whole = n / d;
  for (let i = 0n; i < whole; i++) if (!bernoulliExpMinusUnit(random, 1, 1)) return false;
  return unitLoopBig(random, n % d, d, 1n);
}

/** Algorithm 1's loop from a given k on, in BigInt. */
function unitLoopBig(random: RandomSource, n: bigint, d: bigint, startK: bigint): boolean {
  for (let k = startK; ; k++) {
    if (uniformBigInt(random, d * k) >= n) return k % 2n === 1n;
  }
}
