/**
 * Hyperparameter search with its whole cost known up front, priced before any data is read.
 *
 * All k candidates share the privacy-relevant setting (q, σ, steps T, δ) and may differ in
 * everything that does not change it: model, optimizer, learning rate, clip norm (the noise is σ
 * times each candidate's own C, so its multiplier stays σ). σ is calibrated for k·T steps, so with
 * a target ε the composition below meets it.
 *
 * Each score is ONE noisy count on the held-out persons: the number of held-out rows the run
 * classifies correctly, with discrete Laplace noise (private-evaluation.ts `noisyCorrectCount`). All
 * runs are scored on the same held-out rows, so the count ranks them as accuracy does, and needs no
 * noisy row count beside it. Every score has ε_select/k.
 *
 * Cost: train each candidate once and score it. Training is k·T steps of the same subsampled
 * Gaussian, so its ε is the accountant's ε for k·T steps (RDP adds over steps, Mironov 2017
 * Prop. 1; the PLD composes them by convolution); the k scores cost ε_select by basic composition
 * (Dwork & Roth 2014, Thm. 3.16), and the argmax is post-processing. Total: (ε_train(k·T) + ε_select, δ).
 *
 * The other way to choose, random stopping (Papernot & Steinke 2022), is random-stopping-search.ts:
 * it runs a fixed number of times so that the job's time and events do not reveal how many counted.
 */
import { cryptoRandom, type RandomSource } from '../dp/random.ts';
import type { TrainingDataset } from './dataset.ts';
import { estimateStandardisation } from './feature-standardisation.ts';
import type { ModelSpec } from './models/model.ts';
import type { OptimizerSpec } from './optimizers.ts';
import { countCorrect } from './predict.ts';
import { type PrivacyPlan, type PrivacyRequest, planFor, progressSchedule } from './privacy-plan.ts';
import { noisyCorrectCount, scoreLoss } from './private-evaluation.ts';
import type { SearchProgress } from './progress.ts';
import { type DpSgdResult, trainDpSgd } from './train-dp-sgd.ts';
import { type SamplingSpec, samplingRate } from './training-spec.ts';

export interface Candidate {
  readonly model: ModelSpec;
  readonly clipNorm: number;
  readonly optimizer: OptimizerSpec;
}

export type Selection =
  | { readonly kind: 'public'; readonly validation: TrainingDataset }
  | { readonly kind: 'private'; readonly heldOut: TrainingDataset; readonly epsilon: number };

export interface SearchSpec {
  readonly candidates: readonly Candidate[];
  readonly sampling: SamplingSpec;
  readonly steps: number;
  /** The target (or σ) for training ALL candidates together. */
  readonly privacy: PrivacyRequest;
  readonly selection: Selection;
  /** Standardise the features by a DP estimate at this ρ, once for all runs (charged by the caller). */
  readonly standardise?: { readonly rho: number };
}

export interface SearchCost {
  /** The plan for all k·T steps: its σ is every run's, its ε the training part of the cost. */
  readonly training: PrivacyPlan;
  /** ε of the k scores. */
  readonly selectionEpsilon: number;
  /** ε of one score. */
  readonly scoreEpsilon: number;
  readonly epsilon: number;
  readonly delta: number;
}

export interface SearchResult {
  readonly best: DpSgdResult;
  /** The candidate the released model was trained with. */
  readonly bestIndex: number;
  /** The released scores, one per candidate: noisy correct counts, or exact accuracy on public data. */
  readonly scores: readonly number[];
  readonly cost: SearchCost;
}

/** What a selection costs depends only on its kind, ε and the held-out rows per person. */
export type SelectionCost =
  | { readonly kind: 'public' }
  | { readonly kind: 'private'; readonly epsilon: number; readonly maxRowsPerPerson: number };

export function selectionCostOf(selection: Selection): SelectionCost {
  return selection.kind === 'public'
    ? { kind: 'public' }
    : { kind: 'private', epsilon: selection.epsilon, maxRowsPerPerson: selection.heldOut.maxRowsPerPerson };
}

type SearchSetting = Pick<SearchSpec, 'candidates' | 'sampling' | 'steps' | 'privacy'>;

/** What a search's price is a function of: the setting and the selection's cost parameters. */
export type SearchPricing = SearchSetting & { readonly selection: SelectionCost };

/** The setting whose plan is the training part of a search's cost: k·T steps of the shared (q, σ). */
export function searchTrainingSetting(spec: SearchSetting) {
  const k = spec.candidates.length;
  if (k < 1) throw new RangeError('a search needs at least one candidate');
  return { q: samplingRate(spec.sampling), steps: k * spec.steps, privacy: spec.privacy };
}

/**
 * What the search will cost, before anything runs (and before any data is read): what the ledger
 * charges. `trainingPlan`, when given, is the plan of `searchTrainingSetting(spec)` made earlier.
 */
export function searchCost(spec: SearchPricing, trainingPlan?: PrivacyPlan): SearchCost {
  const k = spec.candidates.length;
  const training = planFor(searchTrainingSetting(spec), trainingPlan);
  const { selection } = spec;
  if (selection.kind === 'public')
    return {
      training,
      selectionEpsilon: 0,
      scoreEpsilon: 0,
      epsilon: training.epsilon,
      delta: training.delta,
    };
  // Ask the score's mechanism for its loss rather than trusting ε_select/k: it rounds its scale up
  // and reports its own ε (OpenDP style).
  const scoreEpsilon = scoreLoss(selection.epsilon / k, selection.maxRowsPerPerson).epsilon;
  const selectionEpsilon = k * scoreEpsilon;
  return {
    training,
    selectionEpsilon,
    scoreEpsilon,
    epsilon: training.epsilon + selectionEpsilon,
    delta: training.delta,
  };
}

export interface SearchOptions {
  readonly random?: RandomSource;
  /** Progress of each candidate's run. */
  readonly onProgress?: (progress: SearchProgress) => void;
  readonly signal?: AbortSignal;
  /** The plan of all k·T steps, calibrated earlier (else it is made here). */
  readonly plan?: PrivacyPlan;
  /** The plan of one T-step run at the search's σ, made earlier (else it is made here, once). */
  readonly runPlan?: PrivacyPlan | undefined;
}

export function searchHyperparameters(
  spec: SearchSpec,
  dataset: TrainingDataset,
  options: SearchOptions = {},
): SearchResult {
  const random = options.random ?? cryptoRandom;
  const cost = searchCost({ ...spec, selection: selectionCostOf(spec.selection) }, options.plan);
  const k = spec.candidates.length;
  const { selection } = spec;
  const standardisation = spec.standardise
    ? { standardisation: estimateStandardisation(dataset, spec.standardise.rho, random) }
    : {};
  const score = (run: DpSgdResult): number =>
    selection.kind === 'public'
      ? countCorrect(run, selection.validation) / Math.max(1, selection.validation.rowCount)
      : noisyCorrectCount({ model: run, heldOut: selection.heldOut, epsilon: selection.epsilon / k, random });
  const runSetting = {
    q: cost.training.q,
    steps: spec.steps,
    privacy: {
      accountant: cost.training.accountant,
      delta: cost.training.delta,
      noiseMultiplier: cost.training.sigma,
    },
  };
  // Every run shares one setting, so one plan (the card's per-run ε) serves them all.
  const runPlan = planFor(runSetting, options.runPlan);
  const train = (index: number, progress: Pick<SearchOptions, 'onProgress'> & { offset: number }) =>
    trainDpSgd(
      { ...spec.candidates[index]!, sampling: spec.sampling, steps: spec.steps, privacy: runSetting.privacy },
      dataset,
      {
        random,
        plan: runPlan,
        signal: options.signal,
        ...standardisation,
        ...(progress.onProgress
          ? {
              progressSchedule: { offset: progress.offset, ...progressSchedule(cost.training) },
              onProgress: (step) => progress.onProgress?.({ ...step, candidate: index, candidates: k }),
            }
          : {}),
      },
    );
  const search = {
    method: 'composition' as const,
    candidates: k,
    runs: k,
    epsilon: cost.epsilon,
    delta: cost.delta,
  };
  const runs = spec.candidates.map((_, index) =>
    train(index, { offset: index * spec.steps, onProgress: options.onProgress }),
  );
  const scores = runs.map(score);
  const bestIndex = scores.indexOf(Math.max(...scores));
  const best = runs[bestIndex]!;
  return { best: { ...best, card: { ...best.card, search } }, bestIndex, scores, cost };
}
