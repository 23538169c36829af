/**
 * Interval arithmetic over policy bounds: the range every value of an expression can take once each
 * column it reads is clamped to its policy bounds. Sensitivities are derived from these ranges, so
 * every rule here must be sound (the true range is inside the computed one), never tight at the
 * expense of soundness.
 */

export interface Interval {
  readonly low: number;
  readonly high: number;
}

export function interval(low: number, high: number): Interval {
  return { low: Math.min(low, high), high: Math.max(low, high) };
}

export const point = (value: number): Interval => ({ low: value, high: value });

export function add(a: Interval, b: Interval): Interval {
  return { low: a.low + b.low, high: a.high + b.high };
}

export function subtract(a: Interval, b: Interval): Interval {
  return { low: a.low - b.high, high: a.high - b.low };
}

export function negate(a: Interval): Interval {
  return { low: -a.high, high: -a.low };
}

/** The product's extremes sit at the corners. */
export function multiply(a: Interval, b: Interval): Interval {
  const corners = [a.low * b.low, a.low * b.high, a.high * b.low, a.high * b.high];
  return { low: Math.min(...corners), high: Math.max(...corners) };
}

/**
 * Division by a nonzero constant only (a divisor that depends on data could be zero, which is a
 * data-dependent error). Integer division truncates towards zero, which stays inside the real range.
 */
export function divideByConstant(a: Interval, divisor: number): Interval {
  return interval(a.low / divisor, a.high / divisor);
}

/** x % d for a nonzero constant d: |result| < |d| and the sign follows x. */
export function moduloByConstant(a: Interval, divisor: number): Interval {
  const limit = Math.abs(divisor);
  return { low: a.low < 0 ? -limit : 0, high: a.high > 0 ? limit : 0 };
}

export function absolute(a: Interval): Interval {
  if (a.low >= 0) return a;
  if (a.high <= 0) return negate(a);
  return { low: 0, high: Math.max(-a.low, a.high) };
}

export function square(a: Interval): Interval {
  const magnitude = absolute(a);
  return { low: magnitude.low * magnitude.low, high: magnitude.high * magnitude.high };
}

/** The smallest interval holding all of them (CASE, COALESCE, NULLIF branches). */
export function hull(intervals: readonly Interval[]): Interval {
  return {
    low: Math.min(...intervals.map((i) => i.low)),
    high: Math.max(...intervals.map((i) => i.high)),
  };
}

/** Rounding to an integer (round, floor, ceil, trunc) moves a value by less than 1. */
export function roundedToInteger(a: Interval): Interval {
  return { low: Math.floor(a.low), high: Math.ceil(a.high) };
}

/** The largest |x| over the interval: the add/remove sensitivity of one summed value. */
export function magnitude(a: Interval): number {
  return Math.max(Math.abs(a.low), Math.abs(a.high));
}

export function isFiniteInterval(a: Interval): boolean {
  return Number.isFinite(a.low) && Number.isFinite(a.high);
}
