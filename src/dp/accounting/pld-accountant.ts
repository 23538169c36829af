import { logErfc, normalSurvival } from '../normal.ts';
import { type ComposedPld, selfCompose } from './compose-pld.ts';
import { discretiseLoss } from './discrete-pld.ts';
import { AccountingInputError, checkDpSgdSetting, type DpSgdSetting } from './dp-sgd-setting.ts';
import { dpSgdEpsilonByRdp } from './rdp-accountant.ts';
import { additionLoss, type PrivacyLossDistribution, removalLoss } from './subsampled-gaussian-loss.ts';

export interface PldOptions {
  /**
   * Grid spacing h of the privacy loss, rounded down to a power of two. Any h gives an upper bound;
   * a finer one is tighter and slower. Default: see `defaultStep`.
   */
  readonly step?: number;
}

export interface PldEpsilon {
  /** An upper bound on the optimal ε of the T-step run at the target δ. */
  readonly epsilon: number;
  /** Grid spacing h of the privacy loss (0 for the closed form at q = 1). */
  readonly step: number;
  /** ε from each adjacency direction; the larger one decides. */
  readonly removalEpsilon: number;
  readonly additionEpsilon: number;
  /** The part of δ set aside for the window's tails, the mass at +∞ and floating-point rounding. */
  readonly deltaForErrors: number;
}

/** Share of δ for each of the composed window's two tails. */
const WINDOW_TAIL_SHARE = 1 / 2000;
/** Mass above the grid's top, per step, as a share of δ/T (it goes to +∞ and counts towards δ). */
const TOP_CUT_SHARE = 1 / 2000;
/** Losses this far in the lower tail are rounded up to the grid bottom; any value is sound. */
const LOWER_CUT_MASS = 1e-18;
const U = 2 ** -53;

/**
 * ε of T steps of DP-SGD (Poisson-subsampled Gaussian, add/remove) by the privacy-loss
 * distribution, composed with an FFT. The returned ε is an upper bound, every approximation being
 * on the pessimistic side or paid for in δ:
 *
 * 1. Per direction, the step's loss L is discretised pessimistically onto a grid of spacing h
 *    (`discretiseLoss`: connect-the-dots rounding, whose pair dominates the step's pair at every ε;
 *    tails from the step's hockey-stick curve in closed form, each with a proven error bound and
 *    rounded up). Dominating pairs compose (Zhu, Dong & Wang 2022, Thm. 10, adaptive), so the
 *    T-fold composition of the discrete pair bounds the run's δ(ε) from above, with no slack term.
 * 2. The T-fold composition is computed on a Chernoff window; the mass outside it, the mass at +∞
 *    and a bound on the FFT's and power's rounding (`roundOffBound`, Higham 2002 Thm. 24.2) are
 *    subtracted from the target δ before solving for ε.
 * 3. The solved ε is certified: δ at ε is summed again directly with a bound on that sum's rounding,
 *    and ε is raised until the certified δ meets the target.
 * 4. ε = max(ε_removal, ε_addition): along one run the neighbouring pair, and so the direction, is fixed.
 * At q = 1 (full batch) the run is one Gaussian mechanism and its exact ε is returned instead
 * (`fullBatchEpsilon`).
 */
export function dpSgdEpsilonByPld(setting: DpSgdSetting, options: PldOptions = {}): PldEpsilon {
  checkDpSgdSetting(setting);
  if (options.step !== undefined && !(options.step > 0 && options.step < 1)) {
    throw new AccountingInputError(`step must be in (0, 1), got ${options.step}`);
  }
  if (setting.q === 1) return fullBatchEpsilon(setting);
  return epsilonOnGrid(setting, powerOfTwoAtMost(options.step ?? defaultStep(setting)));
}

/** Steps 1–4 above on a grid of spacing `step` (a power of two); valid at q = 1 too. */
export function epsilonOnGrid(setting: DpSgdSetting, step: number): PldEpsilon {
  const { steps, delta } = setting;
  const windowTail = delta * WINDOW_TAIL_SHARE;
  const topCut = (delta * TOP_CUT_SHARE) / steps;

  let deltaForErrors = 0;
  const epsilonFor = (loss: PrivacyLossDistribution): number => {
    const perStep = discretiseLoss(loss, {
      step,
      lowerCut: lossAtTail(loss.cdf, LOWER_CUT_MASS, -1),
      upperCut: lossAtTail(loss.survival, topCut, 1),
    });
    const composed = selfCompose(perStep, steps, windowTail);
    const positivePoints = Math.max(
      0,
      composed.firstIndex + composed.masses.length - Math.max(1, composed.firstIndex),
    );
    const setAside =
      (composed.droppedMassBound +
        composed.infinityMass +
        Math.sqrt(positivePoints) * composed.roundOffBound) *
      (1 + 4 * U);
    deltaForErrors = Math.max(deltaForErrors, setAside);
    return certifiedEpsilon(composed, delta - setAside);
  };
  const removalEpsilon = epsilonFor(removalLoss(setting));
  const additionEpsilon = epsilonFor(additionLoss(setting));
  return {
    epsilon: Math.max(removalEpsilon, additionEpsilon),
    step,
    removalEpsilon,
    additionEpsilon,
    deltaForErrors,
  };
}

/**
 * Connect-the-dots rounding moves each step's mean loss up by at most h²/8 and adds at most h²/4 of
 * variance, so T steps move ε by about T·h²/8 plus the variance's share, z·√T·h²/(8·s) with s the
 * step's loss spread (≈ q·√(e^{1/σ²} − 1), at most 1/σ) and z ≈ 5 at the δ we use. The default
 * keeps that near 1e-4 relative to the RDP ε (at least 1e-5 absolute). This only sets the
 * tightness; every step is sound.
 */
function defaultStep(setting: DpSgdSetting): number {
  const { q, sigma, steps } = setting;
  const target = Math.max(1e-5, 1e-4 * dpSgdEpsilonByRdp(setting).epsilon);
  const spread = Math.min(1 / sigma, q * Math.sqrt(Math.expm1(1 / (sigma * sigma))));
  const growthPerSquare = steps / 8 + (5 * Math.sqrt(steps)) / (8 * spread);
  return Math.min(0.5, Math.sqrt(target / growthPerSquare));
}

function powerOfTwoAtMost(value: number): number {
  return 2 ** Math.floor(Math.log2(value));
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
 * δ_ν(ε) = Σ ν_j(1 − e^{ε − g_j})₊ summed directly, plus a bound on that sum's rounding: each term
 * is within 6u·ν_j (the exponent ε − g_j ≤ 0 rounds by u·|ε − g_j| and t·e^{−t} ≤ 1), the sum of n
 * terms within n·u of Σ ν_j over the terms.
 */
function deltaUpperBound(pld: ComposedPld, epsilon: number): number {
  const { masses, firstIndex, step } = pld;
  let sum = 0;
  let massAbove = 0;
  let terms = 0;
  for (let i = masses.length - 1; i >= 0; i--) {
    const loss = (firstIndex + i) * step;
    if (loss <= epsilon) break;
    sum += masses[i]! * -Math.expm1(epsilon - loss);
    massAbove += masses[i]!;
    terms++;
  }
  return sum + (terms + 8) * U * massAbove * 1.01;
}

/** ε from `epsilonForDelta`, raised until `deltaUpperBound` certifies it. */
function certifiedEpsilon(pld: ComposedPld, delta: number): number {
  let epsilon = epsilonForDelta(pld, delta);
  if (!Number.isFinite(epsilon)) return epsilon;
  for (let nudge = 1e-13; deltaUpperBound(pld, epsilon) > delta; nudge *= 4) {
    epsilon += nudge * Math.max(1, epsilon);
  }
  return epsilon;
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
  if (meets(0)) return { epsilon: 0, step: 0, removalEpsilon: 0, additionEpsilon: 0, deltaForErrors: 0 };
  while (!meets(high)) [low, high] = [high, high * 2];
  while (high - low > 1e-13 * high) {
    const middle = (low + high) / 2;
    if (meets(middle)) high = middle;
    else low = middle;
  }
  return { epsilon: high, step: 0, removalEpsilon: high, additionEpsilon: high, deltaForErrors: 0 };
}
