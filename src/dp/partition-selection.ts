/**
 * DP partition selection by thresholding a noisy count of distinct privacy units (Wilson, Zhang,
 * Lam, Desfontaines, Simmons-Marengo, Gipson 2020, "Differentially Private SQL with Bounded User
 * Contribution", PoPETs, the τ-thresholding of distinct-user counts; Desfontaines, Voss, Gipson,
 * Mandayam 2022, "Differentially private partition selection", PoPETs, Laplace/Gaussian thresholding).
 *
 * Argument. Neighbours differ by one unit u, who is in at most k groups (policy L0 bound) and adds
 * at most 1 to each group's distinct-unit count. Every group's count gets independent noise Z from
 * the mechanism, and a group is released iff count + Z ≥ τ.
 *  - Groups present on both sides: their noisy counts are a release of a vector with L1 sensitivity
 *    k (L2 √k), which the mechanism's own loss map prices (`countLoss`).
 *  - Groups only u is in have count exactly 1 on one side and do not exist on the other; one is
 *    released with probability p = P(Z ≥ τ − 1), so some is with probability 1 − (1 − p)^k.
 * Together: (ε, δ)-DP for discrete Laplace counts, and δ-approximate ρ-zCDP (Bun & Steinke 2016)
 * for discrete Gaussian counts, with δ = 1 − (1 − p)^k. τ is the least integer meeting the
 * requested δ; the achieved δ (≤ requested) is what a charge must record.
 */
import type { NoiseDistribution } from './distributions.ts';
import type { PrivacyLoss } from './privacy-loss.ts';

export interface PartitionSelectionOptions {
  /** The δ the caller can spend on the existence of groups. */
  readonly delta: number;
  /** Policy L0 bound: the most groups one privacy unit can appear in. */
  readonly maxGroupsPerUnit: number;
}

export interface PartitionSelector {
  /** Keep a group iff its noisy distinct-unit count is at least this. */
  readonly threshold: number;
  /** The δ this threshold achieves (≤ the requested δ). */
  readonly delta: number;
  readonly maxGroupsPerUnit: number;
  /** The privacy loss of the noisy counts of the kept groups. */
  readonly countLoss: PrivacyLoss;
  /** Whether a count the same mechanism released clears the threshold. */
  keep(noisyCount: number): boolean;
  /** Noise a group's true distinct-unit count; the noisy count if the group is kept, else undefined. */
  release(distinctUnits: number): number | undefined;
}

/** What the mechanism hands over so its selector cannot use any other noise. */
export interface ThresholdNoise {
  readonly distribution: NoiseDistribution;
  release(value: number): number;
  countLoss(maxGroupsPerUnit: number): PrivacyLoss;
}

/** Built by `mechanism.partitionSelector(options)`; not meant to be called with hand-made noise. */
export function thresholdSelector(
  noise: ThresholdNoise,
  options: PartitionSelectionOptions,
): PartitionSelector {
  const { delta, maxGroupsPerUnit } = options;
  if (!(delta > 0 && delta < 1)) throw new RangeError('partition selection: delta must be in (0, 1)');
  if (!Number.isInteger(maxGroupsPerUnit) || maxGroupsPerUnit < 1) {
    throw new RangeError('partition selection: maxGroupsPerUnit must be a positive integer');
  }
  // The proven upper bound on the release probability (distributions.ts), so δ is never understated.
  const deltaAt = (threshold: number): number =>
    selectionDelta(noise.distribution.upperTailBounds(threshold - 1).upper, maxGroupsPerUnit);
  const threshold = leastPositiveInteger((candidate) => deltaAt(candidate) <= delta);
  return {
    threshold,
    delta: deltaAt(threshold),
    maxGroupsPerUnit,
    countLoss: noise.countLoss(maxGroupsPerUnit),
    keep: (noisyCount) => noisyCount >= threshold,
    release: (distinctUnits) => {
      const noisyCount = noise.release(distinctUnits);
      return noisyCount >= threshold ? noisyCount : undefined;
    },
  };
}

/** δ = 1 − (1 − p)^k, computed without cancellation for tiny p. */
export function selectionDelta(releaseProbability: number, maxGroupsPerUnit: number): number {
  return -Math.expm1(maxGroupsPerUnit * Math.log1p(-Math.min(1, releaseProbability)));
}

/** The least integer τ ≥ 1 with ok(τ), for ok monotone (false … false true … true). */
export function leastPositiveInteger(ok: (candidate: number) => boolean): number {
  if (ok(1)) return 1;
  let low = 1;
  let high = 2;
  while (!ok(high)) {
    low = high;
    high *= 2;
  }
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if (ok(middle)) high = middle;
    else low = middle;
  }
  return high;
}
