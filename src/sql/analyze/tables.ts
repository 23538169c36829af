/**
 * Resolving a table name in the analyst's FROM clause to a policy table. Only tables declared in
 * policy exist for analysts, in the schema the policy places them (`commons` unless it names
 * another); catalogs and other schemas are refused by name, before anything is read, so
 * `pg_stats`, `pg_class.reltuples` and friends never leak counts.
 */
import type { RangeVar } from 'libpg-query';
import { parseUnitHop } from '../../policy/cross-check.ts';
import type { Policy } from '../../policy/schema.ts';
import type { TableReference } from '../ir.ts';
import { refuse } from '../refusal.ts';
import type { AnalysisContext } from './context.ts';

/** Each policy table's schema, by table name: what a public query's tables are qualified with. */
export function tableSchemas(policy: Policy): Readonly<Record<string, string>> {
  return Object.fromEntries(Object.entries(policy.tables).map(([name, table]) => [name, table.schema]));
}

const CATALOG_SCHEMAS = new Set(['pg_catalog', 'information_schema', 'pg_toast']);

export function isCatalogName(schema: string | undefined, name: string): boolean {
  return (
    (schema !== undefined && (CATALOG_SCHEMAS.has(schema) || schema.startsWith('pg_'))) ||
    name.startsWith('pg_')
  );
}

/** Checks schema, existence and the role's access, and returns the table's policy under a fresh alias. */
export function resolvePolicyTable(rangeVar: RangeVar, context: AnalysisContext): TableReference {
  const name = rangeVar.relname ?? '';
  const schema = rangeVar.schemaname;
  const location = rangeVar.location;
  if (rangeVar.catalogname !== undefined || isCatalogName(schema, name)) {
    refuse(
      'system_catalog',
      `system catalogs and schemas cannot be queried (${qualified(rangeVar)})`,
      location,
    );
  }
  const policy = context.policy.tables[name];
  if (policy && schema !== undefined && schema !== policy.schema) {
    refuse(
      'unknown_table',
      `there is no table ${qualified(rangeVar)}; ${name} is ${policy.schema}.${name}`,
      location,
    );
  }
  if (!policy) {
    const known = Object.keys(context.policy.tables).join(', ');
    refuse('unknown_table', `there is no table ${quoteName(name)}; tables: ${known}`, location);
  }
  const allowed = context.policy.access[context.role]?.tables ?? [];
  if (!allowed.includes(name)) {
    refuse('not_allowed', `the ${context.role} role may not read table ${name}`, location);
  }
  return {
    alias: context.nextAlias(),
    table: name,
    schema: policy.schema,
    policy,
    private: !policy.public,
    unitColumn: policy.public ? undefined : unitColumnOf(name, context, location),
    communityColumn:
      name === context.policy.privacy_unit.table ? context.policy.communities.column : undefined,
  };
}

/**
 * The column of a private table that names the person, when the table holds it: the unit table
 * itself, or a table with a one-hop `unit_path` (`person_id -> people.person_id`). A table whose
 * path has several hops (`visit_id -> visits.visit_id`, `person_id -> people.person_id`) gets its
 * unit through the path tables `from.ts` joins in (`unitPathOf`): undefined here.
 */
function unitColumnOf(
  table: string,
  context: AnalysisContext,
  location: number | undefined,
): string | undefined {
  const unit = context.policy.privacy_unit;
  if (table === unit.table) return unit.column;
  const path = unitPathOf(table, context, location);
  return path.length === 1 ? path[0]!.column : undefined;
}

/** One hop of a unit path: `column` of the table before it references `table.references`. */
export interface UnitHop {
  readonly column: string;
  readonly table: string;
  readonly references: string;
}

/**
 * The unit path of a private table other than the unit table, hop by hop. The policy check
 * (`cross-check.ts`) already requires a chain of private tables without repeats that ends at the
 * unit; a path that does not is refused here too rather than followed.
 */
export function unitPathOf(
  table: string,
  context: AnalysisContext,
  location: number | undefined,
): readonly UnitHop[] {
  const unit = context.policy.privacy_unit;
  const path = (context.policy.tables[table]?.unit_path ?? []).map(parseUnitHop);
  const last = path.at(-1);
  const visited = new Set([table, ...path.map((hop) => hop.table)]);
  const followable =
    last !== undefined &&
    last.table === unit.table &&
    last.references === unit.column &&
    visited.size === path.length + 1 &&
    path.slice(0, -1).every((hop) => context.policy.tables[hop.table]?.public === false);
  if (!followable) {
    refuse(
      'unsupported_sql',
      `table ${table} has no unit path dpgate can follow to ${unit.table}.${unit.column}`,
      location,
    );
  }
  return path;
}

function qualified(rangeVar: RangeVar): string {
  return [rangeVar.catalogname, rangeVar.schemaname, rangeVar.relname]
    .filter(Boolean)
    .map((n) => quoteName(n!))
    .join('.');
}

/** An identifier as the analyst would have to write it. */
export function quoteName(name: string): string {
  return /^[a-z_][a-z0-9_]*$/.test(name) ? name : `"${name.replaceAll('"', '""')}"`;
}

/** One message for a column that does not exist and one the policy hides. */
export function unknownColumnMessage(fields: readonly string[]): string {
  return `there is no column ${fields.join('.')} (only columns the policy exposes can be read)`;
}
