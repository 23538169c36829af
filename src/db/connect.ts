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
  /** PostgreSQL only: connections opened at most, over every pool (connect-postgres.ts). */
  readonly maxConnections?: number | undefined;
  /** PostgreSQL only: where data queries run (connect-postgres.ts); `sessions` by default. */
  readonly queryConnections?: 'sessions' | 'transactions' | undefined;
}

/** Over every pool of one gateway: 72 for three replicas, within PostgreSQL's default 100. */
export const DEFAULT_MAX_CONNECTIONS = 24;

export async function openDatabase(options: DatabaseOptions): Promise<DatabaseHandle> {
  if (!options.url) return openPGlite(options.dataDir);
  return openPostgres(options.url, options.maxConnections ?? DEFAULT_MAX_CONNECTIONS, {
    queryConnections: options.queryConnections ?? 'sessions',
  });
}
