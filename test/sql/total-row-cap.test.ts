/**
 * A cap on a person's rows in all groups together (L1, `max_rows_in_total`), beside rows per group
 * (L∞) and groups per person (L0). The demo's survey_responses allows 2 rows in each of 2 groups;
 * with a total of 2 a grouped COUNT or SUM needs half the noise: the new scale next to the old. On
 * PGlite and PostgreSQL the rewrite enforces the cap: where no one exceeds it the noiseless answer
 * equals plain SQL, and one person with 1,000 rows moves the groups by at most the new L1 bound.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Policy } from '../../src/policy/schema.ts';
import type { PrivateQueryPlan } from '../../src/sql/index.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { keepResponsesPerPerson, plain, run } from '../support/run-sql.ts';
import { loadDemoPolicy } from './demo-policy.ts';
import { privatePlanOf } from './private-plan.ts';

let demo: Policy;
let capped: Policy;
beforeAll(async () => {
  demo = await loadDemoPolicy();
  capped = structuredClone(demo) as Policy;
  const contributions = capped.tables.survey_responses!.contributions!;
  (capped.tables.survey_responses as { contributions: unknown }).contributions = {
    ...contributions,
    max_rows_in_total: 2,
  };
});

function plan(sql: string, policy: Policy, mechanism: 'laplace' | 'gaussian' = 'laplace'): PrivateQueryPlan {
  return privatePlanOf({ sql, policy, role: 'analyst', request: { epsilon: 1, delta: 1e-7, mechanism } });
}

const GROUPED = 'SELECT educ, COUNT(*), SUM(age) FROM survey_responses GROUP BY educ';

describe('sensitivity under a total row cap', () => {
  it('uses the tightest bound: L1 min(k·r, R), L2 min(√k·r, √(r·R)), per row value', () => {
    const before = plan(GROUPED, demo);
    const after = plan(GROUPED, capped);
    expect(after.contribution).toEqual({ maxRowsPerGroup: 2, maxGroupsPerUnit: 2, maxRowsInTotal: 2 });
    expect(before.measurements.map((m) => m.sensitivity.l1)).toEqual([4, 400]);
    expect(after.measurements.map((m) => m.sensitivity.l1)).toEqual([2, 200]);
    expect(after.measurements.map((m) => m.sensitivity.perGroup)).toEqual([2, 200]);
    // The noise: discrete Laplace scale t = Δ₁/ε_i, half of what it was (old next to new).
    const scales = (p: PrivateQueryPlan) =>
      p.measurements.map((m) =>
        m.noise.family === 'discrete_laplace'
          ? m.noise.scale.numerator / m.noise.scale.denominator
          : Number.NaN,
      );
    const [oldScales, newScales] = [scales(before), scales(after)];
    newScales.forEach((t, i) => {
      expect(t / oldScales[i]!).toBeCloseTo(0.5, 6);
    });
    const gaussian = plan(GROUPED, capped, 'gaussian');
    expect(gaussian.measurements[0]!.sensitivity.l2).toBeCloseTo(2, 12); // min(√2·2, √(2·2))
    expect(plan(GROUPED, demo, 'gaussian').measurements[0]!.sensitivity.l2).toBeCloseTo(2 * Math.SQRT2, 12);
  });

  it('leaves queries the cap cannot tighten as they were', () => {
    // One group: k·r = 2 = R. The person count of partition selection and distinct values: not scaled.
    for (const sql of [
      'SELECT COUNT(*), SUM(income) FROM survey_responses',
      'SELECT age, COUNT(DISTINCT educ) FROM survey_responses GROUP BY age',
    ]) {
      expect(plan(sql, capped).measurements.map((m) => m.sensitivity)).toEqual(
        plan(sql, demo).measurements.map((m) => m.sensitivity),
      );
      expect(plan(sql, capped).sql.text).not.toContain('unit_rows');
    }
    // A join: the cap holds only when every private table states one (people does not).
    expect(
      plan(
        'SELECT s.educ, COUNT(*) FROM people p JOIN survey_responses s USING (person_id) GROUP BY s.educ',
        capped,
      ).contribution.maxRowsInTotal,
    ).toBeUndefined();
  });
});

describeEachDatabase('the total row cap on the database', (database) => {
  it('changes nothing where every person has at most R rows', async () => {
    await keepResponsesPerPerson(database(), 2);
    const grouped = plan(GROUPED, capped);
    expect(grouped.sql.text).toContain('unit_rows');
    const rows = await run(database(), grouped.sql);
    const truth = await plain(
      database(),
      'SELECT educ, count(*) AS n, sum(age) AS age FROM commons.survey_responses GROUP BY educ',
    );
    for (const row of truth) {
      const released = rows.find((r) => r.k0 === row.educ)!;
      expect(Number(released.m0)).toBe(Number(row.n));
      expect(Number(released.m1)).toBe(Number(row.age));
    }
  });

  it('one person with 1,000 rows moves the groups by at most the capped L1 in total', async () => {
    const grouped = plan(GROUPED, capped);
    const before = await run(database(), grouped.sql);
    await plain(database(), 'DELETE FROM commons.survey_responses WHERE person_id = 7');
    const without = await run(database(), grouped.sql);
    await plain(
      database(),
      `INSERT INTO commons.survey_responses (response_id, person_id, age, sex, educ, race, income, married)
       SELECT 2000000 + i, 7, 100, 1, 1 + i % 16, 1, 1000, 0 FROM generate_series(1, 1000) AS i`,
    );
    const withHeavy = await run(database(), grouped.sql);
    expect(before.length).toBeGreaterThan(0);
    for (const measurement of grouped.measurements) {
      const moved = withHeavy.map((row) =>
        Math.abs(
          Number(row[measurement.column]) - Number(without.find((r) => r.k0 === row.k0)![measurement.column]),
        ),
      );
      expect(moved.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(measurement.sensitivity.l1);
      expect(moved.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    }
  });
});
