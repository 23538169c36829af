/**
 * Per-person DP-SGD (Abadi et al. 2016, "Deep Learning with Differential Privacy", Alg. 1, with
 * Poisson sampling and the person as the unit): each step samples every person with probability q,
 * sums each sampled person's row gradients, clips that sum to norm C, adds the clipped sums, adds
 * Gaussian noise of std σC per coordinate (exactly, on a grid: noisy-gradient-sum.ts) and divides by
 * the EXPECTED batch size q·N with N public. The optimizer then post-processes that noisy average.
 *
 * Only the final weights (and the progress fields listed in TrainingProgress, all functions of
 * the plan alone) leave this function; the privacy cost is the plan's ε, charged by the
 * caller before the call.
 */
import { cryptoRandom, type RandomSource } from '../dp/random.ts';
import type { TrainingDataset } from './dataset.ts';
import {
  estimateStandardisation,
  type Standardisation,
  standardiseDataset,
} from './feature-standardisation.ts';
import type { TrainedModel } from './model-card.ts';
import { createModelFor } from './models/create-model.ts';
import { createNoisyGradientSum } from './noisy-gradient-sum.ts';
import { createOptimizer } from './optimizers.ts';
import { PoissonSampler, samplingThreshold } from './poisson-sampling.ts';
import { type PrivacyPlan, planFor, progressSchedule } from './privacy-plan.ts';
import { type ProgressReporter, progressReporter, type TrainingProgress } from './progress.ts';
import { type DpSgdSpec, samplingRate } from './training-spec.ts';

export interface TrainingOptions {
  /** Defaults to the CSPRNG; tests pass a seeded source. */
  readonly random?: RandomSource;
  /** Called after the steps `progressCheckpoints` names, with the plan's ε for that many steps. */
  readonly onProgress?: (progress: TrainingProgress) => void;
  /** The plan, calibrated earlier off the request path (else it is made here). */
  readonly plan?: PrivacyPlan;
  /** Within a search: where this run's steps sit in the search's plan and its progress schedule. */
  readonly progressSchedule?: ProgressSchedule;
  readonly signal?: AbortSignal;
  /** Start from these weights (e.g. public pre-training) instead of a random initialisation. */
  readonly initialWeights?: Float64Array;
  /** A standardisation estimated earlier (a search estimates once for all runs). */
  readonly standardisation?: Standardisation;
}

export interface ProgressSchedule {
  readonly offset: number;
  readonly checkpoints: readonly number[];
  readonly epsilons: readonly number[];
}

export interface DpSgdResult extends TrainedModel {
  readonly plan: PrivacyPlan;
}

/** Raised when the signal aborts a run; the charge made for the run stands. */
export class TrainingCancelledError extends Error {
  readonly code = 'training_cancelled';
  override readonly name = 'TrainingCancelledError';
}

export function trainDpSgd(
  spec: DpSgdSpec,
  rawDataset: TrainingDataset,
  options: TrainingOptions = {},
): DpSgdResult {
  const q = samplingRate(spec.sampling);
  const plan = planFor({ q, steps: spec.steps, privacy: spec.privacy }, options.plan);
  const random = options.random ?? cryptoRandom;
  const standardisation =
    options.standardisation ??
    (spec.standardise ? estimateStandardisation(rawDataset, spec.standardise.rho, random) : undefined);
  const dataset = standardisation ? standardiseDataset(rawDataset, standardisation) : rawDataset;
  const model = createModelFor(spec.model, dataset.schema);
  const dimension = model.parameterCount;
  const parameters = initialParameters(model.parameterCount, options.initialWeights);
  if (options.initialWeights === undefined) model.init(parameters, random);

  const noisySum = createNoisyGradientSum({
    dimension,
    clipNorm: spec.clipNorm,
    noiseMultiplier: plan.sigma,
    random,
  });
  const optimizer = createOptimizer(spec.optimizer, dimension, plan.steps);
  const sampler = new PoissonSampler(random, samplingThreshold(q));
  const { features, labels, personStart, personCount, featureCount } = dataset;
  const personGradient = new Float64Array(dimension);
  const block = model.personBlock(BLOCK_ROWS);
  // The persons one step samples (regrown when a step samples more).
  let sampled = new Int32Array(Math.ceil(2 * q * personCount) + 64);
  const prefetched = new Float64Array(1);
  const noisyGradient = new Float64Array(dimension);
  const expectedBatchSize = q * spec.sampling.populationSize;
  const reporter: ProgressReporter = progressReporter({
    steps: plan.steps,
    q,
    expectedBatchSize,
    accountant: plan.accountant,
    ...(options.onProgress
      ? (options.progressSchedule ?? { offset: 0, ...progressSchedule(plan) })
      : NO_SCHEDULE),
    onProgress: options.onProgress,
  });

  for (let step = 1; step <= plan.steps; step++) {
    if (options.signal?.aborted) throw new TrainingCancelledError(`training cancelled at step ${step - 1}`);
    noisySum.reset();
    block.clear();
    block.loadParameters(parameters);
    // The step's sample first, then its persons: the rows are then fetched by a loop with nothing
    // else in it, whose memory loads overlap (the sampler draws the same words either way).
    let sampledCount = 0;
    for (
      let person = sampler.failuresBefore(personCount);
      person < personCount;
      person += 1 + sampler.failuresBefore(personCount - person - 1)
    ) {
      if (sampledCount === sampled.length) {
        const grown = new Int32Array(2 * sampled.length);
        grown.set(sampled);
        sampled = grown;
      }
      sampled[sampledCount++] = person;
    }
    prefetched[0] = touchRows(sampled, sampledCount, personStart, features, labels, featureCount);
    for (let k = 0; k < sampledCount; k++) {
      const person = sampled[k]!;
      const start = personStart[person]!;
      const rows = personStart[person + 1]! - start;
      if (rows <= BLOCK_PERSON_ROWS) {
        // Batched: ghost norms for the whole block, then each person clipped and rounded from the
        // layer factors without writing their gradient out.
        if (block.rows + rows > block.rowCapacity) {
          block.prepare();
          noisySum.addBlock(block);
          block.clear();
        }
        block.addPerson(features, labels, start, rows, featureCount);
      } else {
        model.exampleGradient(parameters, features, start * featureCount, labels[start]!, personGradient);
        for (let row = start + 1; row < start + rows; row++) {
          model.addExampleGradient(parameters, features, row * featureCount, labels[row]!, personGradient);
        }
        noisySum.addPerson(personGradient);
      }
    }
    if (block.persons > 0) {
      block.prepare();
      noisySum.addBlock(block);
    }
    noisySum.release(noisyGradient);
    for (let j = 0; j < dimension; j++) noisyGradient[j] = noisyGradient[j]! / expectedBatchSize;
    optimizer.step(parameters, noisyGradient);
    reporter.stepDone(step);
  }

  return {
    parameters,
    plan,
    card: {
      model: spec.model,
      features: dataset.schema.features,
      label: dataset.schema.label,
      optimizer: spec.optimizer,
      training: 'dp-sgd',
      privacy: {
        unit: 'person',
        epsilon: plan.epsilon,
        delta: plan.delta,
        sigma: plan.sigma,
        q: plan.q,
        steps: plan.steps,
        clipNorm: spec.clipNorm,
        accountant: plan.accountant,
        expectedBatchSize,
        populationSize: spec.sampling.populationSize,
        maxRowsPerPerson: dataset.maxRowsPerPerson,
      },
      initialisedFrom: options.initialWeights === undefined ? 'random' : 'given weights',
      ...(standardisation ? { standardisation } : {}),
    },
  };
}

/**
 * Rows per block of the batched path: enough to reuse each weight row across many persons, few enough
 * that the 256-unit layers' block buffers (64 × 256 doubles each) stay in the second-level cache.
 */
const BLOCK_ROWS = 64;
/**
 * Persons with at most this many rows go through the block (their ghost norm is a Gram sum over
 * rows, quadratic in the row count); larger persons have their gradient written out and clipped.
 */
const BLOCK_PERSON_ROWS = 8;

/**
 * Reads one value per 64-byte line of every sampled person's rows (and their first label), so the
 * block's copies find them in cache: loads with nothing between them overlap their cache misses,
 * where the copies, between the block's kernels, wait for one person's at a time. The rows are
 * those the step reads anyway. Returns the values' sum for the caller to store, so the loads stay.
 */
function touchRows(
  sampled: Int32Array,
  count: number,
  personStart: Int32Array,
  features: Float64Array,
  labels: Float64Array,
  featureCount: number,
): number {
  let sum = 0;
  for (let k = 0; k < count; k++) {
    const person = sampled[k]!;
    const start = personStart[person]!;
    const end = personStart[person + 1]! * featureCount;
    for (let j = start * featureCount; j < end; j += 8) sum += features[j]!;
    sum += features[end - 1]! + labels[start]!;
  }
  return sum;
}

const NO_SCHEDULE: ProgressSchedule = { offset: 0, checkpoints: [], epsilons: [] };

/** A fresh parameter buffer, holding a copy of the given weights if any (checked for shape). */
export function initialParameters(
  parameterCount: number,
  initialWeights: Float64Array | undefined,
): Float64Array {
  if (initialWeights === undefined) return new Float64Array(parameterCount);
  if (initialWeights.length !== parameterCount)
    throw new RangeError(
      `initial weights have ${initialWeights.length} values, the model needs ${parameterCount}`,
    );
  return Float64Array.from(initialWeights);
}
