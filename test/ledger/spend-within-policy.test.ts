import { beforeAll, describe, expect, it } from 'vitest';
import { zcdpBudget, zcdpSpendToEpsilon } from '../../src/dp/accounting/index.ts';
import { type CommunitySpend, checkSpendWithinPolicy } from '../../src/ledger/spend-within-policy.ts';
import type { Policy } from '../../src/policy/schema.ts';
import { demoPolicySnapshot } from '../support/demo-policy.ts';

const nothingSpent = (communityId: string): CommunitySpend => ({
  communityId,
  epsilonSpent: '0',
  deltaSpent: '0',
  rhoSpent: '0',
  charges: 0,
});

describe('checkSpendWithinPolicy', () => {
  let zcdp: Policy;
  let basic: Policy;
  beforeAll(async () => {
    zcdp = (await demoPolicySnapshot()).policy;
    basic = { ...zcdp, accounting: 'basic' };
  });
  const withBudget = (policy: Policy, community: string, epsilon: number, delta: number): Policy => ({
    ...policy,
    budgets: { ...policy.budgets, [community]: { epsilon, delta } },
  });

  it('accepts budgets at or above what is spent', () => {
    const spent = { ...nothingSpent('riverside'), epsilonSpent: '10', deltaSpent: '0.00001', charges: 3 };
    expect(checkSpendWithinPolicy(withBudget(basic, 'riverside', 10, 1e-5), [spent])).toEqual([]);
    expect(checkSpendWithinPolicy(basic, [nothingSpent('gone')])).toEqual([]);
  });

  it('refuses a basic budget below the ε or δ spent, naming the field', () => {
    const spent = { ...nothingSpent('riverside'), epsilonSpent: '2.5', deltaSpent: '0.000002', charges: 5 };
    const issues = checkSpendWithinPolicy(withBudget(basic, 'riverside', 2, 1e-6), [spent]);
    expect(issues.map((issue) => issue.path)).toEqual([
      ['budgets', 'riverside', 'delta'],
      ['budgets', 'riverside', 'epsilon'],
    ]);
    expect(issues[1]!.message).toBe(
      '2 is below the ε = 2.5 that riverside has already spent (basic accounting)',
    );
  });

  it('reads zcdp spend with the ledger’s conversion: ρ converted at the new δ, plus the pure part', () => {
    const spend = { rho: 0.05, epsilon: 0.3, delta: 0 };
    const spent = {
      ...nothingSpent('riverside'),
      rhoSpent: String(spend.rho),
      epsilonSpent: String(spend.epsilon),
      charges: 4,
    };
    const composed = zcdpSpendToEpsilon(spend, 1e-5);
    expect(checkSpendWithinPolicy(withBudget(zcdp, 'riverside', composed * 1.001, 1e-5), [spent])).toEqual(
      [],
    );
    const issues = checkSpendWithinPolicy(withBudget(zcdp, 'riverside', composed * 0.999, 1e-5), [spent]);
    expect(issues.map((issue) => issue.path)).toContainEqual(['budgets', 'riverside', 'epsilon']);
  });

  it('refuses a zcdp budget whose ρ allowance is below the ρ spent', () => {
    const rho = zcdpBudget(1, 1e-5) * 1.01;
    const spent = { ...nothingSpent('riverside'), rhoSpent: String(rho), charges: 1 };
    const issues = checkSpendWithinPolicy(withBudget(zcdp, 'riverside', 1, 1e-5), [spent]);
    expect(issues.map((issue) => issue.path)).toContainEqual(['budgets', 'riverside']);
  });

  it('refuses removing a community that has charges, and allows removing one that has none', () => {
    const { lakeside: _removed, ...budgets } = basic.budgets;
    const withoutLakeside = { ...basic, budgets };
    expect(checkSpendWithinPolicy(withoutLakeside, [{ ...nothingSpent('lakeside'), charges: 2 }])).toEqual([
      {
        path: ['budgets'],
        message:
          'has no budget for community "lakeside", which has 2 charges in the ledger; a charged community cannot be removed',
      },
    ]);
    expect(checkSpendWithinPolicy(withoutLakeside, [nothingSpent('lakeside')])).toEqual([]);
  });

  it('refuses switching from zcdp to basic once ρ is spent, and allows basic to zcdp', () => {
    const spentRho = { ...nothingSpent('riverside'), rhoSpent: '0.01', charges: 1 };
    expect(checkSpendWithinPolicy(basic, [spentRho]).map((issue) => issue.path)).toEqual([['accounting']]);
    const spentPure = { ...nothingSpent('riverside'), epsilonSpent: '1', charges: 1 };
    expect(checkSpendWithinPolicy(zcdp, [spentPure])).toEqual([]);
  });
});
