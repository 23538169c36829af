import { logErfc, normalSurvival } from '../normal.ts';
import { type ComposedPld, selfCompose } from './compose-pld.ts';
import { discretiseLoss } from './discrete-pld.ts';
import { AccountingInputError, checkDpSgdSetting, type DpSgdSetting } from './dp-sgd-setting.ts';
import { dpSgdEpsilonByRdp } from './rdp-accountant.ts';
import { additionLoss, type PrivacyLossDistribution, removalLoss } from './subsampled-gaussian-loss.ts';

export interface PldOptions {
  /**
   * Additive slack t allowed for discretisation, in ε. Default: 0.2% of the RDP ε (at least 1e-4),
   * which keeps the grid under ~2²¹ points for the settings in docs/accounting.md.
   */
  readonly epsilonError?: number;
}

export interface PldEpsilon {
  /** An upper bound on the optimal ε of the T-step run at the target δ. */
  readonly epsilon: number;
  /** The part of `epsilon` that pays for discretisation (t). */
  readonly epsilonError: number;
  /** Grid spacing h of the privacy loss. */
  readonly step: number;
  /** ε from each adjacency direction before adding t; the larger one decides. */
  readonly removalEpsilon: number;
  readonly additionEpsilon: number;
}

/** Shares of δ spent on the approximations, each added to δ so the result stays an upper bound. */
const ROUNDING_FAILURE_SHARE = 1 / 200;
const WINDOW_TAIL_SHARE = 1 / 2000;
const TOP_CUT_SHARE = 1 / 2000;
/** Losses this far in the lower tail are rounded up to the grid bottom; any value is sound. */
const LOWER_CUT_MASS = 1e-18;
const RELATIVE_DEFAULT_ERROR = 0.002;
const MIN_DEFAULT_ERROR = 1e-4;

/**
 * ε of T steps of DP-SGD (Poisson-subsampled Gaussian, add/remove) by the privacy-loss
 * distribution, composed with an FFT. The returned ε is an upper bound:
 *
 * 1. Per direction, the step's loss L is discretised by randomised rounding to Y on a grid of
 *    spacing h (see `discretiseLoss`); losses above the top cut go to +∞.
 * 2. Coupling: with D_i = Y_i − L_i conditionally centred in an interval of length h,
 *    Hoeffding's lemma gives P(Σ D_i ≤ −t) ≤ η = exp(−2t²/(T h²)). Off that event Σ L_i ≤ Σ Y_i + t
 *    (or some Y_i = ∞), so δ_L(ε' + t) ≤ δ_Y(ε') + η. We pick h = t / √(T ln(1/η) / 2).
 * 3. δ_Y is computed from the T-fold FFT composition on a Chernoff window; the mass outside it,
 *    the +∞ mass and η are subtracted from the target δ before solving for ε'.
 * 4. ε = max(ε'_removal, ε'_addition) + t: the T-fold products of the two dominating pairs
 *    dominate the run (dominating pairs compose: Zhu, Dong & Wang 2022).
 * 5. Floating-point rounding of the FFT and the T-th power is bounded (`roundOffBound` in
 *    compose-pld.ts, Higham 2002 Thm. 24.2) and subtracted from δ as well.
 * Not bounded by proof: Simpson's rule for the masses in step 1 (error O(h⁴) relative to each mass;
 * halving h changes ε by < 1e-6 in the tests).
 * At q = 1 (full batch) the run is one Gaussian mechanism and its exact ε is returned instead
 * (`fullBatchEpsilon`).
 */
export function dpSgdEpsilonByPld(setting: DpSgdSetting, options: PldOptions = {}): PldEpsilon {
  checkDpSgdSetting(setting);
  if (options.epsilonError !== undefined && !(options.epsilonError > 0)) {
    throw new AccountingInputError(`epsilonError must be > 0, got ${options.epsilonError}`);
  }
  const { steps, delta } = setting;
  if (setting.q === 1) return fullBatchEpsilon(setting);
  const epsilonError =
    options.epsilonError ??
    Math.max(MIN_DEFAULT_ERROR, RELATIVE_DEFAULT_ERROR * dpSgdEpsilonByRdp(setting).epsilon);
  const roundingFailure = delta * ROUNDING_FAILURE_SHARE;
  const step = epsilonError / Math.sqrt((steps * Math.log(1 / roundingFailure)) / 2);
  const windowTail = delta * WINDOW_TAIL_SHARE;
  const topCut = (delta * TOP_CUT_SHARE) / steps;

  const epsilonFor = (loss: PrivacyLossDistribution): number => {
    const perStep = discretiseLoss(loss, {
      step,
      lowerCut: lossAtTail(loss.cdf, LOWER_CUT_MASS, -1),
      upperCut: lossAtTail(loss.survival, topCut, 1),
    });
    const composed = selfCompose(perStep, steps, windowTail);
    const deltaLeft =
      delta - roundingFailure - composed.droppedMassBound - composed.infinityMass - composed.roundOffBound;
    return epsilonForDelta(composed, deltaLeft);
  };
  const removalEpsilon = epsilonFor(removalLoss(setting));
  const additionEpsilon = epsilonFor(additionLoss(setting));
  return {
    epsilon: Math.max(removalEpsilon, additionEpsilon) + epsilonError,
    epsilonError,
    step,
    removalEpsilon,
    additionEpsilon,
  };
}

/** A loss ℓ (searching outward in `direction`) where the decreasing-outward tail is ≤ mass. */
function lossAtTail(tail: (loss: number) => number, mass: number, direction: 1 | -1): number {
  let inside = 0;
  let outside: number = direction;
  while (tail(outside) > mass) {
    inside = outside;
    outside *= 2;
  }
  for (let i = 0; i < 60; i++) {
    const middle = (inside + outside) / 2;
    if (tail(middle) > mass) inside = middle;
    else outside = middle;
  }
  return outside;
}

/**
 * The smallest ε ≥ 0 with Σ_ℓ ν(ℓ)(1 − e^{ε−ℓ})₊ ≤ δ. Walking down from the top, with
 * A = Σ_{j>i} ν_j and W = Σ_{j>i} ν_j e^{g_i − g_j} (scaled to the current point so nothing
 * underflows at losses in the hundreds), the sum on [g_i, g_{i+1}) is A − e^{ε − g_i}·W, solved
 * exactly once it exceeds δ at g_i (or once g_i ≤ 0).
 */
function epsilonForDelta(pld: ComposedPld, delta: number): number {
  if (!(delta > 0)) return Number.POSITIVE_INFINITY;
  const { masses, firstIndex, step } = pld;
  const shrink = Math.exp(-step);
  let massAbove = 0;
  let scaledAbove = 0;
  let reference = (firstIndex - 1) * step;
  for (let i = masses.length - 1; i >= 0; i--) {
    const loss = (firstIndex + i) * step;
    if (loss <= 0 || massAbove - scaledAbove > delta) {
      reference = loss;
      break;
    }
    massAbove += masses[i]!;
    scaledAbove = (scaledAbove + masses[i]!) * shrink;
  }
  if (massAbove <= delta) return 0;
  return Math.max(0, reference + Math.log((massAbove - delta) / scaledAbove));
}

/**
 * q = 1: T full-batch steps with noise multiplier σ and sensitivity 1 are one Gaussian mechanism
 * with μ = √T/σ (the sum of T independent Gaussian losses), symmetric in add and remove. Its exact
 * privacy profile is δ(ε) = Φ(μ/2 − ε/μ) − e^ε·Φ(−μ/2 − ε/μ) (Balle & Wang 2018, Thm. 8), falling
 * in ε. Bisection keeps an ε whose δ, with 1e-12 relative slack on each term for erfc rounding and
 * the second term in log space (no overflow of e^ε), is at most the target: an upper bound on the
 * exact ε, within 1e-12 relative.
 */
function fullBatchEpsilon(setting: DpSgdSetting): PldEpsilon {
  const mu = Math.sqrt(setting.steps) / setting.sigma;
  const logSurvival = (z: number): number => logErfc(z / Math.SQRT2) - Math.LN2;
  const deltaAtMost = (epsilon: number): number =>
    normalSurvival(epsilon / mu - mu / 2) * (1 + 1e-12) -
    Math.exp(epsilon + logSurvival(epsilon / mu + mu / 2)) * (1 - 1e-12);
  const meets = (epsilon: number): boolean => deltaAtMost(epsilon) <= setting.delta;
  let low = 0;
  let high = 1;
  if (meets(0)) return { epsilon: 0, epsilonError: 0, step: 0, removalEpsilon: 0, additionEpsilon: 0 };
  while (!meets(high)) [low, high] = [high, high * 2];
  while (high - low > 1e-13 * high) {
    const middle = (low + high) / 2;
    if (meets(middle)) high = middle;
    else low = middle;
  }
  return { epsilon: high, epsilonError: high - low, step: 0, removalEpsilon: high, additionEpsilon: high };
}
