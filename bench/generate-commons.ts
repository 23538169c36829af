// Generates a synthetic commons shaped like the demo one (communities, people with one row per
// person, survey_responses with many rows per person) in its own database, with generate_series
// in SQL so the rows never pass through Node. Run:
//   npx tsx bench/generate-commons.ts <rows> [database]   (default database: dpgate_bench_<rows>)
// e.g. npx tsx bench/generate-commons.ts 10000000. Needs PostgreSQL at BENCH_ADMIN_URL
// (default postgres://postgres@127.0.0.1:5432/postgres).
import pg from 'pg';

export const ADMIN_URL = process.env.BENCH_ADMIN_URL || 'postgres://postgres@127.0.0.1:5432/postgres';

export function benchDatabaseUrl(database: string): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

/**
 * people: `rows` persons, person_id the primary key. survey_responses: `rows` responses over
 * rows/5 persons, skewed (person ids drawn as ⌊(rows/5)·u²⌋ + 1) so a few persons have hundreds of
 * rows and most have one or two: the cap binds only for some persons, as in real commons.
 */
export function commonsSql(rows: number): string[] {
  if (!Number.isSafeInteger(rows) || rows < 10) throw new Error('rows must be an integer ≥ 10');
  const respondents = Math.floor(rows / 5);
  return [
    'DROP SCHEMA IF EXISTS commons CASCADE',
    'CREATE SCHEMA commons',
    `CREATE TABLE commons.communities (community_id text PRIMARY KEY, name text NOT NULL, region text NOT NULL)`,
    `INSERT INTO commons.communities VALUES ('hillcrest', 'Hillcrest', 'north'), ('lakeside', 'Lakeside', 'east'), ('riverside', 'Riverside', 'south')`,
    `CREATE TABLE commons.people (
       person_id integer PRIMARY KEY, community_id text NOT NULL, age integer NOT NULL,
       sex integer NOT NULL, educ integer NOT NULL, race integer NOT NULL,
       income double precision NOT NULL, married integer NOT NULL)`,
    `INSERT INTO commons.people
       SELECT i, (ARRAY['hillcrest', 'lakeside', 'riverside'])[1 + i % 3], (i * 37) % 91,
              i % 2, 1 + (i * 13) % 16, 1 + (i * 7) % 6, ((i::int8 * 7919) % 200000)::float8 + 0.25, (i / 3) % 2
       FROM generate_series(1, ${rows}) AS i`,
    `CREATE TABLE commons.survey_responses (
       response_id integer PRIMARY KEY, person_id integer NOT NULL, age integer NOT NULL,
       sex integer NOT NULL, educ integer NOT NULL, race integer NOT NULL,
       income double precision NOT NULL, married integer NOT NULL)`,
    `INSERT INTO commons.survey_responses
       SELECT i, p, (p * 37) % 91, p % 2, 1 + (i * 13) % 16, 1 + (p * 7) % 6,
              ((i::int8 * 7919) % 200000)::float8 + 0.5, (p / 3) % 2
       FROM (SELECT i, 1 + floor(${respondents} * (hashint4(i)::float8 / 4294967296 + 0.5) ^ 2)::int AS p
             FROM generate_series(1, ${rows}) AS i) AS draws`,
    'CREATE INDEX survey_responses_person ON commons.survey_responses (person_id)',
    'VACUUM (ANALYZE) commons.people',
    'VACUUM (ANALYZE) commons.survey_responses',
    'ANALYZE commons.communities',
  ];
}

async function main(): Promise<void> {
  const rows = Number(process.argv[2] ?? 1_000_000);
  const database = process.argv[3] ?? `dpgate_bench_${rows}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
  if (exists.rowCount === 0) await admin.query(`CREATE DATABASE "${database.replace(/"/g, '')}"`);
  await admin.end();
  const client = new pg.Client({ connectionString: benchDatabaseUrl(database) });
  await client.connect();
  for (const statement of commonsSql(rows)) {
    const start = performance.now();
    await client.query(statement);
    console.log(
      `${((performance.now() - start) / 1000).toFixed(1)} s  ${statement.split('\n')[0]!.slice(0, 70)}`,
    );
  }
  await client.end();
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
