import type { ModelSpec } from './models/model.ts';
import type { OptimizerSpec } from './optimizers.ts';
import type { PrivacyRequest } from './privacy-plan.ts';

/**
 * Poisson sampling rate q = expectedBatchSize / populationSize. The population size must be PUBLIC
 * (policy, or a DP count charged separately): the step divides by q·N, so a private N would leak.
 */
export interface SamplingSpec {
  readonly expectedBatchSize: number;
  readonly populationSize: number;
}

export interface DpSgdSpec {
  readonly model: ModelSpec;
  /** L2 clip norm C of each person's summed gradient. */
  readonly clipNorm: number;
  readonly sampling: SamplingSpec;
  readonly steps: number;
  readonly optimizer: OptimizerSpec;
  readonly privacy: PrivacyRequest;
  /**
   * Standardise the features first, by a DP estimate of each one's mean and spread at this ρ
   * (feature-standardisation.ts); its cost is the caller's to charge, beside the training's.
   */
  readonly standardise?: { readonly rho: number };
}

export function samplingRate(sampling: SamplingSpec): number {
  const { expectedBatchSize, populationSize } = sampling;
  if (!(expectedBatchSize > 0 && populationSize >= expectedBatchSize && Number.isFinite(populationSize)))
    throw new RangeError('need 0 < expectedBatchSize ≤ populationSize');
  return expectedBatchSize / populationSize;
}

/** Steps for a number of passes over the data in expectation: ⌈epochs / q⌉. */
export function stepsForEpochs(epochs: number, sampling: SamplingSpec): number {
  return Math.ceil(epochs / samplingRate(sampling));
}
