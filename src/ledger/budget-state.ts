/**
 * A community's budget in the terms of its accounting mode: whether a cost fits, what one charge
 * adds to each spent column, and what is left. Pure, so the rules can be tested without a database.
 *
 * - basic: spent ε and δ add up (Dwork & Roth 2014, Thm 3.16); a cost fits while both stay within
 *   the totals, checked exactly on NUMERIC by the database (see charge.ts).
 * - zcdp: spent ρ adds up, with an (ε, δ) part for approximately-DP components (see
 *   docs/accounting.md); a cost fits while the whole spend, converted with the CKS20 Cor. 13 conversion at
 *   the community's δ, stays within ε_total.
 * - rdp: every charge's Rényi curve adds up, under a fixed-order Rényi filter (rdp-ledger.ts); the
 *   spent columns hold the composed curve converted at the filter's order (ε) and the δ parts (δ).
 */
import { type ZcdpSpend, zcdpSpendToEpsilon } from '../dp/accounting/index.ts';
import {
  composeRdpCharges,
  type RdpBudget,
  type RdpCharge,
  rdpBudget,
  rdpChargeFits,
  rdpSpend,
} from '../dp/accounting/rdp-ledger.ts';
import { decimalRemainder } from './decimal.ts';
import type { ReleaseCost } from './release-cost.ts';

export interface BudgetState {
  readonly accounting: 'basic' | 'zcdp' | 'rdp';
  readonly epsilonTotal: number;
  readonly deltaTotal: number;
  readonly epsilonSpent: number;
  readonly deltaSpent: number;
  readonly rhoSpent: number;
  /** rdp only: the filter's order and the composed curve (absent before the ledger has one). */
  readonly rdp?: { readonly order: number; readonly spent: RdpCharge };
  /** The ledger's own decimal text, when the state was read from a budget row. */
  readonly decimals?: {
    readonly epsilonTotal: string;
    readonly epsilonSpent: string;
    readonly deltaTotal: string;
    readonly deltaSpent: string;
    readonly rhoTotal: string | null;
    readonly rhoSpent: string;
  };
}

/**
 * What is left as exact decimal strings, beside the floats: only where it is a difference of ledger
 * decimals. A zcdp or rdp community's ε left is a conversion of its ρ or Rényi curve (and an rdp
 * community's δ spent a part of that conversion), so those are null; ρ left is exact under zcdp.
 */
export interface ExactRemaining {
  readonly epsilon: string | null;
  readonly delta: string | null;
  readonly rho?: string | null;
}

/** What one charge adds to a community's spent columns, in its accounting mode. */
export interface ChargeAmounts {
  readonly epsilon: number;
  readonly delta: number;
  /** zcdp only. */
  readonly rho: number | null;
}

/**
 * What one charge adds to a community's spent columns, in its accounting mode. A zcdp community
 * is charged whichever valid statement of the cost (pure parts as ρ, or as ξ) leaves its spend
 * lower. The choice depends only on the ledger, never on data, and is fixed before the release, so
 * composition holds as for any predictable sequence of (ξ, ρ) (see docs/accounting.md).
 */
export function chargeAmounts(state: BudgetState, cost: ReleaseCost): ChargeAmounts {
  if (state.accounting === 'rdp') {
    const { before, after } = rdpStep(state, cost);
    return { epsilon: Math.max(0, after.epsilon - before.epsilon), delta: cost.rdp.delta, rho: null };
  }
  if (state.accounting === 'basic')
    return { epsilon: cost.approx.epsilon, delta: cost.approx.delta, rho: null };
  const candidates = [cost.zcdp, cost.zcdpPureAsXi].map((spend) => ({
    epsilon: spend.epsilon,
    delta: spend.delta,
    rho: spend.rho,
  }));
  const [asRho, asXi] = candidates as [ChargeAmounts, ChargeAmounts];
  // Without pure-DP parts the two statements are one spend: the comparison would pick asXi, and
  // costs two tight conversions (an optimisation over the order each) per community and charge.
  const same = asRho.epsilon === asXi.epsilon && asRho.delta === asXi.delta && asRho.rho === asXi.rho;
  return same || epsilonAfter(state, asXi) <= epsilonAfter(state, asRho) ? asXi : asRho;
}

function epsilonAfter(state: BudgetState, amounts: ChargeAmounts): number {
  return zcdpEpsilon(state, zcdpSpend(state, amounts));
}

/** The spend, as approximate zCDP, of a zcdp community. */
function zcdpSpend(state: BudgetState, amounts?: ChargeAmounts): ZcdpSpend {
  return {
    rho: state.rhoSpent + (amounts?.rho ?? 0),
    epsilon: state.epsilonSpent + (amounts?.epsilon ?? 0),
    delta: state.deltaSpent + (amounts?.delta ?? 0),
  };
}

/** ε spent so far as the community's accounting states it: the figure contributors compare with ε_total. */
export function epsilonSpent(state: BudgetState): number {
  if (state.accounting === 'rdp') {
    return state.rdp ? rdpSpend(rdpBudgetOf(state), state.rdp.spent).epsilon : state.epsilonSpent;
  }
  return state.accounting === 'basic' ? state.epsilonSpent : zcdpEpsilon(state, zcdpSpend(state));
}

export function rdpBudgetOf(state: BudgetState): RdpBudget {
  return rdpBudget(state.epsilonTotal, state.deltaTotal, state.rdp?.order);
}

/** An rdp community's composed curve before and after a charge, and their converted spends. */
export function rdpStep(state: BudgetState, cost: ReleaseCost) {
  const budget = rdpBudgetOf(state);
  const spent = state.rdp?.spent ?? composeRdpCharges([]);
  const next = composeRdpCharges([spent, cost.rdp]);
  return {
    budget,
    next,
    fits: rdpChargeFits(budget, spent, cost.rdp),
    before: rdpSpend(budget, spent),
    after: rdpSpend(budget, next),
  };
}

/** ξ + the CKS20 Cor. 13 ε of ρ at the δ left over (infinite when the approximate parts use up δ). */
function zcdpEpsilon(state: BudgetState, spend: ZcdpSpend): number {
  return spend.rho === 0 ? spend.epsilon : zcdpSpendToEpsilon(spend, state.deltaTotal);
}

export function remaining(state: BudgetState): {
  epsilon: number;
  delta: number;
  exact?: ExactRemaining;
} {
  const deltaSpent =
    state.accounting === 'rdp' && state.rdp
      ? rdpSpend(rdpBudgetOf(state), state.rdp.spent).delta
      : state.deltaSpent;
  return {
    epsilon: Math.max(0, state.epsilonTotal - epsilonSpent(state)),
    delta: Math.max(0, state.deltaTotal - deltaSpent),
    ...(state.decimals ? { exact: exactRemaining(state.accounting, state.decimals) } : {}),
  };
}

function exactRemaining(
  accounting: BudgetState['accounting'],
  d: NonNullable<BudgetState['decimals']>,
): ExactRemaining {
  const delta = accounting === 'rdp' ? null : decimalRemainder(d.deltaTotal, d.deltaSpent);
  if (accounting === 'basic') return { epsilon: decimalRemainder(d.epsilonTotal, d.epsilonSpent), delta };
  if (accounting === 'zcdp') {
    return {
      epsilon: null,
      delta,
      rho: d.rhoTotal === null ? null : decimalRemainder(d.rhoTotal, d.rhoSpent),
    };
  }
  return { epsilon: null, delta };
}

/**
 * Whether a charge fits a zcdp community. The comparison is in floating point, so it keeps a margin
 * of 1e-12 relative on the safe side. (Basic budgets are compared exactly, on NUMERIC, by the
 * database: see charge.ts.)
 */
export function zcdpChargeFits(state: BudgetState, amounts: ChargeAmounts): boolean {
  const spend = zcdpSpend(state, amounts);
  if (spend.delta > state.deltaTotal) return false;
  return zcdpEpsilon(state, spend) <= state.epsilonTotal * (1 - 1e-12);
}
