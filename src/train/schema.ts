/**
 * The public description of a training table: every feature with its policy bounds, and the label.
 * Scaling uses these bounds only, never statistics of the data, so the map from a row to the model's
 * input is fixed before any private value is read.
 */

export interface FeatureBound {
  readonly name: string;
  readonly lower: number;
  readonly upper: number;
}

export type LabelSpec =
  /** 0 or 1. */
  | { readonly kind: 'binary'; readonly name: string }
  /** A class index in [0, classes). */
  | { readonly kind: 'class'; readonly name: string; readonly classes: number }
  /** A real value with policy bounds (regression). */
  | { readonly kind: 'bounded'; readonly name: string; readonly lower: number; readonly upper: number };

export interface DatasetSchema {
  readonly features: readonly FeatureBound[];
  readonly label: LabelSpec;
}

/** A value read from a table: numbers, or what drivers return for numeric types (strings, bigints). */
export type CellValue = number | string | bigint | boolean | null | undefined;
export type TableRow = Readonly<Record<string, CellValue>>;

export function checkSchema(schema: DatasetSchema): void {
  if (schema.features.length === 0) throw new RangeError('a dataset needs at least one feature');
  for (const { name, lower, upper } of schema.features) checkBounds(name, lower, upper);
  if (schema.label.kind === 'bounded') checkBounds(schema.label.name, schema.label.lower, schema.label.upper);
  if (
    schema.label.kind === 'class' &&
    !(Number.isSafeInteger(schema.label.classes) && schema.label.classes >= 2)
  )
    throw new RangeError(`label ${schema.label.name}: classes must be an integer ≥ 2`);
}

function checkBounds(name: string, lower: number, upper: number): void {
  if (!(Number.isFinite(lower) && Number.isFinite(upper) && lower < upper))
    throw new RangeError(`column ${name}: bounds must be finite with lower < upper`);
}

/** A feature mapped linearly from [lower, upper] onto [−1, 1] and clamped; a missing value maps to 0. */
export function scaleFeature(value: CellValue, bound: FeatureBound): number {
  const x = toNumber(value);
  if (!Number.isFinite(x)) return 0;
  const scaled = (2 * (x - bound.lower)) / (bound.upper - bound.lower) - 1;
  return clamp(scaled, -1, 1);
}

/**
 * The label as the model trains on it: binary → 0/1 (clamped and rounded), class → an index clamped
 * into [0, classes), bounded → scaled to [−1, 1] like a feature. A missing label maps to 0 (binary,
 * class) or the middle of the range, so no row can push a gradient outside what clipping expects.
 */
export function encodeLabel(value: CellValue, label: LabelSpec): number {
  if (label.kind === 'bounded') return scaleFeature(value, label);
  const x = toNumber(value);
  if (!Number.isFinite(x)) return 0;
  const top = label.kind === 'binary' ? 1 : label.classes - 1;
  return Math.round(clamp(x, 0, top));
}

/** A scaled regression output back in the label's units. */
export function decodeBoundedLabel(scaled: number, label: Extract<LabelSpec, { kind: 'bounded' }>): number {
  return label.lower + ((clamp(scaled, -1, 1) + 1) / 2) * (label.upper - label.lower);
}

/** The row's features scaled into `target` from `offset`. */
export function scaleRow(row: TableRow, schema: DatasetSchema, target: Float64Array, offset: number): void {
  const { features } = schema;
  for (let j = 0; j < features.length; j++)
    target[offset + j] = scaleFeature(row[features[j]!.name], features[j]!);
}

function clamp(x: number, lower: number, upper: number): number {
  return Math.min(upper, Math.max(lower, x));
}

function toNumber(value: CellValue): number {
  if (value === null || value === undefined) return Number.NaN;
  return Number(value);
}
