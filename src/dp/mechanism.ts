/**
 * What every noise mechanism offers, and the parts they share: integer release, vectors, accuracy,
 * partition selection and (grid.ts) grid release for reals. The two families (discrete-laplace.ts,
 * discrete-gaussian.ts) supply only their sampler, distribution and privacy map.
 */
import { type HasNoiseInterval, type NoiseInterval, noiseInterval } from './accuracy.ts';
import type { NoiseDistribution } from './distributions.ts';
import { type GridMechanism, gridMechanism } from './grid.ts';
import {
  type PartitionSelectionOptions,
  type PartitionSelector,
  thresholdSelector,
} from './partition-selection.ts';
import type { PrivacyLoss } from './privacy-loss.ts';

export interface NoiseMechanism<Loss extends PrivacyLoss> extends HasNoiseInterval {
  readonly family: 'discrete_laplace' | 'discrete_gaussian';
  /** The exact law of the integer noise, for accuracy statements. */
  readonly distribution: NoiseDistribution;
  /**
   * The privacy loss of one release (of an integer or of a whole vector) when neighbouring inputs
   * differ by at most `sensitivity`: in L1 for discrete Laplace, in L2 for discrete Gaussian.
   */
  loss(sensitivity: number): Loss;
  /** One integer noise draw. */
  sample(): number;
  /**
   * value + noise for an integer value. The value is first clamped to ±2^52 (1-Lipschitz, so the
   * sensitivity is unchanged) and the sum to ±(2^53 − 1) (post-processing), so the result is exact.
   */
  release(value: number): number;
  /** Independent noise on every cell; `loss` prices the vector from its L1 or L2 sensitivity. */
  releaseVector(values: readonly number[]): number[];
  /** |noise| ≤ halfWidth with probability `coverage` ≥ confidence (accuracy.ts). */
  interval(confidence: number): NoiseInterval;
  /** The same noise applied to real values on a grid of the given granularity. */
  onGrid(granularity: number): GridMechanism<Loss>;
  /** Thresholding for groups with no public domain, with this mechanism's own noise (partition-selection.ts). */
  partitionSelector(options: PartitionSelectionOptions): PartitionSelector;
}

/** What a family supplies. */
export interface MechanismCore<Loss extends PrivacyLoss> {
  readonly family: NoiseMechanism<Loss>['family'];
  readonly distribution: () => NoiseDistribution;
  sample(): number;
  loss(sensitivity: number): Loss;
  /**
   * Sensitivity in grid steps for k changed cells, given the L1 bound in steps (grid.ts) and the
   * real ratio Δ/g (already rounded up past float error).
   */
  gridSteps(l1Steps: number, ratio: number, maxChangedCells: number): number;
  /** The loss of the noisy counts in partition selection, each unit in at most k groups. */
  countLoss(maxGroupsPerUnit: number): PrivacyLoss;
}

const INPUT_LIMIT = 2 ** 52;

export function buildMechanism<Loss extends PrivacyLoss>(core: MechanismCore<Loss>): NoiseMechanism<Loss> {
  const addNoise = (steps: number): number =>
    clamp(clamp(steps, INPUT_LIMIT) + core.sample(), Number.MAX_SAFE_INTEGER);
  const release = (value: number): number => {
    if (!Number.isInteger(value))
      throw new TypeError('release: the value must be an integer; use onGrid for reals');
    return addNoise(value);
  };
  // Both are pure functions of the parameters: compute once.
  let distribution: NoiseDistribution | undefined;
  const intervals = new Map<number, NoiseInterval>();
  const mechanism: NoiseMechanism<Loss> = {
    family: core.family,
    get distribution() {
      distribution ??= core.distribution();
      return distribution;
    },
    loss: (sensitivity) => core.loss(checkSensitivity(sensitivity)),
    sample: () => core.sample(),
    release,
    releaseVector: (values) => values.map(release),
    interval: (confidence) => {
      let interval = intervals.get(confidence);
      if (interval === undefined) {
        interval = noiseInterval(mechanism.distribution, confidence);
        intervals.set(confidence, interval);
      }
      return interval;
    },
    onGrid: (granularity) => gridMechanism({ core, integerMechanism: mechanism, addNoise, granularity }),
    partitionSelector: (options) =>
      thresholdSelector(
        { distribution: mechanism.distribution, release, countLoss: (k) => core.countLoss(k) },
        options,
      ),
  };
  return mechanism;
}

function clamp(value: number, limit: number): number {
  return Math.min(limit, Math.max(-limit, value));
}

function checkSensitivity(sensitivity: number): number {
  if (!(Number.isFinite(sensitivity) && sensitivity >= 0)) throw new RangeError('sensitivity must be ≥ 0');
  return sensitivity;
}
