/**
 * The FROM clause, flattened: the policy tables read (each under a fresh alias), the conditions
 * every row satisfies (inner-join conditions and the WHERE clauses of inlined CTEs and FROM
 * subqueries), and the columns visible to the rest of the query.
 *
 * Privacy argument. Contribution bounding happens after this FROM clause, per person, so a join may
 * multiply rows freely as long as every joined row belongs to ONE person and depends on nothing but
 * that person's rows and public rows. Hence:
 *  - two private sides are joined only by an equality of their unit columns (ON or USING), so each
 *    joined row pairs rows of the same person; cross joins and other keys between private tables
 *    could pair two people and are refused (ZetaSQL's rule);
 *  - a private side may be joined with a public one on any condition;
 *  - only inner joins: an outer join's NULL-extended rows would exist because some OTHER row is
 *    missing, and inlining a subquery's WHERE into the outer WHERE is only sound for inner joins;
 *  - subqueries and CTEs must be row-level (no aggregation, DISTINCT, LIMIT), which keeps the unit
 *    of every row: they are inlined like views; or grouped by the person, which makes each row one
 *    person's (per-person-subquery.ts).
 */
import type { Node, SelectStmt } from 'libpg-query';
import type { ColumnPolicy } from '../../policy/schema.ts';
import { conjuncts, type Expr, type TableReference, type ValueType } from '../ir.ts';
import { refuse } from '../refusal.ts';
import { type AnalysisContext, withoutCte } from './context.ts';
import { analyzeExpression, locationOf, type RowScope, requireType } from './expression.ts';
import { analyzePerPersonSubquery } from './per-person-subquery.ts';
import { syntaxWords } from './syntax-names.ts';
import { resolvePolicyTable, unknownColumnMessage } from './tables.ts';

/**
 * A column the query can name, qualified by its FROM item's name. Hidden columns are not in scope at
 * all, so naming one is refused exactly as naming a column that does not exist: an analyst cannot
 * list hidden names by probing.
 */
export interface ScopeColumn {
  readonly qualifier: string | undefined;
  readonly name: string;
  readonly value: Expr;
  /** A USING join's right-hand copy: reachable qualified only, so the merged name is not ambiguous. */
  readonly qualifiedOnly?: boolean;
}

export interface RowSource {
  readonly tables: readonly TableReference[];
  /** Every row satisfies all of these (inner-join conditions and inlined WHERE clauses). */
  readonly conditions: readonly Expr[];
  readonly columns: readonly ScopeColumn[];
}

export function analyzeFrom(items: readonly Node[], context: AnalysisContext): RowSource {
  if (items.length === 0) return { tables: [], conditions: [], columns: [] };
  return items
    .map((item) => fromItem(item, context))
    .reduce((left, right) => crossJoin(left, right, locationOf(items[1]!)));
}

/** The scope that resolves column references against a row source. */
export function scopeOf(source: RowSource): RowScope {
  return {
    resolve(fields, location) {
      const [qualifier, name] = splitReference(fields, location, source.tables);
      const candidates = source.columns.filter((c) =>
        qualifier === undefined
          ? c.name === name && !c.qualifiedOnly
          : c.qualifier === qualifier && c.name === name,
      );
      if (qualifier !== undefined && !source.columns.some((c) => c.qualifier === qualifier)) {
        refuse('unknown_table', `${qualifier} is not a table or alias in FROM`, location);
      }
      const found = candidates[0];
      if (!found) {
        refuse('unknown_column', unknownColumnMessage(fields), location);
      }
      if (candidates.length > 1) {
        refuse(
          'ambiguous_column',
          `column ${name} is ambiguous; qualify it with a table name or alias`,
          location,
        );
      }
      return { ...found.value, location: location ?? found.value.location } as Expr;
    },
  };
}

function splitReference(
  fields: readonly string[],
  location: number | undefined,
  tables: readonly TableReference[],
): [string | undefined, string] {
  if (fields.length === 1) return [undefined, fields[0]!];
  if (fields.length === 2) return [fields[0]!, fields[1]!];
  // schema.table.column, for a table of that schema in FROM.
  if (fields.length === 3 && tables.some((t) => t.schema === fields[0] && t.table === fields[1]))
    return [fields[1]!, fields[2]!];
  return refuse('unknown_column', `cannot resolve ${fields.join('.')}`, location);
}

function fromItem(node: Node, context: AnalysisContext): RowSource {
  const location = locationOf(node);
  if ('RangeVar' in node) {
    const rangeVar = node.RangeVar;
    const cte = rangeVar.schemaname === undefined ? context.ctes.get(rangeVar.relname ?? '') : undefined;
    const qualifier = rangeVar.alias?.aliasname ?? rangeVar.relname;
    if (cte) {
      const inner = cte.ctequery;
      if (!inner || !('SelectStmt' in inner))
        return refuse('unsupported_sql', 'a CTE must be a SELECT', location);
      return inlineSubquery(
        inner.SelectStmt,
        qualifier,
        rangeVar.alias?.colnames,
        withoutCte(context, rangeVar.relname ?? ''),
      );
    }
    if (rangeVar.alias?.colnames)
      refuse('unsupported_sql', 'column aliases on a table are not supported', location);
    return baseTable(resolvePolicyTable(rangeVar, context), qualifier);
  }
  if ('RangeSubselect' in node) {
    const item = node.RangeSubselect;
    if (item.lateral) refuse('unsupported_sql', 'LATERAL subqueries are not supported', location);
    const inner = item.subquery;
    if (!inner || !('SelectStmt' in inner))
      return refuse('unsupported_sql', 'unsupported subquery in FROM', location);
    return inlineSubquery(inner.SelectStmt, item.alias?.aliasname, item.alias?.colnames, context);
  }
  if ('JoinExpr' in node) return join(node.JoinExpr, context, location);
  if ('RangeFunction' in node || 'RangeTableFunc' in node) {
    return refuse(
      'forbidden_function',
      'functions in FROM (generate_series, dblink, …) are not allowed',
      location,
    );
  }
  return refuse('unsupported_sql', `${syntaxWords(node)} is not supported in FROM`, location);
}

const COLUMN_TYPES: Record<ColumnPolicy['type'], ValueType> = {
  int: 'int',
  real: 'real',
  text: 'text',
  bool: 'bool',
  date: 'date',
  timestamp: 'timestamp',
};

function baseTable(table: TableReference, qualifier: string | undefined): RowSource {
  const columns: ScopeColumn[] = Object.entries(table.policy.columns)
    .filter(([, policy]) => !policy.hidden)
    .map(([name, policy]) => ({ qualifier, name, value: columnExpression(table, name, policy) }));
  if (table.unitColumn && !(table.unitColumn in table.policy.columns)) {
    columns.push({
      qualifier,
      name: table.unitColumn,
      value: columnExpression(table, table.unitColumn, undefined),
    });
  }
  return { tables: [table], conditions: [], columns };
}

function columnExpression(table: TableReference, column: string, policy: ColumnPolicy | undefined): Expr {
  const role =
    column === table.unitColumn ? 'unit' : column === table.communityColumn ? 'community' : 'value';
  const [low, high] = policy?.bounds ?? [];
  const bounded = typeof low === 'number' && typeof high === 'number';
  return {
    kind: 'column',
    table,
    column,
    role,
    policy,
    location: -1,
    info: {
      type: policy ? COLUMN_TYPES[policy.type] : 'unknown',
      private: table.private,
      unit: role === 'unit',
      readsData: true,
      ...(bounded ? { bounds: { low, high } } : {}),
      ...(policy?.type === 'real' ? { granularity: policy.granularity ?? DEFAULT_GRANULARITY } : {}),
    },
  };
}

/** The release grid of a real column whose policy names none: fine enough to be invisible in answers. */
export const DEFAULT_GRANULARITY = 2 ** -10;

function join(
  expr: Extract<Node, { JoinExpr: unknown }>['JoinExpr'],
  context: AnalysisContext,
  location: number,
): RowSource {
  if (expr.jointype !== 'JOIN_INNER') {
    refuse(
      'invalid_join',
      'only inner joins are supported (JOIN … ON / USING); outer joins are not',
      location,
    );
  }
  if (expr.isNatural)
    refuse('invalid_join', 'NATURAL JOIN is not supported; write JOIN … USING (…)', location);
  if (expr.alias) refuse('unsupported_sql', 'an alias on a join is not supported', location);
  const left = fromItem(expr.larg!, context);
  const right = fromItem(expr.rarg!, context);
  if (!expr.quals && !expr.usingClause) return crossJoin(left, right, location);

  const usingNames = (expr.usingClause ?? []).map((n) => ('String' in n ? (n.String.sval ?? '') : ''));
  const combined: RowSource = {
    tables: [...left.tables, ...right.tables],
    conditions: [...left.conditions, ...right.conditions],
    columns: [
      ...left.columns,
      ...right.columns.map((c) => (usingNames.includes(c.name) ? { ...c, qualifiedOnly: true } : c)),
    ],
  };
  const options = (clause: string) => ({
    scope: scopeOf(combined),
    context,
    clause,
    onAggregate: (): never =>
      refuse('unsupported_sql', 'aggregates are not allowed in JOIN conditions', location),
  });
  const joinConditions = usingNames.map((name) => {
    const a = scopeOf(left).resolve([name], location);
    const b = scopeOf(right).resolve([name], location);
    return equality(a, b, location);
  });
  if (expr.quals)
    joinConditions.push(requireType(analyzeExpression(expr.quals, options('in JOIN … ON')), 'bool'));
  if (hasPrivate(left) && hasPrivate(right) && !joinsOnUnit(joinConditions, left, right)) {
    refuse(
      'invalid_join',
      'a join between private tables must include equality of the person columns (e.g. ON a.person_id = b.person_id or USING (person_id))',
      location,
    );
  }
  return { ...combined, conditions: [...combined.conditions, ...joinConditions] };
}

function crossJoin(left: RowSource, right: RowSource, location?: number): RowSource {
  if (hasPrivate(left) && hasPrivate(right)) {
    refuse(
      'invalid_join',
      'private tables cannot be cross joined (FROM a, b); join them ON the person column',
      location,
    );
  }
  return {
    tables: [...left.tables, ...right.tables],
    conditions: [...left.conditions, ...right.conditions],
    columns: [...left.columns, ...right.columns],
  };
}

function hasPrivate(source: RowSource): boolean {
  return source.tables.some((t) => t.private);
}

/** Some top-level conjunct says left.unit = right.unit. */
function joinsOnUnit(conditions: readonly Expr[], left: RowSource, right: RowSource): boolean {
  const aliases = (s: RowSource) => new Set(s.tables.map((t) => t.alias));
  const [leftAliases, rightAliases] = [aliases(left), aliases(right)];
  return conditions.flatMap(conjuncts).some((c) => {
    if (c.kind !== 'operator' || c.form !== 'AEXPR_OP' || c.operator !== '=' || !c.left) return false;
    const [a, b] = [c.left, c.right as Expr];
    if (a.kind !== 'column' || b.kind !== 'column' || a.role !== 'unit' || b.role !== 'unit') return false;
    return (
      (leftAliases.has(a.table.alias) && rightAliases.has(b.table.alias)) ||
      (leftAliases.has(b.table.alias) && rightAliases.has(a.table.alias))
    );
  });
}

function equality(a: Expr, b: Expr, location: number): Expr {
  return {
    kind: 'operator',
    form: 'AEXPR_OP',
    operator: '=',
    left: a,
    right: b,
    location,
    info: {
      type: 'bool',
      private: a.info.private || b.info.private,
      unit: a.info.unit || b.info.unit,
      readsData: true,
    },
  };
}

/** A row-level SELECT used as a FROM item: its FROM and WHERE join the outer query, its targets become columns. */
function inlineSubquery(
  select: SelectStmt,
  qualifier: string | undefined,
  columnAliases: readonly Node[] | undefined,
  context: AnalysisContext,
): RowSource {
  const location = -1;
  if (select.groupClause) return analyzePerPersonSubquery(select, qualifier, columnAliases, context);
  if (select.op && select.op !== 'SETOP_NONE')
    refuse('set_operation', 'UNION, INTERSECT and EXCEPT are not supported', location);
  if (select.distinctClause)
    refuse('select_distinct', 'SELECT DISTINCT is not supported (it releases row-level values)', location);
  if (select.havingClause) {
    refuse(
      'unsupported_sql',
      'a subquery or CTE in FROM must return rows, or one row per person (GROUP BY person_id); HAVING needs GROUP BY',
      location,
    );
  }
  if (select.limitCount || select.limitOffset) {
    refuse(
      'unsupported_sql',
      'LIMIT/OFFSET in a subquery or CTE would pick rows by the data; remove it',
      locationOf(select.limitCount ?? select.limitOffset!),
    );
  }
  if (select.valuesLists || select.lockingClause || select.intoClause || select.windowClause) {
    refuse('unsupported_sql', 'this subquery form is not supported in FROM', location);
  }
  const inner = analyzeFrom(select.fromClause ?? [], context);
  if (inner.tables.length === 0) refuse('unsupported_sql', 'a subquery in FROM must read a table', location);
  const options = {
    scope: scopeOf(inner),
    context,
    clause: 'in a subquery in FROM',
    onAggregate: (call: { location?: number }): never =>
      refuse(
        'unsupported_sql',
        'a subquery or CTE in FROM must return rows, not aggregates; aggregate in the outer query',
        call.location,
      ),
  };
  const where = select.whereClause
    ? [requireType(analyzeExpression(select.whereClause, options), 'bool')]
    : [];
  const targets: ScopeColumn[] = (select.targetList ?? []).flatMap((target) => {
    if (!('ResTarget' in target)) return [];
    const value = target.ResTarget.val!;
    const star = starQualifier(value);
    if (star !== undefined) {
      const expanded = inner.columns.filter((c) => !c.qualifiedOnly && (star === '' || c.qualifier === star));
      return expanded.map((c) => ({ qualifier, name: c.name, value: c.value }));
    }
    const name = target.ResTarget.name ?? defaultName(value);
    return [{ qualifier, name, value: analyzeExpression(value, options) }];
  });
  const renamed = (columnAliases ?? []).map((n) => ('String' in n ? (n.String.sval ?? '') : ''));
  const columns = targets.map((c, i) => (renamed[i] ? { ...c, name: renamed[i] } : c));
  return { tables: inner.tables, conditions: [...inner.conditions, ...where], columns };
}

/** '' for `*`, the qualifier for `t.*`, undefined when the target is not a star. */
function starQualifier(node: Node): string | undefined {
  if (!('ColumnRef' in node)) return undefined;
  const fields = node.ColumnRef.fields ?? [];
  if (!fields.some((f) => 'A_Star' in f)) return undefined;
  const first = fields[0];
  return fields.length === 2 && first && 'String' in first ? (first.String.sval ?? '') : '';
}

/** PostgreSQL's output name for an unnamed target: the column name, the function name, or ?column?. */
export function defaultName(node: Node): string {
  if ('ColumnRef' in node) {
    const last = (node.ColumnRef.fields ?? []).at(-1);
    return last && 'String' in last ? (last.String.sval ?? '?column?') : '?column?';
  }
  if ('FuncCall' in node) {
    const last = (node.FuncCall.funcname ?? []).at(-1);
    return last && 'String' in last ? (last.String.sval ?? '?column?') : '?column?';
  }
  if ('TypeCast' in node) return defaultName(node.TypeCast.arg!);
  return '?column?';
}
