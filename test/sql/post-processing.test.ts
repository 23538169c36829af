/**
 * Optional post-processing (consistency.ts): functions of the noisy answer only, so the plan, its
 * cost and the noise are the same with or without it.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Policy } from '../../src/policy/schema.ts';
import { nonNegative, nonNegativeWithTotal } from '../../src/sql/consistency.ts';
import { type PrivateQueryPlan, release } from '../../src/sql/index.ts';
import { seededRandom } from '../support/seeded-random.ts';
import { loadDemoPolicy } from './demo-policy.ts';
import { privatePlanOf } from './private-plan.ts';

let policy: Policy;
beforeAll(async () => {
  policy = await loadDemoPolicy();
});

function plan(sql: string): PrivateQueryPlan {
  return privatePlanOf({ sql, policy, role: 'analyst', request: { epsilon: 0.05 } });
}

describe('the projections', () => {
  const counts = fc.array(fc.integer({ min: -50, max: 50 }), { minLength: 1, maxLength: 20 });

  it('non-negative: max(x, 0), never farther from any non-negative truth', () => {
    fc.assert(
      fc.property(counts, counts, (noisy, truth) => {
        const clamped = nonNegative(noisy);
        clamped.forEach((x, i) => {
          expect(x).toBeGreaterThanOrEqual(0);
          const t = Math.abs(truth[i % truth.length]!);
          expect(Math.abs(x - t)).toBeLessThanOrEqual(Math.abs(noisy[i]! - t));
        });
      }),
    );
  });

  it('with a total: non-negative, summing to the noisy total, and the closest such vector', () => {
    fc.assert(
      fc.property(counts, fc.double({ min: 0, max: 1, noNaN: true }), (noisy, mix) => {
        const projected = nonNegativeWithTotal(noisy);
        const total = Math.max(
          noisy.reduce((a, b) => a + b, 0),
          0,
        );
        for (const x of projected) expect(x).toBeGreaterThanOrEqual(0);
        expect(projected.reduce((a, b) => a + b, 0)).toBeCloseTo(total, 9);
        // Any other feasible point (here: a mix with the uniform split) is at least as far away.
        const other = projected.map((x) => (1 - mix) * x + (mix * total) / noisy.length);
        const distance = (v: number[]) => v.reduce((sum, x, i) => sum + (x - noisy[i]!) ** 2, 0);
        expect(distance(other)).toBeGreaterThanOrEqual(distance(projected) - 1e-9);
      }),
    );
    expect(nonNegativeWithTotal([5, -3, 1])).toEqual([3, 0, 0]);
  });
});

describe('release with post-processing', () => {
  const sql = 'SELECT educ, COUNT(*) AS n, SUM(age) AS total_age, AVG(age) FROM people GROUP BY educ';
  // Sparse true counts, so small ε makes negative noisy counts likely.
  const rows = Array.from({ length: 16 }, (_, i) => ({ k0: i + 1, m0: i % 4 === 0 ? 30 : 0, m1: 0 }));

  it('is a function of the same noise: cost, plan and the unprocessed cells are unchanged', () => {
    const query = plan(sql);
    const columns = Object.fromEntries(query.measurements.map((m, i) => [i, m.column]));
    const trueRows = rows.map((r) => ({ k0: r.k0, [columns[0]!]: r.m0, [columns[1]!]: 40 * r.m0 }));
    const raw = release(query, trueRows, { random: seededRandom(3) });
    const processed = release(query, trueRows, {
      random: seededRandom(3),
      postProcessing: ['non_negative', 'total'],
    });
    expect(raw.postProcessing).toBeUndefined();
    expect(processed.postProcessing).toEqual({ applied: ['non_negative', 'total'], totalRow: 16 });
    expect(raw.rows.some(([, n]) => Number(n) < 0)).toBe(true);
    const groups = processed.rows.slice(0, 16);
    for (const [, n] of groups) expect(Number(n)).toBeGreaterThanOrEqual(0);
    // The counts keep the noisy total; sums are untouched and add up to the total row's.
    const sumOf = (table: typeof raw.rows, column: number) =>
      table.slice(0, 16).reduce((s, row) => s + Number(row[column]), 0);
    const total = processed.rows[16]!;
    expect(total[0]).toBeNull();
    expect(Number(total[1])).toBeCloseTo(Math.max(sumOf(raw.rows, 1), 0), 6);
    expect(Number(total[1])).toBeCloseTo(sumOf(processed.rows, 1), 6);
    expect(Number(total[2])).toBeCloseTo(sumOf(raw.rows, 2), 6);
    for (const [g, row] of groups.entries()) expect(row[2]).toBe(raw.rows[g]![2]);
    // The projected counts lose their interval; the sums keep theirs.
    expect(processed.accuracy[0]![1]).toBeNull();
    expect(processed.accuracy[0]![2]).toEqual(raw.accuracy[0]![2]);
  });

  it('clamping alone keeps every interval, and a total is only added over public domains', () => {
    const query = plan(sql);
    const trueRows = rows.map((r) => ({ k0: r.k0, m0: r.m0, m1: 40 * r.m0 }));
    const clamped = release(query, trueRows, { random: seededRandom(4), postProcessing: ['non_negative'] });
    expect(clamped.accuracy[0]![1]).toMatchObject({ kind: 'noise' });
    const ungrouped = plan('SELECT COUNT(*) FROM people');
    const answer = release(ungrouped, [{ m0: 3 }], { random: seededRandom(5), postProcessing: ['total'] });
    expect(answer.rows).toHaveLength(1);
    expect(answer.postProcessing).toEqual({ applied: [] });
  });
});
