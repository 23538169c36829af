import { describe, expect, it } from 'vitest';
import { zcdpToEpsilon } from '../../src/dp/accounting/index.ts';
import {
  type BudgetState,
  chargeAmounts,
  epsilonSpent,
  remaining,
  zcdpChargeFits,
} from '../../src/ledger/budget-state.ts';
import { releaseCost } from '../../src/ledger/release-cost.ts';

const zcdpCommunity = (spent: Partial<BudgetState> = {}): BudgetState => ({
  accounting: 'zcdp',
  epsilonTotal: 10,
  deltaTotal: 1e-5,
  epsilonSpent: 0,
  deltaSpent: 0,
  rhoSpent: 0,
  ...spent,
});
const pure = (epsilon: number) =>
  releaseCost({ losses: [{ kind: 'pure', epsilon }], mechanism: 'discrete_laplace' });

describe('zcdp budgets', () => {
  it('charges a few pure-DP queries as ξ = ε, which is cheaper than ρ at first', () => {
    expect(chargeAmounts(zcdpCommunity(), pure(0.1))).toEqual({ epsilon: 0.1, delta: 0, rho: 0 });
  });

  it('switches to ρ = ε²/2 once many queries make zCDP composition cheaper', () => {
    const state = zcdpCommunity({ rhoSpent: 0.05 });
    // ξ path: 0.1 + ε(0.05); ρ path: ε(0.055). The second is smaller.
    expect(0.1 + zcdpToEpsilon(0.05, 1e-5)).toBeGreaterThan(zcdpToEpsilon(0.055, 1e-5));
    expect(chargeAmounts(state, pure(0.1))).toEqual({ epsilon: 0, delta: 0, rho: 0.005000000000000001 });
  });

  it('reports spend as ξ plus the tight conversion of ρ at the δ left', () => {
    const state = zcdpCommunity({ epsilonSpent: 1, rhoSpent: 0.1, deltaSpent: 1e-6 });
    expect(epsilonSpent(state)).toBeCloseTo(1 + zcdpToEpsilon(0.1, 9e-6), 12);
    expect(remaining(state).epsilon).toBeCloseTo(10 - epsilonSpent(state), 12);
  });

  it('refuses a charge that passes ε_total or uses up δ', () => {
    expect(zcdpChargeFits(zcdpCommunity({ epsilonSpent: 9.95 }), { epsilon: 0.1, delta: 0, rho: 0 })).toBe(
      false,
    );
    expect(zcdpChargeFits(zcdpCommunity({ epsilonSpent: 9.8 }), { epsilon: 0.1, delta: 0, rho: 0 })).toBe(
      true,
    );
    expect(zcdpChargeFits(zcdpCommunity({ deltaSpent: 9.5e-6 }), { epsilon: 0, delta: 1e-6, rho: 0 })).toBe(
      false,
    );
  });
});

describe('basic budgets', () => {
  it('add ε and δ as stated', () => {
    const gaussian = releaseCost({
      losses: [{ kind: 'zcdp', rho: 0.01 }],
      mechanism: 'discrete_gaussian',
      zcdpDelta: 1e-7,
    });
    const state: BudgetState = { ...zcdpCommunity(), accounting: 'basic' };
    expect(chargeAmounts(state, gaussian)).toEqual({
      epsilon: zcdpToEpsilon(0.01, 1e-7),
      delta: 1e-7,
      rho: null,
    });
  });
});
