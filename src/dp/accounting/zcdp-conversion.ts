import { checkDelta, checkEpsilon } from './dp-sgd-setting.ts';
import { epsilonFromRdpAtOrder } from './rdp-to-approx.ts';

/**
 * Conversions between ρ-zCDP and (ε, δ)-DP.
 *
 * ρ-zCDP is (α, αρ)-RDP for every α > 1 (Bun & Steinke 2016, Def. 1.1), so Canonne, Kamath &
 * Steinke 2020 ("The Discrete Gaussian for Differential Privacy"), Prop. 12 / Cor. 13 give
 * ε(ρ, δ) = inf_{α>1} αρ + log((α−1)/α) − (log δ + log α)/(α−1), the same per-order bound as
 * Balle et al. 2020 Thm 21 (shared via `epsilonFromRdpAtOrder`). Every α yields a valid ε, so a
 * numerical minimiser that misses the exact optimum still returns a sound (slightly larger) ε.
 */

/** Search range for log(α − 1); covers ρ from 1e-12 to 1e4 at any δ > 1e-300. */
const LOG_ORDER_MINUS_ONE_RANGE = [-12, 30] as const;
/** One point per unit of log(α − 1): enough to bracket the minimum of a unimodal objective. */
const COARSE_POINTS = 42;
const GOLDEN_ITERATIONS = 80;
const GOLDEN_RATIO = (Math.sqrt(5) - 1) / 2;

/**
 * Minimises f over α > 1: a coarse grid in u = log(α − 1), then golden-section search over the two
 * grid steps around the best point. Both objectives here are unimodal in u over the range
 * (test/dp/accounting-zcdp.test.ts checks it against a 40,000-point grid), so the minimum lies
 * within one step of the best grid point and the search converges to it; were one not, the result
 * would be a local minimum: a valid, looser ε, never an unsound one. The budget check of every zcdp
 * charge runs this several times, so it is kept to about 120 evaluations.
 */
function minimiseOverOrder(objective: (order: number) => number): number {
  const [low, high] = LOG_ORDER_MINUS_ONE_RANGE;
  const width = (high - low) / COARSE_POINTS;
  const at = (u: number): number => objective(1 + Math.exp(u));
  let bestU: number = low;
  let bestValue = at(low);
  for (let i = 1; i <= COARSE_POINTS; i++) {
    const u = low + i * width;
    const value = at(u);
    if (value < bestValue) [bestU, bestValue] = [u, value];
  }
  // Golden-section search keeping one interior point per step, so each step costs one evaluation.
  let a = bestU - width;
  let b = bestU + width;
  let left = b - GOLDEN_RATIO * (b - a);
  let right = a + GOLDEN_RATIO * (b - a);
  let atLeft = at(left);
  let atRight = at(right);
  for (let i = 0; i < GOLDEN_ITERATIONS; i++) {
    if (atLeft < atRight) {
      b = right;
      [right, atRight] = [left, atLeft];
      left = b - GOLDEN_RATIO * (b - a);
      atLeft = at(left);
    } else {
      a = left;
      [left, atLeft] = [right, atRight];
      right = a + GOLDEN_RATIO * (b - a);
      atRight = at(right);
    }
  }
  return Math.min(bestValue, atLeft, atRight, at((a + b) / 2));
}

/** The ε of ρ-zCDP at δ by CKS20 Cor. 13 (the best single-order bound; not the exact curve of any one mechanism). */
export function zcdpToEpsilon(rho: number, delta: number): number {
  checkDelta(delta);
  if (!(rho >= 0)) throw new RangeError(`rho must be ≥ 0, got ${rho}`);
  if (rho === 0) return 0;
  return minimiseOverOrder((order) => epsilonFromRdpAtOrder(order, order * rho, delta));
}

/** Bun & Steinke 2016, Prop. 1.3: ε = ρ + 2√(ρ log(1/δ)). Looser; kept for comparison. */
export function zcdpToEpsilonBunSteinke(rho: number, delta: number): number {
  checkDelta(delta);
  return rho + 2 * Math.sqrt(rho * Math.log(1 / delta));
}

/** Bun & Steinke 2016, Prop. 1.4: ε-DP implies (ε²/2)-zCDP, so pure charges join a ρ ledger. */
export function pureToZcdp(epsilon: number): number {
  return (epsilon * epsilon) / 2;
}

/**
 * The largest ρ whose CKS20 ε at δ is at most `epsilon`: the ρ budget of an (ε, δ) budget.
 * For each α the per-order bound is linear in ρ, so ρ_max = sup_α (ε − log((α−1)/α)
 * + (log δ + log α)/(α−1)) / α; the result is checked against `zcdpToEpsilon` and shrunk
 * (by 1e-12, then doubling) until it passes, so a ledger comparing either way agrees.
 */
export function zcdpBudget(epsilon: number, delta: number): number {
  checkEpsilon(epsilon);
  checkDelta(delta);
  const negativeRho = (order: number): number =>
    -(epsilon - Math.log1p(-1 / order) + (Math.log(delta) + Math.log(order)) / (order - 1)) / order;
  let rho = Math.max(0, -minimiseOverOrder(negativeRho));
  for (let shrink = 1e-12; rho > 0 && zcdpToEpsilon(rho, delta) > epsilon; shrink *= 2) rho *= 1 - shrink;
  return rho;
}
