/**
 * Demo keys: one per role, and a contributor key per community, written to
 * `$DPGATE_DATA_DIR/demo-keys.json` so a new user can try every role at once. A later start reuses
 * the file while its keys still work in this database.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import { authenticateKey, createApiKey } from '../principals/api-keys.ts';

export interface DemoKeys {
  readonly analyst: string;
  readonly council: string;
  readonly contributors: Record<string, string>;
}

export async function ensureDemoKeys(
  db: Kysely<Database>,
  file: string,
  communities: readonly string[],
): Promise<DemoKeys> {
  const existing = readDemoKeys(file);
  if (existing && (await demoKeysWork(db, existing, communities))) return existing;
  const keys: DemoKeys = {
    analyst: (await createApiKey(db, { role: 'analyst', name: 'demo analyst' })).key,
    council: (await createApiKey(db, { role: 'council', name: 'demo council' })).key,
    contributors: Object.fromEntries(
      await Promise.all(
        communities.map(async (community) => [
          community,
          (
            await createApiKey(db, {
              role: 'contributor',
              communityId: community,
              name: `demo contributor (${community})`,
            })
          ).key,
        ]),
      ),
    ),
  };
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(keys, null, 2)}\n`, { mode: 0o600 });
  return keys;
}

function readDemoKeys(file: string): DemoKeys | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as DemoKeys;
  } catch {
    return undefined;
  }
}

async function demoKeysWork(
  db: Kysely<Database>,
  keys: DemoKeys,
  communities: readonly string[],
): Promise<boolean> {
  const all = [keys.analyst, keys.council, ...communities.map((community) => keys.contributors?.[community])];
  if (all.some((key) => typeof key !== 'string')) return false;
  const principals = await Promise.all(all.map((key) => authenticateKey(db, key as string)));
  return principals.every(Boolean);
}

/** What `npm start` prints: the keys and a request to copy. */
export function demoBanner(keys: DemoKeys, file: string, baseUrl: string): string {
  const contributorLines = Object.entries(keys.contributors)
    .map(([community, key]) => `    contributor (${community}): ${key}`)
    .join('\n');
  return [
    '',
    'dpgate demo commons is ready.',
    `  Keys (also in ${file}):`,
    `    analyst:  ${keys.analyst}`,
    `    council:  ${keys.council}`,
    contributorLines,
    '  Try:',
    `    curl -s ${baseUrl}/health`,
    `    curl -s -H "Authorization: Bearer ${keys.analyst}" ${baseUrl}/v1/me`,
    `    curl -s -H "Authorization: Bearer ${keys.council}" ${baseUrl}/v1/policies`,
    `  API docs: ${baseUrl}/docs`,
    '',
  ].join('\n');
}
