/**
 * Reads what the policy checker needs to know about the governed tables: those of schema `commons`
 * and of every other schema the policy places a table in. Tables are keyed by name; a table of
 * another schema counts only where the policy places it there.
 */
import { CompiledQuery, type Kysely, sql } from 'kysely';
import type { CommonsCatalog } from '../policy/database-check.ts';
import { DEFAULT_SCHEMA, type Policy, qualifiedTable } from '../policy/schema.ts';
import type { Database } from './database.ts';

export const COMMONS_SCHEMA = DEFAULT_SCHEMA;

/** The schemas a policy governs: `commons` and those its tables name. */
function governedSchemas(policy: Policy): string[] {
  return [...new Set([COMMONS_SCHEMA, ...Object.values(policy.tables).map((t) => t.schema)])];
}

/** Whether a catalog row of `schema.table` is the table the policy means by that name. */
function isGoverned(policy: Policy, schema: string, table: string): boolean {
  return (policy.tables[table]?.schema ?? COMMONS_SCHEMA) === schema;
}

/**
 * Columns of tables in the governed schemas ($1, a text array) that a unique index proves hold each
 * value at most once: the index
 * is valid, live, checked at once (not deferrable), not partial, not on an expression, and has this
 * column as its only key. A unique index on (person_id, x) proves nothing about person_id alone. Only
 * plain and partitioned tables qualify (a partitioned table's unique index covers every partition;
 * PostgreSQL refuses one when a partition is foreign). NULLs may repeat; the rewrite drops rows whose
 * unit is NULL, so uniqueness of the non-NULL values is what it needs.
 */
export const UNIQUE_COLUMNS_SQL = `
  select n.nspname as table_schema, c.relname as table_name, a.attname as column_name
  from pg_catalog.pg_index i
  join pg_catalog.pg_class c on c.oid = i.indrelid
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  join pg_catalog.pg_attribute a on a.attrelid = c.oid and a.attnum = i.indkey[0]
  where n.nspname = any($1::text[]) and c.relkind in ('r', 'p')
    and i.indisunique and i.indisvalid and i.indislive and i.indimmediate
    and i.indpred is null and i.indexprs is null and i.indnkeyatts = 1
  order by 1, 2, 3`;

export async function readCommonsCatalog(db: Kysely<Database>, policy: Policy): Promise<CommonsCatalog> {
  const schemas = governedSchemas(policy);
  const columns = await sql<{
    table_schema: string;
    table_name: string;
    column_name: string;
    data_type: string;
  }>`
    select table_schema, table_name, column_name, data_type
    from information_schema.columns
    where table_schema = any(${schemas}::text[])
    order by table_name, ordinal_position`.execute(db);
  const tables = new Map<string, Map<string, string>>();
  for (const row of columns.rows) {
    if (!isGoverned(policy, row.table_schema, row.table_name)) continue;
    if (!tables.has(row.table_name)) tables.set(row.table_name, new Map());
    tables.get(row.table_name)!.set(row.column_name, row.data_type);
  }
  const distinctValues = async (table: string, column: string): Promise<string[]> => {
    if (!tables.get(table)?.has(column)) return [];
    const result = await sql<{ value: string }>`
      select distinct ${sql.ref(column)}::text as value from ${sql.table(qualifiedTable(policy, table))}
      where ${sql.ref(column)} is not null`.execute(db);
    return result.rows.map((row) => row.value);
  };
  const [domainTable, domainColumn] = policy.communities.domain?.split('.') ?? [];
  const unique = await db.executeQuery<{ table_schema: string; table_name: string; column_name: string }>(
    CompiledQuery.raw(UNIQUE_COLUMNS_SQL, [schemas]),
  );
  return {
    tables,
    unitTable: await unitTableIntegrity(db, policy, tables),
    uniqueColumns: unique.rows
      .filter((row) => isGoverned(policy, row.table_schema, row.table_name))
      .map((row) => `${row.table_name}.${row.column_name}`),
    communitiesInData: await distinctValues(policy.privacy_unit.table, policy.communities.column),
    ...(domainTable && domainColumn
      ? { communitiesInDomain: await distinctValues(domainTable, domainColumn) }
      : {}),
  };
}

/** Whether the unit column is unique and non-null and the community column non-null (yes/no only). */
async function unitTableIntegrity(
  db: Kysely<Database>,
  policy: Policy,
  tables: ReadonlyMap<string, ReadonlyMap<string, string>>,
): Promise<CommonsCatalog['unitTable']> {
  const { table, column: unit } = policy.privacy_unit;
  const community = policy.communities.column;
  const columns = tables.get(table);
  if (!columns?.has(unit) || !columns.has(community)) return undefined;
  const from = sql.table(qualifiedTable(policy, table));
  const result = await sql<{ duplicate: boolean; null_unit: boolean; null_community: boolean }>`
    select
      exists (select 1 from ${from} where ${sql.ref(unit)} is not null
              group by ${sql.ref(unit)} having count(*) > 1) as duplicate,
      exists (select 1 from ${from} where ${sql.ref(unit)} is null) as null_unit,
      exists (select 1 from ${from} where ${sql.ref(community)} is null) as null_community`.execute(db);
  const row = result.rows[0]!;
  return {
    duplicateUnits: row.duplicate,
    nullUnits: row.null_unit,
    nullCommunities: row.null_community,
  };
}
