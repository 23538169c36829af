/** The policy versions that took effect in this database, newest last. */
import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import type { PolicyFile } from '../policy/policy-files.ts';
import { type PolicySnapshot, validatePolicyFiles } from '../policy/validate.ts';

/** The newest policy that took effect here, re-validated from its stored files. */
export async function latestAppliedPolicy(db: Kysely<Database>): Promise<PolicySnapshot | undefined> {
  const latest = await db
    .selectFrom('dpgate.policy_versions')
    .select(['files'])
    .orderBy('applied_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  return latest ? revalidate(latest.files) : undefined;
}

/** One version that took effect here (say, applied by another gateway), re-validated from its files. */
export async function appliedPolicy(
  db: Kysely<Database>,
  version: string,
): Promise<PolicySnapshot | undefined> {
  const row = await db
    .selectFrom('dpgate.policy_versions')
    .select(['files'])
    .where('version', '=', version)
    .executeTakeFirst();
  return row ? revalidate(row.files) : undefined;
}

async function revalidate(files: unknown): Promise<PolicySnapshot | undefined> {
  const validation = await validatePolicyFiles(files as PolicyFile[]);
  return validation.ok ? validation.snapshot : undefined;
}

/** Every policy version that took effect here, newest first, with the files it was made of. */
export async function listPolicyVersions(db: Kysely<Database>) {
  const rows = await db
    .selectFrom('dpgate.policy_versions')
    .select(['version', 'applied_at', 'files'])
    .orderBy('applied_at', 'desc')
    .execute();
  return rows.map((row) => ({
    version: row.version,
    appliedAt: row.applied_at,
    files: (row.files as PolicyFile[]).map((file) => file.name),
  }));
}
