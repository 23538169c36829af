/**
 * One budget composed by Rényi curves: the `rdp` accounting of a community's ledger.
 *
 * Every charge carries its Rényi curve τ(α) on the fixed orders `LEDGER_RDP_ORDERS`, plus a δ part
 * for components that are only approximately DP (partition selection, legacy (ε, δ) charges). The
 * ledger adds curves order by order and δ parts (RDP composes additively, Mironov 2017 Prop. 1;
 * approximate parts add their δ, Bun & Steinke 2016 §8 for approximate zCDP/RDP).
 *
 * Filter. Charges are chosen adaptively, so the budget is a *fixed-order Rényi filter* (Feldman &
 * Zrnic 2021, "Individual Privacy Accounting via a Rényi Filter", Thm. 3.1; valid for concurrent
 * interactive use by Haney, Desfontaines, Hartman, Shrestha, Hay 2023, "Concurrent Composition for
 * Interactive Differential Privacy with Adaptive Privacy-Loss Parameters"): at one order α fixed when
 * the budget is set, a charge fits while Σ τ_i(α) ≤ B(α), with B(α) the largest RDP whose conversion
 * (Balle et al. 2020 Thm. 21) at δ_conv is ε_total. The whole run is then (α, B(α))-RDP, hence
 * (ε_total, δ_conv)-DP, and with the δ parts (ε_total, δ_conv + Σ δ_i)-DP. Stopping on several
 * orders at once is not covered by this theorem (it needs Lécuyer 2021 and a union bound over the
 * orders, paid in δ); a filter on the whole privacy profile is not valid under adaptivity in general.
 *
 * δ split. δ_conv = δ_total·(1 − APPROX_DELTA_SHARE) is fixed with the budget; the δ parts must fit
 * the rest. Both are fixed in advance, as the filter theorem requires.
 *
 * Every bound holds for both directions of add/remove-one-person (each curve here bounds the Rényi
 * divergence in both orders of the pair).
 */
import type { PrivacyLoss } from '../privacy-loss.ts';
import { checkDelta, checkEpsilon } from './dp-sgd-setting.ts';
import { epsilonFromRdpAtOrder, rdpToApprox } from './rdp-to-approx.ts';
import { type SubsampledGaussian, subsampledGaussianRdp } from './subsampled-gaussian-rdp.ts';

/** The orders every stored curve is evaluated at (a stored curve is a vector over these). */
export const LEDGER_RDP_ORDERS: readonly number[] = Object.freeze([
  1.25, 1.5, 1.75, 2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 32, 48, 64, 128, 256,
]);

/** The share of a community's δ kept for the δ parts of charges; the rest converts the curve. */
export const APPROX_DELTA_SHARE = 0.1;

export interface RdpCharge {
  /** τ(α) at each of `LEDGER_RDP_ORDERS`. */
  readonly curve: readonly number[];
  /** The δ of the components that are only approximately DP. */
  readonly delta: number;
}

export const NO_RDP_CHARGE: RdpCharge = Object.freeze({
  curve: Object.freeze(LEDGER_RDP_ORDERS.map(() => 0)),
  delta: 0,
});

/**
 * ε-DP as RDP: the sharp bound τ(α) = ε − log((1 + e^−ε)/(1 + e^−(2α−1)ε))/(α − 1), attained by
 * randomized response (Steinke 2024, "Sharp RDP & zCDP from Pure DP", DifferentialPrivacy.org, Thm. 4),
 * and never above αε²/2 (Bun & Steinke 2016, Prop. 1.4) or ε (D_α ≤ D_∞). The discrete Laplace
 * mechanism is ε-DP (privacy.md), so this is its curve.
 */
export function pureRdp(epsilon: number, order: number): number {
  if (epsilon === 0) return 0;
  const sharp =
    epsilon -
    (Math.log1p(Math.exp(-epsilon)) - Math.log1p(Math.exp(-(2 * order - 1) * epsilon))) / (order - 1);
  return Math.min(sharp, (order * epsilon * epsilon) / 2, epsilon);
}

/**
 * The curve of a release from its mechanisms' losses: ρ-zCDP is τ(α) = αρ (Bun & Steinke 2016,
 * Def. 1.1); ε-DP by `pureRdp`; an (ε, δ) part is δ-approximately ε-DP (Dwork & Roth 2014, Lemma
 * 3.17 gives the decomposition), so it adds its pure curve and its δ.
 */
export function rdpChargeOf(losses: readonly PrivacyLoss[]): RdpCharge {
  const curve = LEDGER_RDP_ORDERS.map(() => 0);
  let delta = 0;
  for (const loss of losses) {
    LEDGER_RDP_ORDERS.forEach((order, i) => {
      curve[i]! += loss.kind === 'zcdp' ? order * loss.rho : pureRdp(loss.epsilon, order);
    });
    if (loss.kind === 'approx') delta += loss.delta;
  }
  return { curve, delta };
}

/** T steps of Poisson-subsampled Gaussian DP-SGD (Mironov, Talwar & Zhang 2019), composed over steps. */
export function dpSgdRdpCharge(setting: SubsampledGaussian & { readonly steps: number }): RdpCharge {
  return {
    curve: LEDGER_RDP_ORDERS.map((order) => setting.steps * subsampledGaussianRdp(setting, order)),
    delta: 0,
  };
}

/** Charges composed: curves add order by order, δ parts add. */
export function composeRdpCharges(charges: readonly RdpCharge[]): RdpCharge {
  return {
    curve: LEDGER_RDP_ORDERS.map((_, i) => charges.reduce((sum, charge) => sum + charge.curve[i]!, 0)),
    delta: charges.reduce((sum, charge) => sum + charge.delta, 0),
  };
}

/** A community's budget under `rdp` accounting, fixed when the budget is set. */
export interface RdpBudget {
  readonly epsilonTotal: number;
  readonly deltaTotal: number;
  /** The filter's order. */
  readonly order: number;
  /** δ_conv: the δ at which the curve converts. */
  readonly conversionDelta: number;
  /** B(α): the largest Σ τ(α) the filter admits. */
  readonly rdpTotal: number;
}

/** B(α) = ε − log((α−1)/α) + (log δ + log α)/(α − 1): the RDP whose Balle et al. 2020 Thm. 21 ε is ε. */
function rdpBudgetAt(order: number, epsilon: number, delta: number): number {
  return epsilon - Math.log1p(-1 / order) + (Math.log(delta) + Math.log(order)) / (order - 1);
}

/**
 * The budget of a community: δ split as above, and the order fixed at the integer order that admits
 * the most Gaussian noise, argmax_α B(α)/α (a Gaussian release of ρ costs αρ), unless the policy
 * names one. Every ledger order is a valid filter order (grid DP-SGD included, docs/training.md §3);
 * the default keeps to integers, where the candidates are few and an order reads plainly.
 * The price: a workload whose curves are far from linear (DP-SGD at small q, pure-DP queries) would
 * compose more cheaply at another order, and the filter cannot switch orders after the fact.
 */
export function rdpBudget(epsilonTotal: number, deltaTotal: number, order?: number): RdpBudget {
  checkEpsilon(epsilonTotal);
  checkDelta(deltaTotal);
  const conversionDelta = deltaTotal * (1 - APPROX_DELTA_SHARE);
  const chosen =
    order ??
    LEDGER_RDP_ORDERS.filter(Number.isInteger).reduce((best, candidate) =>
      rdpBudgetAt(candidate, epsilonTotal, conversionDelta) / candidate >
      rdpBudgetAt(best, epsilonTotal, conversionDelta) / best
        ? candidate
        : best,
    );
  if (!LEDGER_RDP_ORDERS.includes(chosen)) throw new RangeError(`order ${chosen} is not a ledger order`);
  return {
    epsilonTotal,
    deltaTotal,
    order: chosen,
    conversionDelta,
    rdpTotal: Math.max(0, rdpBudgetAt(chosen, epsilonTotal, conversionDelta)),
  };
}

function at(budget: RdpBudget, charge: RdpCharge): number {
  return charge.curve[LEDGER_RDP_ORDERS.indexOf(budget.order)]!;
}

/**
 * Whether `charge` fits after `spent`: the filter's test at its order, and the δ parts within their
 * share. Compared in floating point with 1e-12 relative to spare, on the safe side.
 */
export function rdpChargeFits(budget: RdpBudget, spent: RdpCharge, charge: RdpCharge): boolean {
  const total = composeRdpCharges([spent, charge]);
  const approxDelta = budget.deltaTotal - budget.conversionDelta;
  return total.delta <= approxDelta * (1 - 1e-12) && at(budget, total) <= budget.rdpTotal * (1 - 1e-12);
}

/**
 * The (ε, δ) a community has spent, as contributors read it: the composed curve converted at the
 * filter's order and δ_conv (Balle et al. 2020 Thm. 21), with δ = δ_conv + the δ parts; (0, 0)
 * before any charge. Only the fixed order is valid under adaptive charges.
 */
export function rdpSpend(budget: RdpBudget, spent: RdpCharge): { epsilon: number; delta: number } {
  const tau = at(budget, spent);
  if (tau === 0 && spent.delta === 0) return { epsilon: 0, delta: 0 };
  return {
    epsilon: epsilonFromRdpAtOrder(budget.order, tau, budget.conversionDelta),
    delta: budget.conversionDelta + spent.delta,
  };
}

/** What is left of the filter's budget, as a fraction of B(α) (1 = untouched). */
export function rdpRemainingShare(budget: RdpBudget, spent: RdpCharge): number {
  return budget.rdpTotal > 0 ? Math.max(0, 1 - at(budget, spent) / budget.rdpTotal) : 0;
}

/**
 * One charge's own (ε, δ) at a δ: the best order of its own curve (a single release is not
 * adaptive), plus its δ part.
 */
export function rdpChargeEpsilon(charge: RdpCharge, delta: number): { epsilon: number; delta: number } {
  checkDelta(delta);
  const { epsilon } = rdpToApprox(LEDGER_RDP_ORDERS, charge.curve, delta);
  return { epsilon: charge.curve.every((tau) => tau === 0) ? 0 : epsilon, delta: delta + charge.delta };
}

/** What contributors read of an rdp budget besides the converted spend. */
export interface RdpStanding {
  readonly order: number;
  readonly conversionDelta: number;
  /** B(α) and Σ τ(α) at the filter's order: the only comparison that decides a charge. */
  readonly rdpTotal: number;
  readonly rdpSpent: number;
  /** The largest ρ of a Gaussian release the filter still admits, (B(α) − Σ τ(α))/α. */
  readonly gaussianRhoLeft: number;
  readonly approxDelta: { readonly spent: number; readonly total: number };
  /**
   * The composed curve at every ledger order, with the ε each order alone would convert it to at
   * δ_conv (0 before any charge). Informative: only `order` may be used under adaptive charges.
   */
  readonly curve: readonly { readonly order: number; readonly rdp: number; readonly epsilon: number }[];
}

export function rdpStanding(budget: RdpBudget, spent: RdpCharge): RdpStanding {
  const rdpSpent = at(budget, spent);
  const untouched = spent.curve.every((tau) => tau === 0);
  return {
    order: budget.order,
    conversionDelta: budget.conversionDelta,
    rdpTotal: budget.rdpTotal,
    rdpSpent,
    gaussianRhoLeft: Math.max(0, budget.rdpTotal - rdpSpent) / budget.order,
    approxDelta: { spent: spent.delta, total: budget.deltaTotal - budget.conversionDelta },
    curve: LEDGER_RDP_ORDERS.map((order, i) => ({
      order,
      rdp: spent.curve[i]!,
      epsilon: untouched ? 0 : epsilonFromRdpAtOrder(order, spent.curve[i]!, budget.conversionDelta),
    })),
  };
}
