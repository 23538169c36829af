/**
 * Hyperparameter search with its whole cost known up front, by one of two selections; the job runs
 * whichever costs less for its setting (`searchCost`), priced before any data is read.
 *
 * All k candidates share the privacy-relevant setting (q, σ, steps T, δ) and may differ in
 * everything that does not change it: model, optimizer, learning rate, clip norm (the noise is σ
 * times each candidate's own C, so its multiplier stays σ). σ is calibrated for k·T steps, so with
 * a target ε the composition below meets it; the random stopping is priced at the same σ.
 *
 * Each score is ONE noisy count on the held-out persons: the number of held-out rows the run
 * classifies correctly, with discrete Laplace noise (private-evaluation.ts `noisyCorrectCount`). All
 * runs are scored on the same held-out rows, so the count ranks them as accuracy does, and needs no
 * noisy row count beside it. Every score has ε_select/k.
 *
 * - **Composition**: train each candidate once and score it. Training is k·T steps of the same
 *   subsampled Gaussian, so its ε is the accountant's ε for k·T steps (RDP adds over steps,
 *   Mironov 2017 Prop. 1; the PLD composes them by convolution); the k scores cost ε_select by basic
 *   composition, and the argmax is post-processing. Total: (ε_train(k·T) + ε_select, δ).
 * - **Random stopping** (private-selection.ts; Papernot & Steinke 2022, Thm. 2): run K times a base
 *   mechanism Q = (draw a candidate uniformly, train it T steps, score it), K geometric with mean k,
 *   and release only the best run. Q's curve is T·τ_SGM(α) + the score's pure-DP curve; the
 *   selection's curve is their bound, converted to (ε, δ) by Balle et al. 2020 Thm. 21. Only the
 *   best run's model, candidate and score leave; K, the other runs and their scores do not.
 */
import { DEFAULT_RDP_ORDERS, rdpToApprox, subsampledGaussianRdp } from '../dp/accounting/index.ts';
import { LEDGER_RDP_ORDERS, pureRdp } from '../dp/accounting/rdp-ledger.ts';
import { cryptoRandom, type RandomSource, uniformInt } from '../dp/random.ts';
import type { TrainingDataset } from './dataset.ts';
import { estimateStandardisation } from './feature-standardisation.ts';
import type { ModelSpec } from './models/model.ts';
import type { OptimizerSpec } from './optimizers.ts';
import { countCorrect } from './predict.ts';
import { type PrivacyPlan, type PrivacyRequest, planFor, progressSchedule } from './privacy-plan.ts';
import { noisyCorrectCount, scoreLoss } from './private-evaluation.ts';
import { geometricRule, randomStoppingRdp, sampleGeometricRuns } from './private-selection.ts';
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

export type SelectionMethod = 'composition' | 'random_stopping';

export interface SearchCost {
  /** The plan for all k·T steps: its σ is every run's, its ε the training part of a composition. */
  readonly training: PrivacyPlan;
  /** ε of the k scores of a composition. */
  readonly selectionEpsilon: number;
  /** The method the search runs: the cheaper of the two, or composition for a public selection. */
  readonly method: SelectionMethod;
  /** ε of each method for this setting (random stopping: null for a public selection). */
  readonly compositionEpsilon: number;
  readonly randomStoppingEpsilon: number | null;
  /** ε of one score. */
  readonly scoreEpsilon: number;
  /** E[K] of the random stopping: k. */
  readonly expectedRuns: number;
  /** The whole search's Rényi curve on LEDGER_RDP_ORDERS, for random stopping (else null). */
  readonly rdpCurve: readonly number[] | null;
  readonly epsilon: number;
  readonly delta: number;
}

export interface SearchResult {
  readonly best: DpSgdResult;
  /** The candidate the released model was trained with. */
  readonly bestIndex: number;
  /**
   * The released noisy scores (noisy correct counts on the held-out rows; exact accuracy on public
   * data): one per candidate for a composition, only the best run's for random stopping.
   */
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
 * The Rényi curve of random stopping on `orders`: Papernot & Steinke's Theorem 2 bound for the
 * geometric K with mean k over Q = T steps of the subsampled Gaussian, then one score.
 */
function randomStoppingCurve(
  run: { readonly q: number; readonly sigma: number; readonly steps: number },
  scoreEpsilon: number,
  expectedRuns: number,
  orders: readonly number[],
): number[] {
  const base = orders.map(
    (order) => run.steps * subsampledGaussianRdp(run, order) + pureRdp(scoreEpsilon, order),
  );
  return randomStoppingRdp(geometricRule(expectedRuns), orders, base);
}

/** The accountant's grid and the ledger's orders together: the bound is then read off at both. */
const SELECTION_ORDERS: readonly number[] = [...new Set([...DEFAULT_RDP_ORDERS, ...LEDGER_RDP_ORDERS])].sort(
  (a, b) => a - b,
);

/**
 * What the search will cost, before anything runs (and before any data is read): what the ledger
 * charges. `trainingPlan`, when given, is the plan of `searchTrainingSetting(spec)` made earlier.
 * Pricing the random stopping evaluates the Rényi curve at a few hundred orders (tens of ms): the
 * gateway does it in a worker thread (`priceSearchInWorker`).
 */
export function searchCost(spec: SearchPricing, trainingPlan?: PrivacyPlan): SearchCost {
  const k = spec.candidates.length;
  const training = planFor(searchTrainingSetting(spec), trainingPlan);
  const { selection } = spec;
  const none = { scoreEpsilon: 0, expectedRuns: k, rdpCurve: null, randomStoppingEpsilon: null };
  if (selection.kind === 'public')
    return {
      training,
      selectionEpsilon: 0,
      method: 'composition',
      compositionEpsilon: training.epsilon,
      ...none,
      epsilon: training.epsilon,
      delta: training.delta,
    };
  // Ask the score's mechanism for its loss rather than trusting ε_select/k: it rounds its scale up
  // and reports its own ε (OpenDP style).
  const scoreEpsilon = scoreLoss(selection.epsilon / k, selection.maxRowsPerPerson).epsilon;
  const selectionEpsilon = k * scoreEpsilon;
  const compositionEpsilon = training.epsilon + selectionEpsilon;
  const run = { q: training.q, sigma: training.sigma, steps: spec.steps };
  const curve = randomStoppingCurve(run, scoreEpsilon, k, SELECTION_ORDERS);
  const randomStoppingEpsilon = rdpToApprox(SELECTION_ORDERS, curve, training.delta).epsilon;
  const method: SelectionMethod =
    randomStoppingEpsilon < compositionEpsilon ? 'random_stopping' : 'composition';
  return {
    training,
    selectionEpsilon,
    method,
    compositionEpsilon,
    randomStoppingEpsilon,
    scoreEpsilon,
    expectedRuns: k,
    rdpCurve:
      method === 'random_stopping'
        ? LEDGER_RDP_ORDERS.map((order) => curve[SELECTION_ORDERS.indexOf(order)]!)
        : null,
    epsilon: Math.min(compositionEpsilon, randomStoppingEpsilon),
    delta: training.delta,
  };
}

export interface SearchOptions {
  readonly random?: RandomSource;
  /** Progress of each candidate's run (composition only: random stopping reports none, see below). */
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
  const search = { candidates: k, method: cost.method, epsilon: cost.epsilon, delta: cost.delta };
  if (cost.method === 'composition') {
    const runs = spec.candidates.map((_, index) =>
      train(index, { offset: index * spec.steps, onProgress: options.onProgress }),
    );
    const scores = runs.map(score);
    const bestIndex = scores.indexOf(Math.max(...scores));
    const best = runs[bestIndex]!;
    return { best: { ...best, card: { ...best.card, search } }, bestIndex, scores, cost };
  }
  // Random stopping: no progress events and nothing about K leaves (the bound needs K hidden).
  const runs = sampleGeometricRuns(random, cost.expectedRuns);
  let best: { run: DpSgdResult; index: number; score: number } | undefined;
  for (let r = 0; r < runs; r++) {
    const index = uniformInt(random, k);
    const run = train(index, { offset: 0 });
    const runScore = score(run);
    if (best === undefined || runScore > best.score) best = { run, index, score: runScore };
  }
  const { run, index, score: bestScore } = best!;
  return { best: { ...run, card: { ...run.card, search } }, bestIndex: index, scores: [bestScore], cost };
}
