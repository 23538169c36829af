/**
 * Which columns the catalog proves unique: only a valid, immediate, non-partial, single-column
 * unique index on a plain or partitioned table of `commons` counts.
 */
import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { readCommonsCatalog } from '../../src/db/commons-catalog.ts';
import { loadDemoPolicy } from '../sql/demo-policy.ts';
import { describeEachDatabase } from '../support/databases.ts';

describeEachDatabase('unique columns in the commons catalog', (database) => {
  it('accepts primary keys and single-column unique indexes, nothing weaker', async () => {
    const db = database().db;
    for (const statement of [
      'CREATE TABLE commons.probe_pk (id int PRIMARY KEY, x int)',
      'CREATE TABLE commons.probe_unique (id int, x int, UNIQUE (id))',
      'CREATE TABLE commons.probe_pair (id int, x int, UNIQUE (id, x))',
      'CREATE TABLE commons.probe_partial (id int, x int)',
      'CREATE UNIQUE INDEX probe_partial_id ON commons.probe_partial (id) WHERE x > 0',
      'CREATE TABLE commons.probe_expression (id int, x int)',
      'CREATE UNIQUE INDEX probe_expression_id ON commons.probe_expression ((id + 0))',
      'CREATE TABLE commons.probe_deferred (id int, x int, UNIQUE (id) DEFERRABLE INITIALLY DEFERRED)',
      'CREATE TABLE commons.probe_plain (id int, x int)',
      'CREATE INDEX probe_plain_id ON commons.probe_plain (id)',
      'CREATE VIEW commons.probe_view AS SELECT * FROM commons.probe_pk',
    ])
      await sql.raw(statement).execute(db);
    const catalog = await readCommonsCatalog(db, await loadDemoPolicy());
    const probes = (catalog.uniqueColumns ?? []).filter((c) => c.startsWith('probe_'));
    expect(probes).toEqual(['probe_pk.id', 'probe_unique.id']);
    expect(catalog.uniqueColumns).toContain('people.person_id');
    expect(catalog.uniqueColumns).not.toContain('survey_responses.person_id');
    await sql.raw('DROP VIEW commons.probe_view').execute(db);
    for (const table of ['pk', 'unique', 'pair', 'partial', 'expression', 'deferred', 'plain'])
      await sql.raw(`DROP TABLE commons.probe_${table}`).execute(db);
  });
});
