/**
 * Opening dpgate's database: PostgreSQL through `pg` when a URL is given, otherwise embedded PGlite
 * with its data in a directory (or `memory://`). Either way callers get one Kysely instance.
 */
import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './database.ts';
import { PGliteDialect } from './pglite-dialect.ts';
import { typeParsers } from './type-parsers.ts';

export type DatabaseDriver =
  | { readonly kind: 'postgres'; readonly pool: pg.Pool; readonly url: string }
  | { readonly kind: 'pglite'; readonly pglite: PGlite; readonly dataDir: string };

export interface DatabaseHandle {
  readonly db: Kysely<Database>;
  readonly driver: DatabaseDriver;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** A PostgreSQL connection string; when absent, PGlite is used. */
  readonly url?: string | undefined;
  /** PGlite's data directory, or `memory://` for a throwaway database. */
  readonly dataDir: string;
  readonly maxConnections?: number;
}

export async function openDatabase(options: DatabaseOptions): Promise<DatabaseHandle> {
  return options.url ? openPostgres(options.url, options.maxConnections ?? 20) : openPGlite(options.dataDir);
}

function openPostgres(url: string, max: number): DatabaseHandle {
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

async function openPGlite(dataDir: string): Promise<DatabaseHandle> {
  if (!dataDir.includes('://')) mkdirSync(dataDir, { recursive: true });
  const pglite = await PGlite.create(dataDir, { parsers: typeParsers });
  const db = new Kysely<Database>({ dialect: new PGliteDialect(pglite) });
  return {
    db,
    driver: { kind: 'pglite', pglite, dataDir },
    close: async () => {
      await db.destroy();
      await pglite.close();
    },
  };
}
