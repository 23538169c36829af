/**
 * The rewritten SQL runs unchanged on PostgreSQL's own scale-out: a commons table split by
 * declarative partitioning into a local partition and a postgres_fdw foreign partition in a second
 * database. One person's rows span both partitions; the bounded answer equals the one over the same
 * rows in a plain table, and that person still moves COUNT and SUM by at most the bound.
 * PostgreSQL only (skipped without DATABASE_URL): loopback to the same server.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Policy } from '../../src/policy/schema.ts';
import type { PrivateQueryPlan, RewrittenSql } from '../../src/sql/index.ts';
import { loadDemoPolicy } from './demo-policy.ts';
import { privatePlanOf } from './private-plan.ts';

const url = process.env.DATABASE_URL;
const suffix = `${process.pid}_${Date.now()}`;
const [LOCAL, REMOTE, PLAIN] = ['local', 'remote', 'plain'].map((name) => `dpgate_fdw_${name}_${suffix}`) as [
  string,
  string,
  string,
];

const COLUMNS = `response_id integer NOT NULL, person_id integer NOT NULL, age integer NOT NULL,
  sex integer NOT NULL, educ integer NOT NULL, race integer NOT NULL, income double precision NOT NULL,
  married integer NOT NULL`;
// Person 7 has 6 rows: 3 in each partition (response ids below and above 1000); 36 others have one.
const ROWS = `SELECT i, CASE WHEN i % 7 = 0 THEN 7 ELSE 100 + i END, 30 + i % 40, i % 2, 1 + i % 3, 1,
  100 * i + 0.5, 0 FROM (SELECT generate_series(1, 21) UNION ALL SELECT generate_series(1001, 1021)) AS ids(i)`;

function databaseUrl(name: string): string {
  const u = new URL(url!);
  u.pathname = `/${name}`;
  return u.toString();
}

async function withClient<T>(name: string, body: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl(name) });
  await client.connect();
  try {
    return await body(client);
  } finally {
    await client.end();
  }
}

describe.skipIf(!url)('a bounded query over a commons split across two databases (postgres_fdw)', () => {
  let policy: Policy;
  const admin = () => new URL(url!).pathname.slice(1);

  beforeAll(async () => {
    policy = await loadDemoPolicy();
    await withClient(admin(), async (client) => {
      for (const name of [LOCAL, REMOTE, PLAIN]) await client.query(`CREATE DATABASE ${name}`);
    });
    await withClient(REMOTE, async (client) => {
      await client.query(`CREATE TABLE survey_far (${COLUMNS})`);
    });
    await withClient(PLAIN, async (client) => {
      await client.query('CREATE SCHEMA commons');
      await client.query(`CREATE TABLE commons.survey_responses (${COLUMNS})`);
      await client.query(`INSERT INTO commons.survey_responses ${ROWS}`);
    });
    const target = new URL(databaseUrl(REMOTE));
    await withClient(LOCAL, async (client) => {
      await client.query('CREATE EXTENSION postgres_fdw');
      await client.query(
        `CREATE SERVER far FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '${target.hostname}', port '${target.port || '5432'}', dbname '${REMOTE}')`,
      );
      await client.query(
        `CREATE USER MAPPING FOR CURRENT_USER SERVER far OPTIONS (user '${decodeURIComponent(target.username || 'postgres')}')`,
      );
      await client.query('CREATE SCHEMA commons');
      await client.query(
        `CREATE TABLE commons.survey_responses (${COLUMNS}) PARTITION BY RANGE (response_id)`,
      );
      await client.query(
        'CREATE TABLE commons.survey_near PARTITION OF commons.survey_responses FOR VALUES FROM (MINVALUE) TO (1000)',
      );
      await client.query(
        `CREATE FOREIGN TABLE commons.survey_far PARTITION OF commons.survey_responses FOR VALUES FROM (1000) TO (MAXVALUE)
         SERVER far OPTIONS (schema_name 'public', table_name 'survey_far')`,
      );
      // Rows routed through the parent land in whichever partition holds their response id.
      await client.query(`INSERT INTO commons.survey_responses ${ROWS}`);
    });
  }, 60_000);

  afterAll(async () => {
    await withClient(admin(), async (client) => {
      for (const name of [LOCAL, PLAIN, REMOTE])
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    });
  });

  function plan(sql: string): PrivateQueryPlan {
    return privatePlanOf({ sql, policy, role: 'analyst', request: { epsilon: 1, delta: 1e-7 } });
  }

  async function run(name: string, sql: RewrittenSql, key = '12345'): Promise<Record<string, unknown>[]> {
    const parameters: unknown[] = [...sql.parameters];
    if (sql.selectionKeyParameter !== undefined) parameters[sql.selectionKeyParameter - 1] = key;
    return withClient(name, async (client) => (await client.query(sql.text, parameters)).rows);
  }

  it('puts one person in both partitions', async () => {
    const [near, far] = await withClient(LOCAL, async (client) =>
      Promise.all(
        ['survey_near', 'survey_far'].map(
          async (t) =>
            (await client.query(`SELECT count(*)::int AS n FROM commons.${t} WHERE person_id = 7`)).rows[0].n,
        ),
      ),
    );
    expect([near, far]).toEqual([3, 3]);
  });

  it('gives the same bounded answer as one plain table, with the person capped at the bound', async () => {
    for (const sql of [
      'SELECT COUNT(*), SUM(income), AVG(age) FROM survey_responses',
      'SELECT educ, COUNT(*), SUM(income) FROM survey_responses GROUP BY educ',
      'SELECT sex, COUNT(*), SUM(age) FROM survey_responses WHERE age > 35 GROUP BY sex',
    ]) {
      const bounded = plan(sql);
      expect(await run(LOCAL, bounded.sql)).toEqual(await run(PLAIN, bounded.sql));
    }
    const total = plan('SELECT COUNT(*), SUM(income) FROM survey_responses');
    const [row] = await run(LOCAL, total.sql);
    // 36 persons with one row each, and person 7 capped at r = 2 of 6 rows.
    const r = total.contribution.maxRowsPerGroup;
    expect(Number(row!.m0)).toBe(36 + r);
    const others = await withClient(
      PLAIN,
      async (client) =>
        (
          await client.query(
            'SELECT sum(round(income))::float8 AS others, (SELECT sum(round(income)) FROM commons.survey_responses WHERE person_id = 7)::float8 AS seven FROM commons.survey_responses WHERE person_id <> 7',
          )
        ).rows[0],
    );
    const sevenCapped = Number(row!.m1) - Number(others.others);
    expect(Math.abs(sevenCapped)).toBeLessThanOrEqual(total.measurements[1]!.sensitivity.perGroup);
    expect(sevenCapped).toBe(Math.trunc((Number(others.seven) * r) / 6));
  });
});
