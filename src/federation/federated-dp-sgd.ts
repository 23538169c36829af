/**
 * Federated DP-SGD: the same per-person DP-SGD as pooled training (src/train), with the noisy sum
 * of clipped per-person gradients computed by secure aggregation over the nodes.
 *
 * Each step, each node Poisson-samples its OWN persons at the job's rate q (the union is a Poisson
 * sample of the federation at rate q, since every person is sampled independently), clips and
 * rounds each sampled person's gradient onto the same grid as pooled training (`addClippedToGrid`:
 * ‖r_p‖₂ ≤ Δ = 2^k + √d/2 grid steps, exactly), sums, adds a discrete Gaussian share of variance
 * σ_grid²/m with σ_grid = σ·Δ and m = threshold − max_colluding_nodes, and masks. The gateway unmasks
 * only the sum, divides by the expected batch q·N and steps the optimizer.
 *
 * Privacy of one unsampled step (KLS21 Prop. 14, see dp/distributed-discrete-gaussian.ts): with the
 * noise of m honest nodes, ε(α) ≤ (α/2)(Δ/(√m·σ_loc) + τ√d)² ≤ (α/2)(1/σ + τ√d)², i.e. the Gaussian
 * of noise multiplier σ_eff = 1/(1/σ + τ√d). At σ_loc ≈ σ·2^20/√m, τ = 10·Σ exp(−2π²σ_loc²·k/(k+1)) is
 * 0 in double precision, so σ_eff = σ and the job is charged exactly what pooled training with σ
 * is charged (the same accountant on (q, σ_eff, steps, δ), with the same caveats about the discrete
 * versus continuous subsampled Gaussian as docs/training.md states for pooled training).
 */
import { dpSgdEpsilon } from '../dp/accounting/index.ts';
import { noiseShare, sumDistanceTau, wrapAroundProbability } from '../dp/distributed-discrete-gaussian.ts';
import { cryptoRandom, type RandomSource } from '../dp/random.ts';
import { type Rational, rationalValue, squareAtLeast } from '../dp/rational.ts';
import type { TrainingDataset } from '../train/dataset.ts';
import type { TrainedModel } from '../train/model-card.ts';
import { createModelFor } from '../train/models/create-model.ts';
import type { Model } from '../train/models/model.ts';
import { addClippedToGrid, type PersonGrid, personGrid } from '../train/noisy-gradient-sum.ts';
import { createOptimizer } from '../train/optimizers.ts';
import { isSampled, samplingThreshold } from '../train/poisson-sampling.ts';
import { type PrivacyPlan, planPrivacy } from '../train/privacy-plan.ts';
import type { DatasetSchema } from '../train/schema.ts';
import { type DpSgdSpec, samplingRate } from '../train/training-spec.ts';
import { canonicalJson } from '../util/canonical-json.ts';
import { fromBase64Url, toBase64Url } from './bytes.ts';
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
  /** The pooled plan for σ (what the accountant calibrated). */
  readonly privacy: PrivacyPlan;
  /** ε charged: the accountant at σ_eff (equal to privacy.epsilon when τ vanishes). */
  readonly epsilon: number;
  readonly sigmaEffective: number;
  readonly grid: PersonGrid;
  readonly granularity: number;
  readonly localSigmaSquared: Rational;
  readonly guaranteedParties: number;
  readonly tau: number;
  readonly bits: number;
  readonly wrapProbability: number;
}

const MAX_WRAP_PROBABILITY = 1e-12;

export function planFederatedDpSgd(
  spec: DpSgdSpec,
  dimension: number,
  shape: FederationShape,
): FederatedDpSgdPlan {
  const q = samplingRate(spec.sampling);
  const privacy = planPrivacy({ q, steps: spec.steps, privacy: spec.privacy });
  const grid = personGrid(dimension, spec.clipNorm, privacy.sigma);
  const guaranteedParties = shape.threshold - shape.maxColludingNodes;
  if (!(guaranteedParties >= 1)) throw new RangeError('threshold − max_colluding_nodes must be ≥ 1');
  const localSigmaSquared = squareAtLeast(
    (privacy.sigma * grid.sensitivityInSteps) / Math.sqrt(guaranteedParties),
  );
  const tau = sumDistanceTau(rationalValue(localSigmaSquared), guaranteedParties);
  const sigmaEffective = 1 / (1 / privacy.sigma + tau * Math.sqrt(dimension));
  const epsilon =
    sigmaEffective === privacy.sigma
      ? privacy.epsilon
      : dpSgdEpsilon(
          { q, sigma: sigmaEffective, steps: spec.steps, delta: privacy.delta },
          privacy.accountant,
        );
  // |Σ_p r_pj| ≤ N·Δ for the N persons of the federation (public), plus the noise of all nodes.
  const maxAbsData = spec.sampling.populationSize * grid.sensitivityInSteps;
  const totalVariance = shape.nodes * rationalValue(localSigmaSquared);
  let bits = 16;
  while (
    bits < 53 &&
    wrapAroundProbability({ bits, dimension, maxAbsData, totalVariance }) > MAX_WRAP_PROBABILITY
  ) {
    bits++;
  }
  const wrapProbability = wrapAroundProbability({ bits, dimension, maxAbsData, totalVariance });
  if (wrapProbability > MAX_WRAP_PROBABILITY) throw new RangeError('the gradient sum does not fit 53 bits');
  return {
    privacy,
    epsilon,
    sigmaEffective,
    grid,
    granularity: spec.clipNorm / grid.stepsPerClip,
    localSigmaSquared,
    guaranteedParties,
    tau,
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
  readonly step: number;
  readonly spec: DpSgdSpec;
  /** Float64 little-endian model parameters, base64url. */
  readonly parameters: string;
}

/**
 * The node side of federated training. The node plans the job itself from the spec (so its noise
 * share never depends on the gateway's say-so), refuses jobs above the policy's per-job ε, and
 * answers each (job, step) at most once and only for steps the plan (and so the charge) covers.
 */
export function dpSgdTasks(options: {
  readonly dataset: (task: DpSgdTask) => TrainingDataset;
  readonly shape: FederationShape;
  readonly maxEpsilonPerJob: number;
  readonly maxDeltaPerJob: number;
}): NodeTasks {
  const answered = new Map<string, Set<number>>();
  // Calibrating σ runs the accountant: plan each job spec once, not every round.
  const plans = new Map<string, FederatedDpSgdPlan>();
  const prepare = (spec: SessionSpec) => {
    const task = spec.task as unknown as DpSgdTask;
    const dataset = options.dataset(task);
    const model = createModelFor(task.spec.model, dataset.schema);
    const key = canonicalJson({ spec: task.spec, dimension: model.parameterCount });
    const plan = plans.get(key) ?? planFederatedDpSgd(task.spec, model.parameterCount, options.shape);
    plans.set(key, plan);
    if (plan.epsilon > options.maxEpsilonPerJob || plan.privacy.delta > options.maxDeltaPerJob) {
      throw new SecAggRefusal('the job exceeds the policy’s per-job limits');
    }
    if (!Number.isSafeInteger(task.step) || task.step < 1 || task.step > plan.privacy.steps) {
      throw new SecAggRefusal('the step is outside the job’s planned steps');
    }
    if (spec.bits !== plan.bits || spec.length !== model.parameterCount) {
      throw new SecAggRefusal('session shape does not match the job');
    }
    return { task, dataset, model, plan };
  };
  return {
    accept: (spec) => {
      const { task } = prepare(spec);
      const steps = answered.get(task.jobId) ?? new Set<number>();
      if (steps.has(task.step)) throw new SecAggRefusal('this step of the job was already answered');
      steps.add(task.step);
      answered.set(task.jobId, steps);
    },
    input: async (spec) => {
      const { task, dataset, model, plan } = prepare(spec);
      const bytes = fromBase64Url(task.parameters);
      if (bytes.length !== 8 * model.parameterCount)
        throw new SecAggRefusal('parameters have the wrong length');
      const parameters = new Float64Array(
        bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length),
      );
      const contribution = nodeGradientContribution({ model, parameters, dataset, q: plan.privacy.q, plan });
      return ModularVector.fromIntegers(plan.bits, contribution);
    },
  };
}

export interface FederatedTrainingResult extends TrainedModel {
  readonly plan: FederatedDpSgdPlan;
  readonly dropouts: readonly (readonly Dropout[])[];
}

/**
 * The gateway's training loop. `beforeFirstRound` must commit the charge (plan.epsilon,
 * plan.privacy.delta) to every community; no node is contacted before it resolves.
 */
export async function trainFederatedDpSgd(options: {
  readonly spec: DpSgdSpec;
  readonly schema: DatasetSchema;
  readonly jobId: string;
  readonly nodes: readonly string[];
  readonly shape: FederationShape;
  readonly aggregation: AggregationOptions;
  readonly beforeFirstRound: (plan: FederatedDpSgdPlan) => Promise<void>;
  readonly onStep?: (step: number) => void;
  readonly random?: RandomSource;
  /** The policy's rows per person on the node tables, for the model card. */
  readonly maxRowsPerPerson?: number;
}): Promise<FederatedTrainingResult> {
  const { spec, shape } = options;
  const model = createModelFor(spec.model, options.schema);
  const dimension = model.parameterCount;
  const plan = planFederatedDpSgd(spec, dimension, shape);
  const parameters = new Float64Array(dimension);
  model.init(parameters, options.random ?? cryptoRandom);
  const optimizer = createOptimizer(spec.optimizer, dimension);
  const expectedBatchSize = plan.privacy.q * spec.sampling.populationSize;
  const gradient = new Float64Array(dimension);
  const dropouts: Dropout[][] = [];
  await options.beforeFirstRound(plan);
  for (let step = 1; step <= plan.privacy.steps; step++) {
    const task: DpSgdTask = {
      kind: 'dp-sgd',
      jobId: options.jobId,
      step,
      spec,
      parameters: toBase64Url(new Uint8Array(parameters.buffer.slice(0))),
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
    options.onStep?.(step);
  }
  const card = {
    model: spec.model,
    features: options.schema.features,
    label: options.schema.label,
    optimizer: spec.optimizer,
    training: 'dp-sgd' as const,
    privacy: {
      unit: 'person' as const,
      epsilon: plan.epsilon,
      delta: plan.privacy.delta,
      sigma: plan.sigmaEffective,
      q: plan.privacy.q,
      steps: plan.privacy.steps,
      clipNorm: spec.clipNorm,
      accountant: plan.privacy.accountant,
      expectedBatchSize,
      populationSize: spec.sampling.populationSize,
      maxRowsPerPerson: options.maxRowsPerPerson ?? 1,
    },
    initialisedFrom: 'random' as const,
  };
  return { parameters, card, plan, dropouts };
}
