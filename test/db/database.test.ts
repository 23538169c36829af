import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { readCommonsCatalog } from '../../src/db/commons-catalog.ts';
import { openDatabase } from '../../src/db/connect.ts';
import { migrate } from '../../src/db/migrate.ts';
import { communityOf, loadDemoCommons } from '../../src/demo/load-demo.ts';
import { zcdpBudget } from '../../src/dp/accounting/index.ts';
import { applyPolicy } from '../../src/ledger/apply-policy.ts';
import { checkPolicySet } from '../../src/policy/check-policy-set.ts';
import { formatIssue } from '../../src/policy/issues.ts';
import { describeEachDatabase, openTestDatabase, TEST_DATABASE_KINDS } from '../support/databases.ts';
import { demoPolicyFiles, demoPolicySnapshot, editFile } from '../support/demo-policy.ts';
import { MIGRATION_COUNT } from '../support/migrations.ts';

describeEachDatabase('database layer', (database) => {
  it('returns the same JS types from either driver', async () => {
    const { rows } = await sql<Record<string, unknown>>`
      select count(*) as count_star, 12345678901::int8 as big, 1.25::numeric as exact, 2.5::float8 as float,
             7::int4 as small, '2024-02-29'::date as day, '2024-02-29 12:30:00'::timestamp as local_time,
             '2024-02-29 12:30:00+00'::timestamptz as zoned_time, '{"a":[1,2]}'::jsonb as document,
             true as flag, 'x'::text as label
      from generate_series(1, 3)`.execute(database().db);
    expect(rows[0]).toEqual({
      count_star: 3,
      big: 12345678901,
      exact: '1.25',
      float: 2.5,
      small: 7,
      day: '2024-02-29',
      local_time: new Date('2024-02-29T12:30:00Z'),
      zoned_time: new Date('2024-02-29T12:30:00Z'),
      document: { a: [1, 2] },
      flag: true,
      label: 'x',
    });
  });

  it('applies migrations once: a second run applies nothing', async () => {
    expect(await migrate(database())).toBe(0);
    const tables = await sql<{ table_name: string }>`
      select table_name from information_schema.tables where table_schema = 'dpgate' order by table_name`.execute(
      database().db,
    );
    expect(tables.rows.map((row) => row.table_name)).toEqual([
      'api_keys',
      'audit_log',
      'charges',
      'community_budgets',
      'instance_state',
      'models',
      'policy_versions',
      'released_answers',
      'request_buckets',
      'request_holds',
      'request_leases',
      'training_jobs',
    ]);
  });

  it('holds the demo commons in its own schema, loaded once', async () => {
    const db = database().db;
    const counts = await sql<{ people: number; responses: number; communities: number }>`
      select (select count(*) from commons.people) as people,
             (select count(*) from commons.survey_responses) as responses,
             (select count(*) from commons.communities) as communities`.execute(db);
    expect(counts.rows[0]).toEqual({ people: 1000, responses: 1948, communities: 3 });
    expect(await loadDemoCommons(db)).toBe(false);
    const perPerson = await sql<{ rows_per_person: number; people: number }>`
      select n as rows_per_person, count(*) as people
      from (select person_id, count(*) as n from commons.survey_responses group by person_id) per_person
      group by n order by n`.execute(db);
    expect(perPerson.rows).toEqual([
      { rows_per_person: 1, people: 418 },
      { rows_per_person: 2, people: 309 },
      { rows_per_person: 3, people: 180 },
      { rows_per_person: 4, people: 93 },
    ]);
    const misassigned = await sql<{ person_id: number; community_id: string }>`
      select person_id, community_id from commons.people`.execute(db);
    expect(misassigned.rows.filter((row) => communityOf(row.person_id) !== row.community_id)).toEqual([]);
  });

  it('checks the demo policy against the database', async () => {
    const db = database().db;
    const result = await checkPolicySet(await demoPolicyFiles(), (policy) => readCommonsCatalog(db, policy));
    expect(result.ok).toBe(true);
  });

  it('refuses a policy whose columns, types or communities do not match the database', async () => {
    const db = database().db;
    const readCatalog = (policy: Parameters<typeof readCommonsCatalog>[1]) => readCommonsCatalog(db, policy);
    const cases = [
      {
        edit: (t: string) =>
          t.replace('married:      { type: int,  public_values: [0, 1] }', 'spouse:       { type: int }'),
        file: 'tables.yaml',
        expected:
          /^tables\.yaml:\d+:\d+ tables\.people\.columns\.spouse: column spouse does not exist in commons\.people/,
      },
      {
        edit: (t: string) =>
          t.replace(
            'income:       { type: real, bounds: [0, 500000], granularity: 1 }',
            'income:       { type: text }',
          ),
        file: 'tables.yaml',
        expected:
          /tables\.people\.columns\.income\.type: is text, but commons\.people\.income is double precision/,
      },
      {
        edit: (t: string) => t.replace('  lakeside:  { epsilon: 5,  delta: 1.0e-5 }\n', ''),
        file: 'budgets.yaml',
        expected:
          /^budgets\.yaml:\d+:\d+ budgets: has no budget for community "lakeside" found in the database/,
      },
      {
        edit: (t: string) => t.replace('column: community_id', 'column: neighbourhood'),
        file: 'commons.yaml',
        expected:
          /^commons\.yaml:\d+:\d+ communities\.column: column neighbourhood does not exist in commons\.people/,
      },
    ];
    for (const { edit, file, expected } of cases) {
      const result = await checkPolicySet(editFile(await demoPolicyFiles(), file, edit), readCatalog);
      expect(result.ok).toBe(false);
      if (!result.ok)
        expect(result.issues.map(formatIssue)).toEqual(
          expect.arrayContaining([expect.stringMatching(expected)]),
        );
    }
  });

  it('applies a policy: versions recorded, budgets set exactly, zCDP ρ budget from the tight conversion', async () => {
    const db = database().db;
    const snapshot = await demoPolicySnapshot();
    await applyPolicy(db, snapshot);
    await applyPolicy(db, snapshot);
    const versions = await db.selectFrom('dpgate.policy_versions').select('version').execute();
    expect(versions).toEqual([{ version: snapshot.version }]);
    const audited = await db
      .selectFrom('dpgate.audit_log')
      .select(['action', 'details'])
      .where('action', '=', 'policy.applied')
      .execute();
    expect(audited).toEqual([
      {
        action: 'policy.applied',
        details: expect.objectContaining({ version: snapshot.version, previous: null }),
      },
    ]);
    const budgets = await db
      .selectFrom('dpgate.community_budgets')
      .select(['community_id', 'epsilon_total', 'delta_total', 'epsilon_spent', 'rho_total'])
      .orderBy('community_id')
      .execute();
    expect(
      budgets.map(({ community_id, epsilon_total, epsilon_spent }) => [
        community_id,
        epsilon_total,
        epsilon_spent,
      ]),
    ).toEqual([
      ['hillcrest', '10', '0'],
      ['lakeside', '5', '0'],
      ['riverside', '10', '0'],
    ]);
    expect(Number(budgets[1]!.rho_total)).toBeCloseTo(zcdpBudget(5, 1e-5), 12);
  });

  it('lets the query role read only the columns the policy exposes, and nothing of the ledger', async () => {
    const asQueryRole = (statement: string) =>
      database()
        .db.transaction()
        .execute(async (trx) => {
          await sql`set local role dpgate_query`.execute(trx);
          return sql.raw(statement).execute(trx);
        });
    await expect(
      asQueryRole('select person_id, community_id, age, income from commons.people limit 1'),
    ).resolves.toBeDefined();
    await expect(
      asQueryRole('select person_id, educ from commons.survey_responses limit 1'),
    ).resolves.toBeDefined();
    await expect(asQueryRole('select response_id from commons.survey_responses limit 1')).rejects.toThrow(
      /permission denied/,
    );
    await expect(asQueryRole('select count(*) from dpgate.charges')).rejects.toThrow(/permission denied/);
    await expect(asQueryRole('select count(*) from dpgate.api_keys')).rejects.toThrow(/permission denied/);
  });

  it('refuses, by CHECK, a budget spent beyond its total', async () => {
    const db = database().db;
    await expect(
      db
        .updateTable('dpgate.community_budgets')
        .set({ epsilon_spent: '10.000001' })
        .where('community_id', '=', 'riverside')
        .execute(),
    ).rejects.toThrow(/budget_epsilon_not_overspent/);
  });
});

describe.runIf(TEST_DATABASE_KINDS.includes('postgres'))(
  'two gateways starting at once on PostgreSQL',
  () => {
    it('migrate and load the demo exactly once', async () => {
      const empty = await openTestDatabase('postgres', { demo: false });
      try {
        // The test database is already migrated; start from nothing to race the first migration.
        await sql`drop schema dpgate cascade; drop schema drizzle cascade`.execute(empty.db);
        const gateways = await Promise.all(
          [0, 1, 2].map(() => openDatabase({ url: empty.url, dataDir: 'memory://' })),
        );
        try {
          const applied = await Promise.all(gateways.map((gateway) => migrate(gateway)));
          expect(applied.sort()).toEqual([0, 0, MIGRATION_COUNT]);
          const loaded = await Promise.all(gateways.map((gateway) => loadDemoCommons(gateway.db)));
          expect(loaded.filter(Boolean)).toHaveLength(1);
        } finally {
          await Promise.all(gateways.map((gateway) => gateway.close()));
        }
      } finally {
        await empty.close();
      }
    });
  },
);
