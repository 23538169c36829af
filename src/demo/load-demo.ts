/**
 * Loads the demo commons (schema `commons`, PUMS data) into a database, once. Safe when several
 * gateways start at once: the load runs in one transaction behind an advisory lock, and a marker in
 * `dpgate.instance_state` tells later starts that it is done.
 */
import { readFileSync } from 'node:fs';
import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/database.ts';
import { jsonb } from '../db/jsonb.ts';

const DEMO_MARKER = 'demo_commons';
const DEMO_LOCK_KEY = 7_302_114_002;
const INSERT_CHUNK_ROWS = 500;

export const COMMUNITIES = [
  { community_id: 'riverside', name: 'Riverside Cooperative', region: 'north' },
  { community_id: 'hillcrest', name: 'Hillcrest Health Circle', region: 'east' },
  { community_id: 'lakeside', name: 'Lakeside Tenants Union', region: 'south' },
] as const;

/** The documented assignment rule (see data/README.md). */
export function communityOf(personId: number): string {
  return COMMUNITIES[[2, 0, 1][personId % 3]!]!.community_id;
}

const dataFile = (name: string) => new URL(`./data/${name}`, import.meta.url);

/** Loads the demo unless already loaded; returns whether this call loaded it. */
export async function loadDemoCommons(db: Kysely<Database>): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(${DEMO_LOCK_KEY})`.execute(trx);
    const marker = await trx
      .selectFrom('dpgate.instance_state')
      .select('key')
      .where('key', '=', DEMO_MARKER)
      .executeTakeFirst();
    if (marker) return false;

    for (const statement of splitStatements(
      readFileSync(new URL('./commons.sql', import.meta.url), 'utf8'),
    )) {
      await sql.raw(statement).execute(trx);
    }
    await insertRows(
      trx,
      'communities',
      ['community_id', 'name', 'region'],
      COMMUNITIES.map((c) => [c.community_id, c.name, c.region]),
    );

    const people = readCsv('PUMS_pid.csv');
    await insertRows(
      trx,
      'people',
      ['person_id', 'community_id', 'age', 'sex', 'educ', 'race', 'income', 'married'],
      people.map((p) => [
        p.pid!,
        communityOf(p.pid!),
        p.age!,
        p.sex!,
        p.educ!,
        p.race!,
        p.income!,
        p.married!,
      ]),
    );
    const responses = readCsv('PUMS_dup.csv');
    await insertRows(
      trx,
      'survey_responses',
      ['response_id', 'person_id', 'age', 'sex', 'educ', 'race', 'income', 'married'],
      responses.map((r, index) => [
        index + 1,
        r.pid!,
        r.age!,
        r.sex!,
        r.educ!,
        r.race!,
        r.income!,
        r.married!,
      ]),
    );
    await trx
      .insertInto('dpgate.instance_state')
      .values({
        key: DEMO_MARKER,
        value: jsonb({ people: people.length, survey_responses: responses.length }),
      })
      .execute();
    return true;
  });
}

type Row = Record<string, number>;

/** The PUMS files are plain numeric CSV with a header line. */
function readCsv(name: string): Row[] {
  const [header, ...lines] = readFileSync(dataFile(name), 'utf8').trim().split(/\r?\n/);
  const columns = header!.split(',');
  return lines.map((line) => {
    const values = line.split(',');
    return Object.fromEntries(columns.map((column, i) => [column, Number(values[i])]));
  });
}

async function insertRows(
  db: Kysely<Database>,
  table: string,
  columns: readonly string[],
  rows: readonly (readonly (string | number)[])[],
): Promise<void> {
  for (let start = 0; start < rows.length; start += INSERT_CHUNK_ROWS) {
    const chunk = rows.slice(start, start + INSERT_CHUNK_ROWS);
    await sql`insert into ${sql.table(`commons.${table}`)} (${sql.join(columns.map((c) => sql.ref(c)))}) values ${sql.join(
      chunk.map((row) => sql`(${sql.join(row)})`),
    )}`.execute(db);
  }
}

/** Our own DDL file: statements end with `;` at the end of a line. */
function splitStatements(text: string): string[] {
  return text
    .split(/;\s*$/m)
    .map((statement) => statement.replace(/^\s*--.*$/gm, '').trim())
    .filter(Boolean);
}
