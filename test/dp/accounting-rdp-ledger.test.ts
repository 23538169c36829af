/**
 * The `rdp` ledger: every charge composed by its Rényi curve at a fixed order (a Rényi filter), so
 * DP-SGD jobs and SQL releases share one budget as tightly as RDP composition allows, and never
 * more cheaply than RDP composition says.
 */
import { describe, expect, it } from 'vitest';
import { dpSgdEpsilonByRdp, dpSgdSigma } from '../../src/dp/accounting/index.ts';
import {
  composeRdpCharges,
  dpSgdRdpCharge,
  LEDGER_RDP_ORDERS,
  NO_RDP_CHARGE,
  pureRdp,
  rdpBudget,
  rdpChargeEpsilon,
  rdpChargeFits,
  rdpChargeOf,
  rdpSpend,
} from '../../src/dp/accounting/rdp-ledger.ts';
import { epsilonFromRdpAtOrder, rdpToApprox } from '../../src/dp/accounting/rdp-to-approx.ts';
import { subsampledGaussianRdp } from '../../src/dp/accounting/subsampled-gaussian-rdp.ts';

/** dp_accounting's RdpAccountant: add the per-order RDP of every event, convert with the best order. */
function dpAccountingEpsilon(
  events: readonly ((order: number) => number)[],
  orders: readonly number[],
  delta: number,
): number {
  const composed = orders.map((order) => events.reduce((sum, rdp) => sum + rdp(order), 0));
  return rdpToApprox(orders, composed, delta).epsilon;
}

const job = (() => {
  const q = 0.01;
  const steps = 1000;
  const { sigma } = dpSgdSigma({ epsilon: 3, delta: 1e-5, q, steps, accountant: 'rdp', tolerance: 1e-6 });
  return { q, steps, sigma };
})();
const jobRdp = (order: number) => job.steps * subsampledGaussianRdp(job, order);

describe('two DP-SGD jobs at ε = 3 on one budget', () => {
  const budget = rdpBudget(10, 1e-5);
  const one = dpSgdRdpCharge(job);
  const both = composeRdpCharges([one, one]);

  it('each job alone is ε = 3 at δ = 1e-5 by the RDP accountant', () => {
    expect(dpSgdEpsilonByRdp({ ...job, delta: 1e-5 }).epsilon).toBeCloseTo(3, 4);
  });

  it('cost exactly RDP composition at the filter order, never less than dp_accounting at δ_total', () => {
    const spend = rdpSpend(budget, both);
    const atOrder = epsilonFromRdpAtOrder(budget.order, 2 * jobRdp(budget.order), budget.conversionDelta);
    expect(spend.epsilon).toBe(atOrder);
    const best = dpAccountingEpsilon([jobRdp, jobRdp], LEDGER_RDP_ORDERS, 1e-5);
    expect(spend.epsilon).toBeGreaterThanOrEqual(best);
    // Far below the 6 that adding ε gives, and both fit where basic accounting (δ 2e-5) cannot.
    expect(spend.epsilon).toBeLessThan(5);
    expect(spend.delta).toBeLessThanOrEqual(1e-5);
    expect(rdpChargeFits(budget, one, one)).toBe(true);
  });

  it('a filter order chosen for the workload matches dp_accounting to the order grid', () => {
    const best = rdpToApprox(
      LEDGER_RDP_ORDERS,
      LEDGER_RDP_ORDERS.map((order) => 2 * jobRdp(order)),
      0.9e-5,
    );
    const tuned = rdpBudget(10, 1e-5, best.order);
    expect(rdpSpend(tuned, both).epsilon).toBeCloseTo(best.epsilon, 12);
  });

  it('each charge reports its own (ε, δ)', () => {
    const own = rdpChargeEpsilon(one, 1e-5);
    expect(own.epsilon).toBeGreaterThanOrEqual(
      dpAccountingEpsilon([jobRdp], LEDGER_RDP_ORDERS, 1e-5) - 1e-12,
    );
    expect(own.epsilon).toBeLessThan(3.1);
  });
});

describe('a mix of SQL releases and one job', () => {
  const budget = rdpBudget(10, 1e-5);
  const laplace = rdpChargeOf([{ kind: 'pure', epsilon: 0.1 }]);
  const gaussian = rdpChargeOf([{ kind: 'zcdp', rho: 0.01 }]);
  const selected = rdpChargeOf([
    { kind: 'zcdp', rho: 0.005 },
    { kind: 'approx', epsilon: 0, delta: 1e-7 },
  ]);
  const charges = [...Array(10).fill(laplace), ...Array(10).fill(gaussian), selected, dpSgdRdpCharge(job)];

  it('composes to the sum of the curves, δ parts added to the final δ', () => {
    const total = composeRdpCharges(charges);
    const events = [
      ...Array(10).fill((order: number) => pureRdp(0.1, order)),
      ...Array(10).fill((order: number) => order * 0.01),
      (order: number) => order * 0.005,
      jobRdp,
    ];
    const spend = rdpSpend(budget, total);
    const i = LEDGER_RDP_ORDERS.indexOf(budget.order);
    const expected = events.reduce((sum, rdp) => sum + rdp(budget.order), 0);
    expect(total.curve[i]).toBeCloseTo(expected, 12);
    expect(spend.delta).toBeCloseTo(budget.conversionDelta + 1e-7, 18);
    expect(spend.epsilon).toBeGreaterThanOrEqual(dpAccountingEpsilon(events, LEDGER_RDP_ORDERS, 1e-5 - 1e-7));
  });

  it('the filter refuses the charge that would pass its budget, and nothing before it', () => {
    let spent = NO_RDP_CHARGE;
    let accepted = 0;
    while (rdpChargeFits(budget, spent, gaussian)) {
      spent = composeRdpCharges([spent, gaussian]);
      accepted++;
    }
    expect(accepted).toBeGreaterThan(10);
    expect(rdpSpend(budget, spent).epsilon).toBeLessThanOrEqual(10);
    const over = composeRdpCharges([spent, gaussian]);
    expect(rdpSpend(budget, over).epsilon).toBeGreaterThan(10 * (1 - 1e-9));
  });

  it('refuses δ parts beyond their share of δ', () => {
    const big = rdpChargeOf([{ kind: 'approx', epsilon: 0, delta: 2e-6 }]);
    expect(rdpChargeFits(budget, NO_RDP_CHARGE, big)).toBe(false);
  });
});

describe('curves of the mechanisms', () => {
  it('pure ε-DP: the sharp bound is at least the discrete Laplace divergence and at most ε, αε²/2', () => {
    for (const epsilon of [0.05, 0.5, 2]) {
      const q = Math.exp(-epsilon);
      const pmf = (z: number) => ((1 - q) / (1 + q)) * q ** Math.abs(z);
      for (const order of LEDGER_RDP_ORDERS) {
        let sum = 0;
        for (let z = -4000; z <= 4000; z++) sum += pmf(z) ** order * pmf(z - 1) ** (1 - order);
        const exact = Math.log(sum) / (order - 1);
        const bound = pureRdp(epsilon, order);
        if (Number.isFinite(exact)) expect(bound).toBeGreaterThanOrEqual(exact - 1e-9);
        expect(bound).toBeLessThanOrEqual(Math.min(epsilon, (order * epsilon * epsilon) / 2) + 1e-15);
      }
    }
  });

  it('zCDP: τ(α) = αρ', () => {
    const charge = rdpChargeOf([{ kind: 'zcdp', rho: 0.02 }]);
    LEDGER_RDP_ORDERS.forEach((order, i) => {
      expect(charge.curve[i]).toBeCloseTo(order * 0.02, 15);
    });
  });
});
