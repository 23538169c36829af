/**
 * The SQL dpgate runs for a private query: the analyst's rows, bounded per person, aggregated per
 * group into the true values the mechanisms need. Shape (CTE names are ours):
 *
 *   source      one row per joined row: the person (unit), group keys k*, the analyst's aggregate
 *               inputs e* (every column read clamped to its bounds), under the analyst's conditions
 *   valued      the inputs as aggregated, v* (clamped again to their computed range, in whole grid
 *               steps as int8, or bucket numbers); when groups are selected, group_hash, the keyed
 *               hash of (unit, keys) that orders a person's groups
 *   per_person  (when a person may have several rows) one row per (unit, keys), each measurement
 *               capped to what r = L∞ rows would contribute: row counts LEAST(n, r); sums and bucket
 *               counts of a person with n > r rows scaled by r/n and truncated towards zero, so the
 *               capped value is what r average rows of that person give and stays in [r·lo, r·hi]
 *   bounded     (when a person may reach more than k = L0 groups) each person's first k groups in
 *               the order of a keyed hash of (unit, keys) under a per-query secret key
 *   aggregated  per group: counts, sums, bucket counts, distinct persons
 *   final       for public-domain keys, every domain value LEFT JOIN aggregated, empty groups as 0
 *
 * When the catalog proves one row per person (the query reads one table whose unit column has a
 * unique index; rows with a NULL unit are dropped), L∞ = L0 = 1 hold already and valued is
 * aggregated directly: no per-person stage at all. Otherwise the per-person stage is a hash
 * aggregate, and the L0 selection ranks only the per-person rows, never the table's rows.
 *
 * What a person contributes depends only on that person's rows (and the key), so bounding never
 * couples two people. The key is a parameter (`selectionKeyParameter`) the executor fills with a
 * fresh CSPRNG draw per query; the hash functions are immutable and parallel safe, so PostgreSQL
 * may run the scan and both aggregation levels in parallel. The skeleton is parsed from text made
 * only of our names, policy identifiers (quoted) and computed integers; the analyst's expressions
 * are spliced in as syntax trees with their literals bound as `$n` parameters. The deparsed text is
 * parsed again and must give back exactly the tree that was built.
 */
import type { Node, SelectStmt } from 'libpg-query';
import { deparseSync } from 'pgsql-deparser';
import { Recent } from '../util/recent.ts';
import type { MeasurementDraft, QuantileDraft, ValueColumn, ValueTransform } from './analyze/aggregates.ts';
import type { AnalyzedKey } from './analyze/select.ts';
import { magnitude } from './bounds.ts';
import type { TruncationUnit } from './calendar.ts';
import { stepBounds } from './cost.ts';
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
import { type Expr, expressionKey, type LeftJoin, type PerPersonStage, type TableReference } from './ir.ts';
import { parseSync } from './pg-parser.ts';
import type { PublicDomain, RewrittenSql } from './plan.ts';

type StepsTransform = Extract<ValueTransform, { kind: 'steps' }>;

export interface RewriteInput {
  readonly tables: readonly TableReference[];
  readonly conditions: readonly Expr[];
  /** Public tables LEFT JOINed to the tables before them, with their ON conditions. */
  readonly leftJoins?: readonly LeftJoin[];
  readonly keys: readonly AnalyzedKey[];
  readonly values: readonly ValueColumn[];
  readonly measurements: readonly MeasurementDraft[];
  readonly quantiles: readonly QuantileDraft[];
  /** public: every domain value is released; selected: groups need a distinct-person count. */
  readonly grouping: 'none' | 'public' | 'selected';
  readonly maxRowsPerGroup: number;
  readonly maxGroupsPerUnit: number;
  /** L1 cap on a person's rows in all groups, when below maxGroupsPerUnit × maxRowsPerGroup. */
  readonly maxRowsInTotal?: number;
  /** The catalog proves at most one row per person in the queried relation. */
  readonly onePerUnit: boolean;
  /** A person can reach more groups than maxGroupsPerUnit, so the rewrite must select groups. */
  readonly selectGroups: boolean;
  /**
   * Weighted Gaussian partition selection: weights[j − 1] is what a person in j groups (after
   * bounding) adds to each of them; the sum per group is SELECTION_WEIGHT_COLUMN.
   */
  readonly selectionWeights?: readonly number[];
}

/** The result column of the distinct-person count per group (partition selection). */
export const UNITS_COLUMN = 'units';
/** The result column of the weight sum per group (weighted Gaussian partition selection). */
export const SELECTION_WEIGHT_COLUMN = 'selection_weight';

/** int8 holds every value below 2^63; we stay below 2^62 so no intermediate step is near the edge. */
const INT8_SAFE = 2 ** 62;
const INT4_LIMIT = 2 ** 31;

export function rewritePrivateQuery(input: RewriteInput): RewrittenSql {
  const params = new ParameterList();
  // A per-person stage's SQL comes first, so its parameters keep their numbers (and the outer
  // query reuses its selection key, if it has one).
  const stage = input.tables.find((t) => t.stage)?.stage;
  if (stage) params.values.push(...stage.sql.parameters);
  let selectionKeyParameter = stage?.sql.selectionKeyParameter;
  const keys = input.keys.map((k) => k.column);
  const grouped = keys.length > 0;
  const withKeys = (prefix: string) => keys.map((k) => `, ${prefix}${k}`).join('');
  const groupBy = (columns: readonly string[]) =>
    columns.length > 0 ? ` GROUP BY ${columns.join(', ')}` : '';
  // The first table that holds the person (a several-hop table's person is on its last path table).
  const unitTable = input.tables.find((t) => t.private && t.unitColumn !== undefined)!;
  const leftJoins = input.leftJoins ?? [];
  const r = integer(input.maxRowsPerGroup);
  const weights = input.grouping === 'selected' ? input.selectionWeights : undefined;
  // Only row counts and sums are scaled to the total cap (cost.ts charges the others without it).
  const totalCap = input.measurements.some(
    (m) => m.kind === 'rows' || m.kind === 'sum' || m.kind === 'sum_of_squares',
  )
    ? input.maxRowsInTotal
    : undefined;

  // The analyst's expressions are computed once (e*) in source; the transforms in valued then
  // repeat only a column name, so nested clamps never copy an expression.
  const expressions = distinctExpressions(input.values);
  const source = `SELECT NULL AS unit${withKeys('NULL AS ')}${expressions.map((_, i) => `, NULL AS e${i}`).join('')} FROM ${fromSql(input.tables, leftJoins)} WHERE true`;
  // The L0 selection's order, computed per row so that one grouping key serves both per_person and
  // the ranking window (a sort on (unit, group_hash, keys) needs no second sort for the window).
  const selectGroups = grouped && input.selectGroups && !input.onePerUnit;
  if (selectGroups && selectionKeyParameter === undefined) {
    params.bind('0', 'int8');
    selectionKeyParameter = params.values.length;
  }
  const hashColumn = selectGroups ? `, ${groupHashSql(keys, selectionKeyParameter!)} AS group_hash` : '';
  const valued = `SELECT unit${withKeys('')}${input.values.map((v) => `, NULL AS ${v.column}`).join('')}${hashColumn} FROM source`;
  const bucketCount = (q: QuantileDraft, bucket: number) =>
    `pg_catalog.count(*) FILTER (WHERE ${q.value.column} = ${integer(bucket)})`;

  const ctes = [`source AS (${source})`, `valued AS (${valued})`];
  let aggregated: string;
  if (input.onePerUnit) {
    const measures = [
      ...input.measurements.map((m) => `${directMeasureSql(m)} AS ${m.column}`),
      ...input.quantiles.flatMap((q) => q.columns.map((column, b) => `${bucketCount(q, b)} AS ${column}`)),
      ...(input.grouping === 'selected' ? [`pg_catalog.count(*) AS ${UNITS_COLUMN}`] : []),
      // One row per person: each is in one group, of weight w(1).
      ...(weights ? [`pg_catalog.count(*) * ${integer(weights[0]!)} AS ${SELECTION_WEIGHT_COLUMN}`] : []),
    ];
    aggregated = `SELECT ${[...keys, ...measures].join(', ')} FROM valued${groupBy(keys)}`;
  } else {
    // A person's capped contribution to one group, per measurement ('units' needs none: one
    // per_person row is one person in that group).
    const partials = [
      ...input.measurements.flatMap((m) => {
        const partial = perPersonSql(m, r);
        return partial ? [`${partial} AS ${m.column}`] : [];
      }),
      ...input.quantiles.flatMap((q) =>
        q.columns.map(
          (column, b) =>
            `CASE WHEN pg_catalog.count(${q.value.column}) <= ${r} THEN ${bucketCount(q, b)} ELSE ${bucketCount(q, b)} * ${r} / pg_catalog.count(${q.value.column}) END AS ${column}`,
        ),
      ),
      ...(totalCap === undefined ? [] : [`LEAST(pg_catalog.count(*), ${r}) AS person_rows`]),
    ];
    // group_hash is a function of (unit, keys), so grouping by it as well splits no group.
    const personGroup = selectGroups ? ['unit', 'group_hash', ...keys] : ['unit', ...keys];
    ctes.push(
      `per_person AS (SELECT ${personGroup.join(', ')}${partials.map((p) => `, ${p}`).join('')} FROM valued${groupBy(personGroup)})`,
    );
    let perGroupInput = 'per_person';
    if (selectGroups) {
      ctes.push(
        `bounded AS (SELECT * FROM (SELECT per_person.*, pg_catalog.row_number() OVER (PARTITION BY unit ORDER BY group_hash${withKeys('')}) AS group_rank FROM per_person) AS ranked WHERE group_rank <= ${integer(input.maxGroupsPerUnit)})`,
      );
      perGroupInput = 'bounded';
    }
    const selected = perGroupInput === 'bounded';
    if (totalCap !== undefined) {
      // Each person's capped rows over the groups kept for them, to scale to the total cap below.
      ctes.push(
        `capped AS (SELECT ${perGroupInput}.*, pg_catalog.sum(person_rows) OVER (PARTITION BY unit) AS unit_rows FROM ${perGroupInput})`,
      );
      perGroupInput = 'capped';
    }
    if (weights) {
      // Each person's number of groups after bounding, so each of their rows here carries w(that).
      ctes.push(
        `weighted AS (SELECT ${perGroupInput}.*, pg_catalog.count(*) OVER (PARTITION BY unit) AS unit_groups FROM ${perGroupInput})`,
      );
      perGroupInput = 'weighted';
    }
    const total = totalCap === undefined ? undefined : integer(totalCap);
    const distinct = input.measurements.filter((m) => m.kind === 'distinct_values');
    const measures = [
      ...input.measurements.map((m) => {
        if (m.kind === 'distinct_values')
          return `COALESCE(pg_catalog.max(${m.column}.${m.column}), 0) AS ${m.column}`;
        if (m.kind === 'units') return `pg_catalog.count(*) AS ${m.column}`;
        const value = `${perGroupInput}.${m.column}`;
        // Over the total cap R, every group's capped count or sum is scaled by R / (the person's
        // capped rows), truncated towards zero: Σ over groups of |value| ≤ R rows' worth (cost.ts).
        const scaled =
          total === undefined
            ? value
            : `CASE WHEN ${perGroupInput}.unit_rows <= ${total} THEN ${value} ELSE pg_catalog.trunc(CAST(${value} AS pg_catalog.numeric) * ${total} / ${perGroupInput}.unit_rows) END`;
        return `COALESCE(pg_catalog.sum(${scaled}), 0) AS ${m.column}`;
      }),
      ...input.quantiles.flatMap((q) =>
        q.columns.map((column) => `COALESCE(pg_catalog.sum(${perGroupInput}.${column}), 0) AS ${column}`),
      ),
      ...(input.grouping === 'selected' ? [`pg_catalog.count(*) AS ${UNITS_COLUMN}`] : []),
      // A person in more groups than there are weights would add nothing (ELSE 0; bounding keeps k).
      ...(weights
        ? [
            `COALESCE(pg_catalog.sum(CASE weighted.unit_groups ${weights.map((w, i) => `WHEN ${integer(i + 1)} THEN ${integer(w)}`).join(' ')} ELSE 0 END), 0) AS ${SELECTION_WEIGHT_COLUMN}`,
          ]
        : []),
    ];
    for (const m of distinct) ctes.push(distinctValuesCte(m, keys, r, selected));
    // Each distinct-value count is one row per group of its own CTE, joined on the keys (NULL keys
    // are a group too, hence IS NOT DISTINCT FROM): max() reads that one value.
    const joins = distinct
      .map((m) => {
        const on = keys.map((k) => `${m.column}.${k} IS NOT DISTINCT FROM ${perGroupInput}.${k}`);
        return ` LEFT JOIN ${m.column} ON ${on.length > 0 ? on.join(' AND ') : 'true'}`;
      })
      .join('');
    const qualifiedKeys = keys.map((k) => `${perGroupInput}.${k}`);
    aggregated = `SELECT ${[...qualifiedKeys, ...measures].join(', ')} FROM ${perGroupInput}${joins}${groupBy(qualifiedKeys)}`;
  }
  ctes.push(`aggregated AS (${aggregated})`);
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
  const skeleton = `WITH ${ctes.join(', ')} ${final}`;

  // A copy: the skeleton's tree is filled in below, and the parse it comes from may be kept.
  const tree = structuredClone(parsedRewrite(skeleton).stmts![0]!.stmt!);
  const cteNodes = (tree as { SelectStmt: SelectStmt }).SelectStmt.withClause!.ctes! as {
    CommonTableExpr: { ctequery: { SelectStmt: SelectStmt } };
  }[];
  const [sourceStmt, valuedStmt] = [
    cteNodes[0]!.CommonTableExpr.ctequery.SelectStmt,
    cteNodes[1]!.CommonTableExpr.ctequery.SelectStmt,
  ];
  input.tables.forEach((t, i) => {
    if (t.stage) spliceStage(sourceStmt, i, t.stage);
  });
  const unit = columnRef(unitTable.alias, unitTable.unitColumn!);
  setTargets(sourceStmt, [
    unit,
    ...input.keys.map((k) => emitExpression(k.expr, params)),
    ...expressions.map((e) => emitExpression(e.expr, params)),
  ]);
  setTargets(
    valuedStmt,
    input.values.map((v) =>
      valueSql(v, columnRef(`e${expressions.findIndex((e) => e.key === expressionKey(v.expr))}`)),
    ),
    1 + keys.length,
  );
  const conditions = [
    ...input.conditions.map((c) => emitExpression(c, params)),
    { NullTest: { arg: unit, nulltesttype: 'IS_NOT_NULL' } } as Node,
  ];
  sourceStmt.whereClause = conjunction(conditions);
  setLeftJoinConditions(sourceStmt, leftJoins, (c) => emitExpression(c, params));

  const text = deparseSync(tree, { pretty: false });
  checkRoundTrip(text, tree);
  return {
    text,
    parameters: params.values,
    ...(selectionKeyParameter === undefined ? {} : { selectionKeyParameter }),
  };
}

/**
 * The keyed hash H_s(unit, keys) that orders a person's groups for the L0 selection: a chain of
 * hashtextextended, each value's text hashed with the previous hash as its seed, starting from the
 * unit under the per-run key s. It reads only the person's own unit and keys, so which groups a
 * person keeps never depends on another person. Each value is cast to text on its own (a NULL key
 * hashed as ''; ties are broken by the keys): ROW(unit, keys)::text would go through the record
 * output function, three times the cost per row (docs/benchmarks.md).
 */
function groupHashSql(keys: readonly string[], keyParameter: number): string {
  return keys.reduce(
    (seed, k) => `pg_catalog.hashtextextended(COALESCE(CAST(${k} AS pg_catalog.text), ''), ${seed})`,
    `pg_catalog.hashtextextended(CAST(unit AS pg_catalog.text), $${keyParameter}::pg_catalog.int8)`,
  );
}

function conjunction(conditions: readonly Node[]): Node {
  return conditions.length === 1
    ? conditions[0]!
    : { BoolExpr: { boolop: 'AND_EXPR', args: [...conditions] } };
}

/**
 * The tables of `source`: a plain list when every join is inner (its conditions go to WHERE), else
 * one chain, `t1 CROSS JOIN t2 LEFT JOIN t3 ON … CROSS JOIN t4`, left-associative, so each LEFT
 * JOIN's ON sees every table before it. Inner-join conditions still go to WHERE, which is the same
 * query: each LEFT JOINed table is a base table that no inner condition before it reads.
 */
function fromSql(tables: readonly TableReference[], leftJoins: readonly LeftJoin[]): string {
  // A stage is a placeholder subquery here; spliceStage puts its query in.
  const item = (t: TableReference) =>
    t.stage ? `(SELECT 1) AS ${t.alias}` : `${quoted(t.schema)}.${quoted(t.table)} AS ${t.alias}`;
  if (leftJoins.length === 0) return tables.map(item).join(', ');
  const nullable = new Set(leftJoins.map((j) => j.alias));
  return tables
    .map((t, i) =>
      i === 0 ? item(t) : nullable.has(t.alias) ? ` LEFT JOIN ${item(t)} ON true` : ` CROSS JOIN ${item(t)}`,
    )
    .join('');
}

/** Puts each LEFT JOIN's ON conditions (as trees) in place of the skeleton's `ON true`. */
function setLeftJoinConditions(
  select: SelectStmt,
  leftJoins: readonly LeftJoin[],
  emit: (condition: Expr) => Node,
): void {
  let node = select.fromClause?.[0];
  while (node && 'JoinExpr' in node) {
    const join = node.JoinExpr;
    if (join.jointype === 'JOIN_LEFT') {
      const alias = join.rarg && 'RangeVar' in join.rarg ? join.rarg.RangeVar.alias?.aliasname : undefined;
      const on = leftJoins.find((j) => j.alias === alias)?.on ?? [];
      if (on.length > 0) join.quals = conjunction(on.map(emit));
    }
    node = join.larg;
  }
}

/** Puts a per-person stage's query in place of the placeholder subquery at FROM item `index`. */
function spliceStage(select: SelectStmt, index: number, stage: PerPersonStage): void {
  const item = fromItems(select.fromClause ?? [])[index] as { RangeSubselect: { subquery: Node } };
  item.RangeSubselect.subquery = parseSync(stage.sql.text).stmts![0]!.stmt!;
}

/** FROM items in source order, looking through the JoinExpr chain fromSql builds for LEFT JOINs. */
function fromItems(nodes: readonly Node[]): Node[] {
  return nodes.flatMap((node) =>
    'JoinExpr' in node ? fromItems([node.JoinExpr.larg!, node.JoinExpr.rarg!]) : [node],
  );
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

/**
 * The distinct values of one COUNT(DISTINCT x) per group, with each person's contribution capped:
 * a person's distinct non-NULL values in a group are ranked by a hash of the value (a function of
 * that person's rows alone, so no one's choice depends on another's) and the first r kept, only in
 * the groups the L0 selection kept for them; with a policy bound d, only the person's first d values
 * in the same order, over all their groups. Removing a person then removes at most min(r, d) values
 * from each of at most k groups' sets: the sensitivity cost.ts charges.
 */
function distinctValuesCte(
  m: MeasurementDraft,
  keys: readonly string[],
  r: string,
  bounded: boolean,
): string {
  if (m.kind !== 'distinct_values') throw new Error('not a distinct-values measurement');
  const v = m.value.column;
  const partition = ['unit', ...keys].join(', ');
  const inKeptGroup = bounded
    ? ` AND EXISTS (SELECT 1 FROM bounded WHERE ${['unit', ...keys].map((c) => (c === 'unit' ? 'bounded.unit = valued.unit' : `bounded.${c} IS NOT DISTINCT FROM valued.${c}`)).join(' AND ')})`
    : '';
  const personValues = `SELECT DISTINCT ${partition}, ${v} FROM valued WHERE ${v} IS NOT NULL${inKeptGroup}`;
  const order = `ORDER BY pg_catalog.hashtextextended(CAST(${v} AS pg_catalog.text), 0), ${v}`;
  // With a policy bound d: dense_rank over the person alone numbers their distinct values across
  // all groups in the same order, so rank ≤ d keeps the person's d first values in total; in each
  // group those are a prefix of the group's own order, so value_rank ≤ r then caps them at r.
  const unitRank =
    m.maxPerUnit !== undefined
      ? `, pg_catalog.dense_rank() OVER (PARTITION BY unit ${order}) AS unit_value_rank`
      : '';
  const ranked = `SELECT ${partition}, ${v}, pg_catalog.row_number() OVER (PARTITION BY ${partition} ${order}) AS value_rank${unitRank} FROM (${personValues}) AS person_values`;
  const kept = m.maxPerUnit !== undefined ? ` AND unit_value_rank <= ${integer(m.maxPerUnit)}` : '';
  const groupKeys = keys.length > 0 ? `${keys.join(', ')}, ` : '';
  return `${m.column} AS (SELECT ${groupKeys}pg_catalog.count(DISTINCT ${v}) AS ${m.column} FROM (${ranked}) AS ranked WHERE value_rank <= ${r}${kept}${keys.length > 0 ? ` GROUP BY ${keys.join(', ')}` : ''})`;
}

/** A measurement over rows that are one per person: no cap can bind. */
function directMeasureSql(measurement: MeasurementDraft): string {
  switch (measurement.kind) {
    case 'rows':
      return measurement.value ? `pg_catalog.count(${measurement.value.column})` : 'pg_catalog.count(*)';
    case 'units':
      return 'pg_catalog.count(*)';
    case 'distinct_values':
      return `pg_catalog.count(DISTINCT ${measurement.value.column})`;
    case 'sum':
    case 'sum_of_squares': {
      // sum(int8) accumulates in 128 bits (numeric where the platform has no int128) and returns an
      // exact numeric: no overflow to rule out, so no row-count guard on this path.
      const v = measurement.value.column;
      return measurement.value.transform.kind === 'steps' &&
        int4SumRowLimit(measurement.value.transform, 1) !== undefined
        ? `COALESCE(pg_catalog.sum(CAST(${v} AS pg_catalog.int8)), 0)`
        : `COALESCE(pg_catalog.sum(${v}), 0)`;
    }
  }
}

/**
 * One person's contribution to one group, capped at what r rows give: a count is LEAST(n, r); a sum
 * of n > r values is scaled by r/n and truncated towards zero, so |capped| ≤ r·max(|lo|, |hi|)
 * (each value lies in [lo, hi]), the per-group sensitivity cost.ts charges for.
 */
function perPersonSql(measurement: MeasurementDraft, r: string): string | undefined {
  switch (measurement.kind) {
    case 'rows':
      return `LEAST(${measurement.value ? `pg_catalog.count(${measurement.value.column})` : 'pg_catalog.count(*)'}, ${r})`;
    case 'units':
    case 'distinct_values':
      return undefined;
    case 'sum':
    case 'sum_of_squares': {
      const v = measurement.value.column;
      const [n, sum] = [`pg_catalog.count(${v})`, `pg_catalog.sum(${v})`];
      const limit = int4SumRowLimit(measurement.value.transform, Number(r));
      if (limit === undefined)
        return `CASE WHEN ${n} <= ${r} THEN ${sum} ELSE pg_catalog.trunc(${sum} * ${r} / ${n}) END`;
      // int8 arithmetic: s·r cannot overflow below the row limit, and int8 division truncates.
      return guardedSum(v, limit, `CASE WHEN ${n} <= ${r} THEN ${sum} ELSE ${sum} * ${r} / ${n} END`);
    }
  }
}

/**
 * Steps of magnitude M < 2^31 are summed as int4, whose sum is int8 with a fixed-size state (fast
 * to hash per person). PostgreSQL does not check that sum for overflow, so we prove it: after n
 * values |Σ| ≤ n·M, and with the scaling by r, |Σ·r| ≤ n·M·r; both stay below 2^62 while
 * n ≤ ⌊2^62 / (M·r)⌋, the limit returned here (undefined: the steps need the numeric path).
 */
function int4SumRowLimit(transform: StepsTransform, r: number): number | undefined {
  const m = Math.max(1, magnitude(stepBounds(transform)));
  if (m >= INT4_LIMIT) return undefined;
  const limit = Math.floor(INT8_SAFE / (m * r));
  return limit >= 1 ? Math.min(limit, Number.MAX_SAFE_INTEGER) : undefined;
}

/**
 * `sum` when the row count is within the proven limit; past it, a division by zero stops the query
 * (policy grids keep M ≤ 2^24 steps, so that takes billions of one person's rows in one group), so no wrapped sum is ever released.
 */
function guardedSum(v: string, limit: number, sum: string): string {
  const n = `pg_catalog.count(${v})`;
  return `CASE WHEN ${n} > ${integer(limit)} THEN ${n} / 0 ELSE ${sum} END`;
}

/** An aggregate input as the SQL aggregates it: raw, clamped grid steps, or a bucket index. */
function valueSql(value: ValueColumn, expr: Node): Node {
  const transform = value.transform;
  if (transform.kind === 'raw') return expr;
  // Clamping the finished expression to its computed range makes the sensitivity hold even if an
  // interval rule were too narrow: the summed value can never leave [low, high]. A bare column is
  // read clamped to exactly these bounds already (emit.ts), so it needs no second clamp.
  const inRange = clampedByEmit(value.expr, transform.bounds)
    ? expr
    : clamp(expr, transform.bounds.low, transform.bounds.high);
  if (transform.kind === 'steps') {
    const steps = stepBounds(transform);
    if (magnitude(steps) >= INT4_LIMIT)
      return numericSteps(inRange, transform.squared, transform.granularity);
    // Whole steps as int4. An integer value on a grid of 1 is cast as it is: inside its integer
    // range already (a square that left int4 would be an error, never a wrapped value). Anything
    // else is divided and rounded in float8. Division and multiplication in IEEE float8 are
    // correctly rounded, hence monotone, and rint ≤ ceil, ≥ floor; with the same bounds and grid as
    // stepBounds computes in JavaScript, every step lands in [floor(low/g), ceil(high/g)] as long as
    // g reaches PostgreSQL as the same double: so for a grid of 1 or 2^-j (j ≤ 20, exact in
    // decimal and in division). Any other grid gets an explicit clamp of the step, NULL kept NULL.
    if (value.expr.info.type === 'int' && transform.granularity === 1) {
      const base = cast(inRange, 'int4');
      return transform.squared ? operator('*', base, base) : base;
    }
    const base = cast(inRange, 'float8');
    const scaled = transform.squared ? operator('*', base, base) : base;
    const rounded = cast(
      call('round', [
        transform.granularity === 1 ? scaled : operator('/', scaled, numberConstant(transform.granularity)),
      ]),
      'int4',
    );
    if (isExactGrid(transform.granularity)) return rounded;
    return nullOr(expr, {
      MinMaxExpr: {
        op: 'IS_LEAST',
        args: [
          { MinMaxExpr: { op: 'IS_GREATEST', args: [rounded, numberConstant(steps.low)] } },
          numberConstant(steps.high),
        ],
      },
    });
  }
  const width = transform.bounds.high - transform.bounds.low;
  if (width === 0) return nullOr(expr, numberConstant(0));
  const position = operator(
    '*',
    operator('-', cast(inRange, 'numeric'), numberConstant(transform.bounds.low)),
    numberConstant(transform.buckets),
  );
  return clamp(call('floor', [operator('/', position, numberConstant(width))]), 0, transform.buckets - 1);
}

/** CASE WHEN input IS NULL THEN NULL ELSE value END. */
function nullOr(input: Node, value: Node): Node {
  return {
    CaseExpr: {
      args: [
        {
          CaseWhen: {
            expr: { NullTest: { arg: input, nulltesttype: 'IS_NULL' } },
            result: { A_Const: { isnull: true } },
          },
        },
      ],
      defresult: value,
    },
  };
}

/** A column read through emit.ts, which clamps it to its policy bounds: here the same bounds. */
function clampedByEmit(expr: Expr, bounds: { low: number; high: number }): boolean {
  if (expr.kind !== 'column') return false;
  const [low, high] = expr.policy?.bounds ?? [];
  return low === bounds.low && high === bounds.high;
}

/** 1 or 2^-j for j ≤ 20: dividing by it is exact and its decimal text is the same double. */
function isExactGrid(granularity: number): boolean {
  const exponent = Math.log2(granularity);
  return Number.isInteger(exponent) && exponent <= 0 && exponent >= -20;
}

/** The former exact path, for steps too many for float8 to hold exactly. */
function numericSteps(inRange: Node, squared: boolean, granularity: number): Node {
  const clamped = cast(inRange, 'numeric');
  const value = squared ? operator('*', clamped, clamped) : clamped;
  return call('round', granularity === 1 ? [value] : [operator('/', value, numberConstant(granularity))]);
}

function domainSql(domain: PublicDomain, column: string, alias: string, params: ParameterList): string {
  switch (domain.kind) {
    case 'values':
      return `(VALUES ${domain.values.map((v) => `(${placeholder(v, params)})`).join(', ')}) AS ${alias}(${column})`;
    case 'range':
      return `(SELECT pg_catalog.generate_series(${placeholder(domain.from, params)}, ${placeholder(domain.to, params)}) AS ${column}) AS ${alias}`;
    case 'table':
      return `(SELECT DISTINCT ${quoted(domain.column)} AS ${column} FROM ${quoted(domain.schema)}.${quoted(domain.table)}) AS ${alias}`;
    case 'days': {
      // Over timestamps without time zone: the series, and so the domain, ignores TimeZone.
      const series = `pg_catalog.generate_series(${placeholder(domain.from, params)}::pg_catalog.timestamp, ${placeholder(domain.to, params)}::pg_catalog.timestamp, ${placeholder(STEP_INTERVALS[domain.step], params)}::pg_catalog.interval)`;
      return `(SELECT ${domain.type === 'date' ? `CAST(${series} AS pg_catalog.date)` : series} AS ${column}) AS ${alias}`;
    }
  }
}

/** The interval between consecutive values of a `days` domain. */
const STEP_INTERVALS: Record<TruncationUnit, string> = {
  day: '1 day',
  week: '7 days',
  month: '1 month',
  quarter: '3 months',
  year: '1 year',
};

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
 * The parse of SQL the rewriter wrote, kept by its text. Fresh queries of one shape differ only in
 * their literals, which are parameters, so they share the skeleton's text and the rewritten text,
 * and parsing those again was a third of planning. A kept parse is what parsing again would give
 * (the parser is a pure function of the text); callers read it, and copy it before changing it.
 */
function parsedRewrite(text: string): ReturnType<typeof parseSync> {
  const kept = keptParses.get(text);
  if (kept) return kept;
  const parsed = parseSync(text);
  if (text.length <= MAX_KEPT_TEXT) keptParses.set(text, parsed);
  return parsed;
}
/** At most 256 kept parses, of texts up to this long: a few MB, whatever the queries. */
const MAX_KEPT_TEXT = 16_384;
const keptParses = new Recent<ReturnType<typeof parseSync>>(256);

/**
 * Defence in depth (research §4.5): the text we hand to the database must be one SELECT whose
 * syntax tree is exactly the one built here, so no deparser quirk can change what runs.
 */
function checkRoundTrip(text: string, intended: Node): void {
  const statements = parsedRewrite(text).stmts ?? [];
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
