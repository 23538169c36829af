/**
 * Exact samplers for the discrete Laplace and discrete Gaussian distributions, CKS20 Algorithms 2
 * and 3 (Canonne, Kamath, Steinke 2020, "The Discrete Gaussian for Differential Privacy", arXiv
 * 2004.00010, section "Sampling"). Only integer arithmetic on the rational parameters; randomness
 * only from a RandomSource.
 */
import { bernoulliExpMinus, bernoulliExpMinusBig, bernoulliExpMinusUnit } from './bernoulli.ts';
import { type RandomSource, randomBit, uniformInt } from './random.ts';
import { floorDivide, type Rational } from './rational.ts';

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/**
 * One draw from the discrete Laplace distribution P(y) ∝ exp(−|y|/scale) on the integers,
 * scale = numerator/denominator: CKS20 Algorithm 2, with its split of X generalised.
 *
 * X is geometric with P(X = x) ∝ exp(−x/numerator); then floor(X/denominator) is geometric with
 * ratio exp(−denominator/numerator), and a random sign with "−0" rejected makes it two-sided.
 * CKS20 draw X = U + numerator·V (U uniform below the numerator accepted with probability
 * exp(−U/numerator), V the number of exp(−1) successes). Any block size h ≥ 1 works the same way:
 * with X = U + h·Q, U uniform below h accepted with probability exp(−U/numerator) and Q the number
 * of exp(−h/numerator) successes, P(U = u, Q = q) ∝ exp(−u/numerator)·exp(−hq/numerator) =
 * exp(−x/numerator), and (u, q) ↦ u + hq is a bijection onto the non-negative integers, so X has the
 * same law. For a numerator up to 2^32 we take h a power of two in (numerator/4, numerator/2]
 * (h = 1 below 4): then U and the sign come from ONE word (its low bits and its top bit, independent
 * uniforms, and the sign of the accepted U is independent of the magnitude because acceptance looks
 * only at U), no rejection is needed for U, and U's acceptance rate rises from 0.63 to ≥ 0.78, at the
 * price of more (cheaper) Q coins: about 7 random words per draw instead of 9.6 at numerator ≈ 2^31.
 * A larger numerator keeps CKS20's h = numerator (Q coins then exp(−1)) and a separate sign word.
 *
 * Safety of Number arithmetic: U < h ≤ numerator ≤ 2^48. X = U + h·Q is formed in doubles and used
 * only if it is ≤ 2^53 − 1: rounding is monotone, so a true X ≥ 2^53 rounds to ≥ 2^53 and fails
 * the check, and a true X below it is computed exactly. Otherwise X is recomputed in BigInt, so the
 * draw is exact on its whole support. A draw beyond ±(2^53 − 1) cannot be returned as a number, so
 * the sampler throws instead: that needs X ≥ 2^53·denominator, of probability exp(−2^53/scale)
 * whatever h is (X's law does not depend on it), < e^-8192 for the scales mechanisms accept
 * (≤ 2^40); the throw depends only on the noise, never on data.
 */
export function sampleDiscreteLaplace(random: RandomSource, scale: Rational): number {
  const { numerator, denominator } = scale;
  if (numerator > ONE_WORD_NUMERATOR) return laplaceWithSignWord(random, numerator, denominator);
  const block = laplaceBlock(numerator);
  const mask = block - 1;
  for (;;) {
    const word = random.nextUint32();
    // block ≤ 2^31, so the mask leaves the top bit out: u and the sign are independent.
    const u = word & mask;
    if (!bernoulliExpMinusUnit(random, u, numerator)) continue;
    let q = 0;
    while (bernoulliExpMinusUnit(random, block, numerator)) q++;
    const magnitude = blockMagnitude(u, block, q, denominator);
    const negative = word >>> 31 === 1;
    if (negative && magnitude === 0) continue;
    return negative ? -magnitude : magnitude;
  }
}

/** Largest numerator whose block (≤ numerator/2, a power of two) leaves a word's top bit free. */
const ONE_WORD_NUMERATOR = 2 ** 32;

/** The power of two h with numerator/4 < h ≤ numerator/2, or 1 for a numerator below 4. */
function laplaceBlock(numerator: number): number {
  let block = 1;
  while (block * 4 <= numerator) block *= 2;
  return block;
}

/** CKS20 Algorithm 2 as written (h = numerator, one word for the sign): numerators above 2^32. */
function laplaceWithSignWord(random: RandomSource, numerator: number, denominator: number): number {
  for (;;) {
    const u = uniformInt(random, numerator);
    if (!bernoulliExpMinusUnit(random, u, numerator)) continue;
    let v = 0;
    while (bernoulliExpMinusUnit(random, 1, 1)) v++;
    const magnitude = blockMagnitude(u, numerator, v, denominator);
    const negative = randomBit(random);
    if (negative && magnitude === 0) continue;
    return negative ? -magnitude : magnitude;
  }
}

/** ⌊(u + block·count)/denominator⌋, in Numbers when the sum is provably exact, else in BigInt. */
function blockMagnitude(u: number, block: number, count: number, denominator: number): number {
  const x = u + block * count;
  return x <= MAX_SAFE
    ? floorDivide(x, denominator)
    : bigFloorDivide(BigInt(u) + BigInt(block) * BigInt(count), BigInt(denominator));
}

function bigFloorDivide(x: bigint, d: bigint): number {
  const quotient = x / d;
  if (quotient > BigInt(MAX_SAFE)) throw new RangeError('discrete Laplace draw beyond 2^53');
  return Number(quotient);
}

/**
 * Precomputed constants of CKS20 Algorithm 3 for σ² = a/b. The algorithm proposes Y from a discrete
 * Laplace with ANY scale t > 0 and accepts with probability exp(−(|Y| − σ²/t)²/(2σ²)); the product of
 * the two is ∝ exp(−Y²/(2σ²)) whatever t is (the correctness proof of CKS20 Algorithm 3 expands
 * the square; t = ⌊σ⌋ + 1 there is a choice for speed), so t only sets the acceptance rate.
 * We pick t so that the offset c = σ²/t has a small denominator, which keeps the acceptance exponent
 * γ = b·(q|Y| − p)² / (2a·q²) (c = p/q) inside Number range:
 *  - σ ≥ 1: c = ⌊σ⌋ cut to its top 8 significant bits (q = 1), t = σ²/c ∈ [σ, 2σ), and within
 *    1% of σ once σ ≥ 128; γ = b(|Y| − c)²/(2a). Cutting c to a few bits keeps t's numerator
 *    a/gcd(a, bc) small (one random word for the proposal's uniform, instead of two for c = ⌊σ⌋);
 *  - σ < 1: t = 1, c = σ² = a/b, γ = (b|Y| − a)²/(2ab).
 * t near σ keeps the expected number of proposals a small constant (1/0.76 at t = σ).
 */
export interface DiscreteGaussianPlan {
  readonly laplaceScale: Rational;
  /** γ = multiplier · (offsetDenominator·|Y| − offsetNumerator)² / gammaDenominator. */
  readonly multiplier: number;
  readonly offsetNumerator: number;
  readonly offsetDenominator: number;
  readonly gammaDenominator: bigint;
  /** gammaDenominator as a Number when it is at most 2^53 − 1, else 0 (γ then in BigInt). */
  readonly smallGammaDenominator: number;
}

export function planDiscreteGaussian(sigmaSquared: Rational): DiscreteGaussianPlan {
  const a = BigInt(sigmaSquared.numerator);
  const b = BigInt(sigmaSquared.denominator);
  if (a >= b) {
    const c = topBits(integerSqrtOfRatio(a, b), 8);
    const bc = b * c;
    const divisor = bigGcd(a, bc);
    return withSmallDenominator({
      laplaceScale: { numerator: Number(a / divisor), denominator: Number(bc / divisor) },
      multiplier: sigmaSquared.denominator,
      offsetNumerator: Number(c),
      offsetDenominator: 1,
      gammaDenominator: 2n * a,
    });
  }
  return withSmallDenominator({
    laplaceScale: { numerator: 1, denominator: 1 },
    multiplier: 1,
    offsetNumerator: sigmaSquared.numerator,
    offsetDenominator: sigmaSquared.denominator,
    gammaDenominator: 2n * a * b,
  });
}

function withSmallDenominator(
  plan: Omit<DiscreteGaussianPlan, 'smallGammaDenominator'>,
): DiscreteGaussianPlan {
  const small = plan.gammaDenominator <= BigInt(MAX_SAFE) ? Number(plan.gammaDenominator) : 0;
  return { ...plan, smallGammaDenominator: small };
}

/** x ≥ 1 with every bit below its top `bits` significant ones cleared (so 1 ≤ result ≤ x). */
function topBits(x: bigint, bits: number): bigint {
  const drop = BigInt(Math.max(0, x.toString(2).length - bits));
  return (x >> drop) << drop;
}

/** ⌊√(a/b)⌋ exactly, for a ≥ b ≥ 1. */
function integerSqrtOfRatio(a: bigint, b: bigint): bigint {
  let root = BigInt(Math.floor(Math.sqrt(Number(a) / Number(b))));
  while (root * root * b > a) root--;
  while ((root + 1n) * (root + 1n) * b <= a) root++;
  return root;
}

function bigGcd(x: bigint, y: bigint): bigint {
  while (y !== 0n) [x, y] = [y, x % y];
  return x;
}

/**
 * One draw from the discrete Gaussian P(y) ∝ exp(−y²/(2σ²)) on the integers: CKS20 Algorithm 3
 * with the plan above. γ is formed in Numbers when the checks below prove every product is below
 * 2^53 (rounding is monotone, so a float product ≤ 2^53 − 1 means the exact one is too), else in
 * BigInt.
 */
export function sampleDiscreteGaussian(random: RandomSource, plan: DiscreteGaussianPlan): number {
  const smallDenominator = plan.smallGammaDenominator;
  for (;;) {
    const y = sampleDiscreteLaplace(random, plan.laplaceScale);
    const scaled = plan.offsetDenominator * Math.abs(y);
    const difference = scaled - plan.offsetNumerator;
    const gammaNumerator = plan.multiplier * difference * difference;
    const accept =
      smallDenominator !== 0 && scaled <= MAX_SAFE && gammaNumerator <= MAX_SAFE
        ? bernoulliExpMinus(random, gammaNumerator, smallDenominator)
        : bernoulliExpMinusBig(random, bigGammaNumerator(plan, y), plan.gammaDenominator);
    if (accept) return y;
  }
}

function bigGammaNumerator(plan: DiscreteGaussianPlan, y: number): bigint {
  const difference = BigInt(plan.offsetDenominator) * BigInt(Math.abs(y)) - BigInt(plan.offsetNumerator);
  return BigInt(plan.multiplier) * difference * difference;
}
