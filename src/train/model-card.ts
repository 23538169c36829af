/**
 * What is released with a model's weights: what it reads (features and their policy bounds), what it
 * predicts, and what its training cost. The HTTP layer adds the policy version it ran under.
 */
import type { AccountantName } from '../dp/accounting/index.ts';
import type { Standardisation } from './feature-standardisation.ts';
import type { ModelSpec } from './models/model.ts';
import type { OptimizerSpec } from './optimizers.ts';
import type { FeatureBound, LabelSpec } from './schema.ts';

export interface DpSgdCard {
  readonly unit: 'person';
  readonly epsilon: number;
  readonly delta: number;
  /** Noise multiplier σ: noise std is σ·C per coordinate of the summed gradient. */
  readonly sigma: number;
  readonly q: number;
  readonly steps: number;
  readonly clipNorm: number;
  readonly accountant: AccountantName;
  readonly expectedBatchSize: number;
  readonly populationSize: number;
  readonly maxRowsPerPerson: number;
}

export interface ModelCard {
  readonly model: ModelSpec;
  readonly features: readonly FeatureBound[];
  readonly label: LabelSpec;
  readonly optimizer: OptimizerSpec;
  /** `public`: trained without noise on public data, at no privacy cost. */
  readonly training: 'dp-sgd' | 'public';
  /** Null for public training. */
  readonly privacy: DpSgdCard | null;
  readonly initialisedFrom: 'random' | 'given weights';
  /**
   * Set when the features were standardised by a DP estimate (feature-standardisation.ts): the
   * estimate, applied after the bound scaling, in training and at prediction alike.
   */
  readonly standardisation?: Standardisation;
  /**
   * Set when the model won a hyperparameter search: the whole search's cost, which is what was
   * charged (`privacy` then describes this candidate's own run). By composition over k candidates,
   * or by random stopping over a fixed number of runs (random-stopping-search.ts).
   */
  readonly search?: {
    readonly method: 'composition' | 'random_stopping';
    /** The candidates to choose from. */
    readonly candidates: number;
    /** Training runs done: one per candidate by composition, the fixed N by random stopping. */
    readonly runs: number;
    readonly epsilon: number;
    readonly delta: number;
  };
}

export interface TrainedModel {
  readonly parameters: Float64Array;
  readonly card: ModelCard;
}
