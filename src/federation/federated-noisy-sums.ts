/**
 * Integer sums over the nodes with distributed discrete Gaussian noise, for the rounds of a
 * federated training job besides its steps: the DP standardisation sums (planned with the pooled
 * estimate's vector and sensitivity, feature-standardisation.ts) and the held-out counts.
 *
 * Each node holds out its own persons by one Bernoulli(f) trial per person on its CSPRNG, as pooled
 * training does (train/split-by-person.ts): every person is held out independently, so the union
 * over the nodes is the pooled split's law, and which persons are held out depends on no data
 * value. After training, each node counts on its held-out persons and adds its noise share:
 *  - a single model: (correct predictions, rows). A person has at most m rows (m = rows per person
 *    of the job), of which c ≤ r ≤ m are correct, so adding or removing one moves the pair by
 *    √(c² + r²) ≤ m√2 in L2;
 *  - a search over k candidates: the k correct counts, one per candidate, each moved by at most m,
 *    so by at most m√k in L2.
 * Both are a vector of length L with L2 sensitivity Δ₂ = m√L. Each node adds i.i.d. N_ℤ(0, σ_loc²)
 * per coordinate, σ_loc² the least whose KLS21 Proposition 14 ρ with the m_g = t − f guaranteed
 * nodes' noise alone is at most the ρ charged (as federated SQL sums are planned,
 * distributed-discrete-gaussian.ts): the sum is ρ-zCDP whoever else drops out or colludes (their
 * shares are absent, or known and independent: post-processing). The accuracy (correct/rows,
 * clamped to [0, 1]) and a search's argmax are post-processing of the released sum.
 */
import {
  type DistributedGaussianPlan,
  leastModulusBits,
  noiseShare,
  planDistributedGaussian,
} from '../dp/distributed-discrete-gaussian.ts';
import { cryptoRandom, type RandomSource } from '../dp/random.ts';
import { rationalValue, roundedUp } from '../dp/rational.ts';
import type { Standardisation } from '../train/feature-standardisation.ts';
import { fromBase64Url, toBase64Url } from './bytes.ts';
import type { FederationShape } from './federated-dp-sgd.ts';
import { SecAggRefusal } from './messages.ts';
import { type AggregationOptions, type Dropout, secureAggregate } from './secagg-gateway.ts';

/** A vector of integer sums over the nodes, each node adding its distributed discrete Gaussian share. */
export interface NoisySumPlan {
  readonly length: number;
  readonly noise: DistributedGaussianPlan;
  readonly bits: number;
  readonly wrapProbability: number;
}

/**
 * σ_loc² for a vector of `length` integer sums of L2 sensitivity `l2Sensitivity` at ρ with the
 * t − f guaranteed nodes' shares alone (KLS21 Prop. 14), and the least modulus that holds data of
 * magnitude up to `maxAbsData` per coordinate plus every node's noise.
 */
export function planNoisySum(options: {
  readonly rho: number;
  readonly length: number;
  readonly l2Sensitivity: number;
  readonly maxAbsData: number;
  readonly shape: FederationShape;
}): NoisySumPlan {
  const { rho, length, shape } = options;
  const guaranteedParties = shape.threshold - shape.maxColludingNodes;
  if (!(guaranteedParties >= 1)) throw new RangeError('threshold − max_colluding_nodes must be ≥ 1');
  const noise = planDistributedGaussian(
    { l2Sensitivity: roundedUp(options.l2Sensitivity), dimension: length, guaranteedParties },
    rho,
  );
  const { bits, wrapProbability } = leastModulusBits({
    dimension: length,
    maxAbsData: options.maxAbsData,
    totalVariance: shape.nodes * rationalValue(noise.localSigmaSquared),
  });
  return { length, noise, bits, wrapProbability };
}

/** ρ, the vector's length, the job's rows per person m and its public population N. */
export function planHeldOutRelease(options: {
  readonly rho: number;
  readonly length: number;
  readonly maxRowsPerPerson: number;
  readonly populationSize: number;
  readonly shape: FederationShape;
}): NoisySumPlan {
  const { maxRowsPerPerson, length } = options;
  // Every count is at most the federation's rows, N·m (N public).
  return planNoisySum({
    ...options,
    l2Sensitivity: maxRowsPerPerson * Math.sqrt(length),
    maxAbsData: options.populationSize * maxRowsPerPerson,
  });
}

/** One node's integer sums plus its noise share, per coordinate. */
export function noisyContribution(
  values: readonly number[],
  plan: NoisySumPlan,
  random: RandomSource = cryptoRandom,
): number[] {
  if (values.length !== plan.length) throw new RangeError('a contribution of the wrong length');
  const share = noiseShare(plan.noise.localSigmaSquared, plan.length, random);
  return values.map((value, i) => value + share[i]!);
}

/** One secure aggregation of the nodes' noisy sums for `task`; fewer than t nodes: it aborts. */
export async function aggregateNoisySum(options: {
  readonly task: Record<string, unknown>;
  readonly nodes: readonly string[];
  readonly shape: FederationShape;
  readonly aggregation: AggregationOptions;
  readonly plan: NoisySumPlan;
}): Promise<{ readonly noisySums: number[]; readonly dropouts: readonly Dropout[] }> {
  const result = await secureAggregate(
    {
      nodes: options.nodes,
      threshold: options.shape.threshold,
      bits: options.plan.bits,
      length: options.plan.length,
      task: options.task,
    },
    options.aggregation,
  );
  return { noisySums: result.sum.toSignedIntegers(), dropouts: result.dropouts };
}

export interface HeldOutTask {
  readonly kind: 'held-out';
  readonly jobId: string;
  /** What a node plans the job from itself, as for its training steps. */
  readonly job: Record<string, unknown>;
  /** Each run's final parameters (one, or one per candidate), Float64 little-endian, base64url. */
  readonly parameters: readonly string[];
  /** The job's released feature standardisation, when it has one. */
  readonly standardisation?: Standardisation;
}

/** The parameter vectors of a held-out task, checked against each run's parameter count. */
export function heldOutParameters(task: HeldOutTask, counts: readonly number[]): Float64Array[] {
  if (!Array.isArray(task.parameters) || task.parameters.length !== counts.length)
    throw new SecAggRefusal('the held-out task names another number of models');
  return task.parameters.map((encoded, run) => {
    const bytes = fromBase64Url(String(encoded));
    if (bytes.length !== 8 * counts[run]!) throw new SecAggRefusal('parameters have the wrong length');
    const parameters = new Float64Array(
      bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length),
    );
    if (parameters.some((value) => !Number.isFinite(value)))
      throw new SecAggRefusal('parameters are not finite');
    return parameters;
  });
}

/**
 * The gateway's held-out round, after the last training step (the job was charged for it before
 * the first): one secure aggregation of the nodes' noisy counts.
 */
export async function releaseHeldOut(options: {
  readonly jobId: string;
  readonly job: Record<string, unknown>;
  readonly nodes: readonly string[];
  readonly shape: FederationShape;
  readonly aggregation: AggregationOptions;
  readonly plan: NoisySumPlan;
  readonly parameters: readonly Float64Array[];
  readonly standardisation?: Standardisation | undefined;
}): Promise<{ readonly noisyCounts: number[]; readonly dropouts: readonly Dropout[] }> {
  const task: HeldOutTask = {
    kind: 'held-out',
    jobId: options.jobId,
    job: options.job,
    parameters: options.parameters.map((p) => toBase64Url(new Uint8Array(p.buffer.slice(0)))),
    ...(options.standardisation ? { standardisation: options.standardisation } : {}),
  };
  const { noisySums, dropouts } = await aggregateNoisySum({
    ...options,
    task: task as unknown as Record<string, unknown>,
  });
  return { noisyCounts: noisySums, dropouts };
}
