/**
 * The SQL dpgate runs for a private query: the analyst's rows, bounded per person, aggregated per
 * group into the true values the mechanisms need. Shape (CTE names are ours):
 *
 *   source      one row per joined row: the person (unit), group keys k*, the analyst's aggregate
 *               inputs e* (every column read clamped to its bounds), under the analyst's conditions
 *   ranked      the inputs as aggregated, v* (clamped again to their computed range, in grid
 *               steps or bucket numbers), and row_rank = ROW_NUMBER() OVER (PARTITION BY unit, keys
 *               ORDER BY random())
 *   unit_groups group_rank = ROW_NUMBER() OVER (PARTITION BY unit ORDER BY random()) over each
 *               person's distinct groups (grouped queries only)
 *   bounded     rows with row_rank ≤ L∞ bound and group_rank ≤ L0 bound
 *   aggregated  per group: counts, sums, sums of squares, bucket counts, distinct persons
 *   final       for public-domain keys, every domain value LEFT JOIN aggregated, empty groups as 0
 *
 * Which rows a person keeps depends only on that person's rows (and random()), so bounding never
 * couples two people. random() is ours; analysts cannot call it. The skeleton is parsed from text
 * made only of our names, policy identifiers (quoted) and computed integers; the analyst's
 * expressions are spliced in as syntax trees with their literals bound as `$n` parameters. The
 * deparsed text is parsed again and must give back exactly the tree that was built.
 */
import type { Node, SelectStmt } from 'libpg-query';
import { deparseSync } from 'pgsql-deparser';
import type { MeasurementDraft, QuantileDraft, ValueColumn } from './analyze/aggregates.ts';
import type { AnalyzedKey } from './analyze/select.ts';
import { COMMONS_SCHEMA } from './analyze/tables.ts';
import {
  call,
  cast,
  clamp,
  columnRef,
  emitExpression,
  numberConstant,
  operator,
  ParameterList,
} from './emit.ts';
import { type Expr, expressionKey, type TableReference } from './ir.ts';
import { parseSync } from './pg-parser.ts';
import type { PublicDomain, RewrittenSql } from './plan.ts';

export interface RewriteInput {
  readonly tables: readonly TableReference[];
  readonly conditions: readonly Expr[];
  readonly keys: readonly AnalyzedKey[];
  readonly values: readonly ValueColumn[];
  readonly measurements: readonly MeasurementDraft[];
  readonly quantiles: readonly QuantileDraft[];
  /** public: every domain value is released; selected: groups need a distinct-person count. */
  readonly grouping: 'none' | 'public' | 'selected';
  readonly maxRowsPerGroup: number;
  readonly maxGroupsPerUnit: number;
}

/** The result column of the distinct-person count per group (partition selection). */
export const UNITS_COLUMN = 'units';

export function rewritePrivateQuery(input: RewriteInput): RewrittenSql {
  const params = new ParameterList();
  const keys = input.keys.map((k) => k.column);
  const grouped = keys.length > 0;
  const withKeys = (prefix: string) => keys.map((k) => `, ${prefix}${k}`).join('');
  const unitTable = input.tables.find((t) => t.private)!;

  // The analyst's expressions are computed once (e*) in source; the transforms in ranked then
  // repeat only a column name, so nested clamps never copy an expression.
  const expressions = distinctExpressions(input.values);
  const source = `SELECT NULL AS unit${withKeys('NULL AS ')}${expressions.map((_, i) => `, NULL AS e${i}`).join('')} FROM ${input.tables
    .map((t) => `${COMMONS_SCHEMA}.${quoted(t.table)} AS ${t.alias}`)
    .join(', ')} WHERE true`;
  const ranked = `SELECT unit${withKeys('')}${input.values.map((v) => `, NULL AS ${v.column}`).join('')}, pg_catalog.row_number() OVER (PARTITION BY unit${withKeys('')} ORDER BY pg_catalog.random()) AS row_rank FROM source`;
  const unitGroups = `SELECT unit${withKeys('')}, pg_catalog.row_number() OVER (PARTITION BY unit ORDER BY pg_catalog.random()) AS group_rank FROM source GROUP BY unit${withKeys('')}`;
  const bounded = grouped
    ? `SELECT ranked.* FROM ranked JOIN unit_groups ON unit_groups.unit = ranked.unit${keys
        .map((k) => ` AND unit_groups.${k} IS NOT DISTINCT FROM ranked.${k}`)
        .join(
          '',
        )} WHERE ranked.row_rank <= ${integer(input.maxRowsPerGroup)} AND unit_groups.group_rank <= ${integer(input.maxGroupsPerUnit)}`
    : `SELECT ranked.* FROM ranked WHERE ranked.row_rank <= ${integer(input.maxRowsPerGroup)}`;
  const measures = [
    ...input.measurements.map((m) => `${measureSql(m)} AS ${m.column}`),
    ...input.quantiles.flatMap((q) =>
      q.columns.map(
        (column, bucket) =>
          `pg_catalog.count(*) FILTER (WHERE ${q.value.column} = ${integer(bucket)}) AS ${column}`,
      ),
    ),
    ...(input.grouping === 'selected' ? [`pg_catalog.count(DISTINCT unit) AS ${UNITS_COLUMN}`] : []),
  ];
  const aggregated = `SELECT ${[...keys, ...measures].join(', ')} FROM bounded${grouped ? ` GROUP BY ${keys.join(', ')}` : ''}`;
  const measureColumns = [
    ...input.measurements.map((m) => m.column),
    ...input.quantiles.flatMap((q) => q.columns),
  ];
  const final =
    input.grouping === 'public'
      ? `SELECT ${[
          ...keys.map((k, i) => `d${i}.${k} AS ${k}`),
          ...measureColumns.map((c) => `COALESCE(aggregated.${c}, 0) AS ${c}`),
        ].join(
          ', ',
        )} FROM ${input.keys.map((k, i) => domainSql(k.domain!, k.column, `d${i}`, params)).join(' CROSS JOIN ')} LEFT JOIN aggregated ON ${keys
          .map((k, i) => `aggregated.${k} = d${i}.${k}`)
          .join(' AND ')}`
      : 'SELECT * FROM aggregated';
  const skeleton = `WITH source AS (${source}), ranked AS (${ranked}),${grouped ? ` unit_groups AS (${unitGroups}),` : ''} bounded AS (${bounded}), aggregated AS (${aggregated}) ${final}`;

  const tree = parseSync(skeleton).stmts![0]!.stmt!;
  const ctes = (tree as { SelectStmt: SelectStmt }).SelectStmt.withClause!.ctes! as {
    CommonTableExpr: { ctequery: { SelectStmt: SelectStmt } };
  }[];
  const [sourceStmt, rankedStmt] = [
    ctes[0]!.CommonTableExpr.ctequery.SelectStmt,
    ctes[1]!.CommonTableExpr.ctequery.SelectStmt,
  ];
  const unit = columnRef(unitTable.alias, unitTable.unitColumn!);
  setTargets(sourceStmt, [
    unit,
    ...input.keys.map((k) => emitExpression(k.expr, params)),
    ...expressions.map((e) => emitExpression(e.expr, params)),
  ]);
  setTargets(
    rankedStmt,
    input.values.map((v) =>
      valueSql(v, columnRef(`e${expressions.findIndex((e) => e.key === expressionKey(v.expr))}`)),
    ),
    1 + keys.length,
  );
  const conditions = [
    ...input.conditions.map((c) => emitExpression(c, params)),
    { NullTest: { arg: unit, nulltesttype: 'IS_NOT_NULL' } } as Node,
  ];
  sourceStmt.whereClause =
    conditions.length === 1 ? conditions[0]! : { BoolExpr: { boolop: 'AND_EXPR', args: conditions } };

  const text = deparseSync(tree, { pretty: false });
  checkRoundTrip(text, tree);
  return { text, parameters: params.values };
}

/** Replaces the placeholder targets of a skeleton SELECT, from position `start` on. */
function setTargets(select: SelectStmt, values: readonly Node[], start = 0): void {
  values.forEach((value, i) => {
    (select.targetList![start + i] as { ResTarget: { val: Node } }).ResTarget.val = value;
  });
}

/** Each distinct aggregate input once, however many transforms use it. */
function distinctExpressions(values: readonly ValueColumn[]): { key: string; expr: Expr }[] {
  const seen = new Map<string, Expr>();
  for (const value of values) seen.set(expressionKey(value.expr), value.expr);
  return [...seen].map(([key, expr]) => ({ key, expr }));
}

function measureSql(measurement: MeasurementDraft): string {
  switch (measurement.kind) {
    case 'rows':
      return measurement.value ? `pg_catalog.count(${measurement.value.column})` : 'pg_catalog.count(*)';
    case 'units':
      return 'pg_catalog.count(DISTINCT unit)';
    case 'sum':
    case 'sum_of_squares':
      return `COALESCE(pg_catalog.sum(${measurement.value.column}), 0)`;
  }
}

/** An aggregate input as the SQL aggregates it: raw, clamped grid steps, or a bucket index. */
function valueSql(value: ValueColumn, expr: Node): Node {
  const transform = value.transform;
  if (transform.kind === 'raw') return expr;
  // Clamping the finished expression to its computed range makes the sensitivity hold even if an
  // interval rule were too narrow: the summed value can never leave [low, high].
  const clamped = cast(clamp(expr, transform.bounds.low, transform.bounds.high), 'numeric');
  if (transform.kind === 'steps') {
    const value = transform.squared ? operator('*', clamped, clamped) : clamped;
    return call(
      'round',
      transform.granularity === 1 ? [value] : [operator('/', value, numberConstant(transform.granularity))],
    );
  }
  const width = transform.bounds.high - transform.bounds.low;
  if (width === 0)
    return {
      CaseExpr: {
        args: [
          {
            CaseWhen: {
              expr: { NullTest: { arg: expr, nulltesttype: 'IS_NULL' } },
              result: { A_Const: { isnull: true } },
            },
          },
        ],
        defresult: numberConstant(0),
      },
    };
  const position = operator(
    '*',
    operator('-', clamped, numberConstant(transform.bounds.low)),
    numberConstant(transform.buckets),
  );
  return clamp(call('floor', [operator('/', position, numberConstant(width))]), 0, transform.buckets - 1);
}

function domainSql(domain: PublicDomain, column: string, alias: string, params: ParameterList): string {
  switch (domain.kind) {
    case 'values':
      return `(VALUES ${domain.values.map((v) => `(${placeholder(v, params)})`).join(', ')}) AS ${alias}(${column})`;
    case 'range':
      return `(SELECT pg_catalog.generate_series(${placeholder(domain.from, params)}, ${placeholder(domain.to, params)}) AS ${column}) AS ${alias}`;
    case 'table':
      return `(SELECT DISTINCT ${quoted(domain.column)} AS ${column} FROM ${COMMONS_SCHEMA}.${quoted(domain.table)}) AS ${alias}`;
  }
}

/** A policy value bound as a parameter, typed so VALUES and generate_series know their column type. */
function placeholder(value: string | number | boolean, params: ParameterList): string {
  params.bind(value, undefined);
  const type =
    typeof value === 'string'
      ? 'text'
      : typeof value === 'boolean'
        ? 'bool'
        : Number.isInteger(value) && Math.abs(value) < 2 ** 31
          ? 'int4'
          : 'numeric';
  return `$${params.values.length}::pg_catalog.${type}`;
}

/** Policy identifiers are lower-case names (policy schema); quoting keeps reserved words harmless. */
function quoted(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a policy identifier: ${name}`);
  return `"${name}"`;
}

function integer(value: number): string {
  if (!Number.isSafeInteger(value)) throw new Error(`not an integer: ${value}`);
  return String(value);
}

/**
 * Defence in depth (research §4.5): the text we hand to the database must be one SELECT whose
 * syntax tree is exactly the one built here, so no deparser quirk can change what runs.
 */
function checkRoundTrip(text: string, intended: Node): void {
  const statements = parseSync(text).stmts ?? [];
  if (statements.length !== 1 || !sameTree(statements[0]!.stmt, intended)) {
    throw new Error('rewrite: the deparsed SQL does not parse back to the intended query');
  }
}

/**
 * Structural equality of two syntax trees, ignoring source positions, zero fields the parser omits,
 * AND/OR nesting (associative) and the pg_catalog qualification of type names (the deparser writes
 * `::text` for `pg_catalog.text`; types resolve in pg_catalog first either way).
 */
function sameTree(a: unknown, b: unknown, key = ''): boolean {
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return a === b;
  if (Array.isArray(a) || Array.isArray(b)) {
    return (
      Array.isArray(a) &&
      Array.isArray(b) &&
      a.length === b.length &&
      a.every((item, i) => sameTree(item, b[i]))
    );
  }
  const [x, y] = [
    normalized(a as Record<string, unknown>, key),
    normalized(b as Record<string, unknown>, key),
  ];
  const [xFields, yFields] = [comparedFields(x), comparedFields(y)];
  return (
    xFields.length === yFields.length &&
    xFields.every((field) => yFields.includes(field) && sameTree(x[field], y[field], field))
  );
}

const IGNORED_FIELDS = new Set(['location', 'rexpr_list_start', 'rexpr_list_end']);

function comparedFields(node: Record<string, unknown>): string[] {
  return Object.keys(node).filter(
    (k) => !IGNORED_FIELDS.has(k) && node[k] !== undefined && !(k === 'ival' && node[k] === 0),
  );
}

function normalized(node: Record<string, unknown>, key: string): Record<string, unknown> {
  if (key === 'BoolExpr' && node.boolop !== 'NOT_EXPR') {
    const flat = (args: { BoolExpr?: { boolop: string; args: unknown[] } }[]): unknown[] =>
      args.flatMap((arg) =>
        arg.BoolExpr && arg.BoolExpr.boolop === node.boolop ? flat(arg.BoolExpr.args as never) : [arg],
      );
    return { ...node, args: flat(node.args as never) };
  }
  if (key === 'typeName' && Array.isArray(node.names)) {
    return {
      ...node,
      names: node.names.filter((n: { String?: { sval?: string } }) => n.String?.sval !== 'pg_catalog'),
    };
  }
  return node;
}
