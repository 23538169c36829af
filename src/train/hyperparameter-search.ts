/**
 * Hyperparameter search with its whole cost counted up front, by composition.
 *
 * All k candidates share the privacy-relevant setting (q, σ, steps T, δ) and may differ in
 * everything that does not change it: model, optimizer, learning rate, clip norm (the noise is σ
 * times each candidate's own C, so its multiplier stays σ). Training all k is then k·T steps of the
 * same Poisson-subsampled Gaussian mechanism, and its ε is the accountant's ε for k·T steps (RDP
 * adds over steps, Mironov 2017 Prop. 1; the PLD composes them by convolution). σ is calibrated for
 * k·T steps, so the TOTAL training cost meets the requested ε.
 *
 * Choosing the winner needs a score. On PUBLIC validation data the score is free. On held-out
 * PRIVATE data each candidate's accuracy is a pair of discrete-Laplace counts (private-evaluation.ts)
 * with ε_select/k each, so the k evaluations cost ε_select by basic composition; the argmax of noisy
 * scores is post-processing. Total: (ε_train(k·T) + ε_select, δ), basic composition of the two parts.
 *
 * Progress counts the steps of all candidates so far, against the plan of all k·T steps.
 *
 * Why not private selection: Papernot & Steinke 2022 ("Hyperparameter Tuning with Renyi Differential
 * Privacy", ICLR) show that running a RANDOM number of candidates and releasing only the best costs a
 * small constant multiple of ONE run's RDP, much less than k runs for large k. Composition is simpler
 * to state and to check and is never wrong; the random-stopping variant is left for later.
 */
import { cryptoRandom, type RandomSource } from '../dp/random.ts';
import type { TrainingDataset } from './dataset.ts';
import type { ModelSpec } from './models/model.ts';
import type { OptimizerSpec } from './optimizers.ts';
import { countCorrect } from './predict.ts';
import { type PrivacyPlan, type PrivacyRequest, planFor, progressSchedule } from './privacy-plan.ts';
import { evaluatePrivately, privateEvaluationLoss } from './private-evaluation.ts';
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
}

export interface SearchCost {
  /** The plan for all k·T steps: its ε is the training part of the cost. */
  readonly training: PrivacyPlan;
  readonly selectionEpsilon: number;
  readonly epsilon: number;
  readonly delta: number;
}

export interface SearchResult {
  readonly best: DpSgdResult;
  readonly bestIndex: number;
  /** Each candidate's score: exact accuracy on public data, or noisy accuracy on private data. */
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
export function searchCost(
  spec: SearchSetting & { readonly selection: SelectionCost },
  trainingPlan?: PrivacyPlan,
): SearchCost {
  const k = spec.candidates.length;
  const training = planFor(searchTrainingSetting(spec), trainingPlan);
  // Ask the evaluation mechanism for its loss rather than trusting ε_select: it rounds its scale up
  // and reports its own ε (OpenDP style), and k of them compose by addition.
  const { selection } = spec;
  const selectionEpsilon =
    selection.kind === 'private'
      ? k * privateEvaluationLoss(selection.epsilon / k, selection.maxRowsPerPerson).epsilon
      : 0;
  return { training, selectionEpsilon, epsilon: training.epsilon + selectionEpsilon, delta: training.delta };
}

export interface SearchOptions {
  readonly random?: RandomSource;
  /** Progress of each candidate's run; ε spent composes the steps of all candidates so far. */
  readonly onProgress?: (progress: SearchProgress) => void;
  readonly signal?: AbortSignal;
  /** The plan of all k·T steps, calibrated earlier (else it is made here). */
  readonly plan?: PrivacyPlan;
}

export function searchHyperparameters(
  spec: SearchSpec,
  dataset: TrainingDataset,
  options: SearchOptions = {},
): SearchResult {
  const random = options.random ?? cryptoRandom;
  const { onProgress } = options;
  const cost = searchCost({ ...spec, selection: selectionCostOf(spec.selection) }, options.plan);
  const k = spec.candidates.length;
  const schedule = onProgress ? progressSchedule(cost.training) : { checkpoints: [], epsilons: [] };
  const runs = spec.candidates.map((candidate, index) =>
    trainDpSgd(
      {
        ...candidate,
        sampling: spec.sampling,
        steps: spec.steps,
        privacy: {
          accountant: cost.training.accountant,
          delta: cost.training.delta,
          noiseMultiplier: cost.training.sigma,
        },
      },
      dataset,
      {
        random,
        signal: options.signal,
        progressSchedule: { offset: index * spec.steps, ...schedule },
        onProgress:
          onProgress && ((progress) => onProgress({ ...progress, candidate: index, candidates: k })),
      },
    ),
  );
  const { selection } = spec;
  const scores = runs.map((run) =>
    selection.kind === 'public'
      ? countCorrect(run, selection.validation) / Math.max(1, selection.validation.rowCount)
      : evaluatePrivately({ model: run, heldOut: selection.heldOut, epsilon: selection.epsilon / k, random })
          .accuracy,
  );
  const bestIndex = scores.indexOf(Math.max(...scores));
  const best = runs[bestIndex]!;
  const search = { candidates: k, epsilon: cost.epsilon, delta: cost.delta };
  return { best: { ...best, card: { ...best.card, search } }, bestIndex, scores, cost };
}
