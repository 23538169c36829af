/**
 * What every trainable model offers the DP-SGD loop. A model holds its architecture and scratch
 * buffers only; parameters live in a caller-owned Float64Array, so the loop can keep one set of
 * buffers for a whole run and allocate nothing per example.
 *
 * Inputs are feature rows already scaled to [−1, 1] (dataset.ts) stored back to back in one array,
 * addressed by an offset. Labels are numbers: 0/1 for `binary`, a class index for `multiclass`,
 * a value scaled to [−1, 1] for `regression`.
 */
import type { RandomSource } from '../../dp/random.ts';

/**
 * A block of persons whose clipped, rounded gradients go straight into a step's integer sum: rows
 * are added person by person, one batched forward and backward pass computes every person's
 * gradient norm from the layer factors, and the gradients themselves are produced, scaled and
 * rounded on demand, never stored.
 */
export interface PersonBlock {
  /** The most rows the block holds. */
  readonly rowCapacity: number;
  readonly rows: number;
  readonly persons: number;
  /** After `prepare`: ‖person p's gradient‖² at index p (float; the exact bound is checked later). */
  readonly normsSquared: Float64Array;
  clear(): void;
  /** Appends a person: rows firstRow … firstRow + rowCount − 1 of a dataset's features and labels. */
  addPerson(
    features: Float64Array,
    labels: Float64Array,
    firstRow: number,
    rowCount: number,
    featureCount: number,
  ): void;
  /**
   * The parameters the following `prepare` calls use, until the next call: once per step, since
   * the kernels keep their own (partly transposed) copy. Read again if they change.
   */
  loadParameters(parameters: Float64Array): void;
  /** Forward and backward over every row, and each person's ghost norm. */
  prepare(): void;
  /**
   * Adds r_j = round(scales[p]·g_j) to sum[j] for every coordinate j of every person p's gradient
   * (the person's rows summed before rounding); writes Σ_j r_j² (exact: integers) to roundedSquared[p].
   */
  addRounded(scales: Float64Array, sum: Float64Array, roundedSquared: Float64Array): void;
  /** Replaces what `addRounded` added for `person` by trunc(r_j·shrink) (the same r_j, recomputed). */
  shrinkRounded(person: number, scale: number, shrink: number, sum: Float64Array): void;
}

export type Activation = 'relu' | 'tanh';

/** What the last layer predicts, and so which loss trains it. */
export type OutputKind =
  | { readonly kind: 'binary' }
  | { readonly kind: 'multiclass'; readonly classes: number }
  | { readonly kind: 'regression' };

export type ModelSpec =
  | { readonly kind: 'logistic' }
  | { readonly kind: 'softmax'; readonly classes: number }
  | { readonly kind: 'linear' }
  | {
      readonly kind: 'mlp';
      /** One or two hidden layers. */
      readonly hidden: readonly [number] | readonly [number, number];
      readonly activation: Activation;
      readonly output: OutputKind;
    };

export interface Model {
  readonly spec: ModelSpec;
  readonly output: OutputKind;
  readonly inputSize: number;
  /** Length of `predict`'s output: 1 for binary (P(label = 1)) and regression, K for multiclass. */
  readonly outputSize: number;
  readonly parameterCount: number;
  /** Writes initial parameters. Data-independent: drawn from `random`, never from the data. */
  init(parameters: Float64Array, random: RandomSource): void;
  /** The loss of one example (features at `offset`). */
  loss(parameters: Float64Array, features: Float64Array, offset: number, label: number): number;
  /** Writes the gradient of one example's loss into `gradient` (overwriting it); returns its squared L2 norm. */
  exampleGradient(
    parameters: Float64Array,
    features: Float64Array,
    offset: number,
    label: number,
    gradient: Float64Array,
  ): number;
  /** ADDS the gradient of one example's loss to `gradient` (so a person's rows accumulate in place). */
  addExampleGradient(
    parameters: Float64Array,
    features: Float64Array,
    offset: number,
    label: number,
    gradient: Float64Array,
  ): void;
  /**
   * A block of up to `rowCapacity` rows for the batched per-person path (scratch allocated once),
   * with WebAssembly SIMD kernels where available unless `simd` is false (same results either way).
   */
  personBlock(rowCapacity: number, simd?: boolean): PersonBlock;
  /** Probabilities (binary: of label 1; multiclass: of each class) or the scaled regression value. */
  predict(parameters: Float64Array, features: Float64Array, offset: number, output: Float64Array): void;
}
