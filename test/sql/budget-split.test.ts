/**
 * The budget split that minimises the analyst's error (split.ts), and one noisy distinct-person count
 * serving both partition selection and COUNT(DISTINCT person): each shown as the new noise scale next
 * to the one the equal split gave.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { zcdpBudget } from '../../src/dp/accounting/index.ts';
import type { Policy } from '../../src/policy/schema.ts';
import { type PrivateQueryPlan, type QueryRequest, release } from '../../src/sql/index.ts';
import { noiseScale } from '../../src/sql/noise.ts';
import { optimalShares } from '../../src/sql/split.ts';
import { seededRandom } from '../support/seeded-random.ts';
import { loadDemoPolicy } from './demo-policy.ts';
import { privatePlanOf } from './private-plan.ts';

const SHAVE = 1 - 2 ** -20;
let policy: Policy;
beforeAll(async () => {
  policy = await loadDemoPolicy();
});

function plan(sql: string, request: QueryRequest): PrivateQueryPlan {
  return privatePlanOf({ sql, policy, role: 'analyst', request });
}

/** Σ αᵢ cᵢ / wᵢᵖ: the objective the shares minimise. */
function objective(
  shares: readonly number[],
  weights: readonly number[],
  sensitivities: readonly number[],
  p: number,
) {
  return shares.reduce((sum, w, i) => sum + (weights[i]! * sensitivities[i]! ** 2) / w ** p, 0);
}

describe('the closed-form split', () => {
  it('minimises the objective: no perturbation of the shares does better (property)', () => {
    const positive = fc.double({ min: 0.01, max: 1000, noNaN: true });
    fc.assert(
      fc.property(
        fc.array(fc.tuple(positive, positive), { minLength: 2, maxLength: 4 }),
        fc.constantFrom<1 | 2>(1, 2),
        fc.double({ min: -0.2, max: 0.2, noNaN: true }),
        (terms, p, move) => {
          const weights = terms.map(([a]) => a);
          const sensitivities = terms.map(([, c]) => c);
          const shares = optimalShares(
            1,
            weights,
            sensitivities.map((sensitivity) => ({ sensitivity })),
            p,
          );
          expect(shares.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
          // Move budget between the first two releases, keeping the total.
          const moved = [...shares];
          const amount = move * Math.min(moved[0]!, moved[1]!);
          moved[0]! += amount;
          moved[1]! -= amount;
          const best = objective(shares, weights, sensitivities, p);
          expect(objective(moved, weights, sensitivities, p)).toBeGreaterThanOrEqual(best * (1 - 1e-9));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('keeps the equal split where it is optimal (equal weights and sensitivities)', () => {
    expect(
      optimalShares(1, [2, 2, 2], [{ sensitivity: 5 }, { sensitivity: 5 }, { sensitivity: 5 }], 2),
    ).toEqual([1 / 3, 1 / 3, 1 / 3]);
    const query = plan('SELECT COUNT(*), COUNT(age) FROM people', { epsilon: 1 });
    const [a, b] = query.measurements.map((m) => noiseScale(m.noise));
    expect(query.measurements).toHaveLength(2);
    expect(a).toBe(b);
    expect(a).toBeCloseTo(1 / (0.5 * SHAVE), 6);
  });
});

describe('AVG: the split between its noisy sum and noisy count', () => {
  // Over age ∈ [0, 100] (planning mean μ = 50), one row per person: Δ_sum = 100, Δ_count = 1.
  const mu = 50;

  it('laplace at ε = 1: sum t 200 → 163, count t 2 → 2.59, AVG variance 13% lower', () => {
    const query = plan('SELECT AVG(age) FROM people', { epsilon: 1 });
    const [sumScale, countScale] = query.measurements.map((m) => noiseScale(m.noise)) as [number, number];
    // Equal halves (the old split): t = Δ/(ε/2).
    const old = { sum: 100 / (0.5 * SHAVE), count: 1 / (0.5 * SHAVE) };
    expect(old.sum).toBeCloseTo(200, 3);
    expect(sumScale).toBeCloseTo(163.0, 1);
    expect(countScale).toBeCloseTo(2.588, 2);
    // Delta method: Var(Ŝ/Ĉ)·C² ≈ Var(Ŝ) + μ² Var(Ĉ), with Var = 2t² for (continuous) Laplace.
    const variance = (s: number, c: number) => 2 * s * s + mu * mu * 2 * c * c;
    const ratio = variance(sumScale, countScale) / variance(old.sum, old.count);
    expect(ratio).toBeCloseTo(0.866, 2);
    // The ratio of shares is the closed form's (Δ_s/(μ Δ_c))^(2/3) = 2^(2/3).
    expect(old.sum / sumScale / (old.count / countScale)).toBeCloseTo(2 ** (2 / 3), 5);
    expect(query.cost.epsilon).toBeLessThanOrEqual(1);
  });

  it('gaussian at (1, 1e-6): the sum gets twice the count’s ρ, AVG variance 10% lower', () => {
    const query = plan('SELECT AVG(age) FROM people', { epsilon: 1, delta: 1e-6, mechanism: 'gaussian' });
    const [sumSigma, countSigma] = query.measurements.map((m) => noiseScale(m.noise)) as [number, number];
    const rho = zcdpBudget(1, 1e-6);
    const old = { sum: 100 / Math.sqrt(rho * SHAVE), count: 1 / Math.sqrt(rho * SHAVE) };
    expect(sumSigma).toBeLessThan(old.sum);
    expect(countSigma).toBeGreaterThan(old.count);
    // w_s/w_c = (Δ_s²/(μ² Δ_c²))^(1/2) = 2; σ² ∝ Δ²/w.
    expect((100 / sumSigma) ** 2 / (1 / countSigma) ** 2).toBeCloseTo(2, 4);
    const variance = (s: number, c: number) => s * s + mu * mu * c * c;
    expect(variance(sumSigma, countSigma) / variance(old.sum, old.count)).toBeCloseTo(0.9, 2);
    expect(query.cost.epsilon).toBeLessThanOrEqual(1);
  });

  it('releases averages closer to the truth than the equal split would (Monte Carlo over the plan)', () => {
    const query = plan('SELECT AVG(age) FROM people', { epsilon: 0.5 });
    const [sumMeasurement, countMeasurement] = query.measurements;
    const truth = { sum: 50 * 1000, count: 1000 };
    const random = seededRandom(21);
    let squaredError = 0;
    const draws = 4000;
    for (let i = 0; i < draws; i++) {
      const answer = release(
        query,
        [{ [sumMeasurement!.column]: truth.sum, [countMeasurement!.column]: truth.count }],
        { random },
      );
      squaredError += (Number(answer.rows[0]![0]) - 50) ** 2;
    }
    const [t1, t2] = [noiseScale(sumMeasurement!.noise), noiseScale(countMeasurement!.noise)];
    const predicted = (2 * t1 * t1 + mu * mu * 2 * t2 * t2) / truth.count ** 2;
    const equalSplit = (2 * (100 / 0.25) ** 2 + mu * mu * 2 * (1 / 0.25) ** 2) / truth.count ** 2;
    expect(squaredError / draws).toBeGreaterThan(predicted * 0.85);
    expect(squaredError / draws).toBeLessThan(predicted * 1.15);
    expect(predicted).toBeLessThan(equalSplit * 0.9);
  });
});

describe('one noisy distinct-person count for partition selection and COUNT(DISTINCT person)', () => {
  const sql = 'SELECT age, COUNT(DISTINCT person_id) FROM people GROUP BY age';

  it.each([
    ['laplace', { epsilon: 1, delta: 1e-6 }],
    ['gaussian', { epsilon: 1, delta: 1e-6, mechanism: 'gaussian' }],
  ] as const)('%s: one release with the whole budget, under 0.72 of the old scale', (name, request) => {
    const query = plan(sql, request);
    if (query.grouping.kind !== 'selected') throw new Error('expected partition selection');
    expect(query.measurements).toHaveLength(1);
    const selection = query.grouping.selection;
    if (selection.kind !== 'threshold') throw new Error('expected thresholding of the released count');
    expect(selection.measurement).toBe(0);
    expect(selection.noise).toEqual(query.measurements[0]!.noise);
    // Paid once: the measurement's loss and the δ of selection, no second count.
    expect(query.cost.losses).toHaveLength(2);
    const scale = noiseScale(query.measurements[0]!.noise);
    const withoutCount = plan('SELECT age FROM people GROUP BY age', request);
    if (withoutCount.grouping.kind !== 'selected') throw new Error('expected partition selection');
    // Selection alone has the whole budget too (the old plan split it over two releases): under
    // laplace as the optimal keep function at ε, under gaussian as counts of the same scale.
    const alone = withoutCount.grouping.selection;
    if (alone.kind === 'optimal') expect(alone.epsilon).toBeCloseTo(request.epsilon, 5);
    else expect(noiseScale(alone.noise)).toBeCloseTo(scale, 9);
    // The old plan: two releases, each half of ε (or of ρ, at δ/2 for the conversion).
    const oldScale =
      name === 'laplace' ? 1 / (0.5 * SHAVE) : 1 / Math.sqrt(2 * ((zcdpBudget(1, 0.5e-6) * SHAVE) / 2));
    expect(scale).toBeLessThan(oldScale * 0.72);
  });

  it('every released COUNT(DISTINCT person) is the count that cleared the threshold', () => {
    const query = plan(sql, { epsilon: 1, delta: 1e-6 });
    if (query.grouping.kind !== 'selected') throw new Error('expected partition selection');
    const column = query.measurements[0]!.column;
    const rows = Array.from({ length: 200 }, (_, i) => ({
      k0: i,
      [column]: i % 40,
      [query.grouping.kind === 'selected' ? query.grouping.unitsColumn : 'units']: i % 40,
    }));
    const answer = release(query, rows, { random: seededRandom(5) });
    expect(answer.rows.length).toBeGreaterThan(0);
    const selection = query.grouping.selection;
    if (selection.kind !== 'threshold') throw new Error('expected thresholding of the released count');
    for (const [, count] of answer.rows) expect(Number(count)).toBeGreaterThanOrEqual(selection.threshold);
  });
});
