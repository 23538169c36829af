/**
 * The complementary error function and the normal tail, accurate in relative terms far into the
 * tail (erfc(30) ≈ 2.6e-393 is still exact in log space). The RDP series of the subsampled
 * Gaussian needs log erfc at large arguments, and the PLD needs tail masses of about 1e-15.
 *
 * Method: erfc(x) = Q(½, x²), the regularised upper incomplete gamma function. For x < √2 we use
 * the all-positive series of the lower function P(½, x²) (no cancellation inside the sum; erfc ≥
 * 0.045 there, so 1 − P keeps about 15 digits); beyond, the continued fraction of Q(½, x²)
 * evaluated by the modified Lentz method, which converges fast once x² > a + 1 (Press et al.,
 * Numerical Recipes 3rd ed. §6.2; Lentz 1976).
 */

const LOG_SQRT_PI = 0.5 * Math.log(Math.PI);
const SERIES_LIMIT = Math.SQRT2;
const TINY = 1e-300;
const RELATIVE_TOLERANCE = 1e-16;
const MAX_TERMS = 500;

/** erf(x) for 0 ≤ x < √2: (2/√π) e^{−x²} Σₙ 2ⁿ x^{2n+1} / (1·3·…·(2n+1)). */
function erfBySeries(x: number): number {
  const x2 = x * x;
  let term = x;
  let sum = x;
  for (let n = 1; n < MAX_TERMS && term > sum * RELATIVE_TOLERANCE; n++) {
    term *= (2 * x2) / (2 * n + 1);
    sum += term;
  }
  return (2 / Math.sqrt(Math.PI)) * Math.exp(-x2) * sum;
}

/** log of the continued fraction factor h in erfc(x) = x e^{−x²} h / √π, for x ≥ √2. */
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
  if (x >= SERIES_LIMIT) return -x * x + Math.log(x) - LOG_SQRT_PI + logContinuedFraction(x);
  return Math.log(erfc(x));
}

/** erfc(x) = 1 − erf(x), with full relative precision for large positive x (until underflow). */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  if (x < 0) return 2 - erfc(-x);
  if (x < SERIES_LIMIT) return 1 - erfBySeries(x);
  return Math.exp(logErfc(x));
}

/** P(Z > z) for a standard normal Z. */
export function normalSurvival(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}

/** P(Z ≤ z) for a standard normal Z, accurate in the lower tail. */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2);
}
