/**
 * What replacing one policy with another would change, in the terms a council reviews: budgets,
 * communities, which columns analysts can read, clamping bounds, tables, accounting and limits.
 * Pure; `POST /v1/policies/validate` reports it for a candidate against the policy in force.
 */
import type { Budget, ColumnPolicy, Policy } from './schema.ts';

type Bounds = NonNullable<ColumnPolicy['bounds']>;
type Limits = Policy['limits'];

export interface PolicyEffect {
  readonly budgets_changed: { community: string; from: Budget; to: Budget }[];
  readonly communities_added: string[];
  readonly communities_removed: string[];
  /** `table.column` readable by analysts under the candidate but not now. */
  readonly columns_exposed: string[];
  /** `table.column` readable now but not under the candidate (hidden, dropped, or its table removed). */
  readonly columns_hidden: string[];
  readonly bounds_changed: { column: string; from: Bounds | null; to: Bounds | null }[];
  readonly tables_added: string[];
  readonly tables_removed: string[];
  /** Private tables the candidate makes public: their rows would be answered without noise. */
  readonly tables_made_public: string[];
  readonly tables_made_private: string[];
  readonly accounting_changed: { from: Policy['accounting']; to: Policy['accounting'] } | null;
  readonly limits_changed: {
    limit: keyof Limits;
    from: Limits[keyof Limits];
    to: Limits[keyof Limits];
  }[];
}

export function policyEffect(current: Policy, candidate: Policy): PolicyEffect {
  const currentColumns = readableColumns(current);
  const candidateColumns = readableColumns(candidate);
  const kept = (name: string) => current.tables[name] && candidate.tables[name];
  return {
    budgets_changed: sharedKeys(current.budgets, candidate.budgets)
      .map((community) => ({
        community,
        from: current.budgets[community]!,
        to: candidate.budgets[community]!,
      }))
      .filter(({ from, to }) => from.epsilon !== to.epsilon || from.delta !== to.delta),
    communities_added: onlyIn(candidate.budgets, current.budgets),
    communities_removed: onlyIn(current.budgets, candidate.budgets),
    columns_exposed: [...candidateColumns.keys()].filter((column) => !currentColumns.has(column)).sort(),
    columns_hidden: [...currentColumns.keys()].filter((column) => !candidateColumns.has(column)).sort(),
    bounds_changed: [...candidateColumns]
      .filter(([column]) => currentColumns.has(column))
      .map(([column, policy]) => ({
        column,
        from: currentColumns.get(column)!.bounds ?? null,
        to: policy.bounds ?? null,
      }))
      .filter(({ from, to }) => JSON.stringify(from) !== JSON.stringify(to))
      .sort((a, b) => a.column.localeCompare(b.column)),
    tables_added: onlyIn(candidate.tables, current.tables),
    tables_removed: onlyIn(current.tables, candidate.tables),
    tables_made_public: Object.keys(candidate.tables)
      .filter((name) => kept(name) && candidate.tables[name]!.public && !current.tables[name]!.public)
      .sort(),
    tables_made_private: Object.keys(candidate.tables)
      .filter((name) => kept(name) && !candidate.tables[name]!.public && current.tables[name]!.public)
      .sort(),
    accounting_changed:
      current.accounting === candidate.accounting
        ? null
        : { from: current.accounting, to: candidate.accounting },
    limits_changed: (Object.keys(candidate.limits) as (keyof Limits)[])
      .filter((limit) => current.limits[limit] !== candidate.limits[limit])
      .map((limit) => ({ limit, from: current.limits[limit], to: candidate.limits[limit] })),
  };
}

/** `table.column` → its policy, for every column analysts may read. */
function readableColumns(policy: Policy): Map<string, ColumnPolicy> {
  const columns = new Map<string, ColumnPolicy>();
  for (const [tableName, table] of Object.entries(policy.tables)) {
    for (const [columnName, column] of Object.entries(table.columns)) {
      if (!column.hidden) columns.set(`${tableName}.${columnName}`, column);
    }
  }
  return columns;
}

function onlyIn(these: object, those: object): string[] {
  return Object.keys(these)
    .filter((key) => !(key in those))
    .sort();
}

function sharedKeys(these: object, those: object): string[] {
  return Object.keys(these)
    .filter((key) => key in those)
    .sort();
}
