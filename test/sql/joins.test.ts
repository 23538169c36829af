/**
 * Unit paths of several hops and outer joins (join-corpus.ts over the unit-path fixture): planning
 * with the sensitivities written down; the policy check refuses broken paths and the database check
 * missing or non-unique path keys; on PGlite and PostgreSQL every accepted query runs, the noiseless
 * answers equal plain SQL, and rows are capped per person reached through the path.
 */
import { CompiledQuery } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { readCommonsCatalog } from '../../src/db/commons-catalog.ts';
import { syncQueryRole } from '../../src/db/query-role.ts';
import { checkPolicyAgainstDatabase } from '../../src/policy/database-check.ts';
import type { Policy } from '../../src/policy/schema.ts';
import { validatePolicyFiles } from '../../src/policy/validate.ts';
import { runReadOnly } from '../../src/queries/execute.ts';
import { type CatalogFacts, type PrivateQueryPlan, planQuery } from '../../src/sql/index.ts';
import { unitPathPolicy, unitPathPolicyFiles, unitPathStatements } from '../fixtures/unit-paths.ts';
import { describeEachDatabase, type TestDatabase } from '../support/databases.ts';
import { editFile } from '../support/demo-policy.ts';
import { JOIN_ACCEPTED, JOIN_REFUSED } from './join-corpus.ts';
import { privatePlanOf } from './private-plan.ts';

/** What the catalog of the fixture proves unique (its primary keys). */
const FIXTURE_CATALOG: CatalogFacts = {
  uniqueColumns: ['people.person_id', 'visits.visit_id', 'items.item_id', 'doses.dose_id', 'clinics.clinic'],
};
const REQUEST = { epsilon: 1, delta: 1e-7 };

let policy: Policy;
beforeAll(async () => {
  policy = await unitPathPolicy();
});

function plan(sql: string, catalog: CatalogFacts | undefined = FIXTURE_CATALOG): PrivateQueryPlan {
  return privatePlanOf({ sql, policy, role: 'analyst', request: REQUEST, catalog });
}

describe('planning unit paths and outer joins', () => {
  it.each(JOIN_ACCEPTED.map((c) => [c.sql, c] as const))('accepts %s', (_sql, c) => {
    const planned = plan(c.sql);
    expect(planned.scope.communities).toEqual(c.scope);
    expect(planned.measurements.map((m) => m.sensitivity.l1)).toEqual(c.l1);
    if (c.grouping) expect(planned.grouping.kind).toBe(c.grouping);
    if (c.cells !== undefined) {
      if (planned.grouping.kind !== 'public') throw new Error('expected public-domain groups');
      const [key] = planned.grouping.keys;
      expect(key?.domain.kind === 'values' ? key.domain.values.length : NaN).toBe(c.cells);
    }
  });

  it.each(JOIN_REFUSED.map((c) => [c.sql, c] as const))('refuses %s', (_sql, c) => {
    const result = planQuery({
      sql: c.sql,
      policy,
      role: 'analyst',
      request: REQUEST,
      catalog: FIXTURE_CATALOG,
    });
    if (result.ok) throw new Error(`accepted: ${result.plan.sql.text}`);
    expect(result.refusal.code).toBe(c.refuse);
    expect(result.refusal.message.length).toBeGreaterThan(10);
  });

  it('follows the path in SQL and bounds by the tables the analyst named only', () => {
    const doses = plan('SELECT COUNT(*) FROM doses');
    expect(doses.sql.text).toMatch(/commons\.doses AS t1, commons\.items AS t2, commons\.visits AS t3/);
    expect(doses.sql.text).toContain('t1.item_id = t2.item_id AND t2.visit_id = t3.visit_id');
    expect(doses.sql.text).toContain('t3.person_id AS unit');
    expect(doses.contribution.maxRowsPerGroup).toBe(12);
    expect(doses.bounding).toBe('capped');
    expect(doses.tables).toEqual(['doses', 'items', 'visits']);
  });

  it('refuses a several-hop path whose keys the catalog does not prove unique', () => {
    for (const [catalog, key] of [
      [undefined, 'items.item_id'],
      [{ uniqueColumns: ['items.item_id'] }, 'visits.visit_id'],
    ] as const) {
      const result = planQuery({
        sql: 'SELECT COUNT(*) FROM doses',
        policy,
        role: 'analyst',
        request: REQUEST,
        catalog,
      });
      expect(result.ok ? 'accepted' : result.refusal.code).toBe('unsupported_sql');
      if (!result.ok) expect(result.refusal.message).toContain(`reaches the person through ${key}`);
    }
    // One hop needs no join, hence no proof.
    expect(
      planQuery({ sql: 'SELECT COUNT(*) FROM visits', policy, role: 'analyst', request: REQUEST }).ok,
    ).toBe(true);
  });

  it('keeps a LEFT JOIN in the SQL with its ON, outside WHERE', () => {
    const text = plan("SELECT COUNT(*) FROM items i LEFT JOIN clinics c ON c.clinic = 'north'").sql.text;
    expect(text).toMatch(
      /commons\.items AS t1 CROSS JOIN commons\.visits AS t2 LEFT JOIN commons\.clinics AS t3 ON t3\.clinic = \$1 WHERE t1\.visit_id = t2\.visit_id/,
    );
  });
});

describe('the policy check of unit paths', () => {
  const itemsPath = '    unit_path: ["visit_id -> visits.visit_id", "person_id -> people.person_id"]';
  const withItemsPath = async (path: string) => {
    const files = editFile(await unitPathPolicyFiles(), 'unit-paths.yaml', (text) =>
      text.replace(itemsPath, `    unit_path: ${path}`),
    );
    const validation = await validatePolicyFiles(files);
    return validation.ok ? [] : validation.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('refuses a cycle', async () => {
    const issues = await withItemsPath(
      '["visit_id -> visits.visit_id", "visit_id -> items.visit_id", "person_id -> people.person_id"]',
    );
    expect(issues).toContain(
      'tables.items.unit_path.1: returns to table "items": a unit path cannot have a cycle',
    );
  });

  it('refuses a path that does not end at the unit, or leaves a table’s own path', async () => {
    expect(await withItemsPath('["visit_id -> visits.visit_id"]')).toContain(
      'tables.items.unit_path.0: must end at the privacy unit people.person_id',
    );
    const detour = await withItemsPath(
      '["visit_id -> visits.visit_id", "visit_id -> doses.dose_id", "item_id -> items.item_id", "visit_id -> visits.visit_id", "person_id -> people.person_id"]',
    );
    expect(detour.some((i) => i.includes('continues differently from table "visits"\'s own unit_path'))).toBe(
      true,
    );
    expect(detour.some((i) => i.includes('cannot have a cycle'))).toBe(true);
  });
});

type Row = Record<string, unknown>;

async function run(
  database: TestDatabase,
  text: string,
  parameters: readonly unknown[] = [],
): Promise<Row[]> {
  const result = await database.db.executeQuery(CompiledQuery.raw(text, [...parameters]));
  return result.rows as Row[];
}

/** The noiseless measurements of a plan, by group key (k0, or '' without GROUP BY). */
async function noiseless(database: TestDatabase, sql: string): Promise<Map<unknown, Row>> {
  const planned = plan(sql);
  const rows = await run(database, planned.sql.text, planned.sql.parameters);
  return new Map(rows.map((row) => [row.k0 ?? '', row]));
}

describeEachDatabase('unit paths and outer joins on the database', (database) => {
  beforeAll(async () => {
    for (const statement of await unitPathStatements()) await run(database(), statement);
  });

  it('passes the database check, which also finds missing and non-unique path keys', async () => {
    const catalog = await readCommonsCatalog(database().db, policy);
    expect(checkPolicyAgainstDatabase(policy, catalog)).toEqual([]);
    for (const key of ['visits.visit_id', 'items.item_id']) expect(catalog.uniqueColumns).toContain(key);

    const broken = structuredClone(policy) as Policy;
    (broken.tables.items as { unit_path: string[] }).unit_path = [
      'visit_no -> visits.visit_no',
      'person_id -> people.person_id',
    ];
    const messages = checkPolicyAgainstDatabase(broken, catalog).map((i) => i.message);
    expect(messages).toContain('column visit_no does not exist in commons.items');
    expect(messages).toContain('column visit_no does not exist in commons.visits');

    const notUnique = {
      ...catalog,
      uniqueColumns: (catalog.uniqueColumns ?? []).filter((c) => c !== 'visits.visit_id'),
    };
    expect(
      checkPolicyAgainstDatabase(policy, notUnique).map((i) => `${i.path.join('.')}: ${i.message}`),
    ).toEqual([
      'tables.items.unit_path.0: commons.visits.visit_id has no unique index of its own: a row could reach two persons through it',
      'tables.doses.unit_path.1: commons.visits.visit_id has no unique index of its own: a row could reach two persons through it',
    ]);
  });

  it('lets the query role follow the paths, reading only the policy and path columns', async () => {
    await database()
      .db.transaction()
      .execute((trx) => syncQueryRole(trx, policy));
    for (const sql of [
      'SELECT SUM(mg) FROM doses',
      'SELECT c.clinic, COUNT(*) FROM clinics c LEFT JOIN visits v ON v.clinic = c.clinic GROUP BY c.clinic',
    ]) {
      expect((await runReadOnly(database().queries, plan(sql).sql, 60_000)).length, sql).toBeGreaterThan(0);
    }
    await expect(
      runReadOnly(database().queries, { text: 'SELECT dose_id FROM commons.doses', parameters: [] }, 60_000),
    ).rejects.toThrow(/permission denied/);
  });

  it('runs every accepted query of the join corpus', async () => {
    for (const c of JOIN_ACCEPTED) {
      const planned = plan(c.sql);
      await expect(run(database(), planned.sql.text, planned.sql.parameters), c.sql).resolves.toBeDefined();
    }
  });

  it('gives the plain SQL answers over a several-hop path (data within the bounds)', async () => {
    const items = await noiseless(
      database(),
      'SELECT kind, COUNT(*), SUM(price), COUNT(price) FROM items GROUP BY kind',
    );
    const truth = await run(
      database(),
      'SELECT kind, count(*) AS n, sum(price) AS total, count(price) AS priced FROM commons.items GROUP BY kind',
    );
    expect(truth.length).toBe(3);
    for (const row of truth) {
      const released = items.get(row.kind)!;
      expect([released.m0, released.m1, released.m2].map(Number)).toEqual(
        [row.n, row.total, row.priced].map(Number),
      );
    }
    const doses = (await noiseless(database(), 'SELECT SUM(mg), COUNT(DISTINCT person_id) FROM doses')).get(
      '',
    )!;
    const [doseTruth] = await run(
      database(),
      `SELECT sum(d.mg) AS mg, count(DISTINCT v.person_id) AS persons FROM commons.doses d
       JOIN commons.items i USING (item_id) JOIN commons.visits v USING (visit_id)`,
    );
    expect([doses.m0, doses.m1].map(Number)).toEqual([doseTruth!.mg, doseTruth!.persons].map(Number));
    const bySex = await noiseless(
      database(),
      'SELECT p.sex, COUNT(*) FROM people p JOIN items i USING (person_id) GROUP BY p.sex',
    );
    const sexTruth = await run(
      database(),
      `SELECT p.sex, count(*) AS n FROM commons.people p JOIN commons.visits v USING (person_id)
       JOIN commons.items i USING (visit_id) GROUP BY p.sex`,
    );
    for (const row of sexTruth) expect(Number(bySex.get(row.sex)!.m0)).toBe(Number(row.n));
    const byClinic = await noiseless(
      database(),
      'SELECT v.clinic, COUNT(*), SUM(i.price) FROM items i JOIN visits v USING (visit_id) GROUP BY v.clinic',
    );
    const clinicTruth = await run(
      database(),
      `SELECT v.clinic, count(*) AS n, sum(i.price) AS total FROM commons.items i
       JOIN commons.visits v USING (visit_id) GROUP BY v.clinic`,
    );
    expect(clinicTruth.length).toBe(3);
    for (const row of clinicTruth) {
      const group = byClinic.get(row.clinic)!;
      expect([group.m0, group.m1].map(Number)).toEqual([row.n, row.total].map(Number));
    }
  });

  it('caps rows per person reached through the path', async () => {
    const person = 5; // has no visit in the fixture
    await run(database(), `INSERT INTO commons.visits VALUES (100000, ${person}, 'north', 10)`);
    await run(
      database(),
      `INSERT INTO commons.items SELECT 100000 + n, 100000, 'drug', 200 FROM generate_series(1, 40) AS n`,
    );
    const [capped] = await run(
      database(),
      `SELECT sum(LEAST(n, 6)) AS n, sum(CASE WHEN n <= 6 THEN total ELSE total * 6 / n END) AS total FROM (
         SELECT v.person_id, count(*) AS n, sum(i.price) AS total FROM commons.items i
         JOIN commons.visits v USING (visit_id) GROUP BY v.person_id) per_person`,
    );
    const withHeavy = (await noiseless(database(), 'SELECT COUNT(*), SUM(price) FROM items')).get('')!;
    expect([withHeavy.m0, withHeavy.m1].map(Number)).toEqual([capped!.n, capped!.total].map(Number));
    await run(database(), 'DELETE FROM commons.items WHERE visit_id = 100000');
    await run(database(), 'DELETE FROM commons.visits WHERE visit_id = 100000');
    const without = (await noiseless(database(), 'SELECT COUNT(*), SUM(price) FROM items')).get('')!;
    // The person moved the count by r = 6 rows and the sum by 6 · 200, the sensitivities charged.
    expect(Number(withHeavy.m0) - Number(without.m0)).toBe(6);
    expect(Number(withHeavy.m1) - Number(without.m1)).toBe(1200);
  });

  it('keeps every private row in private LEFT JOIN public, NULL-extended where nothing matches', async () => {
    const unmatched = (
      await noiseless(
        database(),
        'SELECT COUNT(*), SUM(v.cost) FROM visits v LEFT JOIN clinics c USING (clinic) WHERE c.region IS NULL',
      )
    ).get('')!;
    const [truth] = await run(
      database(),
      `SELECT count(*) AS n, sum(v.cost) AS cost FROM commons.visits v
       LEFT JOIN commons.clinics c USING (clinic) WHERE c.region IS NULL`,
    );
    expect(Number(truth!.n)).toBeGreaterThan(0);
    expect([unmatched.m0, unmatched.m1].map(Number)).toEqual([truth!.n, truth!.cost].map(Number));

    const byRegion = await noiseless(
      database(),
      'SELECT c.region, COUNT(*) FROM visits v LEFT JOIN clinics c ON v.clinic = c.clinic GROUP BY c.region',
    );
    const regionTruth = await run(
      database(),
      `SELECT c.region, count(*) AS n FROM commons.visits v LEFT JOIN commons.clinics c ON v.clinic = c.clinic
       GROUP BY c.region`,
    );
    // Released: the public domain (the regions clinics lists); the NULL group is not a domain value.
    expect([...byRegion.keys()].sort()).toEqual(['coast', 'upland']);
    for (const row of regionTruth.filter((r) => r.region !== null))
      expect(Number(byRegion.get(row.region)!.m0)).toBe(Number(row.n));
  });

  it('releases the public side’s groups without private rows as empty groups', async () => {
    const truth = await run(
      database(),
      `SELECT c.clinic, count(v.person_id) AS n, COALESCE(sum(v.cost), 0) AS cost FROM commons.clinics c
       LEFT JOIN commons.visits v ON v.clinic = c.clinic GROUP BY c.clinic`,
    );
    expect(truth.find((r) => r.clinic === 'west')).toMatchObject({ n: expect.anything() });
    for (const sql of [
      'SELECT c.clinic, COUNT(*), SUM(v.cost) FROM clinics c LEFT JOIN visits v ON v.clinic = c.clinic GROUP BY c.clinic',
      'SELECT c.clinic, COUNT(*), SUM(v.cost) FROM visits v RIGHT JOIN clinics c ON v.clinic = c.clinic GROUP BY c.clinic',
    ]) {
      const released = await noiseless(database(), sql);
      expect([...released.keys()].sort(), sql).toEqual(['north', 'south', 'west']);
      expect([Number(released.get('west')!.m0), Number(released.get('west')!.m1)]).toEqual([0, 0]);
      for (const row of truth) {
        const group = released.get(row.clinic)!;
        expect([group.m0, group.m1].map(Number), `${sql} ${String(row.clinic)}`).toEqual(
          [row.n, row.cost].map(Number),
        );
      }
    }
  });
});
