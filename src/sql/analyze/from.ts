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
 *  - outer joins only where the NULL-extended side is public (`private LEFT JOIN public`: each
 *    preserved row keeps its person) or private with a public preserved side (`public LEFT JOIN
 *    private`: the NULL-extended rows name no person and are dropped, leaving the inner join);
 *    between private tables an outer join's NULL-extended rows would exist because some other
 *    table lacks a row, so they are refused, as FULL JOIN is;
 *  - a table reached through a unit path of several hops is joined to its path tables, each hop's
 *    target unique, so each of its rows keeps exactly the person the path leads to;
 *  - subqueries and CTEs must be row-level (no aggregation, DISTINCT, LIMIT), which keeps the unit
 *    of every row: they are inlined like views; or grouped by the person, which makes each row one
 *    person's (per-person-subquery.ts).
 */
import type { Node, SelectStmt } from 'libpg-query';
import { parseUnitHop } from '../../policy/cross-check.ts';
import type { ColumnPolicy } from '../../policy/schema.ts';
import { conjuncts, type Expr, type LeftJoin, type TableReference, type ValueType } from '../ir.ts';
import { refuse } from '../refusal.ts';
import { type AnalysisContext, withoutCte } from './context.ts';
import { analyzeExpression, locationOf, type RowScope, requireType } from './expression.ts';
import { analyzePerPersonSubquery } from './per-person-subquery.ts';
import { syntaxWords } from './syntax-names.ts';
import { resolvePolicyTable, unitPathOf, unknownColumnMessage } from './tables.ts';

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
  /** Public tables LEFT JOINed to the tables before them (in `tables` order). */
  readonly leftJoins?: readonly LeftJoin[];
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
    return baseTable(resolvePolicyTable(rangeVar, context), qualifier, context);
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

function baseTable(
  table: TableReference,
  qualifier: string | undefined,
  context: AnalysisContext,
): RowSource {
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
  if (!table.private || table.unitColumn !== undefined) return { tables: [table], conditions: [], columns };
  const path = followUnitPath(table, context);
  // The person, named as in the unit table, becomes a column of this table: COUNT(DISTINCT
  // person_id) and joins on the person work as for a table that holds it.
  const unitName = context.policy.privacy_unit.column;
  if (!(unitName in table.policy.columns)) columns.push({ qualifier, name: unitName, value: path.unit });
  return { tables: [table, ...path.tables], conditions: path.conditions, columns };
}

/**
 * The tables of a several-hop unit path (`items → visits`, then `visits.person_id` names the
 * person), joined by equality of each hop's columns, read raw (never clamped: they are keys, not
 * values). Each hop's target column is unique (plan-query.ts refuses a path the catalog does not
 * prove so), so every row of `table` meets at most one row of each path table: the join adds no
 * rows, and a row reaches at most one person. The unit table itself is not joined; the last hop's
 * column holds the person, as a one-hop table's column does.
 */
function followUnitPath(
  table: TableReference,
  context: AnalysisContext,
): { tables: TableReference[]; conditions: Expr[]; unit: Expr } {
  const hops = unitPathOf(table.table, context, undefined);
  const tables: TableReference[] = [];
  const conditions: Expr[] = [];
  let from = table;
  hops.slice(0, -1).forEach((hop, index) => {
    const policy = context.policy.tables[hop.table]!;
    const next: TableReference = {
      alias: context.nextAlias(),
      table: hop.table,
      schema: policy.schema,
      policy,
      private: true,
      unitColumn: index === hops.length - 2 ? hops.at(-1)!.column : undefined,
      communityColumn: undefined,
      pathHop: { for: table.alias, key: hop.references },
    };
    conditions.push(
      equality(
        columnExpression(from, hop.column, undefined),
        columnExpression(next, hop.references, undefined),
        -1,
      ),
    );
    tables.push(next);
    from = next;
  });
  return { tables, conditions, unit: columnExpression(from, from.unitColumn!, undefined) };
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
  const kind = expr.jointype;
  if (kind === 'JOIN_FULL') {
    refuse(
      'invalid_join',
      'FULL JOIN is not supported: write the private side first and LEFT JOIN the public table',
      location,
    );
  }
  if (kind !== 'JOIN_INNER' && kind !== 'JOIN_LEFT' && kind !== 'JOIN_RIGHT')
    refuse('invalid_join', 'only inner, LEFT and RIGHT joins are supported', location);
  if (expr.isNatural)
    refuse('invalid_join', 'NATURAL JOIN is not supported; write JOIN … USING (…)', location);
  if (expr.alias) refuse('unsupported_sql', 'an alias on a join is not supported', location);
  const left = fromItem(expr.larg!, context);
  const right = fromItem(expr.rarg!, context);
  if (!expr.quals && !expr.usingClause) return crossJoin(left, right, location);

  // An outer join whose NULL-extended side is public keeps every preserved row with its person.
  const outer = kind !== 'JOIN_INNER' && !hasPrivate(kind === 'JOIN_LEFT' ? right : left);
  const usingNames = (expr.usingClause ?? []).map((n) => ('String' in n ? (n.String.sval ?? '') : ''));
  // USING merges a column into one name: the preserved side's copy (the left one of an inner join).
  const merged = (side: RowSource) =>
    side.columns.map((c) => (usingNames.includes(c.name) ? { ...c, qualifiedOnly: true } : c));
  const combined: RowSource = {
    tables: [...left.tables, ...right.tables],
    conditions: [...left.conditions, ...right.conditions],
    columns:
      kind === 'JOIN_RIGHT' && outer
        ? [...merged(left), ...right.columns]
        : [...left.columns, ...merged(right)],
    leftJoins: [...(left.leftJoins ?? []), ...(right.leftJoins ?? [])],
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
  if (outer) {
    return publicOuterJoin(
      kind === 'JOIN_LEFT' ? [left, right] : [right, left],
      kind === 'JOIN_LEFT' ? expr.rarg! : expr.larg!,
      combined.columns,
      joinConditions,
      context,
    );
  }
  if (kind !== 'JOIN_INNER' && hasPrivate(kind === 'JOIN_LEFT' ? left : right)) {
    refuse(
      'invalid_join',
      'an outer join between private tables is not supported: its NULL-extended rows would stand for rows a person does not have; use an inner join on the person column',
      location,
    );
  }
  // Inner, or public LEFT JOIN private: the private side's NULL-extended rows name no person and
  // are dropped with every row without one, so exactly the inner join's rows remain.
  if (hasPrivate(left) && hasPrivate(right) && !joinsOnUnit(joinConditions, left, right, context)) {
    refuse(
      'invalid_join',
      'a join between private tables must include equality of the person columns (e.g. ON a.person_id = b.person_id or USING (person_id))',
      location,
    );
  }
  return { ...combined, conditions: [...combined.conditions, ...joinConditions] };
}

/**
 * `preserved LEFT JOIN public` (or `public RIGHT JOIN preserved`): every preserved row is kept,
 * with the public columns NULL where nothing matches, so every row still belongs to one person and
 * depends only on that person's row and public rows; bounding after FROM is unchanged. The ON
 * conditions hold only for matched rows, so they join no `conditions` (no scope or domain is read
 * from them). The NULL-extended side must be a table named directly: a subquery's WHERE or
 * computed columns would not be NULL-extended once inlined.
 */
function publicOuterJoin(
  [preserved, nullable]: readonly [RowSource, RowSource],
  nullableNode: Node,
  columns: readonly ScopeColumn[],
  on: readonly Expr[],
  context: AnalysisContext,
): RowSource {
  const table = nullable.tables[0];
  const named =
    'RangeVar' in nullableNode &&
    (nullableNode.RangeVar.schemaname !== undefined ||
      !context.ctes.has(nullableNode.RangeVar.relname ?? ''));
  if (!named || !table || nullable.tables.length !== 1 || (nullable.leftJoins ?? []).length > 0) {
    refuse(
      'invalid_join',
      'the NULL-extended side of an outer join must be a public table named directly (no subquery, CTE or join)',
      locationOf(nullableNode),
    );
  }
  return {
    // The NULL-extended table comes after every table its ON may name.
    tables: [...preserved.tables, table],
    conditions: preserved.conditions,
    columns,
    leftJoins: [...(preserved.leftJoins ?? []), { alias: table.alias, on }],
  };
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
    leftJoins: [...(left.leftJoins ?? []), ...(right.leftJoins ?? [])],
  };
}

function hasPrivate(source: RowSource): boolean {
  return source.tables.some((t) => t.private);
}

/**
 * Some top-level conjunct says left.unit = right.unit, or follows the first hop of one side's unit
 * path to the other (`items.visit_id = visits.visit_id` for items' `visit_id -> visits.visit_id`):
 * that hop's target is unique (plan-query.ts requires it for the path), so the joined rows pair a
 * row with the row its path goes through, of the same person. Both columns must be read raw (no
 * policy bounds): a clamped key could meet another person's row.
 */
function joinsOnUnit(
  conditions: readonly Expr[],
  left: RowSource,
  right: RowSource,
  context: AnalysisContext,
): boolean {
  const aliases = (s: RowSource) => new Set(s.tables.map((t) => t.alias));
  const [leftAliases, rightAliases] = [aliases(left), aliases(right)];
  return conditions.flatMap(conjuncts).some((c) => {
    if (c.kind !== 'operator' || c.form !== 'AEXPR_OP' || c.operator !== '=' || !c.left) return false;
    const [a, b] = [c.left, c.right as Expr];
    if (a.kind !== 'column' || b.kind !== 'column') return false;
    const across =
      (leftAliases.has(a.table.alias) && rightAliases.has(b.table.alias)) ||
      (leftAliases.has(b.table.alias) && rightAliases.has(a.table.alias));
    if (!across) return false;
    if (a.role === 'unit' && b.role === 'unit') return true;
    const firstHop = (from: typeof a, to: typeof b) => {
      const hop = context.policy.tables[from.table.table]?.unit_path?.[0];
      const { column, table, references } = hop
        ? parseUnitHop(hop)
        : { column: '', table: '', references: '' };
      return (
        (context.policy.tables[from.table.table]?.unit_path?.length ?? 0) > 1 &&
        from.column === column &&
        to.table.table === table &&
        to.column === references &&
        from.policy?.bounds === undefined &&
        to.policy?.bounds === undefined
      );
    };
    return firstHop(a, b) || firstHop(b, a);
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
  return {
    tables: inner.tables,
    conditions: [...inner.conditions, ...where],
    columns,
    ...(inner.leftJoins ? { leftJoins: inner.leftJoins } : {}),
  };
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
