/** Runs a command's work against the configured database, migrated, and closes it afterwards. */
import type { Config } from '../config.ts';
import { type DatabaseHandle, openDatabase } from '../db/connect.ts';
import { migrate } from '../db/migrate.ts';

export async function withDatabase<T>(
  config: Config,
  work: (database: DatabaseHandle) => Promise<T>,
): Promise<T> {
  const database = await openDatabase({ url: config.DATABASE_URL, dataDir: config.DPGATE_DATA_DIR });
  try {
    await migrate(database);
    return await work(database);
  } finally {
    await database.close();
  }
}
