/**
 * The complementary error function and the normal tail, accurate in the far tails: erfc in relative
 * terms until it underflows (~1e-15, tested against mpmath in test/dp/normal.test.ts), and log erfc
 * beyond that (erfc(30) ≈ 2.6e-393 is still exact in log space), which the RDP series of the
 * subsampled Gaussian needs. Used to calibrate, describe and account for mechanisms, never to draw
 * noise.
 */

const SQRT_PI = Math.sqrt(Math.PI);

/**
 * exp(−x²) without the error of rounding x² first: split x = high + low with high a multiple of
 * 1/16, so high² is exact and exp(−x²) = exp(−high²)·exp(−low·(x + high)).
 */
function expMinusSquare(x: number): number {
  const high = Math.round(x * 16) / 16;
  return Math.exp(-high * high) * Math.exp(-(x - high) * (x + high));
}

/**
 * erfc(x) = 1 − erf(x).
 * - |x| < 1: erf by its all-positive series erf(x) = (2/√π)·e^(−x²)·Σ 2^n x^(2n+1)/(2n+1)!!
 *   (Abramowitz & Stegun 7.1.6), which has no cancellation; 1 − erf loses < 1 digit as erfc(1) > 0.15.
 * - x ≥ 1: the Laplace continued fraction erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …))))
 *   (A&S 7.1.14) by the modified Lentz method; a few hundred steps at x = 1, fewer beyond.
 * - x ≤ −1: erfc(x) = 2 − erfc(−x).
 */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  if (x <= -1) return 2 - erfc(-x);
  if (x < 1) return 1 - erfSeries(x);
  if (x > 27.3) return 0; // below the smallest subnormal double
  return (expMinusSquare(x) / SQRT_PI) * laplaceContinuedFraction(x);
}

function erfSeries(x: number): number {
  const twiceSquare = 2 * x * x;
  let term = x;
  let sum = x;
  for (let n = 1; Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
    term *= twiceSquare / (2 * n + 1);
    sum += term;
  }
  return (2 / SQRT_PI) * expMinusSquare(x) * sum;
}

/** 1/(x + a1/(x + a2/(x + …))) with a_j = j/2, by modified Lentz. */
function laplaceContinuedFraction(x: number): number {
  const tiny = 1e-300;
  let value = x;
  let c = x;
  let d = 0;
  for (let j = 1; j < 10_000; j++) {
    const a = j / 2;
    d = x + a * d;
    c = x + a / c;
    if (d === 0) d = tiny;
    if (c === 0) c = tiny;
    d = 1 / d;
    const step = c * d;
    value *= step;
    if (Math.abs(step - 1) < 1e-16) break;
  }
  return 1 / value;
}

/** Φ(x) = P(N(0,1) ≤ x) = erfc(−x/√2)/2, accurate in relative terms for very negative x. */
export function standardNormalCdf(x: number): number {
  return erfc(-x / Math.SQRT2) / 2;
}

const LOG_SQRT_PI = 0.5 * Math.log(Math.PI);
/** From here on log erfc is computed in log space; below, erfc itself is far from underflow. */
const LOG_SPACE_FROM = Math.SQRT2;
const TINY = 1e-300;
const RELATIVE_TOLERANCE = 1e-16;
const MAX_TERMS = 500;

/** log of the continued fraction factor h in erfc(x) = x e^{−x²} h / √π, for x ≥ √2 (the continued fraction of Q(½, x²): Press et al.,
 * Numerical Recipes 3rd ed. §6.2, by the modified Lentz method). */
function logContinuedFraction(x: number): number {
  const a = 0.5;
  const y = x * x;
  let b = y + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < MAX_TERMS; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const change = d * c;
    h *= change;
    if (Math.abs(change - 1) < RELATIVE_TOLERANCE) break;
  }
  return Math.log(h);
}

/** log erfc(x) for every real x; finite wherever erfc(x) > 0 mathematically. */
export function logErfc(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  if (x === Number.POSITIVE_INFINITY) return Number.NEGATIVE_INFINITY;
  if (x >= LOG_SPACE_FROM) return -x * x + Math.log(x) - LOG_SQRT_PI + logContinuedFraction(x);
  return Math.log(erfc(x));
}

/** P(Z > z) for a standard normal Z. */
export function normalSurvival(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}
