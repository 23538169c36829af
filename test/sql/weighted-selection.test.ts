/**
 * Weighted Gaussian partition selection in the rewritten SQL (docs/sql.md §6–7). Planning: with
 * persons in up to k = 3 or 5 groups the planner picks it, the charge stays within the request, and a
 * released group is kept as often as its noisy weight clears the threshold. On PGlite and PostgreSQL:
 * the noiseless weight sums equal plain SQL (each person adds ⌊G/√j⌋ to each of their j groups), stay
 * the same beside distinct values, sums and a total row cap, and one person with 1,000 rows in 100
 * groups moves the weight vector by at most G (one unit) in L2.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { SELECTION_GRID } from '../../src/dp/weighted-gaussian-selection.ts';
import type { Policy } from '../../src/policy/schema.ts';
import { type PrivateQueryPlan, planQuery, release } from '../../src/sql/index.ts';
import type { Selection } from '../../src/sql/plan.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { plain, run } from '../support/run-sql.ts';
import { seededRandom } from '../support/seeded-random.ts';
import { loadDemoPolicy } from './demo-policy.ts';

const BY_AGE = 'SELECT age, COUNT(*) FROM survey_responses GROUP BY age';
let policies: Map<number, Policy>;
beforeAll(async () => {
  const demo = await loadDemoPolicy();
  policies = new Map(
    [3, 5].map((k) => {
      const policy = structuredClone(demo) as Policy;
      const contributions = policy.tables.survey_responses!.contributions!;
      (policy.tables.survey_responses as { contributions: unknown }).contributions = {
        ...contributions,
        max_groups_per_unit: k,
      };
      return [k, policy];
    }),
  );
});

function plan(k: number, mechanism: 'laplace' | 'gaussian', epsilon = 1, delta = 1e-7): PrivateQueryPlan {
  const result = planQuery({
    sql: BY_AGE,
    policy: policies.get(k)!,
    role: 'analyst',
    request: { epsilon, delta, mechanism },
  });
  if (!result.ok || result.plan.kind !== 'private') throw new Error('expected a private plan');
  return result.plan;
}

function weighted(query: PrivateQueryPlan): Extract<Selection, { kind: 'weighted_gaussian' }> {
  if (query.grouping.kind !== 'selected') throw new Error('expected partition selection');
  const selection = query.grouping.selection;
  if (selection.kind !== 'weighted_gaussian') throw new Error(`expected weighted, got ${selection.kind}`);
  return selection;
}

describe('the plan of a GROUP BY whose persons are in up to k groups', () => {
  it.each([
    [3, 'gaussian'],
    [5, 'gaussian'],
    [3, 'laplace'],
    [5, 'laplace'],
  ] as const)('k = %s, %s: weighted Gaussian selection, charged within (ε, δ)', (k, mechanism) => {
    const query = plan(k, mechanism);
    const selection = weighted(query);
    expect(selection.weights).toHaveLength(k);
    expect(query.sql.text).toContain('selection_weight');
    expect(selection.selectionDelta).toBeLessThanOrEqual(selection.delta);
    expect(query.cost.epsilon).toBeLessThanOrEqual(1);
    expect(query.cost.delta).toBeLessThanOrEqual(1e-7);
    // Under gaussian its ρ joins the measurements'; under laplace it is its own (ε, δ) part.
    const approx = query.cost.losses.filter((l) => l.kind === 'approx');
    expect(approx).toEqual([{ kind: 'approx', epsilon: selection.epsilon, delta: selection.delta }]);
    if (mechanism === 'gaussian') {
      expect(selection.epsilon).toBe(0);
      const measured = query.measurements.reduce(
        (sum, m) => sum + (m.loss.kind === 'zcdp' ? m.loss.rho : 0),
        0,
      );
      const rho = selection.loss.kind === 'zcdp' ? selection.loss.rho : Number.NaN;
      expect(query.cost.rho).toBeCloseTo(measured + rho, 12);
    } else {
      expect(selection.epsilon).toBeGreaterThan(0);
    }
  });

  it('keeps a group of persons each in one group about as often as the plan says', () => {
    const query = plan(3, 'gaussian');
    const selection = weighted(query);
    if (query.grouping.kind !== 'selected') throw new Error('expected partition selection');
    const n = selection.medianCounts[0]!;
    const rows = Array.from({ length: 50 }, (_, i) => ({
      k0: i,
      m0: n,
      [query.grouping.kind === 'selected' ? query.grouping.unitsColumn : '']: n,
      [selection.column]: n * selection.weights[0]!,
    }));
    const random = seededRandom(5);
    let kept = 0;
    const releases = 40;
    for (let i = 0; i < releases; i++) kept += release(query, rows, { random }).rows.length;
    // n·w(1) ≥ T > (n − 1)·w(1): kept with probability at least 1/2, and well below 1.
    const share = kept / (releases * rows.length);
    expect(share).toBeGreaterThan(0.45);
    expect(share).toBeLessThan(0.9);
  });
});

/** Each person's responses spread over ages by response number, so persons are in 1 … 4 groups. */
const SPREAD_AGES = 'UPDATE commons.survey_responses SET age = 20 + (response_id % 7) * 5';

describeEachDatabase('weight sums in the rewritten SQL', (database) => {
  it('equal plain SQL: Σ over a group’s persons of ⌊G/√(their groups)⌋', async () => {
    await plain(database(), SPREAD_AGES);
    const query = plan(5, 'gaussian');
    const selection = weighted(query);
    const rows = await run(database(), query.sql);
    const values = selection.weights.map((w, i) => `(${i + 1}, ${w})`).join(', ');
    const truth = await plain(
      database(),
      `WITH groups AS (SELECT DISTINCT person_id, age FROM commons.survey_responses WHERE person_id IS NOT NULL),
            counts AS (SELECT person_id, count(*) AS j FROM groups GROUP BY person_id)
       SELECT age, count(*) AS persons, sum(w) AS weight, max(j) AS most
       FROM groups JOIN counts USING (person_id) JOIN (VALUES ${values}) AS weights(j, w) USING (j)
       GROUP BY age`,
    );
    expect(truth.length).toBe(7);
    expect(Math.max(...truth.map((r) => Number(r.most)))).toBeGreaterThan(1);
    expect(rows).toHaveLength(truth.length);
    for (const row of truth) {
      const released = rows.find((r) => Number(r.k0) === Number(row.age))!;
      expect(Number(released[selection.column])).toBe(Number(row.weight));
      expect(Number(released.units)).toBe(Number(row.persons));
    }
    // The database's weight sums (numeric on PostgreSQL) go through release as whole numbers.
    const answer = release(query, rows, { random: seededRandom(3) });
    expect(answer.rows.length).toBeLessThanOrEqual(truth.length);
  });

  it('are the same beside distinct values, sums and a total row cap (each a stage of its own)', async () => {
    const simple = plan(5, 'gaussian');
    const capped = structuredClone(policies.get(5)!) as Policy;
    (capped.tables.survey_responses as { contributions: Record<string, number> }).contributions = {
      ...capped.tables.survey_responses!.contributions!,
      max_rows_in_total: 3,
    };
    const result = planQuery({
      sql: 'SELECT age, COUNT(*), SUM(income), COUNT(DISTINCT educ) FROM survey_responses GROUP BY age',
      policy: capped,
      role: 'analyst',
      request: { epsilon: 1, delta: 1e-7, mechanism: 'gaussian' },
    });
    if (!result.ok || result.plan.kind !== 'private') throw new Error('expected a private plan');
    const column = weighted(result.plan).column;
    expect(result.plan.sql.text).toContain('unit_rows');
    const [rich, plainRows] = [await run(database(), result.plan.sql), await run(database(), simple.sql)];
    const weightsOf = (rows: Record<string, unknown>[]) =>
      new Map(rows.map((r) => [Number(r.k0), Number(r[column])]));
    expect(weightsOf(rich)).toEqual(weightsOf(plainRows));
  });

  it('one person with 1,000 rows in 100 groups moves the weight vector by at most G in L2', async () => {
    const query = plan(5, 'gaussian');
    const column = weighted(query).column;
    await plain(database(), 'DELETE FROM commons.survey_responses WHERE person_id = 7');
    const without = await run(database(), query.sql);
    await plain(
      database(),
      `INSERT INTO commons.survey_responses (response_id, person_id, age, sex, educ, race, income, married)
       SELECT 2000000 + i, 7, i % 100, 1, 1, 1, 1000, 0 FROM generate_series(1, 1000) AS i`,
    );
    const withHeavy = await run(database(), query.sql);
    let squared = 0;
    for (const row of withHeavy) {
      const before = without.find((r) => Number(r.k0) === Number(row.k0));
      squared += (Number(row[column]) - Number(before?.[column] ?? 0)) ** 2;
    }
    // Bounded to k = 5 groups of ⌊1024/√5⌋ = 457 each: 5·457² ≤ 1024².
    expect(squared).toBe(5 * 457 ** 2);
    expect(Math.sqrt(squared)).toBeLessThanOrEqual(SELECTION_GRID);
  });
});
