/** Reads what the policy checker needs to know about the `commons` schema. */
import { type Kysely, sql } from 'kysely';
import type { CommonsCatalog } from '../policy/database-check.ts';
import type { Policy } from '../policy/schema.ts';
import type { Database } from './database.ts';

export const COMMONS_SCHEMA = 'commons';

export async function readCommonsCatalog(db: Kysely<Database>, policy: Policy): Promise<CommonsCatalog> {
  const columns = await sql<{ table_name: string; column_name: string; data_type: string }>`
    select table_name, column_name, data_type
    from information_schema.columns
    where table_schema = ${COMMONS_SCHEMA}
    order by table_name, ordinal_position`.execute(db);
  const tables = new Map<string, Map<string, string>>();
  for (const row of columns.rows) {
    if (!tables.has(row.table_name)) tables.set(row.table_name, new Map());
    tables.get(row.table_name)!.set(row.column_name, row.data_type);
  }
  const distinctValues = async (table: string, column: string): Promise<string[]> => {
    if (!tables.get(table)?.has(column)) return [];
    const result = await sql<{ value: string }>`
      select distinct ${sql.ref(column)}::text as value from ${sql.table(`${COMMONS_SCHEMA}.${table}`)}
      where ${sql.ref(column)} is not null`.execute(db);
    return result.rows.map((row) => row.value);
  };
  const [domainTable, domainColumn] = policy.communities.domain?.split('.') ?? [];
  return {
    tables,
    unitTable: await unitTableIntegrity(db, policy, tables),
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
  const from = sql.table(`${COMMONS_SCHEMA}.${table}`);
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
