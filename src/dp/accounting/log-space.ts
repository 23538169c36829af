/**
 * Arithmetic on numbers held as their natural logarithms, so sums of terms like e^{k²/2σ²}
 * neither overflow nor lose the small terms (the RDP sums of Mironov, Talwar & Zhang 2019 need this).
 */

/** log(e^a + e^b) without overflow. */
export function logAddExp(a: number, b: number): number {
  if (a === Number.NEGATIVE_INFINITY) return b;
  if (b === Number.NEGATIVE_INFINITY) return a;
  const high = Math.max(a, b);
  return high + Math.log1p(Math.exp(Math.min(a, b) - high));
}

/** log(e^a − e^b) for a ≥ b; a negative difference is a bug in the caller's series, so it throws. */
export function logSubExp(a: number, b: number): number {
  if (b > a) throw new RangeError(`logSubExp: e^${b} exceeds e^${a}`);
  if (b === Number.NEGATIVE_INFINITY) return a;
  if (a === b) return Number.NEGATIVE_INFINITY;
  return a + Math.log(-Math.expm1(b - a));
}

/** log Σ e^{terms[i]}, shifting by the largest term first. */
export function logSumExp(terms: ArrayLike<number>): number {
  let high = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < terms.length; i++) high = Math.max(high, terms[i]!);
  if (high === Number.NEGATIVE_INFINITY || high === Number.POSITIVE_INFINITY) return high;
  let sum = 0;
  for (let i = 0; i < terms.length; i++) sum += Math.exp(terms[i]! - high);
  return high + Math.log(sum);
}
