/**
 * One place that turns a plan's exact noise parameters into the DP core's mechanism object, so the
 * object that priced a measurement at planning time and the one that noises it at release are
 * built the same way from the same numbers (and the partition-selection threshold comes from it).
 */

import type { NoiseInterval } from '../dp/accuracy.ts';
import { type DiscreteGaussian, discreteGaussian } from '../dp/discrete-gaussian.ts';
import { type DiscreteLaplace, discreteLaplace } from '../dp/discrete-laplace.ts';
import { cryptoRandom, type RandomSource } from '../dp/random.ts';
import { rationalValue } from '../dp/rational.ts';
import type { NoiseSpec } from './plan.ts';

export type SqlMechanism = DiscreteLaplace | DiscreteGaussian;

export function mechanismFor(spec: NoiseSpec, random: RandomSource = cryptoRandom): SqlMechanism {
  return spec.family === 'discrete_laplace'
    ? discreteLaplace({ scale: spec.scale, random })
    : discreteGaussian({ sigmaSquared: spec.sigmaSquared, random });
}

/** The spec of a mechanism built from a calibrated float parameter (rounded up by the DP core). */
export function specOf(mechanism: SqlMechanism): NoiseSpec {
  return mechanism.family === 'discrete_laplace'
    ? { family: 'discrete_laplace', scale: mechanism.scale }
    : { family: 'discrete_gaussian', sigmaSquared: mechanism.sigmaSquared };
}

/** The noise scale an analyst reads: t for discrete Laplace, σ for discrete Gaussian (in steps). */
export function noiseScale(spec: NoiseSpec): number {
  return spec.family === 'discrete_laplace'
    ? rationalValue(spec.scale)
    : Math.sqrt(rationalValue(spec.sigmaSquared));
}

const intervals = new Map<string, NoiseInterval>();
const MAX_CACHED_INTERVALS = 1024;

/**
 * The noise interval of a spec at a confidence, kept per process: it depends on the parameters
 * only. It costs O(log σ) tail evaluations of O(1) each (distributions.ts), microseconds, so the
 * cache only saves rebuilding the mechanism for every released cell.
 */
export function noiseIntervalOf(spec: NoiseSpec, confidence: number): NoiseInterval {
  const key = `${JSON.stringify(spec)}@${confidence}`;
  let interval = intervals.get(key);
  if (!interval) {
    interval = mechanismFor(spec).interval(confidence);
    if (intervals.size >= MAX_CACHED_INTERVALS) intervals.clear();
    intervals.set(key, interval);
  }
  return interval;
}
