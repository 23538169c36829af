import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AccountingInputError,
  composeBasic,
  composeZcdp,
  pureToZcdp,
  remainingRho,
  zcdpBudget,
  zcdpSpendToEpsilon,
  zcdpToEpsilon,
  zcdpToEpsilonBunSteinke,
} from '../../src/dp/accounting/index.ts';
import { epsilonFromRdpAtOrder } from '../../src/dp/accounting/rdp-to-approx.ts';

describe('zCDP → (ε, δ)', () => {
  // Canonne, Kamath & Steinke 2020, "The Discrete Gaussian for Differential Privacy", Cor. 13
  // (their Fig. 1 compares it with Bun & Steinke 2016 Prop. 1.3): ρ = 0.5, δ = 1e-5 gives
  // ε ≈ 4.728 tight, versus ρ + 2√(ρ ln(1/δ)) = 5.2985.
  it('ρ = 0.5, δ = 1e-5: tight ε ≈ 4.728, Bun–Steinke 5.299', () => {
    expect(zcdpToEpsilon(0.5, 1e-5)).toBeCloseTo(4.728, 3);
    expect(zcdpToEpsilonBunSteinke(0.5, 1e-5)).toBeCloseTo(5.2985, 4);
  });

  // The minimiser brackets the optimum from a coarse grid, which is exact only for a unimodal
  // objective: check both the conversion and the budget against a 40,000-point grid over the whole
  // search range, where a second local minimum would show as a gap.
  it('matches a 40,000-point grid over the order (ε and the ρ budget), from ρ = 1e-12 to 1e4', () => {
    const points = 40_000;
    const orders = Array.from({ length: points + 1 }, (_, i) => 1 + Math.exp(-12 + (42 * i) / points));
    for (const rho of [1e-12, 1e-8, 1e-4, 0.01, 0.5, 3, 100, 1e4]) {
      for (const delta of [1e-300, 1e-30, 1e-9, 1e-5, 0.01, 0.5, 0.9]) {
        const grid = Math.min(...orders.map((order) => epsilonFromRdpAtOrder(order, order * rho, delta)));
        const epsilon = zcdpToEpsilon(rho, delta);
        expect(epsilon).toBeLessThanOrEqual(grid);
        expect(epsilon).toBeGreaterThanOrEqual(grid * (1 - 1e-6));
        if (grid > 0) {
          // Every order's ρ at this ε is a valid budget: the budget reaches the best of the grid's.
          const budget = zcdpBudget(grid, delta);
          const gridBudget = Math.max(
            ...orders.map(
              (order) =>
                (grid - Math.log1p(-1 / order) + (Math.log(delta) + Math.log(order)) / (order - 1)) / order,
            ),
          );
          expect(budget).toBeGreaterThanOrEqual(gridBudget * (1 - 1e-9));
          expect(zcdpToEpsilon(budget, delta)).toBeLessThanOrEqual(grid);
        }
      }
    }
  });

  it('the tight conversion never exceeds Bun–Steinke and increases in ρ', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1e-6, max: 50, noNaN: true }),
        fc.double({ min: 1e-12, max: 0.1, noNaN: true }),
        (rho, delta) => {
          const tight = zcdpToEpsilon(rho, delta);
          expect(tight).toBeLessThanOrEqual(zcdpToEpsilonBunSteinke(rho, delta) + 1e-12);
          const larger = zcdpToEpsilon(rho * 1.01, delta);
          if (tight > 0) expect(larger).toBeGreaterThan(tight);
          else expect(larger).toBeGreaterThanOrEqual(0);
        },
      ),
      { numRuns: 50 },
    );
  });

  it('the ρ budget of (ε, δ) is the largest ρ whose tight ε fits', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.01, max: 20, noNaN: true }),
        fc.double({ min: 1e-10, max: 1e-3, noNaN: true }),
        (epsilon, delta) => {
          const rho = zcdpBudget(epsilon, delta);
          expect(zcdpToEpsilon(rho, delta)).toBeLessThanOrEqual(epsilon);
          expect(zcdpToEpsilon(rho * (1 + 1e-6), delta)).toBeGreaterThan(epsilon);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('pure ε is (ε²/2)-zCDP (Bun & Steinke 2016 Prop. 1.4)', () => {
    expect(pureToZcdp(0.1)).toBeCloseTo(0.005, 15);
  });
});

describe('ledger composition', () => {
  const laplace = { kind: 'pure', epsilon: 0.1 } as const;
  const gaussian = { kind: 'zcdp', rho: 0.02 } as const;
  const dpSgd = { kind: 'approx', epsilon: 1, delta: 1e-7 } as const;

  it('basic: ε and δ add (Dwork & Roth 2014 Thm 3.16); a zCDP loss is refused', () => {
    const total = composeBasic([laplace, dpSgd, laplace]);
    expect(total.epsilon).toBeCloseTo(1.2, 14);
    expect(total.delta).toBe(1e-7);
    expect(() => composeBasic([gaussian])).toThrow(AccountingInputError);
  });

  it('zcdp: ρ adds, pure charges enter as ε²/2, approximate charges stay apart', () => {
    const spend = composeZcdp([laplace, gaussian, dpSgd, gaussian]);
    expect(spend.rho).toBeCloseTo(0.045, 15);
    expect(spend).toMatchObject({ epsilon: 1, delta: 1e-7 });
    expect(zcdpSpendToEpsilon(spend, 1e-6)).toBeCloseTo(1 + zcdpToEpsilon(0.045, 9e-7), 12);
  });

  it('zcdp: 100 Laplace charges of ε = 0.1 (ρ = 0.5) cost ε ≈ 5.22 at δ = 1e-6, not their sum of 10', () => {
    const spend = composeZcdp(Array.from({ length: 100 }, () => laplace));
    expect(zcdpSpendToEpsilon(spend, 1e-6)).toBeCloseTo(zcdpToEpsilon(0.5, 1e-6), 12);
    expect(zcdpSpendToEpsilon(spend, 1e-6)).toBeLessThan(5.3);
  });

  it('remaining ρ reaches zero exactly when the converted spend reaches the budget', () => {
    const budget = { epsilon: 3, delta: 1e-6 };
    const spend = composeZcdp([dpSgd]);
    const left = remainingRho(spend, budget);
    const full = composeZcdp([dpSgd, { kind: 'zcdp', rho: left }]);
    expect(zcdpSpendToEpsilon(full, budget.delta)).toBeLessThanOrEqual(budget.epsilon);
    expect(
      zcdpSpendToEpsilon(composeZcdp([dpSgd, { kind: 'zcdp', rho: left * 1.001 }]), budget.delta),
    ).toBeGreaterThan(3);
    expect(remainingRho(composeZcdp([{ kind: 'approx', epsilon: 3, delta: 0 }]), budget)).toBeLessThanOrEqual(
      0,
    );
  });
});
