/** Runs a command's work against the configured database, migrated, and closes it afterwards. */
import type { Config } from '../config.ts';
import { type DatabaseHandle, openDatabase } from '../db/connect.ts';
import { DataDirInUseError } from '../db/data-dir-lock.ts';
import { migrate } from '../db/migrate.ts';

export async function withDatabase<T>(
  config: Config,
  work: (database: DatabaseHandle) => Promise<T>,
): Promise<T> {
  const database = await openDatabase({ url: config.DATABASE_URL, dataDir: config.DPGATE_DATA_DIR }).catch(
    (error: unknown) => {
      if (error instanceof DataDirInUseError)
        throw new DataDirInUseError(
          `${error.message}. While it runs, do this through its API: add --key <council key> (and --url if it is not on http://127.0.0.1:8787)`,
        );
      throw error;
    },
  );
  try {
    await migrate(database);
    return await work(database);
  } finally {
    await database.close();
  }
}
