/**
 * Aggregate calls to the true per-group measurements they are post-processing of (SmartNoise's and
 * ZetaSQL's decomposition): COUNT → a row count; COUNT(DISTINCT person) → a person count;
 * COUNT(DISTINCT x) → a count of distinct values, each person's capped at r per group (and at the
 * policy's distinct-value bound d in total); SUM → a sum of clamped values; AVG → sum and count;
 * VAR/STDDEV → sum of squares, sum and count; PERCENTILE_CONT/DISC and MEDIAN → a bucket histogram
 * for the quantile mechanism. Equal measurements are shared (AVG(x) and SUM(x) pay for one noisy
 * sum).
 */
import type { FuncCall, Node } from 'libpg-query';
import { type Interval, isFiniteInterval, magnitude, square } from '../bounds.ts';
import { isNumberType } from '../functions.ts';
import { childrenOf, type Expr, expressionKey } from '../ir.ts';
import type { Aggregate } from '../plan.ts';
import { refuse } from '../refusal.ts';
import { analyzeExpression, type ExpressionOptions, locationOf } from './expression.ts';
import { DEFAULT_GRANULARITY } from './from.ts';

/** How a value column turns an aggregate argument into what the SQL aggregates. */
export type ValueTransform =
  /** As it is: COUNT(x) counts its non-NULL values. */
  | { readonly kind: 'raw' }
  /**
   * Clamped to `bounds`, squared if `squared`, then rounded to a whole number of `granularity`
   * steps, so the SQL sums exact integers.
   */
  | {
      readonly kind: 'steps';
      readonly bounds: Interval;
      readonly squared: boolean;
      readonly granularity: number;
    }
  /** Clamped to `bounds`, then the index of its bucket among `buckets` equal ones. */
  | { readonly kind: 'bucket'; readonly bounds: Interval; readonly buckets: number };

export interface ValueColumn<T extends ValueTransform = ValueTransform> {
  readonly column: string;
  readonly expr: Expr;
  readonly transform: T;
}

type StepsColumn = ValueColumn<Extract<ValueTransform, { kind: 'steps' }>>;
type BucketColumn = ValueColumn<Extract<ValueTransform, { kind: 'bucket' }>>;

export type MeasurementDraft =
  | { readonly kind: 'rows'; readonly column: string; readonly value: ValueColumn | undefined }
  | { readonly kind: 'units'; readonly column: string }
  /**
   * Distinct non-NULL values of `value`, at most r of them kept per person and group, and with
   * `maxPerUnit` (a policy bound d) at most d per person in total (rewrite.ts).
   */
  | {
      readonly kind: 'distinct_values';
      readonly column: string;
      readonly value: ValueColumn;
      readonly maxPerUnit?: number;
    }
  | { readonly kind: 'sum' | 'sum_of_squares'; readonly column: string; readonly value: StepsColumn };

export interface QuantileDraft {
  readonly value: BucketColumn;
  readonly columns: readonly string[];
  readonly percentile: { readonly numerator: number; readonly denominator: number };
}

/** Buckets for a quantile over a wide or real domain; an integer domain narrower than this uses width 1. */
export const QUANTILE_BUCKETS = 64;
const MAX_INTEGER_BUCKETS = 256;

export class MeasurementRegistry {
  readonly values: ValueColumn[] = [];
  readonly measurements: MeasurementDraft[] = [];
  readonly quantiles: QuantileDraft[] = [];
  readonly aggregates: Aggregate[] = [];
  private readonly byKey = new Map<string, number>();

  /** The index of the aggregate `call` (an aggregate FuncCall) in `aggregates`. */
  add(call: FuncCall, options: ExpressionOptions): number {
    const aggregate = this.aggregateOf(call, options);
    const key = JSON.stringify(aggregate);
    const known = this.byKey.get(`aggregate:${key}`);
    if (known !== undefined) return known;
    this.aggregates.push(aggregate);
    this.byKey.set(`aggregate:${key}`, this.aggregates.length - 1);
    return this.aggregates.length - 1;
  }

  private aggregateOf(call: FuncCall, outer: ExpressionOptions): Aggregate {
    const location = call.location ?? -1;
    const name = (call.funcname ?? []).map((n) => ('String' in n ? n.String.sval : '')).at(-1) ?? '';
    if (call.over)
      refuse(
        'window_function',
        `window functions (${name} OVER …) are not allowed: they release row-level values`,
        location,
      );
    const options: ExpressionOptions = {
      ...outer,
      clause: `inside ${name.toUpperCase()}`,
      onAggregate: (inner) =>
        refuse(
          'nested_aggregate',
          'aggregates cannot be nested; aggregate once and combine results in the select list',
          inner.location,
        ),
    };
    const filter = call.agg_filter
      ? analyzeExpression(call.agg_filter, { ...options, clause: 'in FILTER' })
      : undefined;
    const argument = (node: Node | undefined): Expr => {
      if (!node) return refuse('unsupported_sql', `${name} needs an argument`, location);
      const value = analyzeExpression(node, options);
      return filter ? onlyWhen(filter, value) : value;
    };
    if (name === 'min' || name === 'max') {
      return refuse(
        'private_min_max',
        `${name.toUpperCase()} of private values releases one person's value; use PERCENTILE_CONT(0 or 1) for a DP estimate`,
        location,
      );
    }
    if (call.agg_distinct && name !== 'count')
      refuse('unsupported_sql', `${name}(DISTINCT …) is not supported`, location);
    if (call.agg_order && !call.agg_within_group)
      refuse('unsupported_sql', `ORDER BY inside ${name} is not supported`, location);
    switch (name) {
      case 'count': {
        if (call.agg_star)
          return { kind: 'count', count: this.rows(filter ? argument(constantOne(location)) : undefined) };
        const value = argument(call.args?.[0]);
        if (call.agg_distinct) {
          if (value.kind === 'column' && value.role === 'unit' && !filter)
            return { kind: 'count', count: this.measurement({ kind: 'units', column: '' }) };
          const maxPerUnit = declaredDistinctBound(analyzeExpression(call.args![0]!, options));
          return {
            kind: 'count',
            count: this.measurement({
              kind: 'distinct_values',
              column: '',
              value: this.value(value, { kind: 'raw' }),
              ...(maxPerUnit !== undefined ? { maxPerUnit } : {}),
            }),
          };
        }
        return { kind: 'count', count: this.rows(value) };
      }
      case 'sum':
        return { kind: 'sum', sum: this.sum('sum', numeric(argument(call.args?.[0]), name)) };
      case 'avg': {
        const value = numeric(argument(call.args?.[0]), name);
        return {
          kind: 'avg',
          sum: this.sum('sum', value),
          count: this.rows(value),
          bounds: value.info.bounds!,
        };
      }
      case 'var_pop':
      case 'var_samp':
      case 'variance':
      case 'stddev':
      case 'stddev_pop':
      case 'stddev_samp': {
        const value = numeric(argument(call.args?.[0]), name);
        return {
          kind: name.startsWith('stddev') ? 'stddev' : 'variance',
          sample: !name.endsWith('_pop'),
          sumOfSquares: this.sum('sum_of_squares', value),
          sum: this.sum('sum', value),
          count: this.rows(value),
          bounds: value.info.bounds!,
        };
      }
      case 'percentile_cont':
      case 'percentile_disc':
      case 'median': {
        const [percentileNode, valueNode] =
          name === 'median'
            ? [undefined, call.args?.[0]]
            : [
                call.args?.[0],
                call.agg_order?.[0] && 'SortBy' in call.agg_order[0]
                  ? call.agg_order[0].SortBy.node
                  : undefined,
              ];
        if (name !== 'median' && (!call.agg_within_group || call.agg_order?.length !== 1)) {
          refuse('unsupported_sql', `write ${name}(p) WITHIN GROUP (ORDER BY expression)`, location);
        }
        const percentile = percentileNode ? fraction(percentileNode) : { numerator: 1, denominator: 2 };
        return {
          kind: 'quantile',
          quantile: this.quantile(numeric(argument(valueNode), name), percentile),
          discrete: name === 'percentile_disc',
        };
      }
      default:
        return refuse(
          'unsupported_sql',
          `aggregate ${name} is not supported; use COUNT, SUM, AVG, VAR_POP/VAR_SAMP, STDDEV, PERCENTILE_CONT/DISC`,
          location,
        );
    }
  }

  private rows(value: Expr | undefined): number {
    return this.measurement({
      kind: 'rows',
      column: '',
      value: value ? this.value(value, { kind: 'raw' }) : undefined,
    });
  }

  private sum(kind: 'sum' | 'sum_of_squares', value: Expr): number {
    const grid = value.info.type === 'int' ? 1 : (value.info.granularity ?? DEFAULT_GRANULARITY);
    const squared = kind === 'sum_of_squares';
    const bounds = value.info.bounds!;
    const granularity = coarsened(squared ? grid * grid : grid, squared ? square(bounds) : bounds);
    const column = this.value(value, { kind: 'steps', bounds, squared, granularity }) as StepsColumn;
    return this.measurement({ kind, column: '', value: column });
  }

  private quantile(value: Expr, percentile: QuantileDraft['percentile']): number {
    const bounds = value.info.bounds!;
    const width = bounds.high - bounds.low;
    const integral =
      value.info.type === 'int' && Number.isInteger(bounds.low) && Number.isInteger(bounds.high);
    const buckets = integral && width >= 1 && width <= MAX_INTEGER_BUCKETS ? width : QUANTILE_BUCKETS;
    const column = this.value(value, { kind: 'bucket', bounds, buckets }) as BucketColumn;
    const key = `quantile:${column.column}:${percentile.numerator}/${percentile.denominator}`;
    const known = this.byKey.get(key);
    if (known !== undefined) return known;
    const index = this.quantiles.length;
    this.quantiles.push({
      value: column,
      columns: Array.from({ length: width > 0 ? buckets : 1 }, (_, i) => `q${index}_${i}`),
      percentile,
    });
    this.byKey.set(key, index);
    return index;
  }

  private value(expr: Expr, transform: ValueTransform): ValueColumn {
    const key = `value:${JSON.stringify(transform)}:${expressionKey(expr)}`;
    const known = this.byKey.get(key);
    if (known !== undefined) return this.values[known]!;
    const column = { column: `v${this.values.length}`, expr, transform };
    this.values.push(column);
    this.byKey.set(key, this.values.length - 1);
    return column;
  }

  private measurement(draft: MeasurementDraft): number {
    const key = `measurement:${draft.kind}:${'value' in draft && draft.value ? draft.value.column : ''}`;
    const known = this.byKey.get(key);
    if (known !== undefined) return known;
    this.measurements.push({ ...draft, column: `m${this.measurements.length}` });
    this.byKey.set(key, this.measurements.length - 1);
    return this.measurements.length - 1;
  }
}

/**
 * The policy's bound on the distinct values one person has of an expression (without its FILTER):
 * an expression of columns that each declare `max_distinct_per_unit` d_i takes at most Π d_i
 * distinct values over one person's rows (a function of the column values cannot have more values
 * than its inputs have combinations). Undefined when some column it reads declares none.
 */
function declaredDistinctBound(expr: Expr): number | undefined {
  const columns = new Map<string, number | undefined>();
  const collect = (e: Expr): void => {
    if (e.kind === 'column') columns.set(expressionKey(e), e.policy?.max_distinct_per_unit);
    else if (e.kind === 'public_subquery') columns.set('subquery', undefined);
    else childrenOf(e).forEach(collect);
  };
  collect(expr);
  const bounds = [...columns.values()];
  if (bounds.length === 0 || bounds.some((d) => d === undefined)) return undefined;
  return bounds.reduce<number>((product, d) => Math.min(product * d!, Number.MAX_SAFE_INTEGER), 1);
}

/**
 * The policy grid, made coarser by powers of two when one value would span more than 2^24 steps
 * (a sum of squared incomes): the noise such a sum needs dwarfs the lost precision, and the DP core
 * samples only scales up to 2^40.
 */
const MAX_STEPS_PER_VALUE = 2 ** 24;
function coarsened(step: number, range: Interval): number {
  const steps = magnitude(range) / step;
  return steps <= MAX_STEPS_PER_VALUE ? step : step * 2 ** Math.ceil(Math.log2(steps / MAX_STEPS_PER_VALUE));
}

/** A summed value needs a number type and finite bounds: its sensitivity comes from them. */
function numeric(value: Expr, name: string): Expr {
  if (!isNumberType(value.info.type))
    refuse('unsupported_sql', `${name.toUpperCase()} needs a number`, value.location);
  if (value.info.unit)
    refuse('group_by_unit', `${name.toUpperCase()} of the person column is not meaningful`, value.location);
  if (!value.info.bounds || !isFiniteInterval(value.info.bounds)) {
    refuse(
      'unbounded_column',
      `${name.toUpperCase()} needs bounds: the columns it reads have none in policy (ask the council to add bounds)`,
      value.location,
    );
  }
  return value;
}

/** AGG(x) FILTER (WHERE c) is AGG(CASE WHEN c THEN x END): rows failing c contribute NULL. */
function onlyWhen(condition: Expr, value: Expr): Expr {
  return {
    kind: 'case',
    subject: undefined,
    branches: [{ condition, result: value }],
    otherwise: undefined,
    location: value.location,
    info: {
      ...value.info,
      private: value.info.private || condition.info.private,
      unit: value.info.unit || condition.info.unit,
      readsData: value.info.readsData || condition.info.readsData,
    },
  };
}

function constantOne(location: number): Node {
  return { A_Const: { ival: { ival: 1 }, location } };
}

/** The percentile literal as an exact fraction in [0, 1] (0.25 → 25/100). */
function fraction(node: Node): { numerator: number; denominator: number } {
  const location = locationOf(node);
  const value = 'A_Const' in node ? node.A_Const : undefined;
  const text = value?.fval?.fval ?? (value?.ival ? String(value.ival.ival ?? 0) : undefined);
  const match = text === undefined ? null : /^(\d*)\.?(\d*)$/.exec(text);
  if (!match || match[2]!.length > 6) {
    return refuse(
      'unsupported_sql',
      'the percentile must be a constant between 0 and 1 with at most 6 decimals',
      location,
    );
  }
  const denominator = 10 ** match[2]!.length;
  const numerator = Number(match[1] || '0') * denominator + Number(match[2] || '0');
  if (numerator > denominator) refuse('unsupported_sql', 'the percentile must be between 0 and 1', location);
  return { numerator, denominator };
}
