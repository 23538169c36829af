/**
 * Partition selection for persons in up to k > 1 groups by the weighted Gaussian of Gopi, Gulhane,
 * Kulkarni, Shen, Shokouhi & Yekhanin 2020 ("Differentially Private Set Union", ICML; their Gaussian
 * mechanism and its threshold ρ = max_{1≤t≤k} (1/√t + σ·Φ⁻¹((1 − δ)^{1/t}))), re-derived here for the
 * discrete Gaussian on an integer grid, so every step is exact.
 *
 * Mechanism. A person in k_i ≤ k groups (after contribution bounding) adds the integer weight
 * w(k_i) = ⌊G/√k_i⌋ (the largest w with k_i·w² ≤ G², computed in integers) to each of them, so the
 * person's weight vector has L2 norm ≤ G exactly (G = the grid, `SELECTION_GRID`; one unit of
 * weight in the paper is G steps here). Each group's weight sum W gets independent discrete
 * Gaussian noise Z ~ N_Z(0, σ²) and the group is kept iff W + Z ≥ T. Nothing else is released.
 *
 * Privacy (add/remove one person u; D′ = D plus u). What u adds depends only on u's own rows.
 *  - Groups with other persons exist on both sides; u moves their weight vector by at most G in L2,
 *    so their noisy weights are ρ-zCDP with ρ = G²/(2σ²) (CKS20 Thm. 14, independent discrete
 *    Gaussians on an integer vector; `noise.loss(G)`), and so is any function of them (Bun & Steinke
 *    2016, Lemma 1.8).
 *  - Groups only u is in: t ≤ k_i of them, each of weight w(k_i) ≤ w(t). Each is kept with
 *    probability ≤ p_t = P(Z ≥ T − w(t)), independently, so some is with probability at most
 *    δ_B = max_{1≤t≤k} 1 − (1 − p_t)^t — the paper's bound with its Gaussian quantile replaced by the
 *    exact discrete tail (taken at its proven upper bound, distributions.ts).
 *  - Together: if the first part is (ε, δ_A)-DP, the whole selection is (ε, δ_A + δ_B)-DP in both
 *    directions. D′ → D: P′(S) ≤ P′(S, none of u's own kept) + δ_B ≤ e^ε·P(S) + δ_A + δ_B. D → D′:
 *    with x = P′(first part ∈ S′), P(S) ≤ min(1, e^ε·x + δ_A) and P′(S) ≥ x·(1 − δ_B) by
 *    independence; min(1, e^ε·x + δ_A) ≤ e^ε·x·(1 − δ_B) + δ_A + δ_B in both cases of the min.
 *    With the first part ρ-zCDP, that is δ_B-approximate ρ-zCDP (Bun & Steinke 2016, Def. 8.1), the
 *    form thresholding's Gaussian counts have (partition-selection.ts), and it composes the same way.
 * T is the least integer with δ_B ≤ the δ asked for; the δ_B it achieves is what a charge records.
 */
import type { DiscreteGaussian, ZcdpLoss } from './discrete-gaussian.ts';
import { leastPositiveInteger, selectionDelta } from './partition-selection.ts';

/** Steps per unit of weight: the rounding down of 1/√k_i costs under 0.1% of a weight for k ≤ 1000. */
export const SELECTION_GRID = 1024;
/** Persons in more groups than this are not offered the weighted selection (the weights are a SQL array). */
export const MAX_WEIGHTED_GROUPS = 1000;

export interface WeightedGaussianOptions {
  readonly delta: number;
  /** Policy L0 bound k: the most groups one person is in after contribution bounding. */
  readonly maxGroupsPerUnit: number;
  /** Steps per unit of weight (the tests use small grids to enumerate exactly). */
  readonly grid?: number;
}

export interface WeightedGaussianSelector {
  readonly grid: number;
  /** weights[j − 1] is the weight of each group of a person in j groups, j = 1 … k. */
  readonly weights: readonly number[];
  /** Keep a group iff its noisy weight sum is at least this. */
  readonly threshold: number;
  /** The δ this threshold achieves (≤ the requested δ). */
  readonly delta: number;
  /** The loss of the noisy weights of groups present on both sides: ρ = G²/(2σ²). */
  readonly loss: ZcdpLoss;
  /**
   * medianCounts[j − 1]: the least number of persons, each in j groups, whose group is kept with
   * probability ≥ 1/2 (⌈T / w(j)⌉: N_Z(0, σ²) is symmetric, so P(Z ≥ 0) > 1/2 > P(Z ≥ 1)).
   */
  readonly medianCounts: readonly number[];
  /** Noise a group's weight sum: whether the group is kept. */
  release(weight: number): boolean;
}

/** w(j) = ⌊G/√j⌋, the largest integer w with j·w² ≤ G², for j = 1 … k (exact integer arithmetic). */
export function selectionWeights(maxGroupsPerUnit: number, grid: number = SELECTION_GRID): number[] {
  if (!Number.isInteger(maxGroupsPerUnit) || maxGroupsPerUnit < 1 || maxGroupsPerUnit > MAX_WEIGHTED_GROUPS)
    throw new RangeError(
      `weighted selection: maxGroupsPerUnit must be an integer in [1, ${MAX_WEIGHTED_GROUPS}]`,
    );
  if (!Number.isInteger(grid) || grid < 1 || grid > 2 ** 20)
    throw new RangeError('weighted selection: the grid must be an integer in [1, 2^20]');
  const square = BigInt(grid) * BigInt(grid);
  return Array.from({ length: maxGroupsPerUnit }, (_, i) => {
    const j = BigInt(i + 1);
    let w = BigInt(Math.floor(grid / Math.sqrt(i + 1)));
    // The float guess is within one of the answer; settle it exactly.
    while (j * w * w > square) w -= 1n;
    while (j * (w + 1n) * (w + 1n) <= square) w += 1n;
    return Number(w);
  });
}

export function weightedGaussianSelector(
  noise: DiscreteGaussian,
  options: WeightedGaussianOptions,
): WeightedGaussianSelector {
  const { delta, maxGroupsPerUnit: k } = options;
  const grid = options.grid ?? SELECTION_GRID;
  if (!(delta > 0 && delta < 1)) throw new RangeError('weighted selection: delta must be in (0, 1)');
  const weights = selectionWeights(k, grid);
  const distribution = noise.distribution;
  const deltaAt = (threshold: number): number => {
    let worst = 0;
    for (let t = 1; t <= k; t++) {
      const p = distribution.upperTailBounds(threshold - weights[t - 1]!).upper;
      worst = Math.max(worst, selectionDelta(p, t));
    }
    return worst;
  };
  const threshold = leastPositiveInteger((candidate) => deltaAt(candidate) <= delta);
  return {
    grid,
    weights,
    threshold,
    delta: deltaAt(threshold),
    loss: noise.loss(grid),
    medianCounts: weights.map((w) => Math.ceil(threshold / w)),
    release: (weight) => {
      if (!Number.isSafeInteger(weight) || weight < 0)
        throw new RangeError('weighted selection: a weight sum is a whole number ≥ 0');
      return noise.release(weight) >= threshold;
    },
  };
}
