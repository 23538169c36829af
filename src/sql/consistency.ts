/**
 * Optional post-processing of released counts, at the analyst's request: functions of noisy values
 * alone, so they cost no privacy (post-processing, Dwork & Roth 2014, Prop. 2.1). They trade the
 * unbiasedness of each cell for answers that look like counts:
 *  - non-negative: the least-squares projection onto x ≥ 0, i.e. max(x, 0) per cell. The true count
 *    is ≥ 0, and projecting onto a convex set that holds the truth never moves a value away from it,
 *    so every reported interval still holds.
 *  - non-negative with a consistent total: the least-squares projection of a column of group counts
 *    onto {x ≥ 0, Σx = max(Σy, 0)}, the counts that stay non-negative and still add up to the
 *    (unbiased) noisy total, as the Census TopDown algorithm does across geography levels (Abowd et
 *    al. 2022, "The 2020 Census Disclosure Avoidance System TopDown Algorithm"). Clamping alone would bias the total
 *    upwards by the sum of the negative noise.
 */

export function nonNegative(values: readonly number[]): number[] {
  return values.map((value) => Math.max(value, 0));
}

/**
 * The Euclidean projection of `values` onto {x ≥ 0, Σx = max(Σ values, 0)}: x = max(y − λ, 0) with
 * the one λ that makes the sum right (sort-based, Held, Wolfe & Crowder 1974; Duchi et al. 2008).
 */
export function nonNegativeWithTotal(values: readonly number[]): number[] {
  const total = Math.max(
    values.reduce((sum, v) => sum + v, 0),
    0,
  );
  if (total === 0) return values.map(() => 0);
  const sorted = [...values].sort((a, b) => b - a);
  let prefix = 0;
  let shift = 0;
  for (let j = 0; j < sorted.length; j++) {
    prefix += sorted[j]!;
    const candidate = (prefix - total) / (j + 1);
    if (sorted[j]! - candidate > 0) shift = candidate;
  }
  return values.map((value) => Math.max(value - shift, 0));
}
