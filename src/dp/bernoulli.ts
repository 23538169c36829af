/**
 * Bernoulli(exp(−γ)) for rational γ = n/d, exactly: CKS20 Algorithm 1 (Canonne, Kamath, Steinke
 * 2020, "The Discrete Gaussian for Differential Privacy", arXiv 2004.00010).
 *
 * For γ ∈ [0, 1] it draws A_k ~ Bernoulli(γ/k) for k = 1, 2, … until the first A_k = 0 and answers
 * whether that k is odd: P(k odd) = Σ_j (−γ)^j / j! = exp(−γ). Each Bernoulli(γ/k) is "a uniform
 * integer below d·k is below n", so only integer comparisons happen. For γ > 1,
 * exp(−γ) = exp(−1)^⌊γ⌋ · exp(−(γ − ⌊γ⌋)), one Bernoulli per factor.
 *
 * Each Bernoulli(γ/k) is decided by `bernoulliRatio` from one random word (below), whatever the size
 * of d·k; the exact integer arithmetic it falls back on runs once in about 2^31 draws.
 */
import { type RandomSource, uniformBigInt } from './random.ts';
import { floorDivide } from './rational.ts';

const TWO_32 = 2 ** 32;
/**
 * Half-width of the band around the float threshold inside which `bernoulliRatio` decides exactly.
 * The threshold n/d/k·2^32 is three correctly rounded operations away from the true n·2^32/(d·k), a
 * relative error below 2^-51; for a probability ≤ 1 that is below 2^-19 in absolute terms, far
 * inside 2^-10. (For a probability above 1 every word is below the true threshold, so the fast
 * answer `true` is right whatever the error.)
 */
const BAND = 2 ** -10;

/**
 * Bernoulli(n/(d·k)) for safe integers n ≥ 0, d ≥ 1, k ≥ 1 (true for sure when n ≥ d·k), exactly,
 * from one 32-bit word in all but about 2^-31 of the calls.
 *
 * Let U = (W + V)/2^32 with W the word and V ∈ [0, 1) the bits that would follow it: U is uniform
 * on [0, 1), so "U < p" has probability exactly p. With x = p·2^32, U < p ⟺ W + V < x. When
 * W + 1 ≤ x the answer is true for every V, when W ≥ x it is false for every V; the float threshold
 * f ≈ x settles both whenever W is more than BAND from it. Otherwise the answer depends on V:
 * V < x − W = (n·2^32 − W·d·k)/(d·k), a Bernoulli of that exact rational, drawn in BigInt. So the
 * answer has exactly the law of U < p, never an approximation of it.
 */
export function bernoulliRatio(random: RandomSource, n: number, d: number, k: number): boolean {
  // A product ≤ 2^53 of safe integers is exact, and a true product above it rounds to ≥ 2^53 > n.
  if (n >= d * k) return true;
  const threshold = (n / d / k) * TWO_32;
  const word = random.nextUint32();
  if (word + 1 <= threshold - BAND) return true;
  if (word >= threshold + BAND) return false;
  return inBand(random, n, d, k, word);
}

/** V < (n·2^32 − W·d·k)/(d·k) for a uniform V ∈ [0, 1): the exact rest of `bernoulliRatio`. */
function inBand(random: RandomSource, n: number, d: number, k: number, word: number): boolean {
  const range = BigInt(d) * BigInt(k);
  const rest = (BigInt(n) << 32n) - BigInt(word) * range;
  if (rest <= 0n) return false;
  if (rest >= range) return true;
  return uniformBigInt(random, range) < rest;
}

/** Bernoulli(exp(−n/d)) for safe integers n ≥ 0, d ≥ 1. */
export function bernoulliExpMinus(random: RandomSource, n: number, d: number): boolean {
  const whole = floorDivide(n, d);
  const rest = n - whole * d;
  for (let i = 0; i < whole; i++) if (!bernoulliExpMinusUnit(random, 1, 1)) return false;
  return bernoulliExpMinusUnit(random, rest, d);
}

/** Bernoulli(exp(−n/d)) for safe integers 0 ≤ n ≤ d. */
export function bernoulliExpMinusUnit(random: RandomSource, n: number, d: number): boolean {
  for (let k = 1; ; k++) if (!bernoulliRatio(random, n, d, k)) return k % 2 === 1;
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

/**
 * Bernoulli(m/2^bits) for an integer 0 ≤ m ≤ 2^bits, exactly: with U uniform on [0, 1) read 32 bits
 * at a time, U < m/2^bits is decided at the first word that differs from m's binary expansion (almost
 * always the first), and U ≥ m/2^bits when every word of the expansion is matched.
 */
export function bernoulliDyadic(random: RandomSource, m: bigint, bits: number): boolean {
  if (m <= 0n) return false;
  const words = Math.ceil(bits / 32);
  // m's expansion padded to whole words: m/2^bits = padded/2^(32·words).
  const padded = m << BigInt(words * 32 - bits);
  if (padded >= 1n << BigInt(words * 32)) return true;
  for (let i = words - 1; i >= 0; i--) {
    const target = Number((padded >> BigInt(i * 32)) & 0xffffffffn);
    const word = random.nextUint32();
    if (word !== target) return word < target;
  }
  return false;
}
