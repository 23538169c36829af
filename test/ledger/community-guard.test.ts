/**
 * One community per person, checked and kept: the policy check refuses a unit table where a person
 * has no single row or no community, the scheduled check finds it later, and once a policy is
 * applied the database itself refuses to move a person to another community.
 */
import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { applyPolicy } from '../../src/ledger/apply-policy.ts';
import { checkCommunityMembership } from '../../src/ledger/community-guard.ts';
import { type CommonsCatalog, checkPolicyAgainstDatabase } from '../../src/policy/database-check.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { demoPolicySnapshot } from '../support/demo-policy.ts';

describe('the unit table in the policy check', () => {
  const catalogWith = async (unitTable: CommonsCatalog['unitTable']): Promise<CommonsCatalog> => {
    const { policy } = await demoPolicySnapshot();
    const tables = new Map(
      Object.entries(policy.tables).map(([name, table]) => [
        name,
        new Map(
          Object.entries(table.columns).map(([column, spec]) => [
            column,
            spec.type === 'int' ? 'integer' : spec.type === 'real' ? 'double precision' : 'text',
          ]),
        ),
      ]),
    );
    tables.get('people')!.set('person_id', 'integer');
    tables.get('survey_responses')!.set('person_id', 'integer');
    tables.get('communities')!.set('community_id', 'text');
    return { tables, communitiesInData: [], ...(unitTable ? { unitTable } : {}) };
  };

  it('passes a unit table with one row and one community per person', async () => {
    const { policy } = await demoPolicySnapshot();
    const clean = { duplicateUnits: false, nullUnits: false, nullCommunities: false };
    expect(checkPolicyAgainstDatabase(policy, await catalogWith(clean))).toEqual([]);
  });

  it.each([
    ['duplicateUnits', /person_id is not unique/],
    ['nullUnits', /person_id has null values/],
    ['nullCommunities', /community_id has null values/],
  ] as const)('refuses %s', async (flaw, message) => {
    const { policy } = await demoPolicySnapshot();
    const unitTable = { duplicateUnits: false, nullUnits: false, nullCommunities: false, [flaw]: true };
    const issues = checkPolicyAgainstDatabase(policy, await catalogWith(unitTable));
    expect(issues.map((issue) => issue.message)).toEqual([expect.stringMatching(message)]);
  });
});

describeEachDatabase('community membership in the database', (database) => {
  beforeAll(async () => {
    await applyPolicy(database().db, await demoPolicySnapshot());
  });

  it('refuses to move a person to another community, and allows other updates', async () => {
    const { db } = database();
    const person = await sql<{ person_id: number; community_id: string }>`
      select person_id, community_id from commons.people order by person_id limit 1`.execute(db);
    const { person_id, community_id } = person.rows[0]!;
    const other = community_id === 'riverside' ? 'hillcrest' : 'riverside';
    await expect(
      sql`update commons.people set community_id = ${other} where person_id = ${person_id}`.execute(db),
    ).rejects.toThrow(/community .* cannot change/);
    await sql`update commons.people set community_id = ${community_id}, age = age where person_id = ${person_id}`.execute(
      db,
    );
  });

  it('applying the policy again keeps exactly one guard', async () => {
    const { db } = database();
    await applyPolicy(db, await demoPolicySnapshot());
    const triggers = await sql<{ n: number }>`
      select count(*)::int as n from pg_trigger where tgname = 'dpgate_community_fixed'`.execute(db);
    expect(triggers.rows[0]!.n).toBe(1);
  });

  it('the scheduled check finds a person with no community', async () => {
    const { db } = database();
    const { policy } = await demoPolicySnapshot();
    expect(await checkCommunityMembership(db, policy)).toEqual([]);
    await sql`alter table commons.people alter column community_id drop not null`.execute(db);
    await sql`insert into commons.people (person_id, community_id, age, sex, educ, race, income, married)
      values (-1, null, 30, 0, 10, 1, 1000, 0)`.execute(db);
    const issues = await checkCommunityMembership(db, policy);
    expect(issues.map((issue) => issue.message)).toEqual([
      expect.stringMatching(/community_id has null values/),
    ]);
    await sql`delete from commons.people where person_id = -1`.execute(db);
  });
});
