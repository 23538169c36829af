import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { zcdpToEpsilon } from '../../src/dp/accounting/index.ts';
import { BudgetExhaustedError, type ChargeRequest } from '../../src/ledger/charge.ts';
import { releaseCost } from '../../src/ledger/release-cost.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { pureCharge as chargeFor, charge as chargeNow, setBudget, testPrincipal } from '../support/ledger.ts';

const analyst = testPrincipal();

const pureCharge = (communities: string[], epsilon: number) =>
  chargeFor(communities, epsilon, { principal: analyst });

describeEachDatabase(
  'ledger charges',
  (database) => {
    const charge = (request: ChargeRequest) => chargeNow(database().db, request);
    const spent = (community: string) =>
      database()
        .db.selectFrom('dpgate.community_budgets')
        .select(['epsilon_spent', 'delta_spent', 'rho_spent'])
        .where('community_id', '=', community)
        .executeTakeFirstOrThrow();

    it('charges a basic budget exactly: a budget for N queries pays for N and refuses the next', async () => {
      await setBudget(database().db, 'exact', { accounting: 'basic', epsilon: 1, delta: 1e-6 });
      for (let i = 0; i < 10; i++) await charge(pureCharge(['exact'], 0.1));
      await expect(charge(pureCharge(['exact'], 0.1))).rejects.toThrow(BudgetExhaustedError);
      expect(Number((await spent('exact')).epsilon_spent)).toBe(1);
      expect((await spent('exact')).epsilon_spent).toMatch(/^1(\.0*)?$/);
    });

    it('never overspends under 60 concurrent charges: exactly the affordable number succeed', async () => {
      await setBudget(database().db, 'busy', { accounting: 'basic', epsilon: 2.5, delta: 1e-6 });
      const outcomes = await Promise.allSettled(
        Array.from({ length: 60 }, () => charge(pureCharge(['busy'], 0.1))),
      );
      const succeeded = outcomes.filter((o) => o.status === 'fulfilled').length;
      const refused = outcomes.filter(
        (o) => o.status === 'rejected' && o.reason instanceof BudgetExhaustedError,
      ).length;
      expect(succeeded).toBe(25);
      expect(refused).toBe(35);
      expect((await spent('busy')).epsilon_spent).toMatch(/^2\.50*$/);
      const rows = await database()
        .db.selectFrom('dpgate.charges')
        .select(sql<number>`count(*)`.as('n'))
        .where('community_id', '=', 'busy')
        .executeTakeFirstOrThrow();
      expect(rows.n).toBe(25);
    });

    it('charges every community in scope the full cost, or none of them', async () => {
      await setBudget(database().db, 'north', { accounting: 'basic', epsilon: 1, delta: 1e-6 });
      await setBudget(database().db, 'south', { accounting: 'basic', epsilon: 0.25, delta: 1e-6 });
      const both = await charge(pureCharge(['south', 'north'], 0.2));
      expect(both.map((c) => [c.communityId, c.charged.epsilon])).toEqual([
        ['north', '0.2'],
        ['south', '0.2'],
      ]);
      const refusal = await charge(pureCharge(['north', 'south'], 0.2)).catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(BudgetExhaustedError);
      expect((refusal as BudgetExhaustedError).communities.map((c) => c.communityId)).toEqual(['south']);
      expect(Number((await spent('north')).epsilon_spent)).toBeCloseTo(0.2, 15);
    });

    it('composes a zcdp budget in ρ and refuses what would pass ε_total under the tight conversion', async () => {
      await setBudget(database().db, 'zed', { accounting: 'zcdp', epsilon: 2, delta: 1e-5 });
      const gaussian = (rho: number): ChargeRequest => ({
        ...pureCharge(['zed'], 0),
        cost: releaseCost({
          losses: [{ kind: 'zcdp', rho }],
          mechanism: 'discrete_gaussian',
          zcdpDelta: 1e-6,
        }),
      });
      let accepted = 0;
      for (;;) {
        try {
          await charge(gaussian(0.01));
          accepted++;
        } catch (error) {
          expect(error).toBeInstanceOf(BudgetExhaustedError);
          break;
        }
      }
      const rho = Number((await spent('zed')).rho_spent);
      expect(rho).toBeCloseTo(accepted * 0.01, 12);
      expect(zcdpToEpsilon(rho, 1e-5)).toBeLessThanOrEqual(2);
      expect(zcdpToEpsilon(rho + 0.01, 1e-5)).toBeGreaterThan(2 * (1 - 1e-12));
      // Under basic composition the same queries would have cost far more: zCDP lets more through.
      expect(accepted).toBeGreaterThan(2 / zcdpToEpsilon(0.01, 1e-6));
    });

    it('names only the short community when a zcdp budget cannot pay', async () => {
      await setBudget(database().db, 'roomy', { accounting: 'basic', epsilon: 5, delta: 1e-6 });
      await setBudget(database().db, 'tight', { accounting: 'zcdp', epsilon: 0.1, delta: 1e-5 });
      const refusal = await charge(pureCharge(['roomy', 'tight'], 0.5)).catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(BudgetExhaustedError);
      expect((refusal as BudgetExhaustedError).communities.map((c) => c.communityId)).toEqual(['tight']);
      expect((refusal as Error).message).not.toContain('roomy');
    });

    it('keeps charges append-only', async () => {
      await setBudget(database().db, 'fixed', { accounting: 'basic', epsilon: 1, delta: 1e-6 });
      await charge(pureCharge(['fixed'], 0.1));
      await expect(
        database()
          .db.updateTable('dpgate.charges')
          .set({ epsilon: '0' })
          .where('community_id', '=', 'fixed')
          .execute(),
      ).rejects.toThrow(/append-only/);
      await expect(
        database().db.deleteFrom('dpgate.charges').where('community_id', '=', 'fixed').execute(),
      ).rejects.toThrow(/append-only/);
    });
  },
  { demo: false },
);
