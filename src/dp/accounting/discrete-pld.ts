import type { PrivacyLossDistribution } from './subsampled-gaussian-loss.ts';

/**
 * A privacy-loss distribution on the grid {k·step}: `masses[i]` sits at loss (firstIndex + i)·step,
 * `infinityMass` at +∞ (it counts fully towards δ).
 */
export interface DiscretePld {
  readonly step: number;
  readonly firstIndex: number;
  readonly masses: Float64Array;
  readonly infinityMass: number;
}

/**
 * Discretises L by randomised rounding onto the grid: a loss between neighbours g_k < g_{k+1}
 * goes to g_{k+1} with probability (L − g_k)/step and to g_k otherwise, so the rounding error
 * D = Y − L has conditional mean 0 and lies in an interval of length `step`. That is what lets
 * the composed error grow like step·√T rather than step·T (the idea of Gopi, Lee & Wutschitz 2021,
 * "Numerical Composition of Differential Privacy", in a coupling that needs no mean fix-up).
 * Losses below the grid are rounded up to its bottom (only raises the loss: sound), losses above
 * the top go to +∞ (`infinityMass`, sound).
 *
 * The mass at g_k is ∫ hat_k dF, i.e. (J_{k−1} − J_k)/step with J_k = ∫_{g_k}^{g_{k+1}} P(L > u) du,
 * integrated by Simpson's rule (error O(step⁴) relative: negligible at the steps we use).
 */
export function discretiseLoss(
  loss: PrivacyLossDistribution,
  options: { readonly step: number; readonly lowerCut: number; readonly upperCut: number },
): DiscretePld {
  const { step } = options;
  const firstIndex = Math.floor(Math.max(loss.lowest, options.lowerCut) / step);
  const lastIndex = Math.max(firstIndex + 1, Math.ceil(Math.min(loss.highest, options.upperCut) / step));
  const intervals = lastIndex - firstIndex;
  const atPoint = new Float64Array(intervals + 1);
  const atMidpoint = new Float64Array(intervals);
  for (let k = 0; k <= intervals; k++) atPoint[k] = loss.survival((firstIndex + k) * step);
  for (let k = 0; k < intervals; k++) atMidpoint[k] = loss.survival((firstIndex + k + 0.5) * step);

  const masses = new Float64Array(intervals + 1);
  const bottom = firstIndex * step;
  masses[0] = (loss.cdf(bottom) + 4 * loss.cdf(bottom + step / 2) + loss.cdf(bottom + step)) / 6;
  for (let k = 1; k < intervals; k++) {
    const difference = atPoint[k - 1]! - atPoint[k + 1]! + 4 * (atMidpoint[k - 1]! - atMidpoint[k]!);
    masses[k] = Math.max(0, difference / 6);
  }
  const top = atPoint[intervals]!;
  masses[intervals] = (atPoint[intervals - 1]! - top + 4 * (atMidpoint[intervals - 1]! - top)) / 6;
  return { step, firstIndex, masses, infinityMass: top };
}
