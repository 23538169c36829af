import type { PrivacyLossDistribution } from './subsampled-gaussian-loss.ts';

/**
 * A privacy-loss distribution on the grid {k·step}: `masses[i]` sits at loss (firstIndex + i)·step,
 * `infinityMass` at +∞ (it counts fully towards δ). The masses may add up to slightly more than 1
 * (rounding is always upwards); `totalMass` bounds their sum.
 */
export interface DiscretePld {
  readonly step: number;
  readonly firstIndex: number;
  readonly masses: Float64Array;
  readonly infinityMass: number;
  readonly totalMass: number;
}

const U = 2 ** -53;

/**
 * Pessimistic discretisation of L onto the grid g_k = k·step ("connect the dots": Doroshenko,
 * Ghazi, Kamath, Kumar & Manurangsi 2022, "Connect the Dots: Tighter Discrete Approximations of
 * Privacy Loss Distributions"). A loss L in (g_{k−1}, g_k] moves to g_k with probability
 * r = (e^{−g_{k−1}} − e^{−L})/(e^{−g_{k−1}} − e^{−g_k}) and to g_{k−1} otherwise, so E[e^{−Y} | L] = e^{−L}
 * and, (1 − e^{ε}x)₊ being convex in x, Jensen gives E[(1 − e^{ε−Y})₊] ≥ (1 − e^{ε−L})₊: the rounded
 * pair's hockey-stick curve lies above the true one at every ε, i.e. it dominates. Losses below the
 * grid are rounded up to its bottom and, unless L is bounded by the top, losses at or above the top
 * go to +∞; both only raise Y.
 *
 * The tails need no integration: T_k = P(Y ≥ g_k) = (δ(g_{k−1}) − e^{−h}δ(g_k))/(1 − e^{−h}) with
 * δ the step's own hockey-stick curve at the grid points (from E_P[e^{−L}; I] = Q(I)). Each δ comes
 * with a proven error bound; we use upper bounds on every T_k (also capped by 1 and made
 * non-increasing), which describe a Y' that is stochastically larger than Y, and masses rounded up
 * from those tails, a measure at least that of Y' at every point. Both only raise the composed δ,
 * since (1 − e^{ε−y})₊ is non-negative and increasing in y.
 *
 * `step` must be a power of two so every grid point k·step is exact in floating point.
 */
export function discretiseLoss(
  loss: PrivacyLossDistribution,
  options: { readonly step: number; readonly lowerCut: number; readonly upperCut: number },
): DiscretePld {
  const { step } = options;
  const firstIndex = Math.floor(Math.max(loss.lowest, options.lowerCut) / step);
  // A bounded L keeps the grid one point past its (rounded) supremum, where L may pile up; an
  // unbounded one stops at the cut.
  const lastIndex = Math.max(
    firstIndex + 1,
    Number.isFinite(loss.highest) ? Math.ceil(loss.highest / step) + 1 : Math.ceil(options.upperCut / step),
  );
  const points = lastIndex - firstIndex + 1;
  const shrink = Math.exp(-step);
  // 1 − e^{−h} from below and e^{−h} from below, each within 2 ulps.
  const spreadLow = -Math.expm1(-step) * (1 - 4 * U);
  const shrinkLow = shrink * (1 - 4 * U);

  const tails = new Float64Array(points + 1);
  tails[0] = 1;
  let previous = loss.hockeyStick(firstIndex * step);
  for (let k = 1; k < points; k++) {
    const current = loss.hockeyStick((firstIndex + k) * step);
    const subtracted = shrinkLow * Math.max(0, current.value - current.error);
    const numerator = previous.value + previous.error - subtracted;
    const numeratorHigh = numerator + 3 * U * (previous.value + previous.error + subtracted);
    tails[k] = Math.min(1, Math.max(0, (numeratorHigh / spreadLow) * (1 + 4 * U)));
    previous = current;
  }
  tails[points] = 0;
  // Non-increasing from the top: max over j ≥ k of upper bounds is still an upper bound on T_k.
  for (let k = points - 2; k >= 1; k--) tails[k] = Math.max(tails[k]!, tails[k + 1]!);

  // Below the supremum of L, everything from the top grid point up goes to +∞ (T there bounds
  // that mass); at or above it, the top point keeps its mass and nothing is infinite.
  const bounded = Number.isFinite(loss.highest);
  const infinityMass = bounded ? 0 : tails[points - 1]!;
  const masses = new Float64Array(points);
  let total = 0;
  for (let k = 0; k < points; k++) {
    masses[k] = (tails[k]! - (k === points - 1 ? infinityMass : tails[k + 1]!)) * (1 + 4 * U);
    total += masses[k]!;
  }
  return {
    step,
    firstIndex,
    masses,
    infinityMass,
    totalMass: (total + infinityMass) * (1 + (points + 2) * U),
  };
}
