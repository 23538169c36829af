/** dpgate's database on PostgreSQL through `pg`. No Node-only imports: Workers use this too. */
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { DatabaseHandle } from './connect.ts';
import type { Database } from './database.ts';
import { typeParsers } from './type-parsers.ts';

export function openPostgres(url: string, max: number): DatabaseHandle {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    types: { getTypeParser: (oid, format) => typeParsers[oid] ?? pg.types.getTypeParser(oid, format) },
  });
  // An idle client that loses its server must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { db, driver: { kind: 'postgres', pool, url }, close: () => db.destroy() };
}
