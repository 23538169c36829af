/**
 * From the true per-group rows of the rewritten SQL to the released answer: partition selection,
 * noise on every measurement, aggregates as post-processing of the noisy measurements, then the
 * analyst's select list, HAVING, ORDER BY and LIMIT (post-process.ts), with per-cell accuracy.
 *
 * The order of groups in the database's answer is not released: groups are put in key order first,
 * so neither the output order nor the order noise is drawn in depends on how the database scanned.
 */
import { averageInterval, type HasNoiseInterval, varianceInterval } from '../dp/accuracy.ts';
import { optimalPartitionSelector } from '../dp/optimal-partition-selection.ts';
import { cryptoRandom, type RandomSource } from '../dp/random.ts';
import { rationalValue } from '../dp/rational.ts';
import { weightedGaussianSelector } from '../dp/weighted-gaussian-selection.ts';
import { nonNegative, nonNegativeWithTotal } from './consistency.ts';
import { mechanismFor, noiseIntervalOf, noiseScale } from './noise.ts';
import type {
  Aggregate,
  Measurement,
  PrivateQueryPlan,
  QuantileMeasurement,
  QueryPlan,
  Selection,
} from './plan.ts';
import {
  compareValues,
  evaluate,
  type OutputValue,
  postProcess,
  type ReleasedGroup,
} from './post-process.ts';
import { selectQuantileEdge } from './quantile.ts';

/** The confidence of every reported interval. */
export const CONFIDENCE = 0.95;

export type CellAccuracy =
  | {
      /** Additive noise: the released value is within ±halfWidth of the true one with ≥ 95% probability. */
      readonly kind: 'noise';
      readonly mechanism: 'discrete_laplace' | 'discrete_gaussian';
      /** t (discrete Laplace) or σ (discrete Gaussian), in the cell's units. */
      readonly scale: number;
      readonly halfWidth: number;
      readonly confidence: number;
    }
  | {
      /** A ratio of noisy values (AVG, VAR, STDDEV): an interval that holds the true value with ≥ 95%. */
      readonly kind: 'interval';
      readonly mechanism: 'discrete_laplace' | 'discrete_gaussian';
      readonly lower: number;
      readonly upper: number;
      readonly confidence: number;
      /** True where the interval is not a proven bound (VAR_SAMP/STDDEV_SAMP rescale the VAR_POP one). */
      readonly approximate: boolean;
    }
  | {
      /** A quantile chosen by permute-and-flip: no interval, only its ε and resolution (bucket width). */
      readonly kind: 'quantile';
      readonly mechanism: 'permute_and_flip';
      readonly epsilon: number;
      readonly resolution: number;
    };

export interface ReleasedAnswer {
  readonly columns: readonly string[];
  readonly rows: readonly (readonly OutputValue[])[];
  /** Per cell; null for exact cells (group keys, constants, public answers) and derived expressions. */
  readonly accuracy: readonly (readonly (CellAccuracy | null)[])[];
  /** The optional post-processing applied (consistency.ts), and the index of the total row if any. */
  readonly postProcessing?: { readonly applied: readonly PostProcessingStep[]; readonly totalRow?: number };
}

export type PostProcessingStep = 'non_negative' | 'total';

export interface ReleaseOptions {
  /** Noise source; production uses the CSPRNG. Tests pass a seeded one. */
  readonly random?: RandomSource;
  /**
   * Free post-processing the analyst asked for: counts made non-negative; a total row over the groups
   * of a public-domain GROUP BY (every group is released, so it is the total of the whole query).
   */
  readonly postProcessing?: readonly PostProcessingStep[];
}

type TrueRow = Readonly<Record<string, unknown>>;

export function release(
  plan: QueryPlan,
  trueRows: readonly TrueRow[],
  options: ReleaseOptions = {},
): ReleasedAnswer {
  if (plan.kind === 'public') {
    const columns = trueRows[0] ? Object.keys(trueRows[0]) : [];
    const rows = trueRows.map((row) => columns.map((c) => row[c] as OutputValue));
    return { columns, rows, accuracy: rows.map((row) => row.map(() => null)) };
  }
  return releasePrivate(plan, trueRows, options.random ?? cryptoRandom, options.postProcessing ?? []);
}

interface NoisyGroup extends ReleasedGroup {
  readonly accuracy: readonly (CellAccuracy | null)[];
}

function releasePrivate(
  plan: PrivateQueryPlan,
  trueRows: readonly TrueRow[],
  random: RandomSource,
  requested: readonly PostProcessingStep[],
): ReleasedAnswer {
  const grouping = plan.grouping;
  const keyColumns = grouping.kind === 'none' ? [] : grouping.keys.map((k) => k.column);
  const mechanisms = plan.measurements.map((m) => mechanismFor(m.noise, random));
  const selection = grouping.kind === 'selected' ? grouping.selection : undefined;
  const keep = selection && grouping.kind === 'selected' ? keepRule(selection, plan, random) : undefined;
  const rows = [...trueRows].sort((a, b) =>
    compareKeys(
      keyColumns.map((c) => a[c]),
      keyColumns.map((c) => b[c]),
    ),
  );

  const reused = selection?.kind === 'threshold' ? selection.measurement : undefined;
  const released: NoisyRow[] = [];
  for (const row of rows) {
    // With COUNT(DISTINCT person) asked, its noisy value is the count selection thresholds (the
    // selector is built from the same mechanism, so `keep` is its threshold rule).
    const noisyUnits =
      reused === undefined
        ? undefined
        : mechanisms[reused]!.release(integerOf(row[plan.measurements[reused]!.column]));
    if (keep && grouping.kind === 'selected') {
      if (!keep(row, integerOf(row[grouping.unitsColumn]), noisyUnits)) continue;
    }
    const noisy = plan.measurements.map((m, i) =>
      i === reused ? noisyUnits! : mechanisms[i]!.release(integerOf(row[m.column])),
    );
    released.push({ row, noisy });
  }
  const applied = requested.filter((step) => step === 'non_negative' || grouping.kind === 'public');
  const withTotal = applied.includes('total');
  const projected = applied.includes('non_negative') && withTotal;
  if (applied.includes('non_negative')) makeCountsNonNegative(plan, released, withTotal);
  const groups: NoisyGroup[] = released.map(({ row, noisy }) => {
    const cells = plan.aggregates.map((aggregate) => aggregateCell(aggregate, plan, noisy, row, random));
    return {
      keys: keyColumns.map((c) => (row[c] ?? null) as OutputValue),
      aggregates: cells.map((c) => c.value),
      // Clamping keeps every interval (it moves no value away from a truth ≥ 0); the projection
      // with a total moves counts by a shared shift, so what reads a count loses its interval.
      accuracy: cells.map((c, j) =>
        projected && ['count', 'avg', 'variance', 'stddev'].includes(plan.aggregates[j]!.kind)
          ? null
          : c.accuracy,
      ),
    };
  });
  // Truncating released rows is post-processing; it keeps the answer within the policy's cell limit.
  const kept = postProcess(groups, plan).slice(0, plan.maxRows);
  const output = (group: NoisyGroup) => plan.columns.map((c) => evaluate(c.expr, group));
  const cellAccuracy = (group: NoisyGroup) =>
    plan.columns.map((c) => (c.expr.kind === 'aggregate' ? (group.accuracy[c.expr.index] ?? null) : null));
  const total = withTotal ? totalGroup(plan, released, keyColumns.length, random) : undefined;
  const out = [...kept, ...(total ? [total] : [])];
  return {
    columns: plan.columns.map((c) => c.name),
    rows: out.map(output),
    accuracy: out.map(cellAccuracy),
    ...(requested.length > 0
      ? { postProcessing: { applied, ...(total ? { totalRow: kept.length } : {}) } }
      : {}),
  };
}

/**
 * Whether a group of this many distinct persons is released, by the plan's selection rebuilt from its
 * numbers: thresholding draws its own noisy count unless the reused COUNT(DISTINCT person) is given;
 * the optimal rule draws one exact coin of its keep probability; the weighted Gaussian noises the
 * group's weight sum.
 */
function keepRule(
  selection: Selection,
  plan: PrivateQueryPlan,
  random: RandomSource,
): (row: TrueRow, distinctUnits: number, noisyUnits: number | undefined) => boolean {
  const maxGroupsPerUnit = plan.contribution.maxGroupsPerUnit;
  if (selection.kind === 'weighted_gaussian') {
    const noise = mechanismFor(selection.noise, random);
    if (noise.family !== 'discrete_gaussian')
      throw new Error('release: weighted selection needs Gaussian noise');
    const selector = weightedGaussianSelector(noise, {
      delta: selection.selectionDelta,
      maxGroupsPerUnit,
      grid: selection.grid,
    });
    if (selector.threshold !== selection.threshold) {
      throw new Error('release: the partition selector does not match the plan');
    }
    return (row) => selector.release(integerOf(row[selection.column]));
  }
  if (selection.kind === 'optimal') {
    const { epsilon, delta } = selection;
    const selector = optimalPartitionSelector({ epsilon, delta, maxGroupsPerUnit, random });
    if (selector.medianCount !== selection.medianCount) {
      throw new Error('release: the partition selector does not match the plan');
    }
    return (_row, distinctUnits) => selector.keep(distinctUnits);
  }
  const selector = mechanismFor(selection.noise, random).partitionSelector({
    delta: selection.delta,
    maxGroupsPerUnit,
  });
  if (selector.threshold !== selection.threshold) {
    throw new Error('release: the partition selector does not match the plan');
  }
  return (_row, distinctUnits, noisyUnits) =>
    noisyUnits === undefined ? selector.release(distinctUnits) !== undefined : selector.keep(noisyUnits);
}

interface NoisyRow {
  readonly row: TrueRow;
  noisy: number[];
}

/**
 * Counts (of rows, persons, distinct values) clamped at 0, or, with a total row, projected so that they also keep
 * their noisy sum (consistency.ts). A projected cell no longer has the mechanism's interval.
 */
function makeCountsNonNegative(plan: PrivateQueryPlan, released: NoisyRow[], keepTotal: boolean): void {
  plan.measurements.forEach((measurement, index) => {
    if (measurement.kind === 'sum' || measurement.kind === 'sum_of_squares') return;
    const column = released.map((r) => r.noisy[index]!);
    const adjusted = keepTotal ? nonNegativeWithTotal(column) : nonNegative(column);
    released.forEach((r, g) => {
      r.noisy = r.noisy.map((value, i) => (i === index ? adjusted[g]! : value));
    });
  });
}

/**
 * The total row: every measurement summed over the groups, each aggregate computed from the sums
 * (so a total AVG is Σ sums / Σ counts). Keys are NULL; it is not filtered by HAVING or cut by LIMIT,
 * and its cells carry no interval (a sum of many noises: its spread is not one mechanism's).
 */
function totalGroup(
  plan: PrivateQueryPlan,
  released: readonly NoisyRow[],
  keys: number,
  random: RandomSource,
): NoisyGroup {
  const sums = plan.measurements.map((_, i) => released.reduce((sum, r) => sum + r.noisy[i]!, 0));
  const cells = plan.aggregates.map((aggregate) =>
    aggregate.kind === 'quantile' ? null : aggregateCell(aggregate, plan, sums, {}, random).value,
  );
  return {
    keys: new Array<OutputValue>(keys).fill(null),
    aggregates: cells,
    accuracy: cells.map(() => null),
  };
}

interface Cell {
  readonly value: number | null;
  readonly accuracy: CellAccuracy | null;
}

function aggregateCell(
  aggregate: Aggregate,
  plan: PrivateQueryPlan,
  noisy: readonly number[],
  row: TrueRow,
  random: RandomSource,
): Cell {
  const step = (index: number): number => stepOf(plan.measurements[index]!);
  const value = (index: number): number => noisy[index]! * step(index);
  const inUnits = (index: number): HasNoiseInterval => scaledInterval(plan.measurements[index]!, step(index));
  switch (aggregate.kind) {
    case 'count':
    case 'sum': {
      const index = aggregate.kind === 'count' ? aggregate.count : aggregate.sum;
      return {
        value: value(index),
        accuracy: noiseAccuracy(plan.measurements[index]!),
      };
    }
    case 'avg': {
      const interval = averageInterval({
        noisySum: value(aggregate.sum),
        noisyCount: value(aggregate.count),
        sumMechanism: inUnits(aggregate.sum),
        countMechanism: inUnits(aggregate.count),
        bounds: [aggregate.bounds.low, aggregate.bounds.high],
        confidence: CONFIDENCE,
      });
      return { value: interval.estimate, accuracy: intervalAccuracy(plan, interval, false) };
    }
    case 'variance':
    case 'stddev': {
      const count = value(aggregate.count);
      const population = varianceInterval({
        noisySumOfSquares: value(aggregate.sumOfSquares),
        noisySum: value(aggregate.sum),
        noisyCount: count,
        sumOfSquaresMechanism: inUnits(aggregate.sumOfSquares),
        sumMechanism: inUnits(aggregate.sum),
        countMechanism: inUnits(aggregate.count),
        bounds: [aggregate.bounds.low, aggregate.bounds.high],
        confidence: CONFIDENCE,
      });
      // VAR_SAMP = VAR_POP · N/(N − 1), with the noisy N: post-processing, but the interval is not proven.
      const factor = aggregate.sample ? (count > 1 ? count / (count - 1) : 1) : 1;
      const root = aggregate.kind === 'stddev' ? Math.sqrt : (x: number) => x;
      const scaled = {
        estimate: root(population.estimate * factor),
        lower: root(population.lower * factor),
        upper: root(population.upper * factor),
        confidence: population.confidence,
      };
      return { value: scaled.estimate, accuracy: intervalAccuracy(plan, scaled, aggregate.sample) };
    }
    case 'quantile': {
      const quantile = plan.quantiles[aggregate.quantile]!;
      const counts = quantile.columns.map((c) => integerOf(row[c]));
      const edge = selectQuantileEdge({
        counts,
        percentile: quantile.percentile,
        epsilon: quantile.epsilonPerGroup,
        utilitySensitivity: quantile.utilitySensitivity,
        random,
      });
      return {
        value: quantile.bounds.low + edge * bucketWidth(quantile),
        accuracy: quantileAccuracy(quantile),
      };
    }
  }
}

/**
 * The accuracy known before any data is read (for a dry run): additive noise of COUNT and SUM cells
 * and the resolution of quantiles; AVG/VAR/STDDEV intervals depend on the noisy values (null here).
 */
export function plannedAccuracy(plan: PrivateQueryPlan): (CellAccuracy | null)[] {
  return plan.columns.map((column) => {
    if (column.expr.kind !== 'aggregate') return null;
    const aggregate = plan.aggregates[column.expr.index]!;
    if (aggregate.kind === 'count') return noiseAccuracy(plan.measurements[aggregate.count]!);
    if (aggregate.kind === 'sum') return noiseAccuracy(plan.measurements[aggregate.sum]!);
    if (aggregate.kind === 'quantile') return quantileAccuracy(plan.quantiles[aggregate.quantile]!);
    return null;
  });
}

function bucketWidth(quantile: QuantileMeasurement): number {
  return (quantile.bounds.high - quantile.bounds.low) / quantile.columns.length;
}

function quantileAccuracy(quantile: QuantileMeasurement): CellAccuracy {
  return {
    kind: 'quantile',
    mechanism: 'permute_and_flip',
    epsilon: rationalValue(quantile.epsilonPerGroup),
    resolution: bucketWidth(quantile),
  };
}

function noiseAccuracy(measurement: Measurement): CellAccuracy {
  const step = stepOf(measurement);
  return {
    kind: 'noise',
    mechanism: measurement.noise.family,
    scale: noiseScale(measurement.noise) * step,
    halfWidth: noiseIntervalOf(measurement.noise, CONFIDENCE).halfWidth * step,
    confidence: CONFIDENCE,
  };
}

function intervalAccuracy(
  plan: PrivateQueryPlan,
  interval: { lower: number; upper: number; confidence: number },
  approximate: boolean,
): CellAccuracy {
  const mechanism = plan.mechanism === 'laplace' ? 'discrete_laplace' : 'discrete_gaussian';
  return {
    kind: 'interval',
    mechanism,
    lower: interval.lower,
    upper: interval.upper,
    confidence: interval.confidence,
    approximate,
  };
}

/** A measurement's noise interval in its units (grid steps × granularity). */
function scaledInterval(measurement: Measurement, step: number): HasNoiseInterval {
  return {
    interval: (confidence) => {
      const steps = noiseIntervalOf(measurement.noise, confidence);
      return { halfWidth: steps.halfWidth * step, coverage: steps.coverage };
    },
  };
}

/** The value of one step of a measurement: its grid (for squares, the grid of the squared values). */
function stepOf(measurement: Measurement): number {
  return measurement.kind === 'sum' || measurement.kind === 'sum_of_squares' ? measurement.granularity : 1;
}

/** Counts and sums arrive as numbers (int8) or exact decimal text (numeric): both are integers here. */
function integerOf(value: unknown): number {
  const number = typeof value === 'number' ? value : Number(value ?? 0);
  if (!Number.isInteger(number)) throw new Error('release: a true measurement is not an integer');
  return number;
}

/** Key order for released groups: PostgreSQL's value order, NULL keys last. */
function compareKeys(a: readonly unknown[], b: readonly unknown[]): number {
  for (let i = 0; i < a.length; i++) {
    const [x, y] = [(a[i] ?? null) as OutputValue, (b[i] ?? null) as OutputValue];
    if (x === y) continue;
    if (x === null) return 1;
    if (y === null) return -1;
    const order = compareValues(x, y);
    if (order !== 0) return order;
  }
  return 0;
}
