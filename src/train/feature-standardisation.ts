/**
 * Standardised features from a DP estimate of each feature's mean and spread, for those who want
 * (x − mean)/spread rather than the policy-bound scaling.
 *
 * Input: the bound-scaled features (every value in [−1, 1], dataset.ts). Each row r contributes the
 * integer vector v_r = (round(2^k·x_j), round(2^k·x_j²) for each feature j, 2^k), a row count in
 * the last place. Every coordinate is at most 2^k in absolute value, so ‖v_r‖₂ ≤ 2^k·√(2d + 1); a
 * person has at most m rows (the dataset keeps m), so adding or removing one moves the summed vector
 * by at most Δ = m·2^k·√(2d + 1) in L2. The sum gets i.i.d. discrete Gaussian noise of σ = Δ/√(2ρ)
 * per coordinate (exact sampler, CKS20), which is ρ-zCDP (CKS20 Thm. 4 per coordinate; Rényi
 * divergences of independent coordinates add, so the vector's is αΔ²/(2σ²) at every order α).
 *
 * From the noisy sums: n = noisy count (at least 1), mean_j = Σx_j/n clamped to [−1, 1],
 * var_j = Σx_j²/n − mean_j², spread_j = √var_j floored at MIN_SPREAD (a noisy variance can be tiny or
 * negative). All of it is post-processing. The model then sees (x − mean)/spread clamped to
 * ±MAX_STANDARD_SCORE; clipping bounds each person's gradient whatever the inputs, so the scale
 * changes nothing in the privacy of training. The estimate is released with the model: prediction
 * applies the same map.
 */
import { discreteGaussian, type ZcdpLoss } from '../dp/discrete-gaussian.ts';
import { cryptoRandom, type RandomSource } from '../dp/random.ts';
import type { TrainingDataset } from './dataset.ts';

/** 2^-12 of the bound-scaled unit: rounding moves a mean by at most 2^-13, far below the noise. */
const GRID = 2 ** 12;
/** In bound-scaled units (the bounds span 2): a spread below 1/40 of the bounds is taken as that. */
export const MIN_SPREAD = 0.05;
/** Standard scores beyond this are clamped, so one extreme value cannot dominate an input. */
export const MAX_STANDARD_SCORE = 5;

export interface Standardisation {
  /** Per feature, in bound-scaled units. */
  readonly mean: readonly number[];
  readonly spread: readonly number[];
}

/** L2 sensitivity of the summed integer vector (see above). */
export function standardisationSensitivity(featureCount: number, maxRowsPerPerson: number): number {
  return maxRowsPerPerson * GRID * Math.sqrt(2 * featureCount + 1);
}

/** The most any coordinate of the summed vector can be for `rows` rows: each row adds at most 2^12. */
export function standardisationSumBound(rows: number): number {
  return rows * GRID;
}

function mechanism(rho: number, featureCount: number, maxRowsPerPerson: number, random?: RandomSource) {
  if (!(rho > 0 && Number.isFinite(rho))) throw new RangeError('rho must be > 0');
  const delta = standardisationSensitivity(featureCount, maxRowsPerPerson);
  return discreteGaussian({ sigma: delta / Math.sqrt(2 * rho), random: random ?? cryptoRandom });
}

/** What estimating at ρ costs: the mechanism's own loss (its σ is rounded up, so ρ' ≤ ρ). */
export function standardisationLoss(rho: number, featureCount: number, maxRowsPerPerson: number): ZcdpLoss {
  return mechanism(rho, featureCount, maxRowsPerPerson).loss(
    standardisationSensitivity(featureCount, maxRowsPerPerson),
  );
}

/** The exact integer vector Σ_r v_r over the dataset's rows (length 2d + 1), before any noise. */
export function standardisationSums(dataset: TrainingDataset): number[] {
  const d = dataset.featureCount;
  const sums = new Float64Array(2 * d + 1);
  for (let row = 0; row < dataset.rowCount; row++) {
    for (let j = 0; j < d; j++) {
      const x = dataset.features[row * d + j]!;
      sums[j]! += Math.round(GRID * x);
      sums[d + j]! += Math.round(GRID * x * x);
    }
    sums[2 * d]! += GRID;
  }
  // Integer sums below 2^53 (rows × 2^12), so the float additions above are exact.
  return Array.from(sums);
}

/** The estimate from the noisy sums (post-processing; see the file comment). */
export function standardisationFromSums(noisySums: readonly number[], featureCount: number): Standardisation {
  const d = featureCount;
  if (noisySums.length !== 2 * d + 1) throw new RangeError('standardisation sums of the wrong length');
  const noisy = noisySums.map((sum) => sum / GRID);
  const count = Math.max(1, noisy[2 * d]!);
  const mean: number[] = [];
  const spread: number[] = [];
  for (let j = 0; j < d; j++) {
    const mu = Math.min(1, Math.max(-1, noisy[j]! / count));
    mean.push(mu);
    spread.push(Math.max(MIN_SPREAD, Math.sqrt(Math.max(0, noisy[d + j]! / count - mu * mu))));
  }
  return { mean, spread };
}

/** The DP estimate of every feature's mean and spread over `dataset`'s persons, at ρ-zCDP. */
export function estimateStandardisation(
  dataset: TrainingDataset,
  rho: number,
  random: RandomSource = cryptoRandom,
): Standardisation {
  const noise = mechanism(rho, dataset.featureCount, dataset.maxRowsPerPerson, random);
  return standardisationFromSums(
    standardisationSums(dataset).map((sum) => noise.release(sum)),
    dataset.featureCount,
  );
}

/** Whether a standardisation received from elsewhere has the shape and ranges an estimate has. */
export function isStandardisation(value: unknown, featureCount: number): value is Standardisation {
  const { mean, spread } = (value ?? {}) as Partial<Standardisation>;
  return (
    Array.isArray(mean) &&
    Array.isArray(spread) &&
    mean.length === featureCount &&
    spread.length === featureCount &&
    mean.every((mu) => typeof mu === 'number' && mu >= -1 && mu <= 1) &&
    spread.every((s) => typeof s === 'number' && Number.isFinite(s) && s >= MIN_SPREAD)
  );
}

/** One bound-scaled row, standardised in place. */
export function standardiseRow(target: Float64Array, offset: number, standardisation: Standardisation): void {
  const { mean, spread } = standardisation;
  for (let j = 0; j < mean.length; j++) {
    const z = (target[offset + j]! - mean[j]!) / spread[j]!;
    target[offset + j] = Math.min(MAX_STANDARD_SCORE, Math.max(-MAX_STANDARD_SCORE, z));
  }
}

/** The dataset with every row standardised (a copy: the bound-scaled rows are left as they were). */
export function standardiseDataset(
  dataset: TrainingDataset,
  standardisation: Standardisation,
): TrainingDataset {
  const features = Float64Array.from(dataset.features);
  for (let row = 0; row < dataset.rowCount; row++)
    standardiseRow(features, row * dataset.featureCount, standardisation);
  return { ...dataset, features };
}
