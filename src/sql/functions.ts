/**
 * The functions an analyst may call on row values. An allow-list, not a deny-list: a function is
 * here only if it cannot fail, sleep, write, or read anything but its arguments, whatever the data
 * (PostgreSQL's `pg_sleep`, `random`, `set_config`, `current_setting`, `dblink`, `lo_*`, … are
 * therefore refused by omission). Arguments that could make a function fail (a substring length, a
 * date_trunc field) must be constants, so any failure is decided by the query text, not the data.
 */
import { absolute, type Interval, interval, roundedToInteger } from './bounds.ts';
import type { ValueInfo, ValueType } from './ir.ts';

export interface RowFunction {
  readonly minArgs: number;
  readonly maxArgs: number;
  /** Argument positions that must be constants (their errors then do not depend on data). */
  readonly constantArgs?: readonly number[];
  /** The type every non-constant argument must have, if restricted. */
  readonly argType?: 'number' | 'text' | 'temporal';
  result(args: readonly ValueInfo[]): { type: ValueType; bounds?: Interval };
}

const NUMBER_TYPES: ReadonlySet<ValueType> = new Set(['int', 'real', 'numeric']);

export function isNumberType(type: ValueType): boolean {
  return NUMBER_TYPES.has(type);
}

const sameType = (args: readonly ValueInfo[]): ValueType => args[0]!.type;
const text = (): { type: ValueType } => ({ type: 'text' });
const integerResult = (): { type: ValueType } => ({ type: 'int' });

/** round/floor/ceil/trunc keep the argument's type and move each value by less than 1. */
const rounding: RowFunction = {
  minArgs: 1,
  maxArgs: 2,
  constantArgs: [1],
  argType: 'number',
  result: (args) => {
    const bounds = args[0]!.bounds;
    return bounds ? { type: sameType(args), bounds: roundedToInteger(bounds) } : { type: sameType(args) };
  },
};

const textFunction = (
  minArgs: number,
  maxArgs: number,
  constantArgs: readonly number[] = [],
): RowFunction => ({
  minArgs,
  maxArgs,
  constantArgs,
  argType: 'text',
  result: text,
});

export const ROW_FUNCTIONS: ReadonlyMap<string, RowFunction> = new Map<string, RowFunction>([
  [
    'abs',
    {
      minArgs: 1,
      maxArgs: 1,
      argType: 'number',
      result: (args) => {
        const bounds = args[0]!.bounds;
        return bounds ? { type: sameType(args), bounds: absolute(bounds) } : { type: sameType(args) };
      },
    },
  ],
  [
    'sign',
    {
      minArgs: 1,
      maxArgs: 1,
      argType: 'number',
      result: (args) => ({ type: sameType(args), bounds: interval(-1, 1) }),
    },
  ],
  ['round', rounding],
  ['trunc', rounding],
  ['floor', { ...rounding, maxArgs: 1 }],
  ['ceil', { ...rounding, maxArgs: 1 }],
  ['ceiling', { ...rounding, maxArgs: 1 }],
  ['lower', textFunction(1, 1)],
  ['upper', textFunction(1, 1)],
  ['btrim', textFunction(1, 2, [1])],
  ['ltrim', textFunction(1, 2, [1])],
  ['rtrim', textFunction(1, 2, [1])],
  ['replace', textFunction(3, 3, [1, 2])],
  ['left', textFunction(2, 2, [1])],
  ['right', textFunction(2, 2, [1])],
  ['substr', textFunction(2, 3, [1, 2])],
  ['substring', textFunction(2, 3, [1, 2])],
  ['concat', { minArgs: 1, maxArgs: 16, result: text }],
  ['length', { ...textFunction(1, 1), result: integerResult }],
  ['char_length', { ...textFunction(1, 1), result: integerResult }],
  ['character_length', { ...textFunction(1, 1), result: integerResult }],
  ['strpos', { ...textFunction(2, 2, [1]), result: integerResult }],
  ['starts_with', { ...textFunction(2, 2, [1]), result: () => ({ type: 'bool' }) }],
  [
    'date_part',
    { minArgs: 2, maxArgs: 2, constantArgs: [0], argType: 'temporal', result: () => ({ type: 'numeric' }) },
  ],
  [
    'extract',
    { minArgs: 2, maxArgs: 2, constantArgs: [0], argType: 'temporal', result: () => ({ type: 'numeric' }) },
  ],
  [
    'date_trunc',
    {
      minArgs: 2,
      maxArgs: 2,
      constantArgs: [0],
      argType: 'temporal',
      result: (args) => ({ type: args[1]!.type }),
    },
  ],
]);

/** Aggregates dpgate can release with noise (see analyze/aggregates.ts). */
export const PRIVATE_AGGREGATES = new Set([
  'count',
  'sum',
  'avg',
  'var_pop',
  'var_samp',
  'variance',
  'stddev',
  'stddev_pop',
  'stddev_samp',
  'percentile_cont',
  'percentile_disc',
  'median',
]);

/** Other PostgreSQL aggregates: recognised so the refusal can say why, not merely "unknown function". */
export const OTHER_AGGREGATES = new Set([
  'min',
  'max',
  'array_agg',
  'string_agg',
  'json_agg',
  'jsonb_agg',
  'json_object_agg',
  'jsonb_object_agg',
  'bool_and',
  'bool_or',
  'every',
  'bit_and',
  'bit_or',
  'xmlagg',
  'mode',
  'corr',
  'covar_pop',
  'covar_samp',
  'regr_slope',
  'regr_intercept',
  'grouping',
  'rank',
  'dense_rank',
  'percent_rank',
  'cume_dist',
  'any_value',
]);

/** Functions allowed in queries over public tables only, besides the row functions: aggregates and windows. */
export const PUBLIC_ONLY_FUNCTIONS = new Set([
  ...PRIVATE_AGGREGATES,
  ...OTHER_AGGREGATES,
  'row_number',
  'ntile',
  'lag',
  'lead',
  'first_value',
  'last_value',
  'nth_value',
]);

/** Casts that never fail from the given source type to the target (a constant may be cast to anything). */
export function castCannotFail(
  source: ValueType,
  target: { type: ValueType; catalogName: string },
  bounds: Interval | undefined,
): boolean {
  if (target.type === 'text' || (source === target.type && source !== 'int')) return true;
  if (isNumberType(source) && (target.type === 'real' || target.type === 'numeric')) return true;
  if (isNumberType(source) && target.type === 'int') {
    const limit = INTEGER_LIMITS[target.catalogName] ?? 0;
    return bounds !== undefined && bounds.low >= -limit && bounds.high <= limit;
  }
  if (source === 'bool' && target.type === 'int') return true;
  return (
    (source === 'date' && target.type === 'timestamp') || (source === 'timestamp' && target.type === 'date')
  );
}

/** The largest magnitude each integer type holds (a cast beyond it raises "out of range"). */
const INTEGER_LIMITS: Record<string, number> = { int2: 2 ** 15 - 1, int4: 2 ** 31 - 1, int8: 2 ** 53 };

/**
 * Type names the analyzer accepts in casts, as the parser reports them (`::int` arrives as
 * `pg_catalog.int4`), with the kind of value and the catalog name the rewrite emits.
 */
export const CAST_TYPES: ReadonlyMap<string, { readonly type: ValueType; readonly catalogName: string }> =
  new Map(
    (
      [
        ['int2', 'int'],
        ['int4', 'int'],
        ['int8', 'int'],
        ['float4', 'real'],
        ['float8', 'real'],
        ['numeric', 'numeric'],
        ['text', 'text'],
        ['varchar', 'text'],
        ['bpchar', 'text'],
        ['bool', 'bool'],
        ['date', 'date'],
        ['timestamp', 'timestamp'],
      ] as const
    ).map(([name, type]) => [name, { type, catalogName: name }]),
  );
