/**
 * What is left of a budget, as exact decimal strings beside the floats: computed on the ledger's
 * decimal text, never through a float, wherever a budget appears in an answer.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { remaining } from '../../src/ledger/budget-state.ts';
import { budgetState } from '../../src/ledger/charge.ts';
import { decimalRemainder } from '../../src/ledger/decimal.ts';
import { createTestApp } from '../support/app.ts';
import { describeEachDatabase } from '../support/databases.ts';

describe('decimalRemainder', () => {
  it('subtracts ledger decimals exactly and never goes below zero', () => {
    expect(decimalRemainder('10', '0.4999995')).toBe('9.5000005');
    expect(decimalRemainder('0.00001', '0.000000123456789012345')).toBe('0.000009876543210987655');
    expect(decimalRemainder('10.50', '0.5')).toBe('10');
    expect(decimalRemainder('1', '2')).toBe('0');
    expect(() => decimalRemainder('1e-5', '0')).toThrow(RangeError);
  });
});

describe('remaining', () => {
  const row = {
    epsilon_total: '10',
    delta_total: '0.00001',
    epsilon_spent: '0.1000000000000001',
    delta_spent: '0.000000001',
    rho_spent: '0.25',
    rho_total: '1.5',
  };
  it('gives ε and δ exactly under basic accounting', () => {
    const left = remaining(budgetState({ ...row, accounting: 'basic' }));
    expect(left.exact).toEqual({ epsilon: '9.8999999999999999', delta: '0.000009999' });
    expect(left.epsilon).toBeCloseTo(9.9, 12);
  });
  it('gives ρ and δ exactly under zcdp, and no exact ε (a conversion of ρ)', () => {
    expect(remaining(budgetState({ ...row, accounting: 'zcdp' })).exact).toEqual({
      epsilon: null,
      delta: '0.000009999',
      rho: '1.25',
    });
  });
});

describeEachDatabase('exact remaining budgets in answers', (database) => {
  let t: Awaited<ReturnType<typeof createTestApp>>;
  beforeAll(async () => {
    t = await createTestApp(database());
  });
  type Left = Record<string, { epsilon: number; exact: { epsilon: string | null; rho?: string | null } }>;

  it('sends the exact decimals beside the floats in answers, dry runs and /v1/me', async () => {
    const answer = (await (
      await t.query({ sql: 'SELECT COUNT(*) FROM people', epsilon: 0.5, mechanism: 'gaussian', delta: 1e-7 })
    ).json()) as { remaining: Left };
    // The demo commons composes under zcdp: ρ left is a difference of decimals, ε left a conversion.
    expect(answer.remaining.riverside!.exact.epsilon).toBeNull();
    expect(answer.remaining.riverside!.exact.rho).toMatch(/^\d+(\.\d+)?$/);

    const dry = (await (await t.query({ sql: 'SELECT COUNT(*) FROM people', dry_run: true })).json()) as {
      remaining: Left;
    };
    expect(dry.remaining.riverside!.exact.rho).toBe(answer.remaining.riverside!.exact.rho);

    const me = (await (await t.app.request('/v1/me', { headers: t.bearer(t.keys.analyst) })).json()) as {
      communities: { id: string; remaining: Left[string] }[];
    };
    const riverside = me.communities.find((c) => c.id === 'riverside')!;
    expect(riverside.remaining.exact.rho).toBe(answer.remaining.riverside!.exact.rho);
  });
});
