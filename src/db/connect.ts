/**
 * Opening dpgate's database: PostgreSQL through `pg` when a URL is given, otherwise embedded PGlite
 * with its data in a directory (or `memory://`). Either way callers get one Kysely instance.
 */
import type { PGlite } from '@electric-sql/pglite';
import type { Kysely } from 'kysely';
import type pg from 'pg';
import { openPGlite } from './connect-pglite.ts';
import { openPostgres } from './connect-postgres.ts';
import type { Database } from './database.ts';
import type { QueryRunner } from './query-runner.ts';

export type DatabaseDriver =
  | { readonly kind: 'postgres'; readonly pool: pg.Pool; readonly url: string }
  | { readonly kind: 'pglite'; readonly pglite: PGlite; readonly dataDir: string };

export interface DatabaseHandle {
  readonly db: Kysely<Database>;
  /**
   * For reads that must stay fast while writes wait (health, ledger views, key lookups): its own
   * small pool on PostgreSQL; the same instance as `db` on PGlite, which has one connection.
   */
  readonly readDb: Kysely<Database>;
  /** Where analysts' rewritten SQL runs (query-runner.ts): never on `db` or `readDb` directly. */
  readonly queries: QueryRunner;
  readonly driver: DatabaseDriver;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** A PostgreSQL connection string; when absent, PGlite is used. */
  readonly url?: string | undefined;
  /** PGlite's data directory, or `memory://` for a throwaway database. */
  readonly dataDir: string;
  readonly maxConnections?: number;
  /** PostgreSQL only: where data queries run (connect-postgres.ts); `sessions` by default. */
  readonly queryConnections?: 'sessions' | 'transactions' | undefined;
}

export async function openDatabase(options: DatabaseOptions): Promise<DatabaseHandle> {
  if (!options.url) return openPGlite(options.dataDir);
  return openPostgres(options.url, options.maxConnections ?? 20, {
    queryConnections: options.queryConnections ?? 'sessions',
  });
}
