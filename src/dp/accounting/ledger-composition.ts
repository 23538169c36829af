import type { PrivacyLoss } from '../privacy-loss.ts';
import { AccountingInputError, checkDelta } from './dp-sgd-setting.ts';
import { pureToZcdp, zcdpBudget, zcdpToEpsilon } from './zcdp-conversion.ts';

/**
 * How a community's charges add up, for the two ledger modes (`accounting: basic | zcdp` in policy;
 * see docs/accounting.md).
 *
 * Adaptivity: the analyst picks each query, and its ε, after seeing earlier answers, and the
 * ledger refuses a charge that would overrun the budget. That is a privacy *filter* (Rogers,
 * Roth, Ullman & Vadhan 2016, "Privacy Odometers and Filters"), who show composition theorems
 * proved for parameters fixed in advance must be re-proved when parameters are chosen
 * adaptively. Both rules here survive that:
 * - basic: summing ε and δ is a valid filter: the proof of basic composition (Dwork & Roth 2014,
 *   Thm 3.16) goes through step by step with a stopping rule (RRUV16);
 * - zcdp: summing ρ is a valid filter because ρ-zCDP is RDP at every order and RDP admits filters
 *   with adaptive parameters (Feldman & Zrnic 2021, "Individual Privacy Accounting via a Rényi
 *   Filter"); with fixed parameters it is Bun & Steinke 2016 Lemma 2.3; for the
 *   approximate part, Whitehouse, Ramdas, Rogers & Wu 2023 give a filter for approximate zCDP.
 */

export interface ApproxLoss {
  readonly epsilon: number;
  readonly delta: number;
}

/** Basic composition (Dwork & Roth 2014, Thm 3.16): ε and δ add. A zCDP loss has no δ of its own. */
export function composeBasic(losses: readonly PrivacyLoss[]): ApproxLoss {
  let epsilon = 0;
  let delta = 0;
  for (const loss of losses) {
    if (loss.kind === 'zcdp') {
      throw new AccountingInputError(
        'a zcdp loss needs a δ to enter a basic ledger; convert it with zcdpToEpsilon',
      );
    }
    epsilon += loss.epsilon;
    if (loss.kind === 'approx') delta += loss.delta;
  }
  return { epsilon, delta };
}

/**
 * A zCDP ledger's spend: ρ from Gaussian (zCDP) charges and pure charges (ε²/2, Bun & Steinke
 * 2016 Prop. 1.4), plus the (ε, δ) charges (e.g. DP-SGD) kept apart as an approximate part.
 * Together they are δ-approximately (ξ = ε, ρ)-zCDP in the sense of Bun & Steinke 2016 (Def. 1.1,
 * which allows ξ; §8 for approximate zCDP, whose composition adds ξ, ρ and δ).
 */
export interface ZcdpSpend {
  readonly rho: number;
  readonly epsilon: number;
  readonly delta: number;
}

export function composeZcdp(losses: readonly PrivacyLoss[]): ZcdpSpend {
  let rho = 0;
  let epsilon = 0;
  let delta = 0;
  for (const loss of losses) {
    if (loss.kind === 'zcdp') rho += loss.rho;
    else if (loss.kind === 'pure') rho += pureToZcdp(loss.epsilon);
    else {
      epsilon += loss.epsilon;
      delta += loss.delta;
    }
  }
  return { rho, epsilon, delta };
}

/**
 * The (ε, δ) a zCDP spend amounts to at the community's δ: the approximate part uses δ_spent of
 * it, the rest converts ρ (CKS20 Cor. 13), and ξ adds on (RDP ξ + αρ converts to ξ + ε(ρ)).
 * Infinite when the approximate charges alone use up δ.
 */
export function zcdpSpendToEpsilon(spend: ZcdpSpend, delta: number): number {
  checkDelta(delta);
  const deltaForRho = delta - spend.delta;
  if (!(deltaForRho > 0)) return Number.POSITIVE_INFINITY;
  return spend.epsilon + zcdpToEpsilon(spend.rho, deltaForRho);
}

/**
 * The ρ a zCDP ledger may still spend under an (ε, δ) budget: the ρ budget left once the
 * approximate part is set aside, minus ρ already spent. Zero or less means exhausted.
 */
export function remainingRho(spend: ZcdpSpend, budget: ApproxLoss): number {
  const epsilonForRho = budget.epsilon - spend.epsilon;
  const deltaForRho = budget.delta - spend.delta;
  if (!(epsilonForRho > 0 && deltaForRho > 0)) return -spend.rho;
  return zcdpBudget(epsilonForRho, deltaForRho) - spend.rho;
}
