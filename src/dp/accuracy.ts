/**
 * Accuracy statements: how far a released value can be from the true one, at a stated confidence.
 * Every interval here is conservative: its true coverage is at least the confidence asked for.
 */
import type { NoiseDistribution } from './distributions.ts';

/** |noise| ≤ halfWidth with probability at least `coverage` (≥ the confidence asked for). */
export interface NoiseInterval {
  readonly halfWidth: number;
  /** A proven lower bound on P(|noise| ≤ halfWidth), within ~1e-12 of the exact value. */
  readonly coverage: number;
}

/** Anything that states an interval for its own noise: every mechanism and grid mechanism. */
export interface HasNoiseInterval {
  interval(confidence: number): NoiseInterval;
}

/**
 * The smallest integer h whose proven upper bound on P(|Z| > h) = 2·P(Z ≥ h + 1) is ≤ 1 − confidence,
 * for symmetric integer noise, so the promise holds despite rounding. Discrete noise makes the
 * coverage jump in steps: at scale 1 the 95% discrete Laplace interval is ±3 with coverage 97.3%;
 * `coverage` reports the proven lower bound on that value. O(log h) tail evaluations, each O(1)
 * (distributions.ts).
 */
export function noiseInterval(distribution: NoiseDistribution, confidence: number): NoiseInterval {
  if (!(confidence > 0 && confidence < 1)) throw new RangeError('confidence must be in (0, 1)');
  const allowed = 1 - confidence;
  const outside = (h: number): number => 2 * distribution.upperTailBounds(h + 1).upper;
  let high = 1;
  while (outside(high) > allowed) high *= 2;
  let low = -1; // outside(-1) = 2·P(Z ≥ 0) > 1 > allowed
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if (outside(middle) > allowed) low = middle;
    else high = middle;
  }
  return { halfWidth: high, coverage: 1 - outside(high) };
}

/** A two-sided interval for a derived statistic, with the point estimate it surrounds. */
export interface EstimateInterval {
  readonly estimate: number;
  readonly lower: number;
  readonly upper: number;
  /** The guaranteed minimum probability that [lower, upper] contains the true value. */
  readonly confidence: number;
}

export interface AverageInput {
  readonly noisySum: number;
  readonly noisyCount: number;
  /** The mechanisms that released the sum and the count (independent noise). */
  readonly sumMechanism: HasNoiseInterval;
  readonly countMechanism: HasNoiseInterval;
  /** The clamping bounds every summed value was forced into. */
  readonly bounds: readonly [number, number];
  readonly confidence: number;
}

/**
 * AVG = noisy sum / noisy count, clamped to the bounds, with an honest interval: with probability
 * ≥ confidence both noises are inside their intervals at level 1 − α/2 each (Bonferroni, α = 1 −
 * confidence), and then the true mean S/N lies in the range of s/n over that box of (s, n), with
 * n ≥ 1 (a mean over no rows has no value). It is also inside the bounds. Conservative: the true
 * coverage is at least `confidence`, usually more.
 */
export function averageInterval(input: AverageInput): EstimateInterval {
  const [lowerBound, upperBound] = input.bounds;
  const alpha = 1 - input.confidence;
  const sumWidth = input.sumMechanism.interval(1 - alpha / 2).halfWidth;
  const countWidth = input.countMechanism.interval(1 - alpha / 2).halfWidth;
  const estimate = clamp(input.noisySum / Math.max(1, input.noisyCount), lowerBound, upperBound);
  const countLow = Math.max(1, input.noisyCount - countWidth);
  const countHigh = input.noisyCount + countWidth;
  if (countHigh < 1) return { estimate, lower: lowerBound, upper: upperBound, confidence: input.confidence };
  const sumLow = input.noisySum - sumWidth;
  const sumHigh = input.noisySum + sumWidth;
  // s/n is monotone in each variable on the box, so its extremes sit at corners.
  const lower = sumLow >= 0 ? sumLow / countHigh : sumLow / countLow;
  const upper = sumHigh >= 0 ? sumHigh / countLow : sumHigh / countHigh;
  return {
    estimate,
    lower: clamp(lower, lowerBound, upperBound),
    upper: clamp(upper, lowerBound, upperBound),
    confidence: input.confidence,
  };
}

export interface VarianceInput extends AverageInput {
  readonly noisySumOfSquares: number;
  readonly sumOfSquaresMechanism: HasNoiseInterval;
}

/**
 * Population variance (VAR_POP) = Q/N − (S/N)² from a noisy sum of squares Q, sum S and count N, clamped
 * to [0, ((upper − lower)/2)²] (the largest variance of values in the bounds). Honest interval: the
 * three noises are each inside their level 1 − α/3 intervals with probability ≥ 1 − α (Bonferroni);
 * on that box, Q/N − S²/N² ≤ max(Q)/min(N) − min(S²)/max(N)² and ≥ min(Q)/max(N) − max(S²)/min(N)².
 * Conservative (the two terms are bounded separately). STDDEV_POP: square roots of the endpoints
 * (monotone). VAR_SAMP = N/(N − 1)·VAR_POP also depends on N, so it is not covered here.
 */
export function varianceInterval(input: VarianceInput): EstimateInterval {
  const [lowerBound, upperBound] = input.bounds;
  const maxVariance = ((upperBound - lowerBound) / 2) ** 2;
  const level = 1 - (1 - input.confidence) / 3;
  const squaresWidth = input.sumOfSquaresMechanism.interval(level).halfWidth;
  const sumWidth = input.sumMechanism.interval(level).halfWidth;
  const countWidth = input.countMechanism.interval(level).halfWidth;
  const count = Math.max(1, input.noisyCount);
  const estimate = clamp(input.noisySumOfSquares / count - (input.noisySum / count) ** 2, 0, maxVariance);
  const countLow = Math.max(1, input.noisyCount - countWidth);
  const countHigh = input.noisyCount + countWidth;
  if (countHigh < 1) return { estimate, lower: 0, upper: maxVariance, confidence: input.confidence };
  const squaresLow = Math.max(0, input.noisySumOfSquares - squaresWidth);
  const squaresHigh = Math.max(0, input.noisySumOfSquares + squaresWidth);
  const sumLow = input.noisySum - sumWidth;
  const sumHigh = input.noisySum + sumWidth;
  const smallestAbsSum = sumLow <= 0 && sumHigh >= 0 ? 0 : Math.min(Math.abs(sumLow), Math.abs(sumHigh));
  const largestAbsSum = Math.max(Math.abs(sumLow), Math.abs(sumHigh));
  const upper = squaresHigh / countLow - (smallestAbsSum / countHigh) ** 2;
  const lower = squaresLow / countHigh - (largestAbsSum / countLow) ** 2;
  return {
    estimate,
    lower: clamp(lower, 0, maxVariance),
    upper: clamp(upper, 0, maxVariance),
    confidence: input.confidence,
  };
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}
