/**
 * A FROM subquery that aggregates per person, the first stage of a two-stage aggregation:
 *
 *   SELECT AVG(total) FROM (SELECT person_id, SUM(income) AS total
 *                           FROM survey_responses GROUP BY person_id) t
 *
 * It must GROUP BY the person column (and may add other keys: columns, public-domain or not); it
 * selects the person, its keys, and COUNT(*), COUNT(x), SUM(x), AVG(x), each as it is or clamped
 * by the analyst with LEAST/GREATEST and constants. The outer query reads it like a private table
 * with one row per person and inner group, whose columns carry proven bounds:
 *
 * - COUNT: [0, r] — the rewrite caps a person's rows per group at r = the tables' rows per group
 *   (and the total cap R when that is smaller);
 * - SUM(x), x ∈ [lo, hi]: [min(0, r·lo), max(0, r·hi)] — at most r rows' worth, scaled towards 0
 *   when the person has more (per-person-stage.ts);
 * - AVG(x): [lo, hi];
 * - an analyst's LEAST(…, c) / GREATEST(…, c) intersects these with the constant's side.
 *
 * The outer query may read the person column (COUNT(DISTINCT person_id)) but never output or group
 * by it: those refusals of the outer query apply unchanged, because the stage's person column is a
 * unit column. HAVING inside the subquery is refused; the outer WHERE filters per-person values.
 */
import type { FuncCall, Node, SelectStmt } from 'libpg-query';
import type { ColumnPolicy, TablePolicy } from '../../policy/schema.ts';
import { type Interval, isFiniteInterval } from '../bounds.ts';
import { type Expr, expressionKey, type TableReference } from '../ir.ts';
import { perPersonStageSql, type StageClamp, type StageColumn } from '../per-person-stage.ts';
import type { PublicDomain } from '../plan.ts';
import { refuse, SqlRefusalError } from '../refusal.ts';
import { MeasurementRegistry, type ValueColumn } from './aggregates.ts';
import type { AnalysisContext } from './context.ts';
import { publicDomainSize } from './domains.ts';
import {
  analyzeExpression,
  type ExpressionOptions,
  isAggregateName,
  locationOf,
  requireType,
} from './expression.ts';
import {
  analyzeFrom,
  DEFAULT_GRANULARITY,
  defaultName,
  type RowSource,
  type ScopeColumn,
  scopeOf,
} from './from.ts';
import { publicDomainOf, readsUnitColumn } from './select.ts';

const UNIT_KEY = 'besides the person column itself, keys of a per-person subquery cannot be computed from it';
const ONLY_AGGREGATES =
  'a per-person subquery may select only its GROUP BY keys and COUNT, SUM or AVG (as they are, or clamped with LEAST/GREATEST and constants); compute anything else in the outer query';

export function analyzePerPersonSubquery(
  select: SelectStmt,
  qualifier: string | undefined,
  columnAliases: readonly Node[] | undefined,
  context: AnalysisContext,
): RowSource {
  const location = locationOf(select.groupClause![0]!);
  if ((select.op && select.op !== 'SETOP_NONE') || select.distinctClause || select.windowClause)
    refuse('unsupported_sql', 'a per-person subquery cannot use UNION, DISTINCT or windows', location);
  if (select.havingClause)
    refuse(
      'unsupported_sql',
      'HAVING in a per-person subquery is not supported; filter its values in the outer WHERE (… t WHERE n > 1)',
      locationOf(select.havingClause),
    );
  if (select.limitCount || select.limitOffset || select.valuesLists || select.lockingClause)
    refuse('unsupported_sql', 'LIMIT/OFFSET in a subquery would pick rows by the data; remove it', location);
  if ((select.groupClause ?? []).some((n) => 'GroupingSet' in n))
    refuse('grouping_sets', 'GROUPING SETS, ROLLUP and CUBE are not supported', location);

  const inner = analyzeFrom(select.fromClause ?? [], context);
  const privateTables = inner.tables.filter((t) => t.private);
  if (privateTables.length === 0 || inner.tables.some((t) => t.stage))
    refuse(
      'unsupported_sql',
      'a subquery that aggregates must read private tables directly (one level of per-person aggregation)',
      location,
    );
  const options = (clause: string): ExpressionOptions => ({
    scope: scopeOf(inner),
    context,
    clause,
    onAggregate: (call) => refuse('unsupported_sql', `aggregates are not allowed ${clause}`, call.location),
  });
  const where = select.whereClause
    ? [requireType(analyzeExpression(select.whereClause, options('in WHERE')), 'bool')]
    : [];
  const targets = (select.targetList ?? []).map((t) =>
    'ResTarget' in t ? t.ResTarget : refuse('unsupported_sql', 'unsupported select list'),
  );
  const keyExprs = (select.groupClause ?? []).map((node) => {
    const keyNode = positional(node, targets);
    try {
      return analyzeExpression(keyNode, options('in GROUP BY'));
    } catch (error) {
      // `person_id % 10` has no bounds, but the reason it cannot be a key comes first.
      if (
        error instanceof SqlRefusalError &&
        readsUnitColumn(keyNode, scopeOf(inner)) &&
        !isBareColumn(keyNode)
      )
        refuse('group_by_unit', UNIT_KEY, locationOf(node));
      throw error;
    }
  });
  const unitKey = keyExprs.find((k) => k.kind === 'column' && k.role === 'unit');
  if (!unitKey)
    refuse(
      'unsupported_sql',
      'a subquery in FROM that aggregates must GROUP BY the person column (e.g. GROUP BY person_id), so that the outer query sees one row per person',
      location,
    );
  const others = keyExprs.filter((k) => !(k.kind === 'column' && k.role === 'unit'));
  if (others.some((k) => k.info.unit)) refuse('group_by_unit', UNIT_KEY, location);

  // Contribution bounds of the inner query, as for any private query (plan-query.ts): r rows per
  // group (the product over joined tables, at most the total cap), k groups, total R.
  const totals = privateTables.map((t) => t.policy.contributions?.max_rows_in_total);
  const policyTotal = totals.every((n) => n !== undefined)
    ? totals.reduce((rows: number, n) => rows * n!, 1)
    : undefined;
  const r = Math.min(
    privateTables.reduce((rows, t) => rows * (t.policy.contributions?.max_rows_per_unit ?? 1), 1),
    policyTotal ?? Number.POSITIVE_INFINITY,
  );
  const policyGroups = Math.min(
    ...privateTables.map((t) => t.policy.contributions?.max_groups_per_unit ?? 1),
  );
  const domains = others.map((k) => publicDomainOf(k, context));
  const sizes = domains.map((d) => (d ? publicDomainSize(d) : undefined));
  const cells = sizes.every((n) => n !== undefined) ? sizes.reduce((n, s) => n * s!, 1) : undefined;
  const k = others.length === 0 ? 1 : Math.min(policyGroups, cells ?? policyGroups);
  const total = policyTotal !== undefined && policyTotal < k * r ? policyTotal : undefined;

  const registry = new MeasurementRegistry();
  const aggregateOptions: ExpressionOptions = {
    ...options('in an aggregate'),
    onAggregate: (call) => refuse('nested_aggregate', 'aggregates cannot be nested', call.location),
  };
  const keyColumns = others.map((_, i) => `k${i + 1}`);
  const stageColumns: {
    value: StageColumn;
    clamps: StageClamp[];
    policy: ColumnPolicy | undefined;
    unit: boolean;
  }[] = [];
  const scopeColumns: ScopeColumn[] = [];
  const aliases = (columnAliases ?? []).map((n) => ('String' in n ? (n.String.sval ?? '') : ''));
  targets.forEach((target, i) => {
    const value = target.val!;
    const name = aliases[i] || target.name || defaultName(value);
    const column = `c${stageColumns.length}`;
    if (!containsAggregateCall(value)) {
      const expr = analyzeExpression(value, options('in the select list'));
      if (expressionKey(expr) === expressionKey(unitKey)) {
        scopeColumns.push({ qualifier, name, value: stageColumnExpr('unit', undefined, true) });
        return;
      }
      const index = others.findIndex((o) => expressionKey(o) === expressionKey(expr));
      if (index < 0) refuse('row_level_output', ONLY_AGGREGATES, locationOf(value));
      const policy = keyPolicy(expr, domains[index]);
      stageColumns.push({ value: { kind: 'key', key: keyColumns[index]! }, clamps: [], policy, unit: false });
      scopeColumns.push({ qualifier, name, value: stageColumnExpr(column, policy, false) });
      return;
    }
    const { call, clamps } = clampedAggregate(value, aggregateOptions);
    const { stage, bounds, type, granularity } = measureOf(call, registry, aggregateOptions, r);
    const clampedBounds = clamps.reduce(applyClamp, bounds);
    const policy: ColumnPolicy = {
      type: type === 'int' && clamps.every((c) => Number.isInteger(c.value)) ? 'int' : 'real',
      bounds: [clampedBounds.low, clampedBounds.high],
      ...(type === 'int' ? {} : { granularity }),
    };
    stageColumns.push({ value: stage, clamps, policy, unit: false });
    scopeColumns.push({ qualifier, name, value: stageColumnExpr(column, policy, false) });
  });

  const conditions = [...inner.conditions, ...where];
  const sql = perPersonStageSql({
    tables: inner.tables,
    conditions,
    keys: [unitKey, ...others].map((expr, i) => ({ column: `k${i}`, expr, domain: undefined })),
    registry,
    maxRowsPerGroup: r,
    maxGroupsPerUnit: k,
    maxRowsInTotal: total,
    // Always selected with other keys: unlike the outer query's domain join, nothing here drops a
    // key outside its public domain (or NULL), so a person could otherwise have more than k rows.
    selectGroups: others.length > 0,
    columns: stageColumns,
  });
  const unitTable = privateTables[0]!;
  const policy = {
    schema: unitTable.schema,
    public: false,
    contributions: { max_rows_per_unit: k, max_groups_per_unit: k },
    columns: Object.fromEntries(stageColumns.map((c, i) => [`c${i}`, c.policy ?? { type: 'text' }])),
  } as TablePolicy;
  const table: TableReference = {
    alias: context.nextAlias(),
    table: unitTable.table,
    schema: unitTable.schema,
    policy,
    private: true,
    unitColumn: 'unit',
    communityColumn: undefined,
    stage: {
      sql,
      tables: inner.tables,
      conditions,
      keyColumns: keyColumns.map((key) => {
        const index = stageColumns.findIndex((c) => c.value.kind === 'key' && c.value.key === key);
        return index < 0 ? undefined : `c${index}`;
      }),
      rowsPerUnit: k,
    },
  };
  // Every scope column was made before the table existed; point them at it.
  const columns = scopeColumns.map((c) => ({
    ...c,
    value: { ...c.value, table } as Expr,
  }));
  return { tables: [table], conditions: [], columns };
}

/**
 * Rows one person has in a group of the outer query: one when the outer query groups by every
 * inner key besides the person (each inner group then falls in one outer group), else up to every
 * inner group of the person.
 */
export function stageRowsPerGroup(table: TableReference, outerKeys: readonly Expr[]): number {
  const stage = table.stage!;
  const grouped = (column: string | undefined) =>
    outerKeys.some((k) => k.kind === 'column' && k.table.alias === table.alias && k.column === column);
  return stage.keyColumns.every(grouped) ? 1 : stage.rowsPerUnit;
}

function isBareColumn(node: Node): boolean {
  return 'ColumnRef' in node;
}

/** `GROUP BY 1` names the first select-list item. */
function positional(node: Node, targets: readonly { val?: Node }[]): Node {
  if ('A_Const' in node && node.A_Const.ival !== undefined) {
    const target = targets[(node.A_Const.ival.ival ?? 0) - 1];
    if (!target?.val) refuse('unsupported_sql', 'that position is not in the select list', locationOf(node));
    return target.val;
  }
  return node;
}

function containsAggregateCall(node: unknown): boolean {
  if (node === null || typeof node !== 'object') return false;
  if (Array.isArray(node)) return node.some(containsAggregateCall);
  if ('SubLink' in node) return false;
  if ('FuncCall' in node && isAggregateFunc((node as { FuncCall: FuncCall }).FuncCall)) return true;
  return Object.values(node).some(containsAggregateCall);
}

function isAggregateFunc(call: FuncCall): boolean {
  return Boolean(
    call.agg_star || call.agg_distinct || call.agg_within_group || isAggregateName(funcName(call)),
  );
}

function funcName(call: FuncCall): string {
  return (call.funcname ?? []).map((n) => ('String' in n ? n.String.sval : '')).at(-1) ?? '';
}

/** An aggregate call, possibly inside LEAST/GREATEST with constants (innermost clamp first). */
function clampedAggregate(node: Node, options: ExpressionOptions): { call: FuncCall; clamps: StageClamp[] } {
  if ('FuncCall' in node && isAggregateFunc(node.FuncCall)) return { call: node.FuncCall, clamps: [] };
  if ('MinMaxExpr' in node && (node.MinMaxExpr.args ?? []).length === 2) {
    const args = node.MinMaxExpr.args!;
    const inner = args.findIndex(containsAggregateCall);
    const constant = args[1 - inner];
    if (inner >= 0 && constant && !containsAggregateCall(constant)) {
      const value = analyzeExpression(constant, { ...options, clause: 'in a clamp' });
      const bound = value.info.bounds;
      if (value.kind === 'constant' || (!value.info.readsData && bound && bound.low === bound.high)) {
        if (bound && bound.low === bound.high && Number.isFinite(bound.low)) {
          const found = clampedAggregate(args[inner]!, options);
          const form = node.MinMaxExpr.op === 'IS_LEAST' ? 'least' : 'greatest';
          return { call: found.call, clamps: [...found.clamps, { form, value: bound.low }] };
        }
      }
    }
  }
  return refuse('unsupported_sql', ONLY_AGGREGATES, locationOf(node));
}

function applyClamp(bounds: Interval, clamp: StageClamp): Interval {
  return clamp.form === 'least'
    ? { low: Math.min(bounds.low, clamp.value), high: Math.min(bounds.high, clamp.value) }
    : { low: Math.max(bounds.low, clamp.value), high: Math.max(bounds.high, clamp.value) };
}

/** The stage column of an inner aggregate and its proven range. */
function measureOf(
  call: FuncCall,
  registry: MeasurementRegistry,
  options: ExpressionOptions,
  r: number,
): { stage: StageColumn; bounds: Interval; type: 'int' | 'real'; granularity: number } {
  const name = funcName(call);
  const location = call.location ?? -1;
  if (call.agg_distinct || call.agg_filter || !['count', 'sum', 'avg'].includes(name))
    refuse(
      'unsupported_sql',
      `${ONLY_AGGREGATES} (not ${name.toUpperCase()}${call.agg_distinct ? ' DISTINCT' : ''}${call.agg_filter ? ' with FILTER' : ''})`,
      location,
    );
  const aggregate = registry.aggregates[registry.add(call, options)]!;
  if (aggregate.kind === 'count')
    return {
      stage: { kind: 'count', count: `m${aggregate.count}` },
      bounds: { low: 0, high: r },
      type: 'int',
      granularity: 1,
    };
  // SUM(x) is registered as AVG(x): the same sum, plus the count that tells an all-NULL person.
  const average =
    registry.aggregates[registry.add({ ...call, funcname: [{ String: { sval: 'avg' } }] }, options)]!;
  if (average.kind !== 'avg') throw new Error('AVG did not register as an average');
  const draft = registry.measurements[average.sum]!;
  const value = (draft as { value: ValueColumn }).value;
  if (value.transform.kind !== 'steps') throw new Error('a sum is over grid steps');
  const g = value.transform.granularity;
  const low = Math.floor(value.transform.bounds.low / g) * g;
  const high = Math.ceil(value.transform.bounds.high / g) * g;
  if (!isFiniteInterval({ low, high }))
    refuse('unbounded_column', 'the aggregated value needs finite bounds', location);
  const integral = value.expr.info.type === 'int' && g === 1;
  const [sum, count] = [`m${average.sum}`, `m${average.count}`];
  if (name === 'avg')
    return {
      stage: { kind: 'avg', sum, count, granularity: g },
      bounds: { low, high },
      type: 'real',
      granularity: Math.min(g, DEFAULT_GRANULARITY),
    };
  return {
    stage: { kind: 'sum', sum, count, granularity: g },
    bounds: { low: Math.min(0, r * low), high: Math.max(0, r * high) },
    type: integral ? 'int' : 'real',
    granularity: g,
  };
}

/** The policy of a stage column holding an inner key: the key column's own domain, if it has one. */
function keyPolicy(expr: Expr, domain: PublicDomain | undefined): ColumnPolicy {
  const type = expr.info.type === 'unknown' || expr.info.type === 'numeric' ? 'real' : expr.info.type;
  const bounds = expr.info.bounds;
  return {
    type: type as ColumnPolicy['type'],
    ...(bounds && isFiniteInterval(bounds) ? { bounds: [bounds.low, bounds.high] as [number, number] } : {}),
    ...(expr.info.granularity ? { granularity: expr.info.granularity } : {}),
    ...(domain?.kind === 'values' ? { public_values: [...domain.values] } : {}),
    ...(domain?.kind === 'range' ? { public_range: [domain.from, domain.to] as [number, number] } : {}),
    ...(domain?.kind === 'table' ? { public_domain: `${domain.table}.${domain.column}` } : {}),
  };
}

/** A column of the stage as the outer query sees it (its table is filled in once it exists). */
function stageColumnExpr(column: string, policy: ColumnPolicy | undefined, unit: boolean): Expr {
  const [low, high] = policy?.bounds ?? [];
  const bounded = typeof low === 'number' && typeof high === 'number';
  return {
    kind: 'column',
    table: undefined as unknown as TableReference,
    column,
    role: unit ? 'unit' : 'value',
    policy,
    location: -1,
    info: {
      type: unit ? 'unknown' : policy!.type === 'real' ? 'real' : (policy!.type as Expr['info']['type']),
      private: true,
      unit,
      readsData: true,
      ...(bounded ? { bounds: { low, high } } : {}),
      ...(policy?.type === 'real' ? { granularity: policy.granularity ?? DEFAULT_GRANULARITY } : {}),
    },
  };
}
