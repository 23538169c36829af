/**
 * Checks a policy against what the database really holds: tables and columns exist in their schema
 * (`commons` unless the policy names another) with types that fit the policy, the unit and community columns exist, each person has
 * one row with a community (`unitIntegrityIssues`), and every community present in the data has a
 * budget. Pure: the caller supplies the catalog it read.
 */
import { parseUnitHop } from './cross-check.ts';
import type { PolicyIssue } from './issues.ts';
import { type ColumnType, type Policy, qualifiedTable } from './schema.ts';

type Issue = Omit<PolicyIssue, 'file' | 'line' | 'column'>;

/** What the checker needs to know about the commons database. */
export interface CommonsCatalog {
  /** table → column → PostgreSQL type name (`integer`, `double precision`, `text`, ...). */
  readonly tables: ReadonlyMap<string, ReadonlyMap<string, string>>;
  /** Distinct values of the community column in the unit table (community ids are public). */
  readonly communitiesInData: readonly string[];
  /** Values of the public communities domain column, when the policy names one. */
  readonly communitiesInDomain?: readonly string[];
  /** Whether the unit table breaks one-person-one-row-one-community (only yes/no, never which rows). */
  readonly unitTable?: {
    readonly duplicateUnits: boolean;
    readonly nullUnits: boolean;
    readonly nullCommunities: boolean;
  };
  /** `table.column` pairs a single-column unique index proves unique (db/commons-catalog.ts). */
  readonly uniqueColumns?: readonly string[];
}

const COMPATIBLE_TYPES: Record<ColumnType, readonly string[]> = {
  int: ['smallint', 'integer', 'bigint'],
  real: ['real', 'double precision', 'numeric', 'smallint', 'integer', 'bigint'],
  text: ['text', 'character varying', 'character', 'uuid'],
  bool: ['boolean'],
  date: ['date'],
  timestamp: ['timestamp without time zone', 'timestamp with time zone'],
};

export function checkPolicyAgainstDatabase(policy: Policy, catalog: CommonsCatalog): Issue[] {
  const issues: Issue[] = [];
  const columnExists = (table: string, column: string) => catalog.tables.get(table)?.has(column) ?? false;

  for (const [tableName, table] of Object.entries(policy.tables)) {
    const actual = catalog.tables.get(tableName);
    if (!actual) {
      issues.push({
        path: ['tables', tableName],
        message: `table ${qualifiedTable(policy, tableName)} does not exist in the database`,
      });
      continue;
    }
    for (const [columnName, column] of Object.entries(table.columns)) {
      const actualType = actual.get(columnName);
      if (!actualType) {
        issues.push({
          path: ['tables', tableName, 'columns', columnName],
          message: `column ${columnName} does not exist in ${qualifiedTable(policy, tableName)}`,
        });
      } else if (!COMPATIBLE_TYPES[column.type].includes(actualType)) {
        issues.push({
          path: ['tables', tableName, 'columns', columnName, 'type'],
          message: `is ${column.type}, but ${qualifiedTable(policy, tableName)}.${columnName} is ${actualType}`,
        });
      }
    }
    table.unit_path?.forEach((hop, index) => {
      const { column, table: target, references } = parseUnitHop(hop);
      const from = index === 0 ? tableName : parseUnitHop(table.unit_path![index - 1]!).table;
      if (!columnExists(from, column)) {
        issues.push({
          path: ['tables', tableName, 'unit_path', index],
          message: `column ${column} does not exist in ${qualifiedTable(policy, from)}`,
        });
      }
      if (!columnExists(target, references)) {
        issues.push({
          path: ['tables', tableName, 'unit_path', index],
          message: `column ${references} does not exist in ${qualifiedTable(policy, target)}`,
        });
      } else if (
        index < table.unit_path!.length - 1 &&
        catalog.uniqueColumns !== undefined &&
        !catalog.uniqueColumns.includes(`${target}.${references}`)
      ) {
        // The path is joined along in SQL: a key two rows share would give a row two persons.
        issues.push({
          path: ['tables', tableName, 'unit_path', index],
          message: `${qualifiedTable(policy, target)}.${references} has no unique index of its own: a row could reach two persons through it`,
        });
      }
    });
  }

  const unit = policy.privacy_unit;
  if (catalog.tables.has(unit.table) && !columnExists(unit.table, unit.column)) {
    issues.push({
      path: ['privacy_unit', 'column'],
      message: `column ${unit.column} does not exist in ${qualifiedTable(policy, unit.table)}`,
    });
  }
  if (catalog.tables.has(unit.table) && !columnExists(unit.table, policy.communities.column)) {
    issues.push({
      path: ['communities', 'column'],
      message: `column ${policy.communities.column} does not exist in ${qualifiedTable(policy, unit.table)}, the privacy unit's table`,
    });
  }

  issues.push(...unitIntegrityIssues(policy, catalog));

  const budgeted = new Set(Object.keys(policy.budgets));
  const unbudgeted = [
    ...new Set([...catalog.communitiesInData, ...(catalog.communitiesInDomain ?? [])]),
  ].filter((community) => !budgeted.has(community));
  if (unbudgeted.length > 0) {
    issues.push({
      path: ['budgets'],
      message: `has no budget for communit${unbudgeted.length > 1 ? 'ies' : 'y'} ${unbudgeted.map((c) => `"${c}"`).join(', ')} found in the database`,
    });
  }
  return issues;
}

/**
 * Charging only the communities in a query's scope is parallel composition over disjoint parts of
 * the data (McSherry 2009, Thm. 4): it needs every person in exactly one community. A person with
 * two rows in the unit table could sit in two communities, and a row with no community is in none
 * that a scope names (yet is read by unscoped queries), so both are refused.
 */
export function unitIntegrityIssues(policy: Policy, catalog: CommonsCatalog): Issue[] {
  const unit = policy.privacy_unit;
  const integrity = catalog.unitTable;
  if (!integrity) return [];
  const issues: Issue[] = [];
  if (integrity.duplicateUnits) {
    issues.push({
      path: ['privacy_unit', 'column'],
      message: `${qualifiedTable(policy, unit.table)}.${unit.column} is not unique: a person must have exactly one row in the privacy unit's table`,
    });
  }
  if (integrity.nullUnits) {
    issues.push({
      path: ['privacy_unit', 'column'],
      message: `${qualifiedTable(policy, unit.table)}.${unit.column} has null values: every row of the privacy unit's table must name its person`,
    });
  }
  if (integrity.nullCommunities) {
    issues.push({
      path: ['communities', 'column'],
      message: `${qualifiedTable(policy, unit.table)}.${policy.communities.column} has null values: every person must belong to exactly one community`,
    });
  }
  return issues;
}
