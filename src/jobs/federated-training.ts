/**
 * Training jobs over tables that live on community nodes (policy `federation.tables`): the same
 * request, dry run, charge, progress and model card as a pooled job, with the noisy gradient sum of
 * every step computed by secure aggregation over the nodes (federation/federated-dp-sgd.ts). The
 * gateway never reads a row; each node reads its own.
 */

import { rationalValue } from '../dp/rational.ts';
import {
  type FederatedDpSgdPlan,
  type FederationShape,
  planFederatedDpSgd,
  trainFederatedDpSgd,
} from '../federation/federated-dp-sgd.ts';
import type { AggregationOptions } from '../federation/secagg-gateway.ts';
import type { Policy, Role } from '../policy/schema.ts';
import { createModelFor, type TrainingProgress } from '../train/index.ts';
import {
  type ResolvedTraining,
  resolveTraining,
  TrainingRefusal,
  type TrainingRequest,
} from './training-request.ts';

export interface FederatedJob {
  readonly nodes: readonly string[];
  readonly shape: FederationShape;
  readonly plan: FederatedDpSgdPlan;
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
  const resolved = await resolveTraining(policy, role, request, options);
  const federation = federatedTraining(policy, role, request, resolved);
  return federation ? { ...resolved, federation, communities: federation.communities } : resolved;
}

/**
 * Undefined for a job on shared tables. For node tables: the nodes, the distributed-noise plan and
 * the communities charged, or a refusal (at no cost) for what federated training does not do.
 */
function federatedTraining(
  policy: Policy,
  role: Role,
  request: TrainingRequest,
  resolved: ResolvedTraining,
): FederatedJob | undefined {
  const federation = policy.federation;
  const tables = [request.table, ...(request.join ?? [])];
  const onNodes = tables.filter((table) => federation?.tables.includes(table));
  if (!federation || onNodes.length === 0) return undefined;
  if (onNodes.length !== tables.length) {
    throw new TrainingRefusal(
      'invalid_training',
      `${onNodes.join(', ')} live on community nodes and the other tables do not: a job reads one or the other`,
    );
  }
  if (
    request.holdout ||
    request.candidates ||
    request.pretrain ||
    request.population_epsilon ||
    request.standardise
  ) {
    throw new TrainingRefusal(
      'invalid_training',
      'a job over node tables trains one model on a public population: holdout, candidates, pretrain, population_epsilon and standardise are not federated',
    );
  }
  const nodes = Object.keys(federation.nodes).sort();
  const shape = {
    nodes: nodes.length,
    threshold: federation.threshold,
    maxColludingNodes: federation.max_colluding_nodes,
  };
  const dimension = createModelFor(resolved.spec.model, resolved.schema).parameterCount;
  let plan: FederatedDpSgdPlan;
  try {
    plan = planFederatedDpSgd(resolved.spec, dimension, shape, resolved.plan);
  } catch {
    // Sums that do not fit 53 bits, or (at absurdly small σ) shares too coarse for the pooled
    // accountant to hold: refused rather than charged differently from the dry run.
    throw new TrainingRefusal(
      'invalid_training',
      'the summed gradients of this job do not fit the secure aggregation modulus, or its noise is too small to share: ask for fewer persons per step, a smaller model or more noise',
    );
  }
  const { dry_run: _, ...stored } = request;
  return {
    nodes,
    shape,
    plan,
    communities: [...new Set(nodes.map((node) => federation.nodes[node]!.community))].sort(),
    job: { request: stored, role },
  };
}

/** The gateway's side of a federated job, once it is charged: one secure aggregation per step. */
export async function trainOnNodes(
  resolved: ResolvedTraining & { readonly federation: FederatedJob },
  options: {
    readonly jobId: string;
    readonly policyVersion: string;
    readonly aggregation: AggregationOptions;
    readonly signal: AbortSignal;
    readonly onProgress: (progress: TrainingProgress) => void;
  },
) {
  const { federation } = resolved;
  const result = await trainFederatedDpSgd({
    spec: resolved.spec,
    schema: resolved.schema,
    jobId: options.jobId,
    job: { ...federation.job, policy_version: options.policyVersion },
    nodes: federation.nodes,
    shape: federation.shape,
    aggregation: options.aggregation,
    privacy: resolved.plan,
    onProgress: options.onProgress,
    signal: options.signal,
    maxRowsPerPerson: resolved.maxRowsPerPerson,
  });
  const { plan } = federation;
  return {
    result,
    evaluation: null,
    /** Public facts of how the sums were made, for the model card. */
    federation: {
      nodes: federation.nodes,
      threshold: federation.shape.threshold,
      guaranteed_nodes: plan.guaranteedParties,
      local_sigma: Math.sqrt(rationalValue(plan.localSigmaSquared)),
      granularity: plan.granularity,
      modulus_bits: plan.bits,
      wrap_probability: plan.wrapProbability,
    },
  };
}
