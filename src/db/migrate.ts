/**
 * Applying the SQL migrations that drizzle-kit wrote into `migrations/`, with drizzle's own
 * migrators. On PostgreSQL a session advisory lock makes two gateways starting at once take turns:
 * the second finds the work done and applies nothing.
 */
import { fileURLToPath } from 'node:url';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import { drizzle as drizzlePGlite } from 'drizzle-orm/pglite';
import { migrate as migratePGlite } from 'drizzle-orm/pglite/migrator';
import type { DatabaseHandle } from './connect.ts';

export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../migrations', import.meta.url));

/** Arbitrary but fixed: identifies dpgate's migration lock among other advisory locks. */
const MIGRATION_LOCK_KEY = 7_302_114_001;

const COUNT_APPLIED = `select count(*)::int as n from drizzle.__drizzle_migrations`;
const HAS_MIGRATION_TABLE = `select to_regclass('drizzle.__drizzle_migrations') is not null as present`;

/** Applies pending migrations; returns how many were applied by this call. */
export async function migrate(handle: DatabaseHandle): Promise<number> {
  const { driver } = handle;
  if (driver.kind === 'pglite') {
    const before = await countApplied((text) => driver.pglite.query(text));
    await migratePGlite(drizzlePGlite(driver.pglite), { migrationsFolder: MIGRATIONS_FOLDER });
    return (await countApplied((text) => driver.pglite.query(text))) - before;
  }
  const client = await driver.pool.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    const before = await countApplied((text) => client.query(text));
    await migratePg(drizzlePg(client), { migrationsFolder: MIGRATIONS_FOLDER });
    return (await countApplied((text) => client.query(text))) - before;
  } finally {
    await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => {});
    client.release();
  }
}

type RunQuery = (text: string) => Promise<{ rows: unknown[] }>;

async function countApplied(run: RunQuery): Promise<number> {
  const [presence] = (await run(HAS_MIGRATION_TABLE)).rows as { present: boolean }[];
  if (!presence?.present) return 0;
  const [row] = (await run(COUNT_APPLIED)).rows as { n: number }[];
  return row?.n ?? 0;
}
