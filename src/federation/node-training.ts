/**
 * Federated training on a node: the node re-resolves each job from the analyst's request under its
 * own copy of the policy (same planning, same SQL, same bounds as the gateway), refuses anything
 * the policy would refuse or that does not read node tables, and reads its own persons from its own
 * database, once per job; with a holdout it holds out its own persons as pooled training does.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import type { RandomSource } from '../dp/random.ts';
import { resolveJob } from '../jobs/federated-training.ts';
import { readTrainingDataset } from '../jobs/training-dataset.ts';
import { type Planner, TrainingRefusal, TrainingRequestSchema } from '../jobs/training-request.ts';
import type { PolicySnapshot } from '../policy/validate.ts';
import { splitByPerson } from '../train/split-by-person.ts';
import { dpSgdTasks } from './federated-dp-sgd.ts';
import { SecAggRefusal } from './messages.ts';
import type { NodeTasks } from './secagg-node.ts';

export function trainingTasks(options: {
  readonly policy: PolicySnapshot;
  readonly db: Kysely<Database>;
  readonly plan: Planner;
  readonly random?: RandomSource;
}): NodeTasks {
  const { policy, db } = options;
  const federation = policy.policy.federation!;
  const { limits } = policy.policy;
  return dpSgdTasks({
    shape: {
      nodes: Object.keys(federation.nodes).length,
      threshold: federation.threshold,
      maxColludingNodes: federation.max_colluding_nodes,
    },
    maxEpsilonPerJob: limits.max_epsilon_per_job,
    maxDeltaPerJob: limits.max_delta_per_job,
    ...(options.random ? { random: options.random } : {}),
    load: async (task) => {
      const { request, role, policy_version } = task.job as Record<string, unknown>;
      if (policy_version !== policy.version)
        throw new SecAggRefusal('the gateway holds another policy version');
      if (role !== 'analyst' && role !== 'council') throw new SecAggRefusal('the job names no analyst role');
      const parsed = TrainingRequestSchema.safeParse(request);
      if (!parsed.success || parsed.data.dry_run)
        throw new SecAggRefusal('the job is not a training request');
      const resolved = await resolveJob(policy.policy, role, parsed.data, { plan: options.plan }).catch(
        (error: unknown) => {
          if (error instanceof TrainingRefusal) throw new SecAggRefusal(`job refused: ${error.code}`);
          throw error;
        },
      );
      const { federation: job } = resolved;
      if (!job) throw new SecAggRefusal('the job does not read node tables');
      const dataset = await readTrainingDataset(db, resolved, policy.policy);
      const common = {
        runs: job.runs.map((run) => run.spec),
        privacy: resolved.plan,
        ...(job.standardise ? { standardise: job.standardise } : {}),
      };
      if (!resolved.holdout || !job.heldOut) return { ...common, dataset };
      // The pooled person-keyed split, on this node's own persons, drawn once for the job.
      const { train, heldOut } = splitByPerson(dataset, resolved.holdout.fraction, options.random);
      return { ...common, dataset: train, heldOut: { dataset: heldOut, plan: job.heldOut } };
    },
  });
}
