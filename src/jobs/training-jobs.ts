/**
 * A DP-SGD training job, end to end (DESIGN.md §1, with `train` in place of execute/release):
 * resolve the request against the policy (free; a refusal costs nothing) → charge the run's full
 * cost to every community in scope, with the job row and the audit entry, in one transaction →
 * read the dataset read-only as the query role → train in a worker thread → store the model.
 *
 * Only the final weights, and progress made of public values, leave the job. A job that fails, is
 * cancelled, or is cut off by a restart keeps its charge: the run may already have used the data.
 */
import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/database.ts';
import { jsonb } from '../db/jsonb.ts';
import { composeRdpCharges, dpSgdRdpCharge, rdpChargeOf } from '../dp/accounting/rdp-ledger.ts';
import { discreteLaplace } from '../dp/discrete-laplace.ts';
import { appendAudit } from '../ledger/audit-log.ts';
import { type CommunityCharge, commitCharge } from '../ledger/charge.ts';
import { releaseCost } from '../ledger/release-cost.ts';
import type { PolicySnapshot } from '../policy/validate.ts';
import type { Principal } from '../principals/principal.ts';
import { runReadOnly } from '../queries/execute.ts';
import {
  buildTrainingDataset,
  evaluatePrivately,
  splitByPerson,
  type TableRow,
  type TrainingDataset,
  type TrainingProgress,
  trainNonPrivate,
} from '../train/index.ts';
import { runSearchInWorker, runTrainingInWorker } from '../train/worker-runner.ts';
import {
  needsPopulationEstimate,
  PERSON_COLUMN,
  personCountSql,
  type ResolvedTraining,
  resolveTraining,
  type TrainingRequest,
} from './training-request.ts';

/** A queued or running job whose heartbeat is older than this was cut off (by a restart or a crash). */
export const HEARTBEAT_TIMEOUT_MS = 60_000;
const HEARTBEAT_INTERVAL_MS = 5_000;
const DATASET_TIMEOUT_MS = 60_000;

export interface JobContext {
  readonly db: Kysely<Database>;
  readonly policy: PolicySnapshot;
  readonly principal: Principal;
  readonly requestId: string;
}

export interface StartedJob {
  readonly id: string;
  readonly charged: readonly CommunityCharge[];
  readonly resolved: ResolvedTraining;
  /** Settles when the job has finished, failed or been cancelled (for tests; the server does not wait). */
  readonly finished: Promise<void>;
}

export async function startTrainingJob(context: JobContext, request: TrainingRequest): Promise<StartedJob> {
  const { db, policy, principal, requestId } = context;
  let population: number | undefined;
  if (needsPopulationEstimate(policy.policy, request)) {
    // Everything that can be refused without data is refused before the count is charged.
    resolveTraining(policy.policy, principal.role, request, Number.MAX_SAFE_INTEGER);
    population = await estimatePopulation(context, request);
  }
  const resolved = resolveTraining(policy.policy, principal.role, request, population);
  const id = crypto.randomUUID();
  const { plan } = resolved;
  // An rdp ledger composes the run by its subsampled-Gaussian curve; a search keeps the curve its (ε, δ) implies.
  const rdp = request.candidates
    ? undefined
    : composeRdpCharges([dpSgdRdpCharge(plan), rdpChargeOf(resolved.losses.slice(1))]);
  const cost = releaseCost({ losses: resolved.losses, mechanism: 'dp_sgd', ...(rdp ? { rdp } : {}) });
  const charged = await db.transaction().execute(async (trx) => {
    const committed = await commitCharge(trx, {
      requestId,
      principal,
      kind: 'training',
      subjectId: id,
      description: `DP-SGD ${resolved.spec.model.kind} on ${resolved.table}: predict ${request.label} from ${request.features.join(', ')} (${plan.steps} steps, q=${plan.q.toPrecision(4)}, σ=${plan.sigma.toPrecision(4)}, ${plan.accountant})`,
      communities: resolved.communities,
      cost,
      policyVersion: policy.version,
    });
    await trx
      .insertInto('dpgate.training_jobs')
      .values({
        id,
        principal_id: principal.id,
        status: 'queued',
        spec: jsonb({ request, table: resolved.table, population_estimate: population ?? null }),
        cost: jsonb(jobCost(resolved)),
        policy_version: policy.version,
        heartbeat_at: new Date(),
      })
      .execute();
    await appendAudit(trx, {
      actor: principal.id,
      action: 'training.charged',
      requestId,
      details: {
        job_id: id,
        epsilon: plan.epsilon,
        delta: plan.delta,
        communities: committed.map((c) => c.communityId),
      },
    });
    return committed;
  });
  const finished = runJob(db, { id, principalId: principal.id }, resolved, policy).catch(() => {});
  return { id, charged, resolved, finished };
}

/**
 * Trains on the dataset, or, when the job evaluates or selects on held-out persons, on the other
 * persons; the held-out noise is part of what the job was charged up front.
 */
async function train(
  resolved: ResolvedTraining,
  dataset: TrainingDataset,
  options: {
    signal: AbortSignal;
    onProgress: (progress: TrainingProgress) => void;
    initialWeights?: Float64Array | undefined;
  },
) {
  if (!resolved.holdout)
    return { result: await runTrainingInWorker(resolved.spec, dataset, options), evaluation: null };
  const { train: trainPart, heldOut } = splitByPerson(dataset, resolved.holdout.fraction);
  const { epsilon } = resolved.holdout;
  if (resolved.candidates) {
    const { spec } = resolved;
    const search = await runSearchInWorker(
      {
        candidates: resolved.candidates,
        sampling: spec.sampling,
        steps: spec.steps,
        privacy: spec.privacy,
        selection: { kind: 'private', heldOut, epsilon },
      },
      trainPart,
      options,
    );
    return {
      result: search.best,
      evaluation: { kind: 'selection', chosen: search.bestIndex, noisy_accuracies: search.scores, epsilon },
    };
  }
  const result = await runTrainingInWorker(resolved.spec, trainPart, options);
  const noisy = evaluatePrivately({ model: result, heldOut, epsilon });
  return {
    result,
    evaluation: {
      kind: 'held_out',
      accuracy: noisy.accuracy,
      noisy_correct: noisy.noisyCorrect,
      noisy_rows: noisy.noisyRows,
      epsilon,
    },
  };
}

/**
 * Noiseless training on the public table, free of charge: its rows are not private, and its
 * weights enter the private run as a data-independent starting point (train-non-private.ts).
 */
async function pretrain(db: Kysely<Database>, resolved: ResolvedTraining): Promise<Float64Array> {
  const { datasetSql, spec } = resolved.pretrain!;
  const rows = await runReadOnly(db, datasetSql, DATASET_TIMEOUT_MS);
  const publicData = buildTrainingDataset({ rows: rows as TableRow[], schema: resolved.schema });
  return trainNonPrivate(spec, publicData).parameters;
}

/** The cost as the job states it: the total charged, and its parts. */
export function jobCost(resolved: ResolvedTraining) {
  const { plan } = resolved;
  const epsilon = resolved.losses.reduce((sum, loss) => sum + (loss.kind === 'zcdp' ? 0 : loss.epsilon), 0);
  return {
    epsilon,
    delta: plan.delta,
    training: {
      epsilon: plan.epsilon,
      sigma: plan.sigma,
      q: plan.q,
      steps: plan.steps,
      accountant: plan.accountant,
    },
    held_out: resolved.holdout
      ? { fraction: resolved.holdout.fraction, epsilon: epsilon - plan.epsilon }
      : null,
    candidates: resolved.candidates?.length ?? 1,
  };
}

/**
 * A DP count of the table's persons, charged first and on its own: adding or removing a person
 * changes the count by at most 1, so discrete Laplace noise of scale 1/ε is ε-DP (GRS09, CKS20).
 * The released count then sets q and the normaliser like a public figure; planning the training
 * from it afterwards is adaptive composition, which the ledger's filters allow.
 */
async function estimatePopulation(context: JobContext, request: TrainingRequest): Promise<number> {
  const { db, policy, principal, requestId } = context;
  const epsilon = request.population_epsilon!;
  const mechanism = discreteLaplace({ scale: 1 / epsilon });
  const subjectId = crypto.randomUUID();
  await db.transaction().execute(async (trx) => {
    await commitCharge(trx, {
      requestId: `${requestId}:population`,
      principal,
      kind: 'training',
      subjectId,
      description: `DP count of persons in ${request.table}, to set the sampling rate of a training job`,
      communities: Object.keys(policy.policy.budgets).sort(),
      cost: releaseCost({ losses: [mechanism.loss(1)], mechanism: 'discrete_laplace' }),
      policyVersion: policy.version,
    });
    await appendAudit(trx, {
      actor: principal.id,
      action: 'training.charged',
      requestId,
      details: { population_count: subjectId, epsilon },
    });
  });
  const [row] = await runReadOnly(db, personCountSql(policy.policy, request), DATASET_TIMEOUT_MS);
  // At least the batch: a tiny noisy count must not push q above 1.
  return Math.max(request.batch_size, mechanism.release(Number((row as { persons: number }).persons)));
}

/** Jobs in this process, so a cancel request reaches the thread at once. */
const running = new Map<string, AbortController>();

async function runJob(
  db: Kysely<Database>,
  { id, principalId }: { id: string; principalId: string },
  resolved: ResolvedTraining,
  policy: PolicySnapshot,
): Promise<void> {
  const controller = new AbortController();
  running.set(id, controller);
  const heartbeat = setInterval(() => void beat(db, id, controller), HEARTBEAT_INTERVAL_MS);
  try {
    const rows = await runReadOnly(
      db,
      resolved.datasetSql,
      Math.max(DATASET_TIMEOUT_MS, policy.policy.limits.statement_timeout_ms),
    );
    const dataset = buildTrainingDataset({
      rows: rows as TableRow[],
      schema: resolved.schema,
      personColumn: PERSON_COLUMN,
      maxRowsPerPerson: resolved.maxRowsPerPerson,
    });
    await db
      .updateTable('dpgate.training_jobs')
      .set({ status: 'running', started_at: new Date(), heartbeat_at: new Date() })
      .where('id', '=', id)
      .execute();
    const { result, evaluation } = await train(resolved, dataset, {
      signal: controller.signal,
      onProgress: (progress) => void beat(db, id, controller, progress),
      initialWeights: resolved.pretrain ? await pretrain(db, resolved) : undefined,
    });
    const card = {
      ...result.card,
      policy_version: policy.version,
      table: resolved.table,
      pretrained_on: resolved.pretrain?.table ?? null,
      evaluation,
    };
    await db.transaction().execute(async (trx) => {
      const model = await trx
        .insertInto('dpgate.models')
        .values({
          job_id: id,
          principal_id: principalId,
          kind: result.card.model.kind,
          weights: jsonb([...result.parameters]),
          card: jsonb(card),
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await trx
        .updateTable('dpgate.training_jobs')
        .set({ status: 'succeeded', model_id: model.id, finished_at: new Date() })
        .where('id', '=', id)
        .execute();
    });
  } catch (error) {
    const cancelled = controller.signal.aborted;
    // Only a stable code: a message could quote a value from the data.
    const code = cancelled
      ? 'cancelled'
      : ((error as { code?: string }).code ?? (error as Error).name ?? 'failed');
    await db
      .updateTable('dpgate.training_jobs')
      .set({ status: cancelled ? 'cancelled' : 'failed', error: String(code), finished_at: new Date() })
      .where('id', '=', id)
      .execute();
  } finally {
    clearInterval(heartbeat);
    running.delete(id);
  }
}

/**
 * Refreshes the heartbeat (and stores the public progress fields, when given); stops the job if a
 * cancel was requested from any gateway.
 */
async function beat(
  db: Kysely<Database>,
  id: string,
  controller: AbortController,
  progress?: TrainingProgress,
) {
  const row = await db
    .updateTable('dpgate.training_jobs')
    .set({ heartbeat_at: new Date(), ...(progress ? { progress: jsonb(progress) } : {}) })
    .where('id', '=', id)
    .returning('cancel_requested')
    .executeTakeFirst()
    .catch(() => undefined);
  if (row?.cancel_requested) controller.abort();
}

/** Asks the gateway running the job to stop it; returns false if the job had already ended. */
export async function requestCancel(db: Kysely<Database>, id: string): Promise<boolean> {
  const row = await db
    .updateTable('dpgate.training_jobs')
    .set({ cancel_requested: true })
    .where('id', '=', id)
    .where('status', 'in', ['queued', 'running'])
    .returning('id')
    .executeTakeFirst();
  running.get(id)?.abort();
  return row !== undefined;
}

/**
 * Marks queued or running jobs whose heartbeat stopped as failed (`interrupted`). Their charges
 * stand: the run may already have read the data. Run at start-up.
 */
export async function failInterruptedJobs(db: Kysely<Database>): Promise<number> {
  const result = await db
    .updateTable('dpgate.training_jobs')
    .set({ status: 'failed', error: 'interrupted', finished_at: new Date() })
    .where('status', 'in', ['queued', 'running'])
    .where((eb) =>
      eb.or([
        eb('heartbeat_at', 'is', null),
        eb('heartbeat_at', '<', sql<Date>`now() - make_interval(secs => ${HEARTBEAT_TIMEOUT_MS / 1000})`),
      ]),
    )
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}
