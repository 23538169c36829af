/**
 * Training jobs over tables that live on community nodes (policy `federation.tables`): the same
 * request, dry run, charge, progress and model card as a pooled job, with the noisy gradient sum of
 * every step computed by secure aggregation over the nodes (federation/federated-dp-sgd.ts). The
 * gateway never reads a row; each node reads its own.
 */

import type { ZcdpLoss } from '../dp/discrete-gaussian.ts';
import { rationalValue } from '../dp/rational.ts';
import {
  type FederatedDpSgdPlan,
  type FederationShape,
  planFederatedDpSgd,
  type StandardiseTask,
  trainFederatedDpSgd,
} from '../federation/federated-dp-sgd.ts';
import {
  aggregateNoisySum,
  type NoisySumPlan,
  planHeldOutRelease,
  planNoisySum,
  releaseHeldOut,
} from '../federation/federated-noisy-sums.ts';
import type { AggregationOptions, Dropout } from '../federation/secagg-gateway.ts';
import type { Policy, Role } from '../policy/schema.ts';
import {
  type Standardisation,
  standardisationFromSums,
  standardisationSensitivity,
  standardisationSumBound,
} from '../train/feature-standardisation.ts';
import {
  createModelFor,
  type DpSgdSpec,
  heldOutAccuracy,
  type SearchProgress,
  type TrainingProgress,
} from '../train/index.ts';
import {
  type ResolvedTraining,
  resolveTraining,
  TrainingRefusal,
  type TrainingRequest,
} from './training-request.ts';

export interface FederatedRun {
  /** The run's spec: `steps` is its own T (the job's plan covers all runs' steps). */
  readonly spec: DpSgdSpec;
  readonly plan: FederatedDpSgdPlan;
}

export interface FederatedJob {
  readonly nodes: readonly string[];
  readonly shape: FederationShape;
  /** One run, or a search's candidates in order: run c takes the job's steps c·T + 1 … (c + 1)·T. */
  readonly runs: readonly FederatedRun[];
  /** With a holdout: how the nodes' held-out counts are noised and summed. */
  readonly heldOut?: NoisySumPlan;
  /** With `standardise`: how the nodes' standardisation sums are noised and summed, before training. */
  readonly standardise?: NoisySumPlan;
  /** The communities whose nodes hold the table: each pays the job's full cost. */
  readonly communities: readonly string[];
  /** What each node re-plans the job from (with the policy version the gateway holds). */
  readonly job: { readonly request: Omit<TrainingRequest, 'dry_run'>; readonly role: Role };
}

/** A resolved job; `federation` is set when its tables live on the nodes. */
export type ResolvedJob = ResolvedTraining & { readonly federation?: FederatedJob };

/** `resolveTraining`, then, for node tables, what the federation needs; refusals cost nothing. */
export async function resolveJob(
  policy: Policy,
  role: Role,
  request: TrainingRequest,
  options: Parameters<typeof resolveTraining>[3],
): Promise<ResolvedJob> {
  const onNodes = nodeTablesOf(policy, request);
  const resolved = await resolveTraining(policy, role, request, {
    ...options,
    ...(onNodes ? { heldOutNoise: 'distributed_gaussian' as const } : {}),
  });
  const federation = onNodes && federatedTraining(policy, role, request, resolved);
  return federation ? { ...resolved, federation, communities: federation.communities } : resolved;
}

/**
 * False for a job on shared tables; true for one on node tables, or a refusal (at no cost) for a
 * job mixing the two or asking for what federated training does not do.
 */
function nodeTablesOf(policy: Policy, request: TrainingRequest): boolean {
  const federation = policy.federation;
  const tables = [request.table, ...(request.join ?? [])];
  const onNodes = tables.filter((table) => federation?.tables.includes(table));
  if (!federation || onNodes.length === 0) return false;
  if (onNodes.length !== tables.length) {
    throw new TrainingRefusal(
      'invalid_training',
      `${onNodes.join(', ')} live on community nodes and the other tables do not: a job reads one or the other`,
    );
  }
  if (request.population_epsilon) {
    throw new TrainingRefusal(
      'invalid_training',
      'a job over node tables trains on the public population policy gives it: population_epsilon is not federated',
    );
  }
  return true;
}

/** The nodes, each run's distributed-noise plan, the held-out release and the communities charged. */
function federatedTraining(
  policy: Policy,
  role: Role,
  request: TrainingRequest,
  resolved: ResolvedTraining,
): FederatedJob {
  const federation = policy.federation!;
  const nodes = Object.keys(federation.nodes).sort();
  const shape = {
    nodes: nodes.length,
    threshold: federation.threshold,
    maxColludingNodes: federation.max_colluding_nodes,
  };
  const specs = resolved.candidates
    ? resolved.candidates.map((candidate) => ({ ...resolved.spec, ...candidate }))
    : [resolved.spec];
  const runs = specs.map((spec) => {
    const dimension = createModelFor(spec.model, resolved.schema).parameterCount;
    try {
      return { spec, plan: planFederatedDpSgd(spec, dimension, shape, resolved.plan) };
    } catch {
      // Sums that do not fit 53 bits, or (at absurdly small σ) shares too coarse for the pooled
      // accountant to hold: refused rather than charged differently from the dry run.
      throw new TrainingRefusal(
        'invalid_training',
        'the summed gradients of this job do not fit the secure aggregation modulus, or its noise is too small to share: ask for fewer persons per step, a smaller model or more noise',
      );
    }
  });
  const heldOut = resolved.holdout && heldOutRelease(policy, request, resolved, shape);
  const standardise = resolved.standardise && standardisationRelease(policy, request, resolved, shape);
  const { dry_run: _, ...stored } = request;
  return {
    nodes,
    shape,
    runs,
    ...(heldOut ? { heldOut } : {}),
    ...(standardise ? { standardise } : {}),
    communities: [...new Set(nodes.map((node) => federation.nodes[node]!.community))].sort(),
    job: { request: stored, role },
  };
}

/** The held-out counts' noise plan at the ρ the job is charged, or a refusal at no cost. */
function heldOutRelease(
  policy: Policy,
  request: TrainingRequest,
  resolved: ResolvedTraining,
  shape: FederationShape,
): NoisySumPlan {
  const { holdout } = resolved;
  if (resolved.spec.model.kind === 'linear' || resolved.schema.label.kind === 'bounded') {
    throw new TrainingRefusal(
      'invalid_training',
      'a held-out evaluation counts correct predictions: it needs a classifier, not a regression',
    );
  }
  try {
    return planHeldOutRelease({
      rho: (holdout!.loss as ZcdpLoss).rho,
      length: resolved.candidates ? resolved.candidates.length : 2,
      maxRowsPerPerson: resolved.maxRowsPerPerson,
      populationSize: policy.tables[request.table]!.population!,
      shape,
    });
  } catch {
    throw new TrainingRefusal(
      'invalid_training',
      'the held-out counts of this job do not fit the secure aggregation modulus at this holdout ε: ask for a larger holdout ε',
    );
  }
}

/**
 * The standardisation sums' noise plan at the ρ the job is charged: the pooled estimate's vector
 * (feature-standardisation.ts: length 2d + 1, L2 sensitivity m·2^12·√(2d + 1)) summed over the
 * nodes' training persons, each coordinate at most N·m·2^12.
 */
function standardisationRelease(
  policy: Policy,
  request: TrainingRequest,
  resolved: ResolvedTraining,
  shape: FederationShape,
): NoisySumPlan {
  const features = resolved.schema.features.length;
  const m = resolved.maxRowsPerPerson;
  try {
    return planNoisySum({
      rho: resolved.standardise!.loss.rho,
      length: 2 * features + 1,
      l2Sensitivity: standardisationSensitivity(features, m),
      maxAbsData: standardisationSumBound(policy.tables[request.table]!.population! * m),
      shape,
    });
  } catch {
    throw new TrainingRefusal(
      'invalid_training',
      'the standardisation sums of this job do not fit the secure aggregation modulus at this ε: ask for a larger standardise ε',
    );
  }
}

/**
 * The gateway's side of a federated job, once it is charged: one secure aggregation per step of
 * each run, then, with a holdout, one of the held-out counts (paid for in the same charge).
 */
export async function trainOnNodes(
  resolved: ResolvedTraining & { readonly federation: FederatedJob },
  options: {
    readonly jobId: string;
    readonly policyVersion: string;
    readonly aggregation: AggregationOptions;
    readonly signal: AbortSignal;
    readonly onProgress: (progress: TrainingProgress) => void;
    /** Weights pre-trained by the gateway on a public table it holds (free: no private row read). */
    readonly initialWeights?: Float64Array | undefined;
  },
) {
  const { federation } = resolved;
  const job = { ...federation.job, policy_version: options.policyVersion };
  const k = federation.runs.length;
  const standardisation = federation.standardise && (await standardiseOnNodes(resolved, options, job));
  const trained = [];
  for (const [index, run] of federation.runs.entries()) {
    trained.push(
      await trainFederatedDpSgd({
        spec: run.spec,
        schema: resolved.schema,
        jobId: options.jobId,
        job,
        nodes: federation.nodes,
        shape: federation.shape,
        aggregation: options.aggregation,
        privacy: resolved.plan,
        offset: index * resolved.stepsPerRun,
        initialWeights: options.initialWeights,
        standardisation,
        onProgress: resolved.candidates
          ? (progress) => {
              const candidate: SearchProgress = { ...progress, candidate: index, candidates: k };
              options.onProgress(candidate);
            }
          : options.onProgress,
        signal: options.signal,
        maxRowsPerPerson: resolved.maxRowsPerPerson,
      }),
    );
  }
  const { released, evaluation, dropouts } = federation.heldOut
    ? await evaluateOnNodes(resolved, trained, { ...options, job, plan: federation.heldOut, standardisation })
    : { released: 0, evaluation: null, dropouts: undefined };
  const result = trained[released]!;
  const { plan } = federation.runs[released]!;
  const search = resolved.search && {
    candidates: k,
    epsilon: resolved.search.epsilon,
    delta: resolved.search.delta,
  };
  return {
    result: search ? { ...result, card: { ...result.card, search } } : result,
    evaluation,
    /** Public facts of how the sums were made, for the model card. */
    federation: {
      nodes: federation.nodes,
      threshold: federation.shape.threshold,
      guaranteed_nodes: plan.guaranteedParties,
      local_sigma: Math.sqrt(rationalValue(plan.localSigmaSquared)),
      granularity: plan.granularity,
      modulus_bits: plan.bits,
      wrap_probability: plan.wrapProbability,
      ...(federation.standardise
        ? {
            standardisation: {
              local_sigma: Math.sqrt(rationalValue(federation.standardise.noise.localSigmaSquared)),
              modulus_bits: federation.standardise.bits,
              wrap_probability: federation.standardise.wrapProbability,
            },
          }
        : {}),
      ...(federation.heldOut
        ? {
            held_out: {
              local_sigma: Math.sqrt(rationalValue(federation.heldOut.noise.localSigmaSquared)),
              modulus_bits: federation.heldOut.bits,
              wrap_probability: federation.heldOut.wrapProbability,
              dropouts: dropouts!.map((dropout) => dropout.node),
            },
          }
        : {}),
    },
  };
}

/**
 * The first round of a job that standardises: the nodes' noisy sums over their training persons,
 * then the pooled post-processing into each feature's mean and spread (released with the model).
 */
async function standardiseOnNodes(
  resolved: ResolvedTraining & { readonly federation: FederatedJob },
  options: { readonly jobId: string; readonly aggregation: AggregationOptions },
  job: Record<string, unknown>,
): Promise<Standardisation> {
  const { federation } = resolved;
  const task: StandardiseTask = { kind: 'standardise', jobId: options.jobId, job };
  const { noisySums } = await aggregateNoisySum({
    task: task as unknown as Record<string, unknown>,
    nodes: federation.nodes,
    shape: federation.shape,
    aggregation: options.aggregation,
    plan: federation.standardise!,
  });
  return standardisationFromSums(noisySums, resolved.schema.features.length);
}

/**
 * The held-out round: one model's noisy (correct, rows) as the pooled card shows them, or a
 * search's noisy correct counts and the argmax, the candidate released.
 */
async function evaluateOnNodes(
  resolved: ResolvedTraining & { readonly federation: FederatedJob },
  trained: readonly { readonly parameters: Float64Array }[],
  options: {
    readonly jobId: string;
    readonly job: Record<string, unknown>;
    readonly aggregation: AggregationOptions;
    readonly plan: NoisySumPlan;
    readonly standardisation: Standardisation | undefined;
  },
): Promise<{ released: number; evaluation: Record<string, unknown>; dropouts: readonly Dropout[] }> {
  const { federation, holdout } = resolved;
  const { noisyCounts, dropouts } = await releaseHeldOut({
    jobId: options.jobId,
    job: options.job,
    nodes: federation.nodes,
    shape: federation.shape,
    aggregation: options.aggregation,
    plan: options.plan,
    parameters: trained.map((run) => run.parameters),
    standardisation: options.standardisation,
  });
  const { epsilon } = holdout!;
  if (resolved.candidates) {
    const chosen = noisyCounts.indexOf(Math.max(...noisyCounts));
    return {
      released: chosen,
      evaluation: { kind: 'selection', chosen, noisy_correct: noisyCounts, epsilon },
      dropouts,
    };
  }
  const [noisyCorrect, noisyRows] = noisyCounts as [number, number];
  return {
    released: 0,
    evaluation: {
      kind: 'held_out',
      accuracy: heldOutAccuracy(noisyCorrect, noisyRows),
      noisy_correct: noisyCorrect,
      noisy_rows: noisyRows,
      epsilon,
    },
    dropouts,
  };
}
