/**
 * GROUP BY keys computed from public-domain columns: the released domain is the image of the
 * column's domain under the expression (integer arithmetic with constants), or the literals of a
 * CASE, computed from the query text and policy alone, so no group is thresholded. The policy here
 * gives people.age a public range beside its bounds and educ bounds beside its public range, so both
 * can be computed with. On PGlite and PostgreSQL the noiseless answers equal plain SQL, group for
 * group, and domain values no row has come out as 0.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Policy } from '../../src/policy/schema.ts';
import { type PrivateQueryPlan, planQuery } from '../../src/sql/index.ts';
import type { PublicDomain } from '../../src/sql/plan.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { keepResponsesPerPerson, run } from '../support/run-sql.ts';
import { loadDemoPolicy } from './demo-policy.ts';
import { privatePlanOf } from './private-plan.ts';

let policy: Policy;
beforeAll(async () => {
  policy = structuredClone(await loadDemoPolicy()) as Policy;
  const columns = policy.tables.people!.columns as Record<string, Record<string, unknown>>;
  columns.age = { ...columns.age, public_range: [0, 100] };
  columns.educ = { ...columns.educ, bounds: [1, 16] };
});

function plan(sql: string): PrivateQueryPlan {
  return privatePlanOf({ sql, policy, role: 'analyst', request: { epsilon: 1, delta: 1e-7 } });
}

function domains(p: PrivateQueryPlan): PublicDomain[] {
  if (p.grouping.kind !== 'public') throw new Error(`expected public-domain groups, got ${p.grouping.kind}`);
  return p.grouping.keys.map((k) => k.domain);
}

/** Accepted with a computed domain: the domain, and the L1 sensitivity of every measurement. */
const IMAGES: { sql: string; domains: PublicDomain[]; l1: number[]; plain: string }[] = [
  {
    sql: 'SELECT age / 10 AS decade, COUNT(*) FROM people GROUP BY 1',
    domains: [{ kind: 'range', from: 0, to: 10 }],
    l1: [1],
    plain: 'SELECT age / 10 AS k, count(*) AS m FROM commons.people GROUP BY 1',
  },
  {
    sql: 'SELECT (educ - 1) / 4, SUM(age) FROM people GROUP BY (educ - 1) / 4',
    domains: [{ kind: 'range', from: 0, to: 3 }],
    l1: [100],
    plain: 'SELECT (educ - 1) / 4 AS k, sum(age) AS m FROM commons.people GROUP BY 1',
  },
  {
    sql: 'SELECT educ % 3, COUNT(*) FROM people GROUP BY educ % 3',
    domains: [{ kind: 'range', from: 0, to: 2 }],
    l1: [1],
    plain: 'SELECT educ % 3 AS k, count(*) AS m FROM commons.people GROUP BY 1',
  },
  {
    sql: 'SELECT age / 25 * 25 AS band, COUNT(*) FROM people GROUP BY age / 25 * 25',
    domains: [{ kind: 'values', values: [0, 25, 50, 75, 100] }],
    l1: [1],
    plain: 'SELECT age / 25 * 25 AS k, count(*) AS m FROM commons.people GROUP BY 1',
  },
  {
    sql: "SELECT CASE WHEN age < 30 THEN 'young' WHEN age < 60 THEN 'middle' ELSE 'older' END AS band, COUNT(*) FROM people GROUP BY 1",
    domains: [{ kind: 'values', values: ['young', 'middle', 'older'] }],
    l1: [1],
    plain:
      "SELECT CASE WHEN age < 30 THEN 'young' WHEN age < 60 THEN 'middle' ELSE 'older' END AS k, count(*) AS m FROM commons.people GROUP BY 1",
  },
  {
    // A CASE over a column with bounds only (survey_responses.age has no public domain): still the
    // literals. Two groups reachable by a person with two rows per group: L1 = k·r = 2·2.
    sql: 'SELECT CASE WHEN age >= 65 THEN 1 ELSE 0 END AS senior, COUNT(*) FROM survey_responses GROUP BY 1',
    domains: [{ kind: 'values', values: [1, 0] }],
    l1: [4],
    plain:
      'SELECT CASE WHEN age >= 65 THEN 1 ELSE 0 END AS k, count(*) AS m FROM commons.survey_responses GROUP BY 1',
  },
];

/** Expressions whose image cannot be computed exactly keep partition selection. */
const THRESHOLDED = [
  'SELECT abs(educ - 8), COUNT(*) FROM people GROUP BY 1',
  'SELECT educ::text, COUNT(*) FROM people GROUP BY 1',
  'SELECT income / 1000, COUNT(*) FROM people GROUP BY 1',
  'SELECT CASE WHEN age < 30 THEN age ELSE 0 END, COUNT(*) FROM people GROUP BY 1',
  'SELECT educ + age, COUNT(*) FROM people GROUP BY 1',
];

describe('the domain of a key computed from public-domain columns', () => {
  it.each(IMAGES.map((c) => [c.sql, c] as const))('%s', (_sql, c) => {
    const p = plan(c.sql);
    expect(domains(p)).toEqual(c.domains);
    expect(p.measurements.map((m) => m.sensitivity.l1)).toEqual(c.l1);
    expect(p.grouping.kind).toBe('public');
  });

  it.each(THRESHOLDED)('keeps thresholding for %s', (sql) => {
    expect(plan(sql).grouping.kind).toBe('selected');
  });

  it('still refuses keys computed from the person', () => {
    const result = planQuery({
      sql: 'SELECT person_id % 10, COUNT(*) FROM people GROUP BY 1',
      policy,
      role: 'analyst',
    });
    expect(result.ok ? undefined : result.refusal.code).toBe('group_by_unit');
  });

  it('bounds L0 by the size of the computed domain', () => {
    const sql = (n: number) =>
      `SELECT CASE WHEN age < 30 THEN 0 ${n > 2 ? 'WHEN age < 60 THEN 1 ' : ''}ELSE 2 END, COUNT(*) FROM survey_responses GROUP BY 1`;
    // Three groups: survey_responses allows two per person, selected by the keyed hash.
    expect(plan(sql(3)).contribution.maxGroupsPerUnit).toBe(2);
    expect(plan(sql(3)).bounding).toBe('capped_and_selected');
    // Two groups: no person can reach more, so no selection step.
    expect(plan(sql(2)).bounding).toBe('capped');
  });

  it('answers a keys-only query over a computed domain free', () => {
    const result = planQuery({ sql: 'SELECT age / 10 FROM people GROUP BY 1', policy, role: 'analyst' });
    if (!result.ok || result.plan.kind !== 'private') throw new Error('expected a private plan');
    expect(result.plan.measurements).toEqual([]);
    expect(result.plan.cost.epsilon).toBe(0);
  });
});

describeEachDatabase('computed key domains on the database', (database) => {
  beforeAll(async () => {
    // At most two responses per person, so the per-person cap leaves the data unchanged.
    await keepResponsesPerPerson(database(), 2);
  });
  it.each(IMAGES.map((c) => [c.sql, c] as const))('noiseless %s equals plain SQL', async (_sql, c) => {
    const p = plan(c.sql);
    const rows = await run(database(), p.sql);
    const truth = await run(database(), { text: c.plain, parameters: [] });
    const domain = c.domains[0]!;
    const size =
      domain.kind === 'range'
        ? domain.to - domain.from + 1
        : domain.kind === 'values'
          ? domain.values.length
          : 0;
    expect(rows).toHaveLength(size);
    for (const row of rows) {
      const match = truth.find((t) => String(t.k) === String(row.k0));
      expect(Number(row.m0), `group ${String(row.k0)}`).toBe(match ? Number(match.m) : 0);
    }
    // Every true non-NULL group is released (no row's key lies outside the computed domain).
    for (const t of truth.filter((t) => t.k !== null))
      expect(rows.some((row) => String(row.k0) === String(t.k))).toBe(true);
  });
});
