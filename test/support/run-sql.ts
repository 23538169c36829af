/** Running rewritten and plain SQL on a test database, for truth tests of the rewrite. */
import { CompiledQuery } from 'kysely';
import type { RewrittenSql } from '../../src/sql/index.ts';
import type { TestDatabase } from './databases.ts';

export type Row = Record<string, unknown>;

export async function run(database: TestDatabase, sql: RewrittenSql): Promise<Row[]> {
  const result = await database.db.executeQuery(CompiledQuery.raw(sql.text, [...sql.parameters]));
  return result.rows as Row[];
}

export const plain = (database: TestDatabase, text: string): Promise<Row[]> =>
  run(database, { text, parameters: [] });

/**
 * Keeps each person's first `rows` survey responses (by response_id) and deletes the rest, so a
 * per-person cap of at least `rows` leaves the data unchanged and the truth is plain SQL.
 */
export async function keepResponsesPerPerson(database: TestDatabase, rows: number, schema = 'commons') {
  await plain(
    database,
    `DELETE FROM ${schema}.survey_responses WHERE response_id IN (
       SELECT response_id FROM (
         SELECT response_id, row_number() OVER (PARTITION BY person_id ORDER BY response_id) AS n
         FROM ${schema}.survey_responses) numbered
       WHERE n > ${rows})`,
  );
}
