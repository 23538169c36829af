/**
 * The analyzed form of the analyst's row-level expressions (WHERE, GROUP BY keys, aggregate
 * arguments). Every node knows its type, its range under policy bounds and whether it reads private
 * data or the privacy unit; the rewrite turns these nodes back into a syntax tree, never text.
 */
import type { ColumnPolicy, TablePolicy } from '../policy/schema.ts';
import type { Interval } from './bounds.ts';
import type { RewrittenSql } from './plan.ts';

/** int: integer-valued; real: float8; numeric: exact decimal; unknown: an untyped literal or NULL. */
export type ValueType = 'int' | 'real' | 'numeric' | 'text' | 'bool' | 'date' | 'timestamp' | 'unknown';

export interface ValueInfo {
  readonly type: ValueType;
  /** The range once every column read is clamped to its policy bounds; absent if some input has none. */
  readonly bounds?: Interval;
  /** Reads a column of a private table. */
  readonly private: boolean;
  /** Reads the privacy unit column, so it can single out a person. */
  readonly unit: boolean;
  /** Reads a column or a subquery; false for an expression of constants alone. */
  readonly readsData: boolean;
  /** For real values: the policy release grid of the columns it reads (the finest). */
  readonly granularity?: number;
}

/** One use of a policy table in the query, under an internal alias (t1, t2, …). */
export interface TableReference {
  readonly alias: string;
  readonly table: string;
  /** The schema the policy places the table in. */
  readonly schema: string;
  readonly policy: TablePolicy;
  readonly private: boolean;
  /** The column that holds the privacy unit (private tables only). */
  readonly unitColumn: string | undefined;
  /** The column naming each person's community: set on the unit table only (DESIGN §3). */
  readonly communityColumn: string | undefined;
  /** Set when this is a per-person aggregating subquery, not a policy table (per-person-stage.ts). */
  readonly stage?: PerPersonStage;
  /**
   * Set on a table joined in only to follow another table's unit path (`items → visits → people`):
   * `for` is the alias of the table it serves, `key` its column the previous hop references. The key
   * must be unique, so the join adds no rows; the table adds no contribution bounds.
   */
  readonly pathHop?: { readonly for: string; readonly key: string };
}

/**
 * A public table LEFT JOINed to every table before it in FROM: where no row satisfies `on`, its
 * columns are NULL and the preserved row (with its person) is kept.
 */
export interface LeftJoin {
  readonly alias: string;
  readonly on: readonly Expr[];
}

/**
 * A FROM subquery grouped by the person: its rewritten SQL returns one row per person and group
 * (columns `unit`, then its own), each person's rows bounded before they are aggregated, so the
 * outer query reads it like a private table whose policy is derived from the inner one.
 */
export interface PerPersonStage {
  readonly sql: RewrittenSql;
  /** The inner query's tables and conditions (the community scope reads them). */
  readonly tables: readonly TableReference[];
  readonly conditions: readonly Expr[];
  /** For each inner GROUP BY key besides the person, the stage column holding it (if selected). */
  readonly keyColumns: readonly (string | undefined)[];
  /** Rows (inner groups) one person has in this stage, at most. */
  readonly rowsPerUnit: number;
}

export type ColumnRole = 'unit' | 'community' | 'value';

/** A literal as the analyst wrote it; the rewrite binds it as a parameter. */
export type LiteralKind = 'integer' | 'decimal' | 'string' | 'boolean' | 'null';

/** PostgreSQL A_Expr kinds the analyzer accepts: plain operators and their special syntaxes. */
export type OperatorForm =
  | 'AEXPR_OP'
  | 'AEXPR_IN'
  | 'AEXPR_LIKE'
  | 'AEXPR_ILIKE'
  | 'AEXPR_BETWEEN'
  | 'AEXPR_NOT_BETWEEN'
  | 'AEXPR_DISTINCT'
  | 'AEXPR_NOT_DISTINCT'
  | 'AEXPR_NULLIF';

export type ExprBody =
  | {
      readonly kind: 'column';
      readonly table: TableReference;
      readonly column: string;
      readonly role: ColumnRole;
      readonly policy: ColumnPolicy | undefined;
    }
  | {
      readonly kind: 'constant';
      readonly value: string | number | boolean | null;
      readonly literal: LiteralKind;
    }
  | {
      readonly kind: 'operator';
      readonly form: OperatorForm;
      readonly operator: string;
      readonly left: Expr | undefined;
      readonly right: Expr | readonly Expr[];
    }
  | { readonly kind: 'bool'; readonly operator: 'and' | 'or' | 'not'; readonly args: readonly Expr[] }
  | { readonly kind: 'function'; readonly name: string; readonly args: readonly Expr[] }
  | {
      readonly kind: 'case';
      readonly subject: Expr | undefined;
      readonly branches: readonly { readonly condition: Expr; readonly result: Expr }[];
      readonly otherwise: Expr | undefined;
    }
  | {
      readonly kind: 'variadic';
      readonly form: 'coalesce' | 'least' | 'greatest';
      readonly args: readonly Expr[];
    }
  | { readonly kind: 'null_test'; readonly arg: Expr; readonly negated: boolean }
  | { readonly kind: 'cast'; readonly arg: Expr; readonly target: ValueType; readonly typeName: string }
  | {
      readonly kind: 'public_subquery';
      readonly form: 'exists' | 'in' | 'scalar';
      /** The validated subquery syntax tree (public tables only); constants are bound at rewrite. */
      readonly select: unknown;
      /** Policy tables' schemas by name, to qualify the subquery's tables. */
      readonly schemas: Readonly<Record<string, string>>;
      readonly arg: Expr | undefined;
    };

export type Expr = ExprBody & { readonly info: ValueInfo; readonly location: number };

/**
 * A canonical text of an expression's structure (no locations, no derived info), used to match a
 * GROUP BY key with the same expression in the select list and to share equal measurements.
 */
export function expressionKey(expr: Expr): string {
  return JSON.stringify(expr, (key, value) => {
    if (key === 'info' || key === 'location' || key === 'policy') return undefined;
    if (key === 'table' && value && typeof value === 'object' && 'alias' in value) return value.alias;
    return value;
  });
}

/** Visits every sub-expression, depth first. */
export function someSubexpression(expr: Expr, test: (e: Expr) => boolean): boolean {
  if (test(expr)) return true;
  return childrenOf(expr).some((child) => someSubexpression(child, test));
}

export function childrenOf(expr: Expr): Expr[] {
  switch (expr.kind) {
    case 'column':
    case 'constant':
      return [];
    case 'operator':
      return [
        ...(expr.left ? [expr.left] : []),
        ...(Array.isArray(expr.right) ? expr.right : [expr.right as Expr]),
      ];
    case 'bool':
    case 'function':
    case 'variadic':
      return [...expr.args];
    case 'case':
      return [
        ...(expr.subject ? [expr.subject] : []),
        ...expr.branches.flatMap((b) => [b.condition, b.result]),
        ...(expr.otherwise ? [expr.otherwise] : []),
      ];
    case 'null_test':
    case 'cast':
      return [expr.arg];
    case 'public_subquery':
      return expr.arg ? [expr.arg] : [];
  }
}

/** Splits nested ANDs into their conjuncts. */
export function conjuncts(expr: Expr): Expr[] {
  return expr.kind === 'bool' && expr.operator === 'and' ? expr.args.flatMap(conjuncts) : [expr];
}
