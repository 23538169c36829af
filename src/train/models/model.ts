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

/** A gradient that is never stored: its coordinates are produced, scaled and rounded, on demand. */
export interface RoundedGradient {
  /** Adds r_j = round(scale·g_j) to sum[j] for every coordinate j; returns Σ r_j² (exact: integers). */
  addRounded(scale: number, sum: Float64Array): number;
  /** Replaces what `addRounded(scale, sum)` added by trunc(r_j·shrink) (the same r_j, recomputed). */
  shrinkRounded(scale: number, shrink: number, sum: Float64Array): void;
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
   * Backpropagates one example WITHOUT writing its gradient: keeps the layer factors (each layer's
   * gradient is δ ⊗ a, with bias δ) for `roundedGradient`, and returns ‖gradient‖² from them (the
   * ghost norm: ‖δ‖²(‖a‖² + 1) per layer; Goodfellow 2015).
   */
  prepareExample(parameters: Float64Array, features: Float64Array, offset: number, label: number): number;
  /** The gradient of the example last prepared, read from its factors, scaled and rounded. */
  readonly roundedGradient: RoundedGradient;
  /** Probabilities (binary: of label 1; multiclass: of each class) or the scaled regression value. */
  predict(parameters: Float64Array, features: Float64Array, offset: number, output: Float64Array): void;
}
