/**
 * A least-privilege role for analysts' rewritten SQL: it may read exactly the columns the policy
 * exposes, in the schemas it places its tables in (plus the unit, community and unit-path keys the
 * rewrite joins and partitions on), nothing in schema `dpgate`, and nothing else in those schemas. Every query runs as
 * dpgate_query (on connections opened as it, query-pool.ts, or under `SET LOCAL ROLE`,
 * read-only-transaction.ts), so a mistake in the analyzer that reached a
 * hidden column or the ledger would fail instead of leaking. Defence in depth: the analyzer is the
 * first line. The grants follow the policy: they are set in the transaction that applies it.
 *
 * The database user dpgate connects as must be allowed to create the role (or an administrator
 * creates it and grants it to that user) and must own the governed tables or hold GRANT OPTION.
 */
import { type Kysely, sql } from 'kysely';
import { parseUnitHop } from '../policy/cross-check.ts';
import { DEFAULT_SCHEMA, type Policy, qualifiedTable } from '../policy/schema.ts';
import type { Database } from './database.ts';

export const QUERY_ROLE = 'dpgate_query';

/** The columns of each policy table the query role may read under this policy. */
export function readableColumns(policy: Policy): Map<string, string[]> {
  const readable = new Map<string, Set<string>>();
  const allow = (table: string, column: string) => {
    const columns = readable.get(table) ?? new Set<string>();
    columns.add(column);
    readable.set(table, columns);
  };
  for (const [table, spec] of Object.entries(policy.tables)) {
    for (const [name, column] of Object.entries(spec.columns)) if (!column.hidden) allow(table, name);
    let from = table;
    for (const hop of spec.unit_path ?? []) {
      const { column, table: target, references } = parseUnitHop(hop);
      allow(from, column);
      allow(target, references);
      from = target;
    }
  }
  allow(policy.privacy_unit.table, policy.privacy_unit.column);
  allow(policy.privacy_unit.table, policy.communities.column);
  return new Map([...readable].map(([table, columns]) => [table, [...columns].sort()]));
}

/**
 * Creates the role if needed and makes its grants match the policy; runs in the caller's transaction.
 * The tables of the policy's `federation` section live on community nodes: a gateway grants every
 * other table, a node (`dpgate node`) only those.
 */
export async function syncQueryRole(
  trx: Kysely<Database>,
  policy: Policy,
  place: 'gateway' | 'node' = 'gateway',
): Promise<void> {
  const onNodes = new Set(policy.federation?.tables ?? []);
  const role = sql.id(QUERY_ROLE);
  // Roles are shared by every database of a server: another database's gateway may create it first.
  await sql`do $$ begin create role dpgate_query nologin; exception when duplicate_object or unique_violation then null; end $$`.execute(
    trx,
  );
  const member = await sql<{
    member: boolean;
  }>`select pg_has_role(current_user, ${QUERY_ROLE}, 'member') as member`.execute(trx);
  if (!member.rows[0]?.member) await sql`grant ${role} to current_user`.execute(trx);
  // Every schema the role could read under this or an earlier policy starts from nothing.
  const governed = new Set([DEFAULT_SCHEMA, ...Object.values(policy.tables).map((t) => t.schema)]);
  const granted = await sql<{ schema: string }>`
    select distinct table_schema as schema from information_schema.column_privileges
    where grantee = ${QUERY_ROLE}`.execute(trx);
  for (const schema of new Set([...governed, ...granted.rows.map((r) => r.schema)])) {
    if (!(await schemaExists(trx, schema))) continue;
    await sql`revoke all on all tables in schema ${sql.id(schema)} from ${role}`.execute(trx);
    if (!governed.has(schema)) await sql`revoke usage on schema ${sql.id(schema)} from ${role}`.execute(trx);
  }
  await sql`revoke all on schema dpgate from ${role}`.execute(trx);
  for (const schema of governed) {
    if (await schemaExists(trx, schema))
      await sql`grant usage on schema ${sql.id(schema)} to ${role}`.execute(trx);
  }
  for (const [table, columns] of readableColumns(policy)) {
    if (onNodes.has(table) !== (place === 'node')) continue;
    await sql`grant select (${sql.join(columns.map((column) => sql.id(column)))}) on ${sql.table(qualifiedTable(policy, table))} to ${role}`.execute(
      trx,
    );
  }
}

async function schemaExists(trx: Kysely<Database>, schema: string): Promise<boolean> {
  const result = await sql<{ found: boolean }>`
    select exists (select 1 from pg_catalog.pg_namespace where nspname = ${schema}) as found`.execute(trx);
  return result.rows[0]?.found === true;
}
