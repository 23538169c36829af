/**
 * Exact positive rationals for noise parameters, and exact integer division. Samplers only ever
 * see numerator/denominator pairs of safe integers, so no float touches the noise (Mironov 2012;
 * CKS20).
 */

/** numerator/denominator in lowest terms; both integers in [1, MAX_PARAMETER]. */
export interface Rational {
  readonly numerator: number;
  readonly denominator: number;
}

/**
 * Bound on a parameter's numerator and denominator. With both ≤ 2^48, every product the samplers
 * form in their common case (numerator·k for small k, 2·a, b·c) stays below 2^53; the samplers
 * still check each product and fall back to BigInt when one would not.
 */
const MAX_PARAMETER = 2 ** 48;

/** Significant bits kept when a float parameter is rounded up: a relative increase below 2^-31. */
const SIGNIFICANT_BITS = 32;

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** The rational numerator/denominator, reduced. Throws unless both are integers in [1, 2^48]. */
export function rational(numerator: number, denominator = 1): Rational {
  for (const part of [numerator, denominator]) {
    if (!Number.isInteger(part) || part < 1 || part > MAX_PARAMETER) {
      throw new RangeError(`rational: ${numerator}/${denominator} needs integer parts in [1, 2^48]`);
    }
  }
  const divisor = gcd(numerator, denominator);
  return { numerator: numerator / divisor, denominator: denominator / divisor };
}

export function rationalValue(r: Rational): number {
  return r.numerator / r.denominator;
}

/**
 * The least dyadic m/2^k ≥ x with a 32-bit m: x itself when it has at most 32 significant bits
 * (1, 100, 1e4, 0.5, …), otherwise x rounded UP by less than 2^-31 relative. Rounding a noise scale
 * up only adds noise, so the privacy loss the mechanism then reports from this exact value can only
 * be smaller than the one asked for. Scaling a double by a power of two is exact, so this is exact.
 */
export function rationalAtLeast(x: number): Rational {
  if (!Number.isFinite(x) || x <= 0) throw new RangeError(`rationalAtLeast: ${x} is not a positive number`);
  let exponent = Math.floor(Math.log2(x));
  // log2 may be off by one next to a power of two; fix it with exact comparisons.
  while (2 ** exponent > x) exponent--;
  while (2 ** (exponent + 1) <= x) exponent++;
  const shift = SIGNIFICANT_BITS - 1 - exponent;
  const mantissa = Math.ceil(x * 2 ** shift);
  if (shift <= 0) return rational(mantissa * 2 ** -shift);
  return fromDyadic(mantissa, shift);
}

/** mantissa / 2^shift in lowest terms (mantissa ≤ 2^32), checking the [1, 2^48] range. */
function fromDyadic(mantissa: number, shift: number): Rational {
  let numerator = mantissa;
  let power = shift;
  while (power > 0 && numerator % 2 === 0) {
    numerator /= 2;
    power--;
  }
  return rational(numerator, 2 ** power);
}

/**
 * A rational ≥ x² for a float x (e.g. σ → σ²): x is first rounded up exactly, squared in BigInt,
 * and the square rounded up again to 32 significant bits.
 */
export function squareAtLeast(x: number): Rational {
  const root = rationalAtLeast(x);
  return roundUpToDyadic(BigInt(root.numerator) ** 2n, BigInt(root.denominator) ** 2n);
}

/** The least m/2^k ≥ n/d with a 32-bit m (n/d itself when it already has that form). */
function roundUpToDyadic(n: bigint, d: bigint): Rational {
  // exponent = floor(log2(n/d)), from bit lengths and one exact correction.
  let exponent = n.toString(2).length - d.toString(2).length;
  if (exponent >= 0 ? n < d << BigInt(exponent) : n << BigInt(-exponent) < d) exponent--;
  const shift = SIGNIFICANT_BITS - 1 - exponent;
  const scaledNumerator = shift >= 0 ? n << BigInt(shift) : n;
  const scaledDenominator = shift >= 0 ? d : d << BigInt(-shift);
  const mantissa = Number((scaledNumerator + scaledDenominator - 1n) / scaledDenominator);
  if (shift <= 0) return rational(mantissa * 2 ** -shift);
  return fromDyadic(mantissa, shift);
}

/**
 * x enlarged past the rounding error of the few float operations that produced it (each at most
 * 2^-53 relative), so a reported privacy loss or a calibrated scale errs on the safe side.
 */
export function roundedUp(x: number): number {
  return x * (1 + 2 ** -50);
}

/**
 * ⌊x/d⌋ for safe integers x ≥ 0, d ≥ 1, without a float modulo (a library call, the slowest
 * operation in a draw): the float quotient is within one of the true one, and the exact products
 * q·d (below 2^53 while x < 2^52) move it onto the floor.
 */
export function floorDivide(x: number, d: number): number {
  if (d === 1) return x;
  if (x >= 2 ** 52) return (x - (x % d)) / d;
  let quotient = Math.floor(x / d);
  if (quotient * d > x) quotient--;
  else if ((quotient + 1) * d <= x) quotient++;
  return quotient;
}
