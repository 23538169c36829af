/**
 * DP-SGD training: models with per-example gradients, per-person DP-SGD with exact grid noise,
 * accounting by the DP core, hyperparameter search and public pre-training. Pure code: no database,
 * no HTTP, no environment, no Node-only module, so it also loads on Workers. The Node server runs
 * jobs off the request path through `./worker-runner.ts` (node:worker_threads), imported directly.
 * See docs/training.md.
 */

export { buildTrainingDataset, type DatasetOptions, type TrainingDataset } from './dataset.ts';
export {
  estimateStandardisation,
  type Standardisation,
  standardisationLoss,
  standardiseDataset,
} from './feature-standardisation.ts';
export {
  type Candidate,
  type SearchCost,
  type SearchOptions,
  type SearchPricing,
  type SearchResult,
  type SearchSpec,
  type Selection,
  type SelectionCost,
  searchCost,
  searchHyperparameters,
  searchTrainingSetting,
  selectionCostOf,
} from './hyperparameter-search.ts';
export type { DpSgdCard, ModelCard, TrainedModel } from './model-card.ts';
export { createModel, createModelFor } from './models/create-model.ts';
export type { Activation, Model, ModelSpec, OutputKind } from './models/model.ts';
export { createOptimizer, type LearningRateSchedule, type OptimizerSpec } from './optimizers.ts';
export { countCorrect, type Prediction, predict } from './predict.ts';
export {
  epsilonSchedule,
  type PlanSetting,
  type PrivacyPlan,
  type PrivacyRequest,
  planPrivacy,
  progressCheckpoints,
} from './privacy-plan.ts';
export {
  evaluatePrivately,
  heldOutAccuracy,
  noisyCorrectCount,
  type PrivateEvaluation,
  privateEvaluationLoss,
  scoreLoss,
} from './private-evaluation.ts';
export type { RandomStoppingProgress, SearchProgress, TrainingProgress } from './progress.ts';
export {
  MAX_RANDOM_STOPPING_RUNS,
  type RandomStoppingCost,
  type RandomStoppingOptions,
  type RandomStoppingResult,
  type RandomStoppingSpec,
  randomStoppingCost,
  randomStoppingSearch,
  type StoppingRequest,
} from './random-stopping-search.ts';
export type { CellValue, DatasetSchema, FeatureBound, LabelSpec, TableRow } from './schema.ts';
export { splitByPerson } from './split-by-person.ts';
export {
  type DpSgdResult,
  TrainingCancelledError,
  type TrainingOptions,
  trainDpSgd,
} from './train-dp-sgd.ts';
export { type PublicTrainingOptions, type PublicTrainingSpec, trainNonPrivate } from './train-non-private.ts';
export { type DpSgdSpec, type SamplingSpec, samplingRate, stepsForEpochs } from './training-spec.ts';
