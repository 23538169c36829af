/**
 * Federated DP-SGD: the same per-person DP-SGD as pooled training (src/train), with the noisy sum
 * of clipped per-person gradients computed by secure aggregation over the nodes.
 *
 * Each step, each node Poisson-samples its OWN persons at the job's rate q (the union is a Poisson
 * sample of the federation at rate q, since every person is sampled independently), clips and
 * rounds each sampled person's gradient onto the same grid as pooled training (`addClippedToGrid`:
 * ‖r_p‖₂ ≤ Δ = 2^k + √d/2 grid steps, exactly), sums, adds a discrete Gaussian share of variance
 * σ_loc² (below) with m = threshold − max_colluding_nodes, and masks. The gateway unmasks
 * only the sum, divides by the expected batch q·N and steps the optimizer.
 *
 * Privacy: the same accountants as pooled training apply, at the same σ, so a job is charged exactly
 * what pooled training with σ is charged. Each node's share has σ_loc² = ((σΔ)² + t²)/m, t = SMOOTHING,
 * so the m guaranteed shares sum to variance (σΔ)² + t², the pooled grid noise. Their sum is within
 * e^{±Γ_m} of the single discrete Gaussian N_ℤ(0, mσ_loc²) at every point (`sumRatioGap`), which is in
 * turn within e^{±γ(t²)} of a post-processing of the continuous Gaussian mechanism with noise σΔ
 * (docs/training.md §3; more variance than (σΔ)² + t² only adds independent continuous noise first).
 * Per coordinate the sum is so within e^{±(Γ_m + γ(t²))} of a post-processing of the continuous
 * mechanism; over d coordinates and T adaptive steps, mixing over every Poisson sample, within
 * e^{±Γ} with Γ = T·d·(Γ_m + γ(t²)). So the run is (ε + 2Γ, e^Γ·δ)-DP, and has RDP
 * τ(α) + (2α − 1)Γ/(α − 1), for every (ε, δ) and Rényi curve τ the continuous Poisson-subsampled
 * Gaussian accountants (RDP or PLD, both directions) give at σ. σ_loc² ≥ 2·10⁴ whenever σ ≥ 10⁻³ and
 * m ≤ 50, so Γ < 10⁻⁵⁰ (e^{−2π²·10⁴} is far below any float); a plan where it is not is refused. Other honest nodes' shares and the
 * colluders' (known) shares are independent of the guaranteed ones: post-processing.
 */
import {
  latticeRatioGap,
  leastModulusBits,
  noiseShare,
  sumRatioGap,
} from '../dp/distributed-discrete-gaussian.ts';
import { cryptoRandom, type RandomSource } from '../dp/random.ts';
import { type Rational, rationalValue, squareAtLeast } from '../dp/rational.ts';
import type { TrainingDataset } from '../train/dataset.ts';
import {
  isStandardisation,
  type Standardisation,
  standardisationSums,
  standardiseDataset,
} from '../train/feature-standardisation.ts';
import type { TrainedModel } from '../train/model-card.ts';
import { createModelFor } from '../train/models/create-model.ts';
import type { Model } from '../train/models/model.ts';
import { addClippedToGrid, type PersonGrid, personGrid, SMOOTHING } from '../train/noisy-gradient-sum.ts';
import { createOptimizer } from '../train/optimizers.ts';
import { isSampled, samplingThreshold } from '../train/poisson-sampling.ts';
import { countCorrect } from '../train/predict.ts';
import { type PrivacyPlan, planFor, progressSchedule } from '../train/privacy-plan.ts';
import { progressReporter, type TrainingProgress } from '../train/progress.ts';
import type { DatasetSchema } from '../train/schema.ts';
import { initialParameters, TrainingCancelledError } from '../train/train-dp-sgd.ts';
import { type DpSgdSpec, samplingRate } from '../train/training-spec.ts';
import { canonicalJson } from '../util/canonical-json.ts';
import { fromBase64Url, toBase64Url } from './bytes.ts';
import {
  type HeldOutTask,
  heldOutParameters,
  type NoisySumPlan,
  noisyContribution,
} from './federated-noisy-sums.ts';
import { SecAggRefusal, type SessionSpec } from './messages.ts';
import { ModularVector } from './modular-vector.ts';
import { type AggregationOptions, type Dropout, secureAggregate } from './secagg-gateway.ts';
import type { NodeTasks } from './secagg-node.ts';

export interface FederationShape {
  readonly nodes: number;
  readonly threshold: number;
  readonly maxColludingNodes: number;
}

export interface FederatedDpSgdPlan {
  /** The pooled plan for σ: what the accountant calibrated and what the job is charged. */
  readonly privacy: PrivacyPlan;
  readonly grid: PersonGrid;
  readonly granularity: number;
  readonly localSigmaSquared: Rational;
  readonly guaranteedParties: number;
  /** Γ: the whole run's law is within e^{±Γ} of a post-processing of the continuous run. */
  readonly ratioGap: number;
  readonly bits: number;
  readonly wrapProbability: number;
}

/** What float rounding may leave of t² = 9 in m·σ_loc² − (σΔ)²; the bound uses this smaller value. */
const MIN_SMOOTHING_SQUARED = 8;
/** Γ above this would no longer vanish below the last digit of any ε reported. */
const MAX_RATIO_GAP = 1e-50;

/**
 * `privacy`: the pooled plan of all the job's steps, when it was already made (σ calibration can
 * take seconds); without it, of `spec.steps`. A search's candidate is one run of spec.steps = T
 * steps in a job of k·T: its Γ is planned for all k·T steps at its own dimension, so the largest
 * candidate's Γ bounds the sum Σ_c T·d_c·(…) over the runs.
 */
export function planFederatedDpSgd(
  spec: DpSgdSpec,
  dimension: number,
  shape: FederationShape,
  privacy?: PrivacyPlan,
): FederatedDpSgdPlan {
  const q = samplingRate(spec.sampling);
  const plan = planFor({ q, steps: privacy?.steps ?? spec.steps, privacy: spec.privacy }, privacy);
  return distributeNoise(spec, dimension, shape, plan);
}

function distributeNoise(
  spec: DpSgdSpec,
  dimension: number,
  shape: FederationShape,
  privacy: PrivacyPlan,
): FederatedDpSgdPlan {
  const grid = personGrid(dimension, spec.clipNorm, privacy.sigma);
  const guaranteedParties = shape.threshold - shape.maxColludingNodes;
  if (!(guaranteedParties >= 1)) throw new RangeError('threshold − max_colluding_nodes must be ≥ 1');
  const sigmaGrid = privacy.sigma * grid.sensitivityInSteps;
  const localSigmaSquared = squareAtLeast(Math.hypot(sigmaGrid, SMOOTHING) / Math.sqrt(guaranteedParties));
  const localVariance = rationalValue(localSigmaSquared);
  if (guaranteedParties * localVariance - sigmaGrid * sigmaGrid < MIN_SMOOTHING_SQUARED) {
    throw new RangeError('the guaranteed shares do not carry the smoothing term');
  }
  const ratioGap =
    privacy.steps *
    dimension *
    (sumRatioGap(localVariance, guaranteedParties) + latticeRatioGap(MIN_SMOOTHING_SQUARED));
  if (!(ratioGap <= MAX_RATIO_GAP)) throw new RangeError('the summed shares are not close enough to one');
  // |Σ_p r_pj| ≤ N·Δ for the N persons of the federation (public), plus the noise of all nodes.
  const maxAbsData = spec.sampling.populationSize * grid.sensitivityInSteps;
  const totalVariance = shape.nodes * rationalValue(localSigmaSquared);
  const { bits, wrapProbability } = leastModulusBits({ dimension, maxAbsData, totalVariance });
  return {
    privacy,
    grid,
    granularity: spec.clipNorm / grid.stepsPerClip,
    localSigmaSquared,
    guaranteedParties,
    ratioGap,
    bits,
    wrapProbability,
  };
}

/** One node's step: its sampled persons' clipped, rounded gradients summed, plus its noise share. */
export function nodeGradientContribution(options: {
  readonly model: Model;
  readonly parameters: Float64Array;
  readonly dataset: TrainingDataset;
  readonly q: number;
  readonly plan: FederatedDpSgdPlan;
  readonly random?: RandomSource;
}): number[] {
  const { model, parameters, dataset, plan } = options;
  const random = options.random ?? cryptoRandom;
  const dimension = model.parameterCount;
  const threshold = samplingThreshold(options.q);
  const { features, labels, personStart, personCount, featureCount } = dataset;
  const sum = new Float64Array(dimension);
  const gradient = new Float64Array(dimension);
  for (let person = 0; person < personCount; person++) {
    if (!isSampled(random, threshold)) continue;
    const start = personStart[person]!;
    const end = personStart[person + 1]!;
    const norm = model.exampleGradient(parameters, features, start * featureCount, labels[start]!, gradient);
    for (let row = start + 1; row < end; row++) {
      model.addExampleGradient(parameters, features, row * featureCount, labels[row]!, gradient);
    }
    addClippedToGrid(gradient, plan.grid, sum, end - start === 1 ? norm : undefined);
  }
  const noise = noiseShare(plan.localSigmaSquared, dimension, random);
  return Array.from(sum, (value, j) => value + noise[j]!);
}

export interface DpSgdTask {
  readonly kind: 'dp-sgd';
  readonly jobId: string;
  /** 1 … all the job's steps; in a search, run c takes steps c·T + 1 … (c + 1)·T. */
  readonly step: number;
  /** What a node plans the job from itself (for a training job: the request and policy version). */
  readonly job: Record<string, unknown>;
  /** Float64 little-endian model parameters, base64url. */
  readonly parameters: string;
  /** The job's released feature standardisation, when it standardises. */
  readonly standardisation?: Standardisation;
}

/** A job's first round when it standardises: each node's noisy sums for the DP estimate. */
export interface StandardiseTask {
  readonly kind: 'standardise';
  readonly jobId: string;
  readonly job: Record<string, unknown>;
}

/** A job as a node trains it: the runs it planned from its own policy copy, and its own persons. */
export interface NodeJob {
  /** The job's runs, each of `stepsPerRun` steps: one, or a search's candidates in order. */
  readonly runs: readonly DpSgdSpec[];
  /** The persons this node trains on (all of them, or those it did not hold out). */
  readonly dataset: TrainingDataset;
  /** The pooled privacy plan of all the job's steps, when the node made it off its event loop. */
  readonly privacy?: PrivacyPlan;
  /** The persons this node held out, and how their counts are released, for a job with a holdout. */
  readonly heldOut?: { readonly dataset: TrainingDataset; readonly plan: NoisySumPlan };
  /** How the standardisation sums are released, for a job that standardises its features. */
  readonly standardise?: NoisySumPlan;
}

interface PreparedRun {
  readonly spec: DpSgdSpec;
  readonly model: Model;
  readonly plan: FederatedDpSgdPlan;
}

interface PreparedJob {
  readonly dataset: TrainingDataset;
  readonly runs: readonly PreparedRun[];
  readonly stepsPerRun: number;
  readonly totalSteps: number;
  readonly heldOut?: NodeJob['heldOut'];
  readonly standardise?: NoisySumPlan;
  /** The training persons standardised with the released estimate (computed at the first step). */
  standardised?: { readonly key: string; readonly dataset: TrainingDataset };
  /** Whether the node drew this job's held-out persons at the job's first round, before any other. */
  readonly loadedFirst: boolean;
  readonly schema: DatasetSchema;
}

/** Jobs whose data a node keeps loaded between rounds; an older one is loaded again if asked. */
const LOADED_JOBS = 4;

type NodeTask = DpSgdTask | HeldOutTask | StandardiseTask;

/**
 * The node side of federated training. `load` plans the job from the task's `job` (so a node's
 * noise share never depends on the gateway's say-so) and reads the node's own persons; it runs
 * once per job, not every round. A node refuses jobs above the policy's per-job ε, answers each
 * (job, step) at most once and only for steps the plan (and so the charge) covers, answers a
 * job's standardisation round and held-out round once each and only when its own plan of the job
 * has them, and the held-out round only with the persons it held out at the job's first round
 * (a node that joined late, restarted or evicted the job drops out of that round instead).
 */
export function dpSgdTasks(options: {
  readonly load: (task: Pick<NodeTask, 'jobId' | 'job'>) => Promise<NodeJob>;
  readonly shape: FederationShape;
  readonly maxEpsilonPerJob: number;
  readonly maxDeltaPerJob: number;
  readonly random?: RandomSource;
}): NodeTasks {
  const answered = new Map<string, Set<number>>();
  /** `kind:jobId` of the standardisation and held-out rounds answered. */
  const released = new Set<string>();
  const loaded = new Map<string, Promise<PreparedJob>>();
  const load = async (task: DpSgdTask | StandardiseTask): Promise<PreparedJob> => {
    const job = await options.load(task);
    const runs = job.runs.map((spec) => {
      const model = createModelFor(spec.model, job.dataset.schema);
      return {
        spec,
        model,
        plan: planFederatedDpSgd(spec, model.parameterCount, options.shape, job.privacy),
      };
    });
    const { privacy } = runs[0]!.plan;
    if (privacy.epsilon > options.maxEpsilonPerJob || privacy.delta > options.maxDeltaPerJob) {
      throw new SecAggRefusal('the job exceeds the policy’s per-job limits');
    }
    const stepsPerRun = job.runs[0]!.steps;
    if (stepsPerRun * runs.length !== privacy.steps) throw new SecAggRefusal('the runs do not fill the plan');
    return {
      dataset: job.dataset,
      runs,
      stepsPerRun,
      totalSteps: privacy.steps,
      ...(job.heldOut ? { heldOut: job.heldOut } : {}),
      ...(job.standardise ? { standardise: job.standardise } : {}),
      loadedFirst: task.kind === 'standardise' || (task.step === 1 && !job.standardise),
      schema: job.dataset.schema,
    };
  };
  const keyOf = (task: NodeTask) => canonicalJson({ jobId: task.jobId, job: task.job });
  const loadOnce = (task: DpSgdTask | StandardiseTask) => {
    const key = keyOf(task);
    let job = loaded.get(key);
    if (!job) {
      job = load(task);
      loaded.set(key, job);
      if (loaded.size > LOADED_JOBS) loaded.delete(loaded.keys().next().value!);
      job.catch(() => loaded.delete(key));
    }
    return job;
  };
  const checkShape = (spec: SessionSpec, bits: number, length: number) => {
    if (spec.bits !== bits || spec.length !== length)
      throw new SecAggRefusal('session shape does not match the job');
  };
  const prepareStep = async (spec: SessionSpec, task: DpSgdTask) => {
    const prepared = await loadOnce(task);
    if (!Number.isSafeInteger(task.step) || task.step < 1 || task.step > prepared.totalSteps) {
      throw new SecAggRefusal('the step is outside the job’s planned steps');
    }
    const run = prepared.runs[Math.floor((task.step - 1) / prepared.stepsPerRun)]!;
    checkShape(spec, run.plan.bits, run.model.parameterCount);
    const standardisation = standardisationOf(prepared, task);
    return { prepared, run, standardisation };
  };
  const prepareStandardise = async (spec: SessionSpec, task: StandardiseTask) => {
    const prepared = await loadOnce(task);
    if (!prepared.standardise) throw new SecAggRefusal('the job does not standardise its features');
    checkShape(spec, prepared.standardise.bits, prepared.standardise.length);
    return { prepared, plan: prepared.standardise };
  };
  /** Never loads: the held-out persons are the ones drawn when the node first trained the job. */
  const prepareHeldOut = async (spec: SessionSpec, task: HeldOutTask) => {
    const key = keyOf(task);
    const prepared = await loaded.get(key)?.catch(() => undefined);
    if (!prepared?.heldOut || !prepared.loadedFirst)
      throw new SecAggRefusal('this node holds no held-out persons of the job from its first round');
    checkShape(spec, prepared.heldOut.plan.bits, prepared.heldOut.plan.length);
    return { prepared, key, standardisation: standardisationOf(prepared, task) };
  };
  const releaseOnce = (kind: string, jobId: string) => {
    if (released.has(`${kind}:${jobId}`))
      throw new SecAggRefusal(`the job’s ${kind} round was already answered`);
    released.add(`${kind}:${jobId}`);
  };
  const taskOf = (spec: SessionSpec) => spec.task as unknown as NodeTask;
  return {
    accept: async (spec) => {
      const task = taskOf(spec);
      if (task.kind === 'held-out') {
        await prepareHeldOut(spec, task);
        return releaseOnce(task.kind, task.jobId);
      }
      if (task.kind === 'standardise') {
        await prepareStandardise(spec, task);
        return releaseOnce(task.kind, task.jobId);
      }
      await prepareStep(spec, task);
      const steps = answered.get(task.jobId) ?? new Set<number>();
      if (steps.has(task.step)) throw new SecAggRefusal('this step of the job was already answered');
      steps.add(task.step);
      answered.set(task.jobId, steps);
    },
    input: async (spec) => {
      const task = taskOf(spec);
      if (task.kind === 'standardise') {
        const { prepared, plan } = await prepareStandardise(spec, task);
        return ModularVector.fromIntegers(
          plan.bits,
          noisyContribution(standardisationSums(prepared.dataset), plan, options.random),
        );
      }
      if (task.kind === 'held-out') {
        const { prepared, key, standardisation } = await prepareHeldOut(spec, task);
        const { dataset, plan } = prepared.heldOut!;
        const { runs, schema } = prepared;
        const counts = heldOutParameters(
          task,
          runs.map((run) => run.model.parameterCount),
        ).map((parameters, i) =>
          countCorrect(modelOf(runs[i]!.spec, schema, parameters, standardisation), dataset),
        );
        loaded.delete(key);
        // One model: (correct, rows); a search: one correct count per candidate.
        return ModularVector.fromIntegers(
          plan.bits,
          noisyContribution(
            runs.length === 1 ? [counts[0]!, dataset.rowCount] : counts,
            plan,
            options.random,
          ),
        );
      }
      const { prepared, run, standardisation } = await prepareStep(spec, task);
      const bytes = fromBase64Url(task.parameters);
      if (bytes.length !== 8 * run.model.parameterCount)
        throw new SecAggRefusal('parameters have the wrong length');
      const parameters = new Float64Array(
        bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length),
      );
      if (parameters.some((value) => !Number.isFinite(value)))
        throw new SecAggRefusal('parameters are not finite');
      const contribution = nodeGradientContribution({
        model: run.model,
        parameters,
        dataset: trainingPersons(prepared, standardisation),
        q: run.plan.privacy.q,
        plan: run.plan,
        ...(options.random ? { random: options.random } : {}),
      });
      // A job with a holdout stays loaded for its held-out round.
      if (task.step === prepared.totalSteps && !prepared.heldOut) loaded.delete(keyOf(task));
      return ModularVector.fromIntegers(run.plan.bits, contribution);
    },
  };
}

/**
 * The standardisation a task carries: required (and checked for shape and range) when the job
 * standardises, refused when it does not. It is a released estimate: a wrong one changes only the
 * inputs, and clipping bounds each person's gradient whatever the inputs.
 */
function standardisationOf(
  prepared: PreparedJob,
  task: DpSgdTask | HeldOutTask,
): Standardisation | undefined {
  if (!prepared.standardise) {
    if (task.standardisation !== undefined)
      throw new SecAggRefusal('the job does not standardise its features');
    return undefined;
  }
  if (!isStandardisation(task.standardisation, prepared.schema.features.length))
    throw new SecAggRefusal('the task carries no valid standardisation');
  return task.standardisation;
}

/** The node's training persons, standardised with the job's estimate when it has one (cached). */
function trainingPersons(
  prepared: PreparedJob,
  standardisation: Standardisation | undefined,
): TrainingDataset {
  if (!standardisation) return prepared.dataset;
  const key = canonicalJson(standardisation);
  if (prepared.standardised?.key !== key)
    prepared.standardised = { key, dataset: standardiseDataset(prepared.dataset, standardisation) };
  return prepared.standardised.dataset;
}

/** A run's parameters as a model to count correct predictions with (its card names what it reads). */
function modelOf(
  spec: DpSgdSpec,
  schema: DatasetSchema,
  parameters: Float64Array,
  standardisation: Standardisation | undefined,
): TrainedModel {
  return {
    parameters,
    card: {
      ...(standardisation ? { standardisation } : {}),
      model: spec.model,
      features: schema.features,
      label: schema.label,
      optimizer: spec.optimizer,
      training: 'dp-sgd',
      privacy: null,
      initialisedFrom: 'random',
    },
  };
}

export interface FederatedTrainingResult extends TrainedModel {
  readonly plan: FederatedDpSgdPlan;
  readonly dropouts: readonly (readonly Dropout[])[];
}

/**
 * The gateway's training loop. The caller must have committed the charge (plan.privacy.epsilon,
 * plan.privacy.delta) to every community before calling: the first round contacts the nodes.
 * Progress is reported at the plan's checkpoints with the plan's ε, as in pooled training.
 */
export async function trainFederatedDpSgd(options: {
  readonly spec: DpSgdSpec;
  readonly schema: DatasetSchema;
  readonly jobId: string;
  /** Sent to every node with each round, for it to plan the job itself (see `dpSgdTasks`). */
  readonly job: Record<string, unknown>;
  readonly nodes: readonly string[];
  readonly shape: FederationShape;
  readonly aggregation: AggregationOptions;
  /** The pooled plan of all the job's steps (k·T in a search), when already made. */
  readonly privacy?: PrivacyPlan;
  /** The job's steps before this run (earlier candidates of a search). */
  readonly offset?: number;
  /** Weights to start from (pre-trained on a public table) instead of a random initialisation. */
  readonly initialWeights?: Float64Array | undefined;
  /** The job's released feature standardisation, sent with every step (the nodes apply it). */
  readonly standardisation?: Standardisation | undefined;
  readonly onProgress?: (progress: TrainingProgress) => void;
  readonly signal?: AbortSignal;
  readonly random?: RandomSource;
  /** The policy's rows per person on the node tables, for the model card. */
  readonly maxRowsPerPerson?: number;
}): Promise<FederatedTrainingResult> {
  const { spec, shape } = options;
  const model = createModelFor(spec.model, options.schema);
  const dimension = model.parameterCount;
  const plan = planFederatedDpSgd(spec, dimension, shape, options.privacy);
  const parameters = initialParameters(dimension, options.initialWeights);
  if (options.initialWeights === undefined) model.init(parameters, options.random ?? cryptoRandom);
  const steps = spec.steps;
  const offset = options.offset ?? 0;
  const optimizer = createOptimizer(spec.optimizer, dimension, steps);
  const expectedBatchSize = plan.privacy.q * spec.sampling.populationSize;
  const reporter = progressReporter({
    steps,
    q: plan.privacy.q,
    expectedBatchSize,
    accountant: plan.privacy.accountant,
    offset,
    ...progressSchedule(plan.privacy),
    onProgress: options.onProgress,
  });
  const gradient = new Float64Array(dimension);
  const dropouts: Dropout[][] = [];
  for (let step = 1; step <= steps; step++) {
    if (options.signal?.aborted) throw new TrainingCancelledError(`training cancelled at step ${step - 1}`);
    const task: DpSgdTask = {
      kind: 'dp-sgd',
      jobId: options.jobId,
      step: offset + step,
      job: options.job,
      parameters: toBase64Url(new Uint8Array(parameters.buffer.slice(0))),
      ...(options.standardisation ? { standardisation: options.standardisation } : {}),
    };
    const result = await secureAggregate(
      {
        nodes: options.nodes,
        threshold: shape.threshold,
        bits: plan.bits,
        length: dimension,
        task: task as unknown as Record<string, unknown>,
      },
      options.aggregation,
    );
    const sums = result.sum.toSignedIntegers();
    for (let j = 0; j < dimension; j++) gradient[j] = (sums[j]! * plan.granularity) / expectedBatchSize;
    optimizer.step(parameters, gradient);
    dropouts.push([...result.dropouts]);
    reporter.stepDone(step);
  }
  const card = {
    model: spec.model,
    features: options.schema.features,
    label: options.schema.label,
    optimizer: spec.optimizer,
    training: 'dp-sgd' as const,
    privacy: {
      unit: 'person' as const,
      epsilon: plan.privacy.epsilon,
      delta: plan.privacy.delta,
      sigma: plan.privacy.sigma,
      q: plan.privacy.q,
      steps,
      clipNorm: spec.clipNorm,
      accountant: plan.privacy.accountant,
      expectedBatchSize,
      populationSize: spec.sampling.populationSize,
      maxRowsPerPerson: options.maxRowsPerPerson ?? 1,
    },
    initialisedFrom: options.initialWeights === undefined ? ('random' as const) : ('given weights' as const),
    ...(options.standardisation ? { standardisation: options.standardisation } : {}),
  };
  return { parameters, card, plan, dropouts };
}
