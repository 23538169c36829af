/** A query's charge is its plan: the ledger records exactly the (ε, δ) the dry run showed. */
import { describe, expect, it } from 'vitest';
import { queryReleaseCost } from '../../src/ledger/release-cost.ts';
import { planQuery } from '../../src/sql/index.ts';
import { loadDemoPolicy } from '../sql/demo-policy.ts';

async function privatePlan(sql: string, mechanism: 'laplace' | 'gaussian') {
  const policy = await loadDemoPolicy();
  const result = planQuery({ sql, policy, role: 'analyst', request: { epsilon: 1, delta: 1e-6, mechanism } });
  if (!result.ok || result.plan.kind !== 'private') throw new Error(JSON.stringify(result));
  return result.plan;
}

describe('the cost charged for a query', () => {
  it.each([
    ['gaussian', 'SELECT age / 10 AS decade, COUNT(*) FROM people GROUP BY 1'],
    ['gaussian', 'SELECT SUM(income) FROM people'],
    ['laplace', 'SELECT age / 10 AS decade, COUNT(*) FROM people GROUP BY 1'],
    ['laplace', 'SELECT AVG(age) FROM people'],
  ] as const)('%s, %s: the basic (ε, δ) charged equals the plan', async (mechanism, sql) => {
    const plan = await privatePlan(sql, mechanism);
    const cost = queryReleaseCost(plan);
    expect(cost.approx).toEqual({ epsilon: plan.cost.epsilon, delta: plan.cost.delta });
    expect(cost.approx.epsilon).toBeLessThanOrEqual(1);
    expect(cost.approx.delta).toBeLessThanOrEqual(1e-6);
  });
});
