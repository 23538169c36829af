/**
 * What one release costs, in the two forms a ledger may compose (policy `accounting`):
 * - `approx`: its (ε, δ)-DP guarantee, which a `basic` ledger adds up;
 * - `zcdp`: the same release as approximate zCDP (ρ, plus an (ε, δ) part for components that are
 *   only approximately DP), which a `zcdp` ledger adds up;
 * - `rdp`: its Rényi curve and δ part, which an `rdp` ledger adds up.
 * Both come from the mechanisms' own losses (`mechanism.loss(...)`), composed by the DP core.
 */
import { composeBasic, composeZcdp, type ZcdpSpend, zcdpToEpsilon } from '../dp/accounting/index.ts';
import { NO_RDP_CHARGE, type RdpCharge, rdpChargeOf } from '../dp/accounting/rdp-ledger.ts';
import type { PrivacyLoss } from '../dp/privacy-loss.ts';
import type { PrivateQueryPlan } from '../sql/plan.ts';

export interface ReleaseCost {
  readonly approx: { readonly epsilon: number; readonly delta: number };
  /** Pure-DP components as ρ = ε²/2 (Bun & Steinke 2016, Prop. 1.4). */
  readonly zcdp: ZcdpSpend;
  /**
   * The same release with pure-DP components kept as ξ = ε instead: ε-DP is also (ε, 0)-zCDP
   * (Bun & Steinke 2016, Def. 1.1 with ξ = ε, since D_α ≤ D_∞ ≤ ε). A zcdp ledger charges whichever
   * of the two leaves the community more budget (budget-state.ts).
   */
  readonly zcdpPureAsXi: ZcdpSpend;
  /** The release's Rényi curve and δ part, which an rdp ledger adds up (and every charge stores). */
  readonly rdp: RdpCharge;
  /** How the noise was made, for the ledger: e.g. `discrete_laplace`, `dp_sgd`. */
  readonly mechanism: string;
}

/**
 * The cost of a release made of several components. zCDP components are stated as (ε, δ) for a
 * basic ledger at `zcdpDelta` (the part of the analyst's δ set aside for them; approximate parts
 * such as partition selection add their own δ), with the conversion of Canonne, Kamath & Steinke
 * 2020 Cor. 13 (ρ-zCDP ⇒ (ε, δ)-DP).
 */
export function releaseCost(options: {
  readonly losses: readonly PrivacyLoss[];
  readonly mechanism: string;
  readonly zcdpDelta?: number;
  /**
   * The curve when the losses do not determine it: a DP-SGD run passes its subsampled-Gaussian
   * curve (`dpSgdRdpCharge`) instead of the curve its (ε, δ) implies.
   */
  readonly rdp?: RdpCharge;
}): ReleaseCost {
  const { losses, mechanism, zcdpDelta } = options;
  const rho = losses.reduce((sum, loss) => sum + (loss.kind === 'zcdp' ? loss.rho : 0), 0);
  if (rho > 0 && !(zcdpDelta && zcdpDelta > 0)) {
    throw new RangeError('a release with Gaussian (zCDP) noise needs a δ to state its (ε, δ) cost');
  }
  const approxParts: PrivacyLoss[] = losses.filter((loss) => loss.kind !== 'zcdp');
  if (rho > 0)
    approxParts.push({ kind: 'approx', epsilon: zcdpToEpsilon(rho, zcdpDelta!), delta: zcdpDelta! });
  const pureEpsilon = losses.reduce((sum, loss) => sum + (loss.kind === 'pure' ? loss.epsilon : 0), 0);
  const zcdp = composeZcdp(losses.filter((loss) => loss.kind !== 'pure'));
  return {
    approx: composeBasic(approxParts),
    zcdp: composeZcdp(losses),
    zcdpPureAsXi: { ...zcdp, epsilon: zcdp.epsilon + pureEpsilon },
    rdp: options.rdp ?? rdpChargeOf(losses),
    mechanism,
  };
}

/**
 * The cost of a private query's release, equal to its plan: ρ converts at the δ the plan set aside
 * for it (not at the whole δ, which also holds what partition selection spends), so a basic ledger
 * is charged exactly the plan's (ε, δ).
 */
export function queryReleaseCost(plan: Pick<PrivateQueryPlan, 'cost' | 'mechanism'>): ReleaseCost {
  return releaseCost({
    losses: plan.cost.losses,
    mechanism: plan.mechanism === 'laplace' ? 'discrete_laplace' : 'discrete_gaussian',
    ...(plan.cost.zcdpDelta === undefined ? {} : { zcdpDelta: plan.cost.zcdpDelta }),
  });
}

/** A release that reads no private rows: public tables only, or a stored answer. */
export const FREE: ReleaseCost = {
  approx: { epsilon: 0, delta: 0 },
  zcdp: { rho: 0, epsilon: 0, delta: 0 },
  zcdpPureAsXi: { rho: 0, epsilon: 0, delta: 0 },
  rdp: NO_RDP_CHARGE,
  mechanism: 'none',
};
