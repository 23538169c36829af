/**
 * Governed tables outside `commons`: the demo policy with `survey_responses` in schema `research`
 * and the public `communities` in schema `registry`. Planning resolves names with or without the
 * policy's schema and refuses any other; the rewritten and the public SQL name the policy's schema;
 * on PGlite and PostgreSQL the catalog check accepts the moved tables and the noiseless answers
 * equal plain SQL over them.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { readCommonsCatalog } from '../../src/db/commons-catalog.ts';
import { syncQueryRole } from '../../src/db/query-role.ts';
import { checkPolicyAgainstDatabase } from '../../src/policy/database-check.ts';
import type { Policy } from '../../src/policy/schema.ts';
import { runReadOnly } from '../../src/queries/execute.ts';
import { planQuery, type QueryPlan } from '../../src/sql/index.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { keepResponsesPerPerson, plain, run } from '../support/run-sql.ts';
import { loadDemoPolicy } from './demo-policy.ts';

let policy: Policy;
beforeAll(async () => {
  const demo = structuredClone(await loadDemoPolicy()) as Policy;
  const move = (table: string, schema: string) => {
    (demo.tables[table] as { schema: string }).schema = schema;
  };
  move('survey_responses', 'research');
  move('communities', 'registry');
  policy = demo;
});

function plan(sql: string): QueryPlan {
  const result = planQuery({ sql, policy, role: 'analyst', request: { epsilon: 1, delta: 1e-7 } });
  if (!result.ok) throw new Error(`${sql}: ${JSON.stringify(result.refusal)}`);
  return result.plan;
}

function refusal(sql: string): string {
  const result = planQuery({ sql, policy, role: 'analyst', request: { epsilon: 1, delta: 1e-7 } });
  return result.ok ? 'accepted' : result.refusal.code;
}

describe('planning over tables of several schemas', () => {
  it('resolves a table by name or by its policy schema, and the SQL names that schema', () => {
    for (const sql of [
      'SELECT COUNT(*) FROM survey_responses',
      'SELECT COUNT(*) FROM research.survey_responses',
      'SELECT SUM(research.survey_responses.age) FROM research.survey_responses',
    ]) {
      const text = plan(sql).sql.text;
      expect(text, sql).toContain('research.survey_responses');
      expect(text, sql).not.toContain('commons.survey_responses');
    }
    const joined = plan('SELECT COUNT(*) FROM people p JOIN survey_responses s USING (person_id)').sql.text;
    expect(joined).toContain('commons.people');
    expect(joined).toContain('research.survey_responses');
  });

  it('reads a public domain and public queries from the public table in its schema', () => {
    const grouped = plan('SELECT community_id, COUNT(*) FROM people GROUP BY community_id');
    expect(grouped.sql.text).toContain('registry.communities');
    const free = plan('SELECT name FROM communities ORDER BY name');
    expect(free.kind).toBe('public');
    expect(free.sql.text).toContain('registry.communities');
    const subquery = plan(
      "SELECT COUNT(*) FROM people WHERE community_id IN (SELECT community_id FROM communities WHERE region = 'north')",
    );
    expect(subquery.sql.text).toContain('registry.communities');
  });

  it('refuses a governed table named with another schema, and other schemas’ tables', () => {
    expect(refusal('SELECT COUNT(*) FROM commons.survey_responses')).toBe('unknown_table');
    expect(refusal('SELECT COUNT(*) FROM registry.people')).toBe('unknown_table');
    expect(refusal('SELECT name FROM commons.communities')).toBe('unknown_table');
    expect(refusal('SELECT COUNT(*) FROM research.elsewhere')).toBe('unknown_table');
    expect(refusal('SELECT SUM(commons.survey_responses.age) FROM survey_responses')).toBe('unknown_column');
  });
});

describeEachDatabase('tables outside commons on the database', (database) => {
  beforeAll(async () => {
    for (const statement of [
      'CREATE SCHEMA research',
      'CREATE TABLE research.survey_responses AS SELECT * FROM commons.survey_responses',
      'CREATE SCHEMA registry',
      'CREATE TABLE registry.communities AS SELECT * FROM commons.communities',
      'DROP TABLE commons.survey_responses',
      "DELETE FROM registry.communities WHERE community_id = 'lakeside'",
    ])
      await plain(database(), statement);
  });

  it('passes the catalog check with the tables where the policy places them', async () => {
    const catalog = await readCommonsCatalog(database().db, policy);
    expect(catalog.tables.get('survey_responses')?.has('income')).toBe(true);
    expect(catalog.tables.get('communities')?.has('region')).toBe(true);
    expect(checkPolicyAgainstDatabase(policy, catalog)).toEqual([]);
    // The same policy with commons as the schema finds no survey_responses any more.
    const unmoved = structuredClone(policy) as Policy;
    (unmoved.tables.survey_responses as { schema: string }).schema = 'commons';
    const issues = checkPolicyAgainstDatabase(unmoved, await readCommonsCatalog(database().db, unmoved));
    expect(issues.map((i) => i.message)).toContain(
      'table commons.survey_responses does not exist in the database',
    );
  });

  it('lets the query role read the moved tables, and only their policy columns', async () => {
    await database()
      .db.transaction()
      .execute((trx) => syncQueryRole(trx, policy));
    const query = plan('SELECT sex, COUNT(*), COUNT(DISTINCT educ) FROM survey_responses GROUP BY sex');
    expect((await runReadOnly(database().queries, query.sql, 60_000)).length).toBe(2);
    const domain = plan('SELECT community_id, COUNT(*) FROM people GROUP BY community_id');
    expect((await runReadOnly(database().queries, domain.sql, 60_000)).length).toBe(2);
    await expect(
      runReadOnly(
        database().queries,
        { text: 'SELECT response_id FROM research.survey_responses', parameters: [] },
        60_000,
      ),
    ).rejects.toThrow(/permission denied/);
  });

  it('computes the same noiseless values as plain SQL over the moved tables', async () => {
    await keepResponsesPerPerson(database(), 2, 'research');
    const grouped = plan(
      'SELECT sex, COUNT(*), SUM(age), COUNT(DISTINCT educ) FROM survey_responses GROUP BY sex',
    );
    const rows = await run(database(), grouped.sql);
    const truth = await plain(
      database(),
      'SELECT sex, count(*) AS n, sum(age) AS age, count(DISTINCT educ) AS educ FROM research.survey_responses GROUP BY sex',
    );
    for (const row of truth) {
      const released = rows.find((r) => r.k0 === row.sex)!;
      expect(Number(released.m0)).toBe(Number(row.n));
      expect(Number(released.m1)).toBe(Number(row.age));
      expect(Number(released.m2)).toBe(Number(row.educ));
    }
    // The public domain comes from registry.communities: the community it lacks is not a group.
    const byCommunity = plan(
      'SELECT p.community_id, COUNT(*) FROM people p JOIN survey_responses s USING (person_id) GROUP BY p.community_id',
    );
    const communityRows = await run(database(), byCommunity.sql);
    const communityTruth = await plain(
      database(),
      `SELECT p.community_id, count(*) AS n FROM commons.people p
       JOIN research.survey_responses s USING (person_id)
       WHERE p.community_id IN (SELECT community_id FROM registry.communities) GROUP BY 1`,
    );
    expect(communityRows.map((r) => r.k0).sort()).toEqual(['hillcrest', 'riverside']);
    for (const row of communityTruth) {
      expect(Number(communityRows.find((r) => r.k0 === row.community_id)!.m0)).toBe(Number(row.n));
    }
  });
});
