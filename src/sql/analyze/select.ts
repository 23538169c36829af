/**
 * The top-level SELECT of a query over private data: it must aggregate, its GROUP BY keys may not
 * single out a person, and everything the analyst sees (select list, HAVING, ORDER BY) must be a
 * function of group keys and aggregates, evaluated after noise (post-process.ts).
 */
import type { FuncCall, Node, SelectStmt } from 'libpg-query';
import { dayNumber } from '../calendar.ts';
import type { Expr, LeftJoin, TableReference } from '../ir.ts';
import { conjuncts, expressionKey } from '../ir.ts';
import type { OutputColumn, PublicDomain, SortKey } from '../plan.ts';
import { OUTPUT_FUNCTIONS, type OutputExpr } from '../post-process.ts';
import { refuse, SqlRefusalError } from '../refusal.ts';
import { MeasurementRegistry } from './aggregates.ts';
import { type AnalysisContext, withCtes } from './context.ts';
import { narrowDays, narrowDomain } from './domains.ts';
import {
  analyzeExpression,
  type ExpressionOptions,
  isAggregateName,
  locationOf,
  type RowScope,
  requireType,
} from './expression.ts';
import { analyzeFrom, defaultName, scopeOf } from './from.ts';
import { type ColumnDomains, keyImageDomain } from './key-image.ts';

export interface AnalyzedKey {
  readonly column: string;
  readonly expr: Expr;
  readonly domain: PublicDomain | undefined;
}

export interface AnalyzedQuery {
  readonly tables: readonly TableReference[];
  /** Every row read satisfies all of these: join conditions and WHERE conjuncts. */
  readonly conditions: readonly Expr[];
  /** Public tables LEFT JOINed in (their ON conditions are not among `conditions`). */
  readonly leftJoins: readonly LeftJoin[];
  readonly keys: readonly AnalyzedKey[];
  readonly registry: MeasurementRegistry;
  readonly columns: readonly OutputColumn[];
  readonly having: OutputExpr | undefined;
  readonly orderBy: readonly SortKey[];
  readonly limit: number | undefined;
  readonly offset: number | undefined;
}

export function analyzePrivateSelect(select: SelectStmt, outer: AnalysisContext): AnalyzedQuery {
  refuseShapes(select);
  const context = withCtes(
    outer,
    (select.withClause?.ctes ?? []).map((c) => ('CommonTableExpr' in c ? c.CommonTableExpr : {})),
  );
  const source = analyzeFrom(select.fromClause ?? [], context);
  const scope = scopeOf(source);
  const rowOptions = (clause: string, onAggregate: (call: FuncCall) => never): ExpressionOptions => ({
    scope,
    context,
    clause,
    onAggregate,
  });
  const where = select.whereClause
    ? requireType(
        analyzeExpression(
          select.whereClause,
          rowOptions('in WHERE', (call) =>
            refuse('unsupported_sql', 'aggregates are not allowed in WHERE; use HAVING', call.location),
          ),
        ),
        'bool',
      )
    : undefined;
  const conditions = [...source.conditions, ...(where ? [where] : [])].flatMap(conjuncts);
  const targets = (select.targetList ?? []).map((t) =>
    'ResTarget' in t ? t.ResTarget : refuse('unsupported_sql', 'unsupported select list'),
  );

  const keys = (select.groupClause ?? []).map((node, index): AnalyzedKey => {
    const keyNode = namesInputColumn(node, scope) ? node : (targetFor(node, targets) ?? node);
    const refuseUnitKey = () =>
      refuse(
        'group_by_unit',
        'GROUP BY the person column (or anything computed from it) would release per-person values',
        locationOf(node),
      );
    let expr: Expr;
    try {
      expr = analyzeExpression(
        keyNode,
        rowOptions('in GROUP BY', (call) =>
          refuse('unsupported_sql', 'aggregates are not allowed in GROUP BY', call.location),
        ),
      );
    } catch (error) {
      // Whatever else is wrong with a key computed from the person (`person_id % 10` has no bounds),
      // the reason it can never be a key comes first.
      if (error instanceof SqlRefusalError && readsUnitColumn(keyNode, scope)) refuseUnitKey();
      throw error;
    }
    if (expr.info.unit) refuseUnitKey();
    return { column: `k${index}`, expr, domain: publicDomainOf(expr, context, conditions) };
  });

  const registry = new MeasurementRegistry();
  const aggregateOptions = rowOptions('in an aggregate', (call) =>
    refuse('nested_aggregate', 'aggregates cannot be nested', call.location),
  );
  const output = (node: Node, clause: string): OutputExpr =>
    outputExpression(node, {
      keys,
      registry,
      aggregateOptions,
      rowOptions: rowOptions(clause, () => refuse('unsupported_sql', 'unexpected aggregate')),
      clause,
    });

  const columns = targets.map((target): OutputColumn => {
    const value = target.val!;
    if ('ColumnRef' in value && (value.ColumnRef.fields ?? []).some((f) => 'A_Star' in f)) {
      refuse(
        'row_level_output',
        'SELECT * would release rows; select group keys and aggregates',
        locationOf(value),
      );
    }
    return { name: target.name ?? defaultName(value), expr: output(value, 'in the select list') };
  });
  if (registry.aggregates.length === 0 && keys.length === 0) {
    refuse(
      'row_level_output',
      'a query over private tables must aggregate (COUNT, SUM, AVG, …); row-level results are never released',
      locationOf(select.targetList?.[0] ?? { A_Const: {} }),
    );
  }
  const having = select.havingClause ? output(select.havingClause, 'in HAVING') : undefined;
  const orderBy = (select.sortClause ?? []).map((node): SortKey => {
    if (!('SortBy' in node)) return refuse('unsupported_sql', 'unsupported ORDER BY');
    const sort = node.SortBy;
    if (sort.useOp) refuse('unsupported_sql', 'ORDER BY … USING is not supported', locationOf(sort.node!));
    const descending = sort.sortby_dir === 'SORTBY_DESC';
    const nullsFirst =
      sort.sortby_nulls === 'SORTBY_NULLS_FIRST' || (sort.sortby_nulls !== 'SORTBY_NULLS_LAST' && descending);
    const byTarget = targetFor(sort.node!, targets);
    const expr = byTarget
      ? columns[targets.findIndex((t) => t.val === byTarget)]!.expr
      : output(sort.node!, 'in ORDER BY');
    return { expr, descending, nullsFirst };
  });
  return {
    tables: source.tables,
    conditions,
    leftJoins: source.leftJoins ?? [],
    keys: keys.map((k) => (k.domain ? { ...k, domain: narrowDomain(k.expr, k.domain, conditions) } : k)),
    registry,
    columns,
    having,
    orderBy,
    limit: constantCount(select.limitCount, 'LIMIT'),
    offset: constantCount(select.limitOffset, 'OFFSET'),
  };
}

/** Shapes refused before anything else is looked at. */
function refuseShapes(select: SelectStmt): void {
  if (select.op && select.op !== 'SETOP_NONE')
    refuse(
      'set_operation',
      'UNION, INTERSECT and EXCEPT over private tables are not supported; run separate queries',
      -1,
    );
  if (select.distinctClause)
    refuse(
      'select_distinct',
      'SELECT DISTINCT releases row-level values; use GROUP BY with an aggregate',
      -1,
    );
  if (select.withClause?.recursive)
    refuse('unsupported_sql', 'recursive CTEs are not supported', select.withClause.location);
  if (select.windowClause)
    refuse('window_function', 'window functions are not allowed: they release row-level values', -1);
  if (select.lockingClause || select.intoClause || select.valuesLists)
    refuse('unsupported_sql', 'this SELECT form is not supported', -1);
  if (select.limitOption === 'LIMIT_OPTION_WITH_TIES')
    refuse('unsupported_sql', 'FETCH … WITH TIES is not supported', -1);
  for (const node of select.groupClause ?? []) {
    if ('GroupingSet' in node)
      refuse(
        'grouping_sets',
        'GROUPING SETS, ROLLUP and CUBE are not supported; run one query per grouping',
        locationOf(node),
      );
  }
  if (select.groupDistinct) refuse('grouping_sets', 'GROUP BY DISTINCT is not supported', -1);
}

/** `GROUP BY 1` / `ORDER BY 2` and names of select-list aliases refer to select-list entries. */
function targetFor(node: Node, targets: readonly { name?: string; val?: Node }[]): Node | undefined {
  if ('A_Const' in node && node.A_Const.ival !== undefined) {
    const position = node.A_Const.ival.ival ?? 0;
    const target = targets[position - 1];
    if (!target?.val)
      refuse('unsupported_sql', `position ${position} is not in the select list`, locationOf(node));
    return target.val;
  }
  if ('ColumnRef' in node && node.ColumnRef.fields?.length === 1) {
    const field = node.ColumnRef.fields[0]!;
    const name = 'String' in field ? field.String.sval : undefined;
    return targets.find((t) => t.name !== undefined && t.name === name)?.val;
  }
  return undefined;
}

/** GROUP BY resolves a bare name as an input column first, then as a select-list alias (PostgreSQL's rule). */
function namesInputColumn(node: Node, scope: RowScope): boolean {
  if (!('ColumnRef' in node) || node.ColumnRef.fields?.length !== 1) return false;
  const field = node.ColumnRef.fields[0]!;
  if (!('String' in field)) return false;
  try {
    scope.resolve([field.String.sval ?? ''], undefined);
    return true;
  } catch (error) {
    if (error instanceof SqlRefusalError && error.refusal.code === 'unknown_column') return false;
    throw error;
  }
}

/** Whether a column reference outside subqueries in this syntax tree names a person column. */
export function readsUnitColumn(node: unknown, scope: RowScope): boolean {
  if (node === null || typeof node !== 'object') return false;
  if (Array.isArray(node)) return node.some((child) => readsUnitColumn(child, scope));
  if ('SubLink' in node) return false;
  if ('ColumnRef' in node) {
    const fields = ((node as { ColumnRef: { fields?: Node[] } }).ColumnRef.fields ?? []).map((f) =>
      'String' in f ? (f.String.sval ?? '') : '',
    );
    try {
      return scope.resolve(fields, undefined).info.unit;
    } catch {
      return false;
    }
  }
  return Object.values(node).some((child) => readsUnitColumn(child, scope));
}

interface OutputOptions {
  readonly keys: readonly AnalyzedKey[];
  readonly registry: MeasurementRegistry;
  readonly aggregateOptions: ExpressionOptions;
  readonly rowOptions: ExpressionOptions;
  readonly clause: string;
}

/**
 * A select-list, HAVING or ORDER BY expression as a function of group keys and aggregates. A
 * sub-expression equal to a GROUP BY key is that key; an aggregate call is a released aggregate;
 * anything else must be built from those with operators and functions evaluated after noise.
 */
function outputExpression(node: Node, options: OutputOptions): OutputExpr {
  const location = locationOf(node);
  if ('FuncCall' in node && (isAggregateCall(node.FuncCall) || node.FuncCall.over)) {
    return { kind: 'aggregate', index: options.registry.add(node.FuncCall, options.aggregateOptions) };
  }
  let rowLevel: Expr | undefined;
  let rowError: SqlRefusalError | undefined;
  if (!containsAggregate(node)) {
    try {
      rowLevel = analyzeExpression(node, options.rowOptions);
    } catch (error) {
      if (!(error instanceof SqlRefusalError)) throw error;
      rowError = error;
    }
  }
  if (rowLevel) {
    const key = expressionKey(rowLevel);
    const index = options.keys.findIndex((k) => expressionKey(k.expr) === key);
    if (index >= 0) return { kind: 'key', index };
    if (rowLevel.kind === 'constant') return { kind: 'constant', value: rowLevel.value };
  }
  const recurse = (child: Node): OutputExpr => outputExpression(child, options);
  if ('A_Expr' in node && (node.A_Expr.kind ?? 'AEXPR_OP') === 'AEXPR_OP') {
    const operator = (node.A_Expr.name ?? []).map((n) => ('String' in n ? n.String.sval : '')).at(-1) ?? '';
    const args = [node.A_Expr.lexpr, node.A_Expr.rexpr]
      .filter((n): n is Node => n !== undefined)
      .map(recurse);
    if (['+', '-', '*', '/', '%', '=', '<>', '!=', '<', '>', '<=', '>=', '||'].includes(operator))
      return { kind: 'operator', operator, args };
  } else if ('BoolExpr' in node) {
    const operator = ({ AND_EXPR: 'and', OR_EXPR: 'or', NOT_EXPR: 'not' } as const)[
      node.BoolExpr.boolop ?? 'AND_EXPR'
    ];
    return { kind: 'bool', operator, args: (node.BoolExpr.args ?? []).map(recurse) };
  } else if ('FuncCall' in node) {
    const name = (node.FuncCall.funcname ?? []).map((n) => ('String' in n ? n.String.sval : '')).at(-1) ?? '';
    if (OUTPUT_FUNCTIONS.has(name))
      return { kind: 'function', name, args: (node.FuncCall.args ?? []).map(recurse) };
    if (!rowError) refuse('forbidden_function', `function ${name} cannot be applied to aggregates`, location);
  } else if ('CoalesceExpr' in node) {
    return { kind: 'function', name: 'coalesce', args: (node.CoalesceExpr.args ?? []).map(recurse) };
  } else if ('MinMaxExpr' in node) {
    const name = node.MinMaxExpr.op === 'IS_LEAST' ? 'least' : 'greatest';
    return { kind: 'function', name, args: (node.MinMaxExpr.args ?? []).map(recurse) };
  } else if ('NullTest' in node) {
    return {
      kind: 'null_test',
      arg: recurse(node.NullTest.arg!),
      negated: node.NullTest.nulltesttype === 'IS_NOT_NULL',
    };
  } else if ('TypeCast' in node) {
    // Casts of released numbers (::numeric, ::float8, ::int) change their representation only.
    const cast = recurse(node.TypeCast.arg!);
    const target =
      (node.TypeCast.typeName?.names ?? []).map((n) => ('String' in n ? n.String.sval : '')).at(-1) ?? '';
    return /^int[248]$/.test(target) ? { kind: 'function', name: 'round', args: [cast] } : cast;
  } else if ('CaseExpr' in node && !node.CaseExpr.arg) {
    return {
      kind: 'case',
      branches: (node.CaseExpr.args ?? []).map((w) =>
        'CaseWhen' in w
          ? { condition: recurse(w.CaseWhen.expr!), result: recurse(w.CaseWhen.result!) }
          : refuse('unsupported_sql', 'malformed CASE', location),
      ),
      otherwise: node.CaseExpr.defresult ? recurse(node.CaseExpr.defresult) : undefined,
    };
  }
  if (rowError && rowError.refusal.code !== 'unbounded_column') throw rowError;
  if (rowLevel?.info.unit)
    refuse('row_level_output', `the person column cannot be output ${options.clause}`, location);
  return refuse(
    'row_level_output',
    `this expression ${options.clause} is neither a GROUP BY key nor computed from aggregates: it would release row-level values; add it to GROUP BY or aggregate it`,
    location,
  );
}

function isAggregateCall(call: FuncCall): boolean {
  const name = (call.funcname ?? []).map((n) => ('String' in n ? n.String.sval : '')).at(-1) ?? '';
  return Boolean(
    call.agg_star || call.agg_distinct || call.agg_within_group || call.agg_filter || isAggregateName(name),
  );
}

function containsAggregate(node: unknown): boolean {
  if (node === null || typeof node !== 'object') return false;
  if (Array.isArray(node)) return node.some(containsAggregate);
  if ('SubLink' in node) return false;
  if ('FuncCall' in node) {
    const call = (node as { FuncCall: FuncCall }).FuncCall;
    if (isAggregateCall(call) || call.over) return true;
  }
  return Object.values(node).some(containsAggregate);
}

/**
 * A key's public domain, from policy: a column's `public_values`, `public_range` or `public_domain`,
 * or any column of a public table (its values are public); for an expression, the image of its
 * columns' domains where that can be computed exactly (key-image.ts), else partition selection. A
 * date or timestamp column's public range of days is narrowed by `conditions` first (domains.ts).
 */
export function publicDomainOf(
  expr: Expr,
  context: AnalysisContext,
  conditions: readonly Expr[] = [],
): PublicDomain | undefined {
  const columns: ColumnDomains = {
    domain: (column) => publicDomainOf(column, context, conditions),
    days: (column) => {
      const range = column.kind === 'column' ? column.policy?.public_domain : undefined;
      if (typeof range !== 'object' || (column.info.type !== 'date' && column.info.type !== 'timestamp'))
        return undefined;
      const [from, to] = [dayNumber(range.from), dayNumber(range.to)];
      // The policy check refuses such a range; a policy that skipped it gets thresholding.
      if (from === undefined || to === undefined || from > to) return undefined;
      return narrowDays(column, column.info.type, { from, to }, conditions);
    },
  };
  if (expr.kind !== 'column' || typeof expr.policy?.public_domain === 'object')
    return keyImageDomain(expr, columns);
  const policy = expr.policy;
  if (policy?.public_values) return { kind: 'values', values: policy.public_values };
  if (policy?.public_range)
    return { kind: 'range', from: policy.public_range[0], to: policy.public_range[1] };
  if (typeof policy?.public_domain === 'string') {
    const [table, column] = policy.public_domain.split('.') as [string, string];
    const allowed = context.policy.access[context.role]?.tables ?? [];
    // The domain is read at execution; a role that may not read the domain table gets thresholding.
    const schema = context.policy.tables[table]?.schema;
    return allowed.includes(table) && schema ? { kind: 'table', schema, table, column } : undefined;
  }
  if (!expr.table.private)
    return { kind: 'table', schema: expr.table.schema, table: expr.table.table, column: expr.column };
  return undefined;
}

function constantCount(node: Node | undefined, clause: string): number | undefined {
  if (!node || ('A_Const' in node && node.A_Const.isnull)) return undefined;
  if ('A_Const' in node && node.A_Const.ival !== undefined) return node.A_Const.ival.ival ?? 0;
  return refuse('unsupported_sql', `${clause} must be a constant integer`, locationOf(node));
}
