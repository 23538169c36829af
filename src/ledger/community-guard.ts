/**
 * Keeping the premise of parallel composition over communities true in the data: each person is in
 * exactly one community and stays there. Charging only the communities a query reads is valid only
 * then (McSherry 2009, "Privacy Integrated Queries", Thm. 4, for disjoint parts of the data).
 *
 * - `installCommunityGuard` (in the policy-apply transaction) puts a trigger on the privacy unit's
 *   table that refuses an UPDATE changing a person's community (the function is installed by the
 *   migration `community_guard`); it is moved with the policy when the unit table changes.
 * - `checkCommunityMembership` re-checks the data (unit unique and non-null, community non-null),
 *   for a scheduled run: `checkPolicyAgainstDatabase` does the same before every apply.
 */
import { type Kysely, sql } from 'kysely';
import { COMMONS_SCHEMA, readCommonsCatalog } from '../db/commons-catalog.ts';
import type { Database } from '../db/database.ts';
import { unitIntegrityIssues } from '../policy/database-check.ts';
import type { Policy } from '../policy/schema.ts';

const TRIGGER = 'dpgate_community_fixed';

/**
 * Creates the trigger if it is not already on the right table and column. A DDL statement locks the
 * table against readers until the apply commits, so a policy apply that changes nothing here runs
 * none. Nothing to guard when the unit table does not exist (the database check refuses that policy).
 */
export async function installCommunityGuard(trx: Kysely<Database>, policy: Policy): Promise<void> {
  const { table } = policy.privacy_unit;
  const column = policy.communities.column;
  const installed = await sql<{ table_name: string; attribute: string | null }>`
    select c.relname as table_name, a.attname as attribute from pg_trigger t
    join pg_class c on c.oid = t.tgrelid join pg_namespace n on n.oid = c.relnamespace
    left join pg_attribute a on a.attrelid = t.tgrelid and t.tgattr::int2[] = array[a.attnum]::int2[]
    where t.tgname = ${TRIGGER} and n.nspname = ${COMMONS_SCHEMA}`.execute(trx);
  const right = (row: { table_name: string; attribute: string | null }) =>
    row.table_name === table && row.attribute === column;
  if (installed.rows.length === 1 && right(installed.rows[0]!)) return;
  for (const { table_name } of installed.rows) {
    await sql`drop trigger ${sql.id(TRIGGER)} on ${sql.id(COMMONS_SCHEMA, table_name)}`.execute(trx);
  }
  const exists = await sql<{ found: string | null }>`
    select to_regclass(${`${COMMONS_SCHEMA}.${table}`})::text as found`.execute(trx);
  if (!exists.rows[0]?.found) return;
  await sql`create trigger ${sql.id(TRIGGER)} before update of ${sql.id(column)}
    on ${sql.id(COMMONS_SCHEMA, table)} for each row
    when (old.${sql.id(column)} is distinct from new.${sql.id(column)})
    execute function dpgate.refuse_community_move()`.execute(trx);
}

/** The membership problems in the data now: empty when every person has one, fixed community. */
export async function checkCommunityMembership(db: Kysely<Database>, policy: Policy) {
  return unitIntegrityIssues(policy, await readCommonsCatalog(db, policy));
}
