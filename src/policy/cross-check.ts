/**
 * Checks that need several parts of a policy at once: references between tables, columns and roles,
 * and column settings that only make sense for some types. Pure; the database is checked elsewhere.
 */
import { dayNumber } from '../sql/calendar.ts';
import { checkFederation } from './federation-check.ts';
import type { PolicyIssue } from './issues.ts';
import { type ColumnPolicy, DEFAULT_SCHEMA, type Policy, ROLES, type TablePolicy } from './schema.ts';

type Issue = Omit<PolicyIssue, 'file' | 'line' | 'column'>;

/** Largest public integer range dpgate will enumerate as groups. */
export const MAX_PUBLIC_RANGE = 10_000;

export function crossCheckPolicy(policy: Policy): Issue[] {
  return [
    ...checkPrivacyUnit(policy),
    ...Object.entries(policy.tables).flatMap(([name, table]) => checkTable(policy, name, table)),
    ...checkAccess(policy),
    ...checkLimits(policy),
    ...checkFederation(policy),
  ];
}

/** Parses a unit path hop `column -> table.column`. */
export function parseUnitHop(hop: string): { column: string; table: string; references: string } {
  const [column = '', target = ''] = hop.split('->').map((part) => part.trim());
  const [table = '', references = ''] = target.split('.');
  return { column, table, references };
}

function checkPrivacyUnit(policy: Policy): Issue[] {
  const unitTable = policy.tables[policy.privacy_unit.table];
  if (!unitTable) {
    return [
      {
        path: ['privacy_unit', 'table'],
        message: `names table "${policy.privacy_unit.table}", which is not declared under tables`,
      },
    ];
  }
  const issues: Issue[] = [];
  if (unitTable.schema !== DEFAULT_SCHEMA) {
    // Its community guard (a trigger refusing a change of a person's community) lives in commons.
    issues.push({
      path: ['tables', policy.privacy_unit.table, 'schema'],
      message: `the privacy unit table must be in schema ${DEFAULT_SCHEMA}`,
    });
  }
  if (unitTable.public) {
    issues.push({
      path: ['tables', policy.privacy_unit.table, 'public'],
      message: 'the privacy unit table cannot be public',
    });
  }
  if (unitTable.unit_path) {
    issues.push({
      path: ['tables', policy.privacy_unit.table, 'unit_path'],
      message: 'the privacy unit table holds the unit itself and takes no unit_path',
    });
  }
  if (unitTable.contributions && unitTable.contributions.max_rows_per_unit !== 1) {
    issues.push({
      path: ['tables', policy.privacy_unit.table, 'contributions', 'max_rows_per_unit'],
      message: 'must be 1: the privacy unit table has one row per person',
    });
  }
  const communityColumn = unitTable.columns[policy.communities.column];
  if (communityColumn?.hidden) {
    issues.push({
      path: ['tables', policy.privacy_unit.table, 'columns', policy.communities.column, 'hidden'],
      message: 'the community column cannot be hidden: scope is read from it',
    });
  }
  if (policy.communities.domain) {
    issues.push(...checkPublicReference(policy, policy.communities.domain, ['communities', 'domain']));
  }
  return issues;
}

function checkTable(policy: Policy, name: string, table: TablePolicy): Issue[] {
  const issues: Issue[] = [];
  const at = (...rest: (string | number)[]) => ['tables', name, ...rest];
  const isUnitTable = name === policy.privacy_unit.table;
  if (table.public) {
    if (table.unit_path)
      issues.push({ path: at('unit_path'), message: 'a public table has no privacy unit' });
    if (table.contributions)
      issues.push({ path: at('contributions'), message: 'a public table needs no contribution bounds' });
  } else if (!isUnitTable) {
    if (!table.unit_path) {
      issues.push({
        path: at(),
        message: `is private and needs a unit_path to ${policy.privacy_unit.table}.${policy.privacy_unit.column} (or public: true)`,
      });
    } else {
      issues.push(...checkUnitPath(policy, name, table.unit_path));
    }
    if (!table.contributions) {
      issues.push({ path: at(), message: 'is private and needs contributions: { max_rows_per_unit: N }' });
    }
  }
  for (const [columnName, column] of Object.entries(table.columns)) {
    issues.push(...checkColumn(policy, column, at('columns', columnName)));
  }
  return issues;
}

/**
 * A unit path is a chain of foreign keys through private tables that ends at the privacy unit and
 * visits no table twice (a cycle would never reach a person). Where it passes through a table that
 * has its own path, the rest must be that path, so a row's person is the same whichever table one
 * starts from.
 */
function checkUnitPath(policy: Policy, tableName: string, path: readonly string[]): Issue[] {
  const issues: Issue[] = [];
  const visited = new Set([tableName]);
  path.forEach((hop, index) => {
    const { table, references } = parseUnitHop(hop);
    const at = ['tables', tableName, 'unit_path', index];
    const target = policy.tables[table];
    if (!target) {
      issues.push({ path: at, message: `refers to table "${table}", which is not declared under tables` });
    } else if (target.public) {
      issues.push({
        path: at,
        message: `refers to public table "${table}"; a unit path runs through private tables`,
      });
    }
    if (visited.has(table)) {
      issues.push({ path: at, message: `returns to table "${table}": a unit path cannot have a cycle` });
    }
    visited.add(table);
    const isLast = index === path.length - 1;
    const reachesUnit = table === policy.privacy_unit.table && references === policy.privacy_unit.column;
    if (isLast && !reachesUnit) {
      issues.push({
        path: at,
        message: `must end at the privacy unit ${policy.privacy_unit.table}.${policy.privacy_unit.column}`,
      });
    }
    if (!isLast && reachesUnit) {
      issues.push({ path: at, message: 'reaches the privacy unit before the end of the path' });
    }
    const own = target?.unit_path?.map((h) => h.replace(/\s+/g, ''));
    const rest = path.slice(index + 1).map((h) => h.replace(/\s+/g, ''));
    if (!isLast && own && own.join(',') !== rest.join(',')) {
      issues.push({
        path: at,
        message: `continues differently from table "${table}"'s own unit_path; a path through it must end as it does`,
      });
    }
  });
  return issues;
}

const NUMERIC_TYPES = new Set(['int', 'real']);
const ORDERED_TYPES = new Set(['int', 'real', 'date', 'timestamp']);

function checkColumn(policy: Policy, column: ColumnPolicy, at: (string | number)[]): Issue[] {
  const issues: Issue[] = [];
  const domains = [column.public_values, column.public_range, column.public_domain].filter(
    (d) => d !== undefined,
  );
  if (domains.length > 1) {
    issues.push({ path: at, message: 'give at most one of public_values, public_range and public_domain' });
  }
  if (column.hidden && (column.bounds || domains.length > 0)) {
    issues.push({ path: [...at, 'hidden'], message: 'a hidden column takes no bounds or public domain' });
  }
  if (column.bounds) issues.push(...checkBounds(column, [...at, 'bounds']));
  if (column.granularity !== undefined && column.type !== 'real') {
    issues.push({
      path: [...at, 'granularity'],
      message: `applies to real columns only, not ${column.type}`,
    });
  }
  column.public_values?.forEach((value, index) => {
    if (!matchesType(value, column.type)) {
      issues.push({
        path: [...at, 'public_values', index],
        message: `${JSON.stringify(value)} is not a ${column.type}`,
      });
    }
  });
  if (column.public_range) {
    const [from, to] = column.public_range;
    if (column.type !== 'int') {
      issues.push({
        path: [...at, 'public_range'],
        message: `applies to int columns only, not ${column.type}`,
      });
    } else if (from > to) {
      issues.push({ path: [...at, 'public_range'], message: `start ${from} is above end ${to}` });
    } else if (to - from + 1 > MAX_PUBLIC_RANGE) {
      issues.push({
        path: [...at, 'public_range'],
        message: `holds ${to - from + 1} values; at most ${MAX_PUBLIC_RANGE}`,
      });
    }
  }
  if (typeof column.public_domain === 'string') {
    issues.push(...checkPublicReference(policy, column.public_domain, [...at, 'public_domain']));
  } else if (column.public_domain) {
    issues.push(...checkDateRange(column, column.public_domain, [...at, 'public_domain']));
  }
  if (column.max_distinct_per_unit !== undefined && column.hidden) {
    issues.push({
      path: [...at, 'max_distinct_per_unit'],
      message: 'a hidden column takes no distinct-value bound',
    });
  }
  return issues;
}

/** A public range of days: real calendar days, in order, on a date or timestamp column. */
function checkDateRange(
  column: ColumnPolicy,
  range: { from: string; to: string },
  at: (string | number)[],
): Issue[] {
  if (column.type !== 'date' && column.type !== 'timestamp') {
    return [
      { path: at, message: `a range of days applies to date and timestamp columns only, not ${column.type}` },
    ];
  }
  const [from, to] = [dayNumber(range.from), dayNumber(range.to)];
  const invalid = [
    ...(from === undefined ? [['from', range.from]] : []),
    ...(to === undefined ? [['to', range.to]] : []),
  ].map(([field, text]) => ({
    path: [...at, field!],
    message: `${JSON.stringify(text)} is not a calendar day`,
  }));
  if (from === undefined || to === undefined) return invalid;
  if (from > to) return [{ path: at, message: `from ${range.from} is after to ${range.to}` }];
  if (to - from + 1 > MAX_PUBLIC_RANGE) {
    return [{ path: at, message: `holds ${to - from + 1} days; at most ${MAX_PUBLIC_RANGE}` }];
  }
  return [];
}

function checkBounds(column: ColumnPolicy, at: (string | number)[]): Issue[] {
  const [lower, upper] = column.bounds!;
  if (!ORDERED_TYPES.has(column.type)) {
    return [
      { path: at, message: `bounds apply to int, real, date and timestamp columns, not ${column.type}` },
    ];
  }
  if (!matchesType(lower, column.type) || !matchesType(upper, column.type)) {
    return [{ path: at, message: `both bounds must be ${column.type} values` }];
  }
  const order = NUMERIC_TYPES.has(column.type)
    ? Number(lower) - Number(upper)
    : Date.parse(String(lower)) - Date.parse(String(upper));
  if (order > 0) {
    return [
      {
        path: at,
        message: `lower bound ${JSON.stringify(lower)} is above upper bound ${JSON.stringify(upper)}`,
      },
    ];
  }
  return [];
}

function matchesType(value: string | number | boolean, type: ColumnPolicy['type']): boolean {
  switch (type) {
    case 'int':
      return typeof value === 'number' && Number.isSafeInteger(value);
    case 'real':
      return typeof value === 'number' && Number.isFinite(value);
    case 'text':
      return typeof value === 'string';
    case 'bool':
      return typeof value === 'boolean';
    case 'date':
    case 'timestamp':
      return typeof value === 'string' && !Number.isNaN(Date.parse(value));
  }
}

function checkPublicReference(policy: Policy, reference: string, at: (string | number)[]): Issue[] {
  const [tableName = '', columnName = ''] = reference.split('.');
  const table = policy.tables[tableName];
  if (!table)
    return [{ path: at, message: `refers to table "${tableName}", which is not declared under tables` }];
  if (!table.public)
    return [
      {
        path: at,
        message: `refers to "${tableName}", which is private; a domain must come from a public table`,
      },
    ];
  if (!table.columns[columnName]) {
    return [{ path: at, message: `refers to column "${columnName}", which is not declared on ${tableName}` }];
  }
  return [];
}

function checkAccess(policy: Policy): Issue[] {
  return Object.entries(policy.access).flatMap(([role, grant]) => {
    if (!(ROLES as readonly string[]).includes(role)) {
      return [{ path: ['access', role], message: `unknown role "${role}"; roles are ${ROLES.join(', ')}` }];
    }
    return grant.tables
      .map((table, index) => ({ table, index }))
      .filter(({ table }) => !policy.tables[table])
      .map(({ table, index }) => ({
        path: ['access', role, 'tables', index],
        message: `refers to table "${table}", which is not declared under tables`,
      }));
  });
}

function checkLimits(policy: Policy): Issue[] {
  const { limits } = policy;
  const issues: Issue[] = [];
  if (limits.default_epsilon > limits.max_epsilon_per_query) {
    issues.push({
      path: ['limits', 'default_epsilon'],
      message: `is above max_epsilon_per_query (${limits.max_epsilon_per_query})`,
    });
  }
  if (limits.default_delta > limits.max_delta_per_query) {
    issues.push({
      path: ['limits', 'default_delta'],
      message: `is above max_delta_per_query (${limits.max_delta_per_query})`,
    });
  }
  return issues;
}
