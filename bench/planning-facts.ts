// The catalog facts the planner takes, read over a plain `pg` client (the gateway reads them with
// src/db/commons-catalog.ts; this copy keeps the benchmarks runnable against any checkout).
import type pg from 'pg';
import { COMMONS_SCHEMA, UNIQUE_COLUMNS_SQL } from '../src/db/commons-catalog.ts';

export async function readPlanningFacts(client: pg.Client) {
  const unique = await client.query<{ table_name: string; column_name: string }>(UNIQUE_COLUMNS_SQL, [
    [COMMONS_SCHEMA],
  ]);
  return { uniqueColumns: unique.rows.map((r) => `${r.table_name}.${r.column_name}`) };
}
