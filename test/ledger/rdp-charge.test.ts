/**
 * The `rdp` ledger in the database: charges carry their Rényi curves, the budget row keeps the
 * composed curve, the fixed-order filter is checked on the locked rows (exact under concurrency),
 * and a community switching to rdp starts from the curves its existing charges imply.
 */
import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { dpSgdSigma } from '../../src/dp/accounting/index.ts';
import {
  composeRdpCharges,
  dpSgdRdpCharge,
  LEDGER_RDP_ORDERS,
  type RdpCharge,
  rdpBudget,
  rdpChargeEpsilon,
  rdpChargeOf,
  rdpSpend,
} from '../../src/dp/accounting/rdp-ledger.ts';
import { rdpToApprox } from '../../src/dp/accounting/rdp-to-approx.ts';
import { BudgetExhaustedError, type ChargeRequest } from '../../src/ledger/charge.ts';
import { listCharges, listCommunityBudgets } from '../../src/ledger/ledger-view.ts';
import { syncRdpBudgets } from '../../src/ledger/rdp-budgets.ts';
import { releaseCost } from '../../src/ledger/release-cost.ts';
import type { Policy } from '../../src/policy/schema.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { charge, pureCharge, setBudget } from '../support/ledger.ts';

const job = (() => {
  const { sigma } = dpSgdSigma({
    epsilon: 3,
    delta: 1e-5,
    q: 0.01,
    steps: 1000,
    accountant: 'rdp',
    tolerance: 1e-6,
  });
  return { q: 0.01, sigma, steps: 1000 };
})();

function jobCharge(communities: string[]): ChargeRequest {
  return {
    ...pureCharge(communities, 0),
    kind: 'training',
    cost: releaseCost({
      losses: [{ kind: 'approx', epsilon: 3, delta: 1e-5 }],
      mechanism: 'dp_sgd',
      rdp: dpSgdRdpCharge(job),
    }),
  };
}

const gaussianCharge = (communities: string[], rho: number): ChargeRequest => ({
  ...pureCharge(communities, 0),
  cost: releaseCost({ losses: [{ kind: 'zcdp', rho }], mechanism: 'discrete_gaussian', zcdpDelta: 1e-7 }),
});

describeEachDatabase(
  'rdp accounting in the ledger',
  (database) => {
    const row = async (id: string) =>
      database()
        .db.selectFrom('dpgate.community_budgets')
        .selectAll()
        .where('community_id', '=', id)
        .executeTakeFirstOrThrow();

    it('two DP-SGD jobs at ε = 3 fit one (10, 1e-5) budget and cost their RDP composition, never less', async () => {
      const { db } = database();
      await setBudget(db, 'tworuns', { accounting: 'rdp', epsilon: 10, delta: 1e-5 });
      await setBudget(db, 'tworuns-basic', { accounting: 'basic', epsilon: 10, delta: 1e-5 });
      await charge(db, jobCharge(['tworuns']));
      await charge(db, jobCharge(['tworuns']));
      const after = await row('tworuns');
      const both = composeRdpCharges([dpSgdRdpCharge(job), dpSgdRdpCharge(job)]);
      after.rdp_spent!.curve.forEach((tau, i) => {
        expect(tau).toBeCloseTo(both.curve[i]!, 10);
      });
      const spend = rdpSpend(rdpBudget(10, 1e-5), both);
      expect(Number(after.epsilon_spent)).toBeGreaterThanOrEqual(spend.epsilon);
      expect(Number(after.epsilon_spent)).toBeCloseTo(spend.epsilon, 9);
      expect(spend.epsilon).toBeGreaterThanOrEqual(rdpToApprox(LEDGER_RDP_ORDERS, both.curve, 1e-5).epsilon);
      expect(spend.epsilon).toBeLessThan(6);
      // Every charge row stores its own curve.
      const stored = await sql<{ rdp_curve: RdpCharge }>`
        select rdp_curve from dpgate.charges where community_id = 'tworuns'`.execute(db);
      expect(stored.rows).toHaveLength(2);
      expect(stored.rows[0]!.rdp_curve.curve).toHaveLength(LEDGER_RDP_ORDERS.length);
      // Under basic accounting the second job's δ does not fit.
      await charge(db, jobCharge(['tworuns-basic']));
      await expect(charge(db, jobCharge(['tworuns-basic']))).rejects.toBeInstanceOf(BudgetExhaustedError);
    });

    it('the filter admits exactly what fits, also with many concurrent charges', async () => {
      const { db } = database();
      await setBudget(db, 'crowd', { accounting: 'rdp', epsilon: 2, delta: 1e-5 });
      const rho = 0.01;
      const one = rdpChargeOf([{ kind: 'zcdp', rho }]);
      const budget = rdpBudget(2, 1e-5);
      let fits = 0;
      while (rdpSpend(budget, composeRdpCharges(Array(fits + 1).fill(one))).epsilon <= 2 * (1 - 1e-12))
        fits++;
      const results = await Promise.allSettled(
        Array.from({ length: fits + 15 }, () => charge(db, gaussianCharge(['crowd'], rho))),
      );
      const accepted = results.filter((r) => r.status === 'fulfilled').length;
      expect(accepted).toBe(fits);
      for (const r of results) {
        if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(BudgetExhaustedError);
      }
      const after = await row('crowd');
      const i = LEDGER_RDP_ORDERS.indexOf(budget.order);
      expect(after.rdp_spent!.curve[i]).toBeCloseTo(fits * budget.order * rho, 12);
      expect(Number(after.epsilon_spent)).toBeLessThanOrEqual(2);
    });

    it('a community switching from zcdp starts from the curves its charges imply', async () => {
      const { db } = database();
      await setBudget(db, 'switch', { accounting: 'zcdp', epsilon: 10, delta: 1e-5 });
      await charge(db, gaussianCharge(['switch'], 0.02));
      await charge(db, pureCharge(['switch'], 0.3));
      await db
        .updateTable('dpgate.community_budgets')
        .set({ accounting: 'rdp', rdp_order: null })
        .where('community_id', '=', 'switch')
        .execute();
      const policy = {
        accounting: 'rdp',
        budgets: { switch: { epsilon: 10, delta: 1e-5 } },
      } as unknown as Policy;
      await syncRdpBudgets(db, policy);
      const after = await row('switch');
      const expected = composeRdpCharges([
        rdpChargeOf([{ kind: 'zcdp', rho: 0.02 }]),
        rdpChargeOf([{ kind: 'pure', epsilon: 0.3 }]),
      ]);
      after.rdp_spent!.curve.forEach((tau, i) => {
        expect(tau).toBeCloseTo(expected.curve[i]!, 12);
      });
      expect(Number(after.rdp_order)).toBe(rdpBudget(10, 1e-5).order);
      // A later apply keeps the order and the curve.
      await syncRdpBudgets(db, policy);
      expect((await row('switch')).rdp_spent).toEqual(after.rdp_spent);
    });

    it('contributors see the binding order, the composed curve, what is left and each charge’s own (ε, δ)', async () => {
      const { db } = database();
      await setBudget(db, 'readers', { accounting: 'rdp', epsilon: 10, delta: 1e-5 });
      await charge(db, gaussianCharge(['readers'], 0.02));
      await charge(db, jobCharge(['readers']));
      const view = (await listCommunityBudgets(db)).find((c) => c.id === 'readers')!;
      const budget = rdpBudget(10, 1e-5);
      const spent = composeRdpCharges([rdpChargeOf([{ kind: 'zcdp', rho: 0.02 }]), dpSgdRdpCharge(job)]);
      const i = LEDGER_RDP_ORDERS.indexOf(budget.order);
      expect(view.rdp).toMatchObject({ order: budget.order, conversion_delta: budget.conversionDelta });
      expect(view.rdp!.budget).toBeCloseTo(budget.rdpTotal, 12);
      expect(view.rdp!.spent).toBeCloseTo(spent.curve[i]!, 10);
      expect(view.rdp!.gaussian_rho_left).toBeCloseTo((budget.rdpTotal - spent.curve[i]!) / budget.order, 10);
      expect(view.rdp!.curve.map((point) => point.order)).toEqual(LEDGER_RDP_ORDERS);
      // At the filter's order the curve's ε is the composed spend the gauge shows.
      expect(view.rdp!.curve[i]!.epsilon).toBeCloseTo(view.spent.epsilon, 9);
      expect(view.remaining.epsilon).toBeCloseTo(10 - view.spent.epsilon, 9);
      const { charges } = await listCharges(db, { communityId: 'readers', limit: 10 });
      const [training, query] = charges;
      expect(training!.own).toEqual(rdpChargeEpsilon(dpSgdRdpCharge(job), budget.conversionDelta));
      expect(training!.own!.epsilon).toBeLessThan(3.1);
      expect(query!.own).toEqual(
        rdpChargeEpsilon(rdpChargeOf([{ kind: 'zcdp', rho: 0.02 }]), budget.conversionDelta),
      );
      // Other modes show no rdp block and no separate own (ε, δ).
      await setBudget(db, 'plain', { accounting: 'basic', epsilon: 1, delta: 1e-6 });
      await charge(db, pureCharge(['plain'], 0.1));
      expect((await listCommunityBudgets(db)).find((c) => c.id === 'plain')!.rdp).toBeUndefined();
      expect((await listCharges(db, { communityId: 'plain', limit: 10 })).charges[0]!.own).toBeNull();
    });
  },
  { demo: false },
);
