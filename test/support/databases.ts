/**
 * Test databases. Every test that touches a database runs on PGlite and, when DATABASE_URL is set,
 * on PostgreSQL too. Each call gets its own database: a fresh PGlite restored from a template made
 * once per run (global-setup.ts; much faster than a cold start), or a new PostgreSQL database
 * dropped at close.
 */

import { readFile } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { Kysely } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, inject } from 'vitest';
import { type DatabaseHandle, openDatabase } from '../../src/db/connect.ts';
import type { Database } from '../../src/db/database.ts';
import { migrate } from '../../src/db/migrate.ts';
import { PGliteDialect } from '../../src/db/pglite-dialect.ts';
import { readOnlyTransactions } from '../../src/db/read-only-transaction.ts';
import { typeParsers } from '../../src/db/type-parsers.ts';
import { loadDemoCommons } from '../../src/demo/load-demo.ts';

export type DatabaseKind = 'pglite' | 'postgres';

export const TEST_DATABASE_KINDS: readonly DatabaseKind[] = process.env.DATABASE_URL
  ? ['pglite', 'postgres']
  : ['pglite'];

export interface TestDatabase extends DatabaseHandle {
  readonly kind: DatabaseKind;
  /** A connection string for this database (PostgreSQL only), e.g. for a child gateway process. */
  readonly url?: string;
}

export interface TestDatabaseOptions {
  /** Load the demo commons (schema `commons`, PUMS data). Default true. */
  readonly demo?: boolean;
}

export async function openTestDatabase(
  kind: DatabaseKind,
  options: TestDatabaseOptions = {},
): Promise<TestDatabase> {
  const demo = options.demo ?? true;
  return kind === 'pglite' ? openPGliteFromTemplate(demo) : openFreshPostgres(demo);
}

/**
 * `describe` once per database kind; `database()` returns that kind's database inside tests.
 * The database is opened before the block's tests and closed (and dropped) after them.
 */
export function describeEachDatabase(
  name: string,
  body: (database: () => TestDatabase, kind: DatabaseKind) => void,
  options: TestDatabaseOptions = {},
): void {
  for (const kind of TEST_DATABASE_KINDS) {
    describe(`${name} [${kind}]`, () => {
      let database: TestDatabase | undefined;
      beforeAll(async () => {
        database = await openTestDatabase(kind, options);
      });
      afterAll(async () => {
        await database?.close();
      });
      body(() => {
        if (!database) throw new Error('test database not open yet');
        return database;
      }, kind);
    });
  }
}

/** The template files written by global-setup.ts. */
async function pgliteTemplate(demo: boolean): Promise<Blob> {
  const templates = inject('pgliteTemplates');
  return new Blob([await readFile(demo ? templates.demo : templates.empty)]);
}

async function openPGliteFromTemplate(demo: boolean): Promise<TestDatabase> {
  const pglite = await PGlite.create({ loadDataDir: await pgliteTemplate(demo), parsers: typeParsers });
  const db = new Kysely<Database>({ dialect: new PGliteDialect(pglite) });
  return {
    kind: 'pglite',
    db,
    readDb: db,
    queries: readOnlyTransactions(db),
    driver: { kind: 'pglite', pglite, dataDir: 'memory://' },
    close: async () => {
      await db.destroy();
      await pglite.close();
    },
  };
}

async function openFreshPostgres(demo: boolean): Promise<TestDatabase> {
  const adminUrl = process.env.DATABASE_URL!;
  const name = `dpgate_test_${crypto.randomUUID().replaceAll('-', '').slice(0, 16)}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = withDatabase(adminUrl, name);
  const handle = await openDatabase({ url, dataDir: 'memory://' });
  await migrate(handle);
  if (demo) await loadDemoCommons(handle.db);
  return {
    ...handle,
    kind: 'postgres',
    url,
    close: async () => {
      await handle.close();
      const cleanup = new pg.Client({ connectionString: adminUrl });
      await cleanup.connect();
      await cleanup.query(`drop database if exists ${name} with (force)`);
      await cleanup.end();
    },
  };
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
