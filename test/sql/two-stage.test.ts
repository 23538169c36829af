/**
 * Two-stage aggregation: a FROM subquery grouped by the person (per-person values), then
 * aggregates across persons. Planning: every accepted form with the L1 sensitivity of each
 * measurement, written down and checked (people: 1 row per person; survey_responses: r = 2 rows
 * per group, k = 2 groups), and refusals with their codes. On PGlite and PostgreSQL: the noiseless
 * answers equal plain SQL where every person has at most two responses (so no cap binds), and one
 * person with 1,000 rows moves each measurement by at most its L1 sensitivity.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Policy } from '../../src/policy/schema.ts';
import { type PrivateQueryPlan, planQuery, type SqlRefusalCode } from '../../src/sql/index.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { keepResponsesPerPerson, plain, run } from '../support/run-sql.ts';
import { loadDemoPolicy } from './demo-policy.ts';
import { privatePlanOf } from './private-plan.ts';

const COUNTS = 'SELECT person_id, COUNT(*) AS n FROM survey_responses GROUP BY person_id';
const TOTALS = 'SELECT person_id, SUM(income) AS total FROM survey_responses GROUP BY person_id';
const BY_EDUC =
  'SELECT person_id, educ, COUNT(*) AS n, SUM(age) AS ages FROM survey_responses GROUP BY person_id, educ';
/** survey_responses.income and age as the rewrite reads them: clamped to policy bounds, on the grid. */
const INCOME = 'LEAST(GREATEST(round(income), 0), 500000)';

interface Accepted {
  sql: string;
  l1: number[];
  grouping: 'none' | 'public' | 'selected';
  /** Plain SQL giving the true value of each measurement (columns m0, m1, … and key k0 if grouped). */
  plain: string;
}

const ACCEPTED: Accepted[] = [
  {
    // One row per person with n ∈ [0, 2]: counting persons has sensitivity 1.
    sql: `SELECT COUNT(*) FROM (${COUNTS}) t WHERE n > 1`,
    l1: [1],
    grouping: 'none',
    plain: `SELECT count(*) AS m0 FROM (SELECT person_id, count(*) AS n FROM commons.survey_responses GROUP BY person_id) t WHERE n > 1`,
  },
  {
    // total ∈ [0, r·500000] = [0, 1e6]; AVG = noisy sum / noisy count of persons.
    sql: `SELECT AVG(total) FROM (${TOTALS}) t`,
    l1: [1000000, 1],
    grouping: 'none',
    plain: `SELECT sum(total) AS m0, count(total) AS m1 FROM (SELECT person_id, sum(${INCOME}) AS total FROM commons.survey_responses GROUP BY person_id) t`,
  },
  {
    // The analyst's clamp in the outer query: interval arithmetic gives [0, 1000].
    sql: `SELECT SUM(LEAST(GREATEST(total, 0), 1000)) FROM (${TOTALS}) t`,
    l1: [1000],
    grouping: 'none',
    plain: `SELECT sum(LEAST(GREATEST(total, 0), 1000)) AS m0 FROM (SELECT person_id, sum(${INCOME}) AS total FROM commons.survey_responses GROUP BY person_id) t`,
  },
  {
    // The clamp inside the subquery: the stage column's bounds are [0, 1000].
    sql: 'SELECT SUM(t) FROM (SELECT person_id, LEAST(SUM(income), 1000) AS t FROM survey_responses GROUP BY person_id) s',
    l1: [1000],
    grouping: 'none',
    plain: `SELECT sum(LEAST(total, 1000)) AS m0 FROM (SELECT person_id, sum(${INCOME}) AS total FROM commons.survey_responses GROUP BY person_id) t`,
  },
  {
    // A per-person average lies in the column's bounds: [0, 100], whatever r is; it is summed on
    // a grid of 2^-10, so the sensitivity is 100 · 2^10 steps.
    sql: 'SELECT SUM(a) FROM (SELECT person_id, AVG(age) AS a FROM survey_responses GROUP BY person_id) t',
    l1: [102400],
    grouping: 'none',
    plain:
      'SELECT sum(a) AS m0 FROM (SELECT person_id, avg(age) AS a FROM commons.survey_responses GROUP BY person_id) t',
  },
  {
    // A CTE, a join with people, and the community scope read from the inner WHERE.
    sql: `WITH per AS (SELECT s.person_id, COUNT(*) AS n FROM survey_responses s JOIN people p ON p.person_id = s.person_id WHERE p.community_id = 'riverside' GROUP BY s.person_id) SELECT COUNT(*), SUM(n) FROM per`,
    l1: [1, 2],
    grouping: 'none',
    plain: `SELECT count(*) AS m0, sum(n) AS m1 FROM (SELECT s.person_id, count(*) AS n FROM commons.survey_responses s JOIN commons.people p ON p.person_id = s.person_id WHERE p.community_id = 'riverside' GROUP BY s.person_id) t`,
  },
  {
    // Grouped by a public key the inner query also groups by: one row per person per outer group,
    // in at most k = 2 groups: COUNT 1·2, SUM(n) with n ∈ [0, 2]: 2·2, SUM(ages) ∈ [0, 200]: 200·2.
    sql: `SELECT educ, COUNT(*), SUM(n), SUM(ages) FROM (${BY_EDUC}) t GROUP BY educ`,
    l1: [2, 4, 400],
    grouping: 'public',
    plain: `SELECT educ AS k0, count(*) AS m0, sum(n) AS m1, sum(ages) AS m2 FROM (SELECT person_id, educ, count(*) AS n, sum(age) AS ages FROM commons.survey_responses GROUP BY person_id, educ) t GROUP BY educ`,
  },
  {
    // The outer query does not group by the inner key: a person's two rows may fall in one group.
    sql: `SELECT COUNT(*) FROM (${BY_EDUC}) t WHERE n >= 1`,
    l1: [2],
    grouping: 'none',
    plain: `SELECT count(*) AS m0 FROM (SELECT person_id, educ, count(*) AS n FROM commons.survey_responses GROUP BY person_id, educ) t WHERE n >= 1`,
  },
  {
    // The stage joined with people on the person: one row per person, grouped by a public key.
    sql: `SELECT p.sex, AVG(t.total) FROM (${TOTALS}) t JOIN people p USING (person_id) GROUP BY p.sex`,
    l1: [1000000, 1],
    grouping: 'public',
    plain: `SELECT p.sex AS k0, sum(t.total) AS m0, count(t.total) AS m1 FROM (SELECT person_id, sum(${INCOME}) AS total FROM commons.survey_responses GROUP BY person_id) t JOIN commons.people p USING (person_id) GROUP BY p.sex`,
  },
  {
    // Persons counted per number of responses: a thresholded key, one group per person.
    sql: `SELECT n, COUNT(DISTINCT person_id) FROM (${COUNTS}) t GROUP BY n`,
    l1: [1],
    grouping: 'selected',
    plain: `SELECT n AS k0, count(*) AS m0 FROM (SELECT person_id, count(*) AS n FROM commons.survey_responses GROUP BY person_id) t GROUP BY n`,
  },
];

const REFUSED: { sql: string; refuse: SqlRefusalCode }[] = [
  // The inner query must be grouped by the person.
  {
    sql: 'SELECT COUNT(*) FROM (SELECT educ, COUNT(*) AS n FROM survey_responses GROUP BY educ) t',
    refuse: 'unsupported_sql',
  },
  // The person column cannot come out of the outer query, nor be its key.
  { sql: `SELECT person_id, n FROM (${COUNTS}) t`, refuse: 'row_level_output' },
  { sql: `SELECT person_id, COUNT(*) FROM (${COUNTS}) t GROUP BY person_id`, refuse: 'group_by_unit' },
  { sql: `SELECT MAX(n) FROM (${COUNTS}) t`, refuse: 'private_min_max' },
  // HAVING inside the subquery: filter in the outer WHERE instead.
  { sql: `SELECT COUNT(*) FROM (${COUNTS} HAVING COUNT(*) > 1) t`, refuse: 'unsupported_sql' },
  // What the stage cannot bound.
  {
    sql: 'SELECT AVG(m) FROM (SELECT person_id, MAX(income) AS m FROM survey_responses GROUP BY person_id) t',
    refuse: 'unsupported_sql',
  },
  {
    sql: 'SELECT AVG(r) FROM (SELECT person_id, SUM(income) / COUNT(*) AS r FROM survey_responses GROUP BY person_id) t',
    refuse: 'unsupported_sql',
  },
  {
    sql: 'SELECT AVG(d) FROM (SELECT person_id, COUNT(DISTINCT educ) AS d FROM survey_responses GROUP BY person_id) t',
    refuse: 'unsupported_sql',
  },
  {
    sql: 'SELECT AVG(c) FROM (SELECT person_id, LEAST(SUM(income), age) AS c FROM survey_responses GROUP BY person_id) t',
    refuse: 'unsupported_sql',
  },
  {
    sql: 'SELECT COUNT(*) FROM (SELECT person_id, age, COUNT(*) AS n FROM survey_responses GROUP BY person_id) t',
    refuse: 'row_level_output',
  },
  {
    sql: 'SELECT COUNT(*) FROM (SELECT person_id, person_id % 10 AS d, COUNT(*) FROM survey_responses GROUP BY person_id, person_id % 10) t',
    refuse: 'group_by_unit',
  },
  // One level, one stage.
  {
    sql: `SELECT COUNT(*) FROM (SELECT person_id, COUNT(*) AS c FROM (${COUNTS}) a GROUP BY person_id) b`,
    refuse: 'unsupported_sql',
  },
  {
    sql: `SELECT COUNT(*) FROM (${COUNTS}) a JOIN (${TOTALS}) b USING (person_id)`,
    refuse: 'unsupported_sql',
  },
  { sql: `SELECT COUNT(*) FROM (${COUNTS} LIMIT 5) t`, refuse: 'unsupported_sql' },
];

let policy: Policy;
let totalCap: Policy;
beforeAll(async () => {
  policy = await loadDemoPolicy();
  totalCap = structuredClone(policy) as Policy;
  (totalCap.tables.survey_responses as { contributions: unknown }).contributions = {
    max_rows_per_unit: 2,
    max_groups_per_unit: 2,
    max_rows_in_total: 1,
  };
});

function plan(sql: string, p: Policy = policy): PrivateQueryPlan {
  return privatePlanOf({ sql, policy: p, role: 'analyst', request: { epsilon: 1, delta: 1e-7 } });
}

describe('two-stage aggregation: planning', () => {
  it.each(ACCEPTED.map((c) => [c.sql, c] as const))('accepts %s', (_sql, c) => {
    const p = plan(c.sql);
    expect(p.measurements.map((m) => m.sensitivity.l1)).toEqual(c.l1);
    expect(p.grouping.kind).toBe(c.grouping);
    expect(p.tables).not.toContain('unit');
    expect(p.cost.epsilon).toBeLessThanOrEqual(1);
  });

  it.each(REFUSED.map((c) => [c.sql, c] as const))('refuses %s', (_sql, c) => {
    const result = planQuery({ sql: c.sql, policy, role: 'analyst', request: { epsilon: 1, delta: 1e-7 } });
    if (result.ok) throw new Error(`accepted: ${result.plan.kind === 'private' ? result.plan.sql.text : ''}`);
    expect(result.refusal.code).toBe(c.refuse);
    expect(result.refusal.message).not.toMatch(
      /FuncCall|MinMaxExpr|A_Expr|ColumnRef|SelectStmt|RangeSubselect/,
    );
  });

  it('narrows the scope by the inner WHERE and lists the inner tables', () => {
    const p = plan(ACCEPTED[5]!.sql);
    expect(p.scope.communities).toEqual(['riverside']);
    expect([...p.tables].sort()).toEqual(['people', 'survey_responses']);
  });

  it('keeps at most k inner groups per person, even where the keys have a small public domain', () => {
    // sex has two public values, k = 2; a person's NULL or out-of-domain sex is an inner group too.
    const p = plan(
      'SELECT COUNT(*) FROM (SELECT person_id, sex, COUNT(*) AS n FROM survey_responses GROUP BY person_id, sex) t',
    );
    expect(p.measurements[0]!.sensitivity.l1).toBe(2);
    expect(p.sql.text).toContain('group_rank <= 2');
  });

  it('uses the total row cap for the per-person bound: R = 1 halves SUM(total) and bounds n by 1', () => {
    expect(
      plan(`SELECT AVG(total) FROM (${TOTALS}) t`, totalCap).measurements.map((m) => m.sensitivity.l1),
    ).toEqual([500000, 1]);
    expect(plan(`SELECT SUM(n) FROM (${COUNTS}) t`, totalCap).measurements[0]!.sensitivity.l1).toBe(1);
    expect(plan(`SELECT SUM(n) FROM (${COUNTS}) t`).measurements[0]!.sensitivity.l1).toBe(2);
  });
});

const sameKey = (a: unknown, b: unknown) => String(a ?? 'null') === String(b ?? 'null');

describeEachDatabase('two-stage aggregation on the database', (database) => {
  beforeAll(async () => {
    // At most two responses per person: no per-person cap binds, so the truth is plain SQL.
    await keepResponsesPerPerson(database(), 2);
  });

  it.each(ACCEPTED.map((c) => [c.sql, c] as const))('noiseless %s equals plain SQL', async (_sql, c) => {
    const p = plan(c.sql);
    const rows = await run(database(), p.sql);
    const truth = await plain(database(), c.plain);
    expect(truth.length).toBeGreaterThan(0);
    for (const t of truth) {
      const row = c.grouping === 'none' ? rows[0]! : rows.find((r) => sameKey(r.k0, t.k0));
      expect(row, `group ${String(t.k0)}`).toBeDefined();
      p.measurements.forEach((m, i) => {
        const released =
          Number(row![m.column]) * (m.kind === 'sum' || m.kind === 'sum_of_squares' ? m.granularity : 1);
        // A per-person average is put on the outer grid (2^-10) before it is summed.
        expect(released).toBeCloseTo(Number(t[`m${i}`] ?? 0), 0);
        if (!c.sql.includes('AVG(age)')) expect(released).toBe(Number(t[`m${i}`] ?? 0));
      });
    }
  });

  it('one person with 1,000 responses moves each measurement by at most its L1 sensitivity', async () => {
    const cases = [ACCEPTED[0]!, ACCEPTED[1]!, ACCEPTED[6]!].map((c) => plan(c.sql));
    // Neighbours: the data without person 11, and with person 11 holding 1,000 responses.
    await plain(database(), 'DELETE FROM commons.survey_responses WHERE person_id = 11');
    const before = await Promise.all(cases.map((p) => run(database(), p.sql)));
    await plain(
      database(),
      `INSERT INTO commons.survey_responses (response_id, person_id, age, sex, educ, race, income, married)
       SELECT 3000000 + i, 11, 100, 1, 1 + i % 16, 1, 400000, 0 FROM generate_series(1, 1000) AS i`,
    );
    const after = await Promise.all(cases.map((p) => run(database(), p.sql)));
    cases.forEach((p, i) => {
      for (const m of p.measurements) {
        const moved = after[i]!.reduce((total, row) => {
          const old = before[i]!.find((r) => sameKey(r.k0, row.k0)) ?? {};
          return total + Math.abs(Number(row[m.column]) - Number(old[m.column] ?? 0));
        }, 0);
        const unit = m.kind === 'sum' || m.kind === 'sum_of_squares' ? m.granularity : 1;
        expect(moved * unit).toBeLessThanOrEqual(m.sensitivity.l1);
      }
    });
  });
});
