/** dpgate's database embedded in the process with PGlite, its data in a locked directory. */
import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { Kysely } from 'kysely';
import type { DatabaseHandle } from './connect.ts';
import { lockDataDir } from './data-dir-lock.ts';
import type { Database } from './database.ts';
import { PGliteDialect } from './pglite-dialect.ts';
import { readOnlyTransactions } from './read-only-transaction.ts';
import { typeParsers } from './type-parsers.ts';

export async function openPGlite(dataDir: string): Promise<DatabaseHandle> {
  const onDisk = !dataDir.includes('://');
  if (onDisk) mkdirSync(dataDir, { recursive: true });
  const unlock = onDisk ? lockDataDir(dataDir) : () => {};
  const pglite = await PGlite.create(dataDir, { parsers: typeParsers }).catch((error: unknown) => {
    unlock();
    throw error;
  });
  const db = new Kysely<Database>({ dialect: new PGliteDialect(pglite) });
  return {
    db,
    readDb: db,
    queries: readOnlyTransactions(db),
    driver: { kind: 'pglite', pglite, dataDir },
    close: async () => {
      await db.destroy();
      await pglite.close();
      unlock();
    },
  };
}
