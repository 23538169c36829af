import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MIGRATIONS_FOLDER } from '../../src/db/migrate.ts';

/** How many migrations drizzle-kit has written: a fresh database applies exactly these. */
export const MIGRATION_COUNT: number = JSON.parse(
  readFileSync(join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8'),
).entries.length;
