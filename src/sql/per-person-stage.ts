/**
 * The SQL of a per-person stage: the inner query of a two-stage aggregation
 * (`SELECT … FROM (SELECT person_id, SUM(x) AS total … GROUP BY person_id) t`), rewritten by the
 * same bounded pipeline as any private query (rewrite.ts) with the person as its first group key,
 * then projected to one row per person and inner group: `unit`, then one column per selected item.
 *
 * Each row's values are a function of that person's rows alone: the per-person stage caps a
 * person's rows at r per group (counts LEAST(n, r), sums scaled to r rows' worth), keeps at most k
 * inner groups per person by the keyed hash, and scales to the total cap R. So the stage is a
 * per-person transformation of the data, and the outer query, which bounds and noises its own
 * aggregates over these rows, sees a neighbouring database differ in one person's ≤ k rows.
 */
import type { MeasurementRegistry } from './analyze/aggregates.ts';
import type { AnalyzedKey } from './analyze/select.ts';
import { ParameterList } from './emit.ts';
import type { Expr, TableReference } from './ir.ts';
import type { RewrittenSql } from './plan.ts';
import { rewritePrivateQuery } from './rewrite.ts';

/** How one selected item of the inner query is computed from the rewritten inner columns. */
export type StageColumn =
  | { readonly kind: 'key'; readonly key: string }
  | { readonly kind: 'count'; readonly count: string }
  /** A sum in grid steps of `granularity`; NULL when the person has no non-NULL value (as SUM). */
  | { readonly kind: 'sum'; readonly sum: string; readonly count: string; readonly granularity: number }
  | { readonly kind: 'avg'; readonly sum: string; readonly count: string; readonly granularity: number };

export interface StageClamp {
  readonly form: 'least' | 'greatest';
  readonly value: number;
}

export interface StageInput {
  readonly tables: readonly TableReference[];
  readonly conditions: readonly Expr[];
  /** The person first (column k0), then the inner query's other keys. */
  readonly keys: readonly AnalyzedKey[];
  readonly registry: MeasurementRegistry;
  readonly maxRowsPerGroup: number;
  readonly maxGroupsPerUnit: number;
  readonly maxRowsInTotal: number | undefined;
  readonly selectGroups: boolean;
  /** Per selected item: its computation and the analyst's clamps, innermost first. */
  readonly columns: readonly { readonly value: StageColumn; readonly clamps: readonly StageClamp[] }[];
}

export function perPersonStageSql(input: StageInput): RewrittenSql {
  const inner = rewritePrivateQuery({
    tables: input.tables,
    conditions: input.conditions,
    keys: input.keys,
    values: input.registry.values,
    measurements: input.registry.measurements,
    quantiles: [],
    grouping: 'selected',
    maxRowsPerGroup: input.maxRowsPerGroup,
    maxGroupsPerUnit: input.maxGroupsPerUnit,
    ...(input.maxRowsInTotal === undefined ? {} : { maxRowsInTotal: input.maxRowsInTotal }),
    onePerUnit: false,
    selectGroups: input.selectGroups,
  });
  const params = new ParameterList();
  params.values.push(...inner.parameters);
  const columns = input.columns.map(({ value, clamps }, i) => {
    const clamped = clamps.reduce(
      (sql, clamp) =>
        `${clamp.form === 'least' ? 'LEAST' : 'GREATEST'}(${sql}, ${bound(clamp.value, params)})`,
      columnSql(value),
    );
    return `${clamped} AS c${i}`;
  });
  const text = `SELECT k0 AS unit${columns.map((c) => `, ${c}`).join('')} FROM (${inner.text}) AS person_stage`;
  return {
    text,
    parameters: params.values,
    ...(inner.selectionKeyParameter === undefined
      ? {}
      : { selectionKeyParameter: inner.selectionKeyParameter }),
  };
}

function columnSql(value: StageColumn): string {
  switch (value.kind) {
    case 'key':
      return value.key;
    case 'count':
      return value.count;
    case 'sum':
      return `CASE WHEN ${value.count} = 0 THEN NULL ELSE CAST(${value.sum} AS pg_catalog.numeric) * ${decimal(value.granularity)} END`;
    case 'avg':
      return `CASE WHEN ${value.count} = 0 THEN NULL ELSE CAST(${value.sum} AS pg_catalog.numeric) * ${decimal(value.granularity)} / ${value.count} END`;
  }
}

/** An analyst's clamp constant, bound as a parameter like every analyst literal. */
function bound(value: number, params: ParameterList): string {
  params.bind(value, undefined);
  return `$${params.values.length}::pg_catalog.numeric`;
}

/** A grid step as an exact decimal literal (policy granularities and powers of two). */
function decimal(value: number): string {
  if (!(Number.isFinite(value) && value > 0)) throw new Error(`not a grid step: ${value}`);
  const text = String(value);
  if (!/^[0-9.]+$/.test(text)) return value.toFixed(30).replace(/0+$/, '');
  return text;
}
