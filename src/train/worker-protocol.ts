/** Messages between worker-runner.ts (the job's owner) and training-worker.ts (the training thread). */
import type { TrainingDataset } from './dataset.ts';
import type { SearchCost, SearchResult, SearchSpec } from './hyperparameter-search.ts';
import type { PlanSetting, PrivacyPlan } from './privacy-plan.ts';
import type { RandomStoppingProgress, SearchProgress, TrainingProgress } from './progress.ts';
import type { RandomStoppingResult, RandomStoppingSpec } from './random-stopping-search.ts';
import type { DpSgdResult } from './train-dp-sgd.ts';
import type { DpSgdSpec } from './training-spec.ts';

export type WorkerRequest =
  | {
      readonly kind: 'train';
      readonly spec: DpSgdSpec;
      readonly dataset: TrainingDataset;
      readonly initialWeights?: Float64Array | undefined;
      readonly plan?: PrivacyPlan | undefined;
    }
  | {
      readonly kind: 'search';
      readonly spec: SearchSpec;
      readonly dataset: TrainingDataset;
      readonly plan?: PrivacyPlan | undefined;
      readonly runPlan?: PrivacyPlan | undefined;
    }
  | {
      readonly kind: 'random_stopping';
      readonly spec: RandomStoppingSpec;
      readonly dataset: TrainingDataset;
    }
  /** Privacy planning (σ calibration by the accountant), which can take seconds: off the event loop. */
  | { readonly kind: 'plan'; readonly setting: PlanSetting };

export type WorkerMessage<Result> =
  | {
      readonly type: 'progress';
      readonly progress: TrainingProgress | SearchProgress | RandomStoppingProgress;
    }
  | { readonly type: 'done'; readonly result: Result }
  | { readonly type: 'failed'; readonly code: string; readonly name: string };

export type WorkerResult = DpSgdResult | SearchResult | RandomStoppingResult | PrivacyPlan | SearchCost;
