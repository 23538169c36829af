/**
 * Chi-square goodness of fit against an exact integer pmf, with fixed critical values.
 * Critical values: the upper 1e-4 quantile of χ²(df), df = 1…80, computed with mpmath 1.3 (30 digits,
 * bisection on the regularised upper incomplete gamma). At p = 1e-4 a correct sampler fails a given
 * check once in 10,000 runs; the seeded suite is deterministic anyway.
 */
export const SIGNIFICANCE = 1e-4;
// biome-ignore format: a table
const CRITICAL_AT_1E4 = [
  15.137, 18.421, 21.108, 23.513, 25.745, 27.856, 29.878, 31.828, 33.72, 35.564, 37.367, 39.134, 40.871,
  42.579, 44.263, 45.925, 47.566, 49.189, 50.795, 52.386, 53.962, 55.525, 57.075, 58.613, 60.14, 61.657,
  63.164, 64.662, 66.152, 67.633, 69.106, 70.571, 72.03, 73.481, 74.926, 76.365, 77.798, 79.225, 80.646,
  82.062, 83.473, 84.879, 86.281, 87.677, 89.07, 90.457, 91.841, 93.221, 94.597, 95.969, 97.337, 98.702,
  100.063, 101.421, 102.776, 104.127, 105.476, 106.821, 108.163, 109.503, 110.84, 112.174, 113.505,
  114.834, 116.16, 117.484, 118.805, 120.124, 121.44, 122.755, 124.067, 125.377, 126.684, 127.99, 129.294,
  130.595, 131.895, 133.193, 134.489, 135.783,
];

export function criticalValue(degreesOfFreedom: number): number {
  const value = CRITICAL_AT_1E4[degreesOfFreedom - 1];
  if (value === undefined) throw new RangeError(`no critical value for df = ${degreesOfFreedom}`);
  return value;
}

/** An exact pmf on the integers, normalised by direct summation (independent of src/dp/distributions.ts). */
export interface ExactPmf {
  readonly probability: (z: number) => number;
  /** All mass outside [-reach, reach] is below 1e-30. */
  readonly reach: number;
}

export function discreteLaplacePmf(scale: number): ExactPmf {
  return normalised((z) => Math.exp(-Math.abs(z) / scale), Math.ceil(70 * scale) + 2);
}

export function discreteGaussianPmf(sigmaSquared: number): ExactPmf {
  return normalised(
    (z) => Math.exp(-(z * z) / (2 * sigmaSquared)),
    Math.ceil(12 * Math.sqrt(sigmaSquared)) + 2,
  );
}

function normalised(weight: (z: number) => number, reach: number): ExactPmf {
  let total = 0;
  for (let z = -reach; z <= reach; z++) total += weight(z);
  return { probability: (z) => weight(z) / total, reach };
}

export interface ChiSquareResult {
  readonly statistic: number;
  readonly degreesOfFreedom: number;
  readonly critical: number;
  readonly passes: boolean;
}

/**
 * Bins are runs of consecutive integers, each with expected count ≥ 20 and mostly ≈ 1/60 of the
 * mass (so at most ~60 bins); the two outermost bins take the whole tails. df = bins − 1 (no parameters are estimated).
 */
export function chiSquareTest(samples: readonly number[], pmf: ExactPmf): ChiSquareResult {
  const n = samples.length;
  const enough = 20 / n;
  const target = Math.max(enough, 1 / 60);
  const upperEdges: number[] = [];
  const probabilities: number[] = [];
  let mass = 0;
  for (let z = -pmf.reach; z <= pmf.reach; z++) {
    mass += pmf.probability(z);
    // Close a bin at the target mass, or early when it has enough and the next integer alone is a
    // big bin (so a thin tail is not swallowed by a near point mass).
    if (mass >= target || (mass >= enough && pmf.probability(z + 1) >= target)) {
      upperEdges.push(z);
      probabilities.push(mass);
      mass = 0;
    }
  }
  // The rest (the right tail) is its own bin if it has enough mass, else it joins the last one.
  if (mass >= enough) {
    upperEdges.push(pmf.reach);
    probabilities.push(mass);
  } else {
    probabilities[probabilities.length - 1]! += mass;
  }
  upperEdges[upperEdges.length - 1] = Number.POSITIVE_INFINITY;
  const observed = new Array<number>(upperEdges.length).fill(0);
  for (const sample of samples) observed[binOf(sample, upperEdges)]!++;
  let statistic = 0;
  for (let i = 0; i < observed.length; i++) {
    const expected = n * probabilities[i]!;
    statistic += (observed[i]! - expected) ** 2 / expected;
  }
  const degreesOfFreedom = observed.length - 1;
  const critical = criticalValue(degreesOfFreedom);
  return { statistic, degreesOfFreedom, critical, passes: statistic <= critical };
}

function binOf(value: number, upperEdges: readonly number[]): number {
  let low = 0;
  let high = upperEdges.length - 1;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (value <= upperEdges[middle]!) high = middle;
    else low = middle + 1;
  }
  return low;
}

/** Mean, variance and fourth central moment of an exact pmf. */
export function moments(pmf: ExactPmf): { mean: number; variance: number; fourth: number } {
  let variance = 0;
  let fourth = 0;
  for (let z = -pmf.reach; z <= pmf.reach; z++) {
    const p = pmf.probability(z);
    variance += p * z * z;
    fourth += p * z ** 4;
  }
  return { mean: 0, variance, fourth };
}
