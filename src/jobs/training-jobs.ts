/**
 * A DP-SGD training job, end to end (DESIGN.md §1, with `train` in place of execute/release):
 * resolve the request against the policy (free; a refusal costs nothing) → charge the run's full
 * cost to every community in scope, with the job row and the audit entry, in one transaction →
 * read the dataset read-only as the query role → train in a worker thread → store the model.
 *
 * Only the final weights, and progress made of public values, leave the job. A job that fails, is
 * cancelled, or is cut off by a restart keeps its charge: the run may already have used the data.
 *
 * The privacy plan (σ calibration, seconds with the PLD accountant) is made once, in a worker
 * thread, and handed to the training thread; the request path only awaits it.
 *
 * A job's status moves queued → running → succeeded | failed | cancelled, and each write names the
 * states it may leave from, so a job marked failed or cancelled (by any gateway) never later
 * succeeds or publishes a model.
 */
import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/database.ts';
import { jsonb } from '../db/jsonb.ts';
import { readOnlyTransactions } from '../db/read-only-transaction.ts';
import { composeRdpCharges, dpSgdRdpCharge, rdpChargeOf } from '../dp/accounting/rdp-ledger.ts';
import { discreteLaplace } from '../dp/discrete-laplace.ts';
import type { AggregationOptions } from '../federation/secagg-gateway.ts';
import { appendAudit } from '../ledger/audit-log.ts';
import { chargeAmounts, remaining, zcdpChargeFits } from '../ledger/budget-state.ts';
import { budgetState, type CommunityCharge, commitCharge } from '../ledger/charge.ts';
import { ledgerTransaction } from '../ledger/ledger-transaction.ts';
import { type ReleaseCost, releaseCost } from '../ledger/release-cost.ts';
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
import {
  planInWorker,
  runRandomStoppingInWorker,
  runSearchInWorker,
  runTrainingInWorker,
} from '../train/worker-runner.ts';
import { type FederatedJob, type ResolvedJob, resolveJob, trainOnNodes } from './federated-training.ts';
import { readTrainingDataset } from './training-dataset.ts';
import {
  jobCost,
  needsPopulationEstimate,
  personCountSql,
  type ResolvedTraining,
  TrainingRefusal,
  type TrainingRequest,
  zcdpPartsOf,
} from './training-request.ts';

/** A queued or running job whose heartbeat is older than this was cut off (by a restart or a crash). */
export const HEARTBEAT_TIMEOUT_MS = 60_000;
export const HEARTBEAT_INTERVAL_MS = 5_000;
/** A cancel of a job whose heartbeat missed this long cancels it at once: no gateway is running it. */
const CANCEL_STALE_MS = 3 * HEARTBEAT_INTERVAL_MS;
const DATASET_TIMEOUT_MS = 60_000;
const LIVE = ['queued', 'running'] as const;

export interface JobContext {
  readonly db: Kysely<Database>;
  readonly policy: PolicySnapshot;
  readonly principal: Principal;
  readonly requestId: string;
  /** How this gateway reaches the federation's nodes, when it holds a federation key. */
  readonly aggregation?: AggregationOptions | undefined;
}

export interface StartedJob {
  readonly id: string;
  readonly charged: readonly CommunityCharge[];
  readonly resolved: ResolvedJob;
  /** Settles when the job has finished, failed or been cancelled (for tests; the server does not wait). */
  readonly finished: Promise<void>;
}

/** What a job would cost and what each community would have left: no charge, no data read. */
export async function priceTrainingJob(context: Omit<JobContext, 'requestId'>, request: TrainingRequest) {
  const { db, policy, principal } = context;
  if (needsPopulationEstimate(policy.policy, request)) {
    throw new TrainingRefusal(
      'invalid_training',
      `a dry run reads no data, and the training cost on "${request.table}" depends on a DP count of its persons made when the job runs: give the population in policy to price it in advance`,
    );
  }
  const resolved = await resolveJob(policy.policy, principal.role, request, {
    plan: planInWorker,
  });
  const cost = trainingReleaseCost(resolved);
  const budgets = await db
    .selectFrom('dpgate.community_budgets')
    .selectAll()
    .where('community_id', 'in', [...resolved.communities])
    .orderBy('community_id')
    .execute();
  return {
    dry_run: true,
    cost: jobCost(resolved),
    communities: budgets.map((row) => {
      const state = budgetState(row);
      const amounts = chargeAmounts(state, cost);
      const after = {
        ...state,
        epsilonSpent: state.epsilonSpent + amounts.epsilon,
        deltaSpent: state.deltaSpent + amounts.delta,
        rhoSpent: state.rhoSpent + (amounts.rho ?? 0),
      };
      const fits =
        state.accounting === 'basic'
          ? after.epsilonSpent <= state.epsilonTotal && after.deltaSpent <= state.deltaTotal
          : zcdpChargeFits(state, amounts);
      return {
        community: row.community_id,
        accounting: row.accounting,
        would_charge: amounts,
        remaining: remaining(state),
        remaining_after: fits ? remaining(after) : null,
        fits,
      };
    }),
    policy_version: policy.version,
  };
}

export async function startTrainingJob(context: JobContext, request: TrainingRequest): Promise<StartedJob> {
  const { db, policy, principal, requestId } = context;
  let population: number | undefined;
  if (needsPopulationEstimate(policy.policy, request)) {
    // Everything that can be refused without data is refused before the count is charged.
    await resolveJob(policy.policy, principal.role, request, {
      plan: planInWorker,
      estimatedPopulation: Number.MAX_SAFE_INTEGER,
    });
    population = await estimatePopulation(context, request);
  }
  const resolved = await resolveJob(policy.policy, principal.role, request, {
    plan: planInWorker,
    estimatedPopulation: population,
  });
  const { aggregation } = context;
  if (resolved.federation && !aggregation) {
    throw new TrainingRefusal(
      'invalid_training',
      `"${resolved.table}" lives on community nodes, and this gateway holds no federation key to reach them`,
    );
  }
  const id = crypto.randomUUID();
  const { plan } = resolved;
  const cost = trainingReleaseCost(resolved);
  const { dry_run: _, ...stored } = request;
  const charged = await ledgerTransaction(db, async (trx) => {
    const committed = await commitCharge(trx, {
      requestId,
      principal,
      kind: 'training',
      subjectId: id,
      description: `${resolved.federation ? 'Federated ' : ''}DP-SGD ${resolved.spec.model.kind} on ${resolved.table}: predict ${request.label} from ${request.features.join(', ')} (${plan.steps} steps, q=${plan.q.toPrecision(4)}, σ=${plan.sigma.toPrecision(4)}, ${plan.accountant})`,
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
        spec: jsonb({ request: stored, table: resolved.table, population_estimate: population ?? null }),
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
  const finished = runJob(db, { id, principalId: principal.id }, resolved, policy, aggregation).catch(
    () => {},
  );
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
  const { plan } = resolved;
  if (!resolved.holdout)
    return {
      result: await runTrainingInWorker(resolved.spec, dataset, { ...options, plan }),
      evaluation: null,
    };
  const { train: trainPart, heldOut } = splitByPerson(dataset, resolved.holdout.fraction);
  const { epsilon } = resolved.holdout;
  if (resolved.candidates && resolved.searchMethod === 'random_stopping') {
    const { spec } = resolved;
    const cost = resolved.randomStopping!;
    const search = await runRandomStoppingInWorker(
      {
        candidates: resolved.candidates,
        sampling: spec.sampling,
        steps: spec.steps,
        heldOut,
        cost,
        ...(spec.standardise ? { standardise: spec.standardise } : {}),
      },
      trainPart,
      options,
    );
    return {
      result: search.best,
      evaluation: {
        kind: 'selection',
        method: 'random_stopping',
        chosen: search.bestIndex,
        // Only the released run's noisy correct count: the other runs' scores, and how many runs
        // counted, stay inside the mechanism.
        noisy_correct: search.bestScore,
        runs: cost.runs,
        epsilon: cost.scoreEpsilon,
      },
    };
  }
  if (resolved.candidates) {
    const { spec } = resolved;
    const search = await runSearchInWorker(
      {
        candidates: resolved.candidates,
        sampling: spec.sampling,
        steps: spec.steps,
        privacy: spec.privacy,
        selection: { kind: 'private', heldOut, epsilon },
        ...(spec.standardise ? { standardise: spec.standardise } : {}),
      },
      trainPart,
      { ...options, plan },
    );
    return {
      result: search.best,
      evaluation: {
        kind: 'selection',
        method: 'composition',
        chosen: search.bestIndex,
        // Noisy correct counts on the held-out rows, one per candidate.
        noisy_correct: search.scores,
        epsilon,
      },
    };
  }
  const result = await runTrainingInWorker(resolved.spec, trainPart, { ...options, plan });
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
  const rows = await runReadOnly(readOnlyTransactions(db), datasetSql, DATASET_TIMEOUT_MS);
  const publicData = buildTrainingDataset({ rows: rows as TableRow[], schema: resolved.schema });
  return trainNonPrivate(spec, publicData).parameters;
}

/**
 * What a job is charged (and what its dry run prices): an rdp ledger composes a run by its
 * subsampled-Gaussian curve and a standardisation (or federated held-out counts) by its ρ; a search keeps the curve its (ε, δ)
 * implies.
 */
function trainingReleaseCost(resolved: ResolvedTraining): ReleaseCost {
  const rdp = resolved.candidates
    ? undefined
    : composeRdpCharges([dpSgdRdpCharge(resolved.plan), rdpChargeOf(resolved.losses.slice(1))]);
  const parts = zcdpPartsOf(resolved);
  const zcdpDelta = parts.reduce((sum, part) => sum + part.delta, 0);
  const cost = releaseCost({
    losses: resolved.losses,
    mechanism: 'dp_sgd',
    ...(rdp ? { rdp } : {}),
    // The ρ parts (standardisation, federated held-out counts) are stated at their share of δ.
    ...(zcdpDelta > 0 ? { zcdpDelta } : {}),
  });
  if (parts.length < 2) return cost;
  // Two ρ parts (a federated job's standardisation and held-out counts) are each stated at their
  // own share of δ, as the job's cost states them; a basic ledger is charged their sum with the
  // training's (basic composition, Dwork & Roth 2014, Thm. 3.16).
  const stated = jobCost(resolved);
  return { ...cost, approx: { epsilon: stated.epsilon, delta: stated.delta } };
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
  await ledgerTransaction(db, async (trx) => {
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
  const [row] = await runReadOnly(
    readOnlyTransactions(db),
    personCountSql(policy.policy, request),
    DATASET_TIMEOUT_MS,
  );
  // At least the batch (and one person): a tiny noisy count must not push q above 1.
  return Math.max(request.batch_size ?? 1, mechanism.release(Number((row as { persons: number }).persons)));
}

/** Jobs in this process, so a cancel request reaches the thread at once. */
const running = new Map<string, AbortController>();

/** A write that found the job no longer in a state it may leave (another gateway ended it). */
class JobEndedElsewhere extends Error {
  override name = 'JobEndedElsewhere';
}

async function runJob(
  db: Kysely<Database>,
  { id, principalId }: { id: string; principalId: string },
  resolved: ResolvedJob,
  policy: PolicySnapshot,
  aggregation: AggregationOptions | undefined,
): Promise<void> {
  const controller = new AbortController();
  running.set(id, controller);
  const heartbeat = setInterval(() => void beat(db, id, controller), HEARTBEAT_INTERVAL_MS);
  let lastProgress: TrainingProgress | undefined;
  try {
    // A federated job reads no rows here: each node reads its own.
    const dataset = resolved.federation ? undefined : await readTrainingDataset(db, resolved, policy.policy);
    const started = await db
      .updateTable('dpgate.training_jobs')
      .set({ status: 'running', started_at: new Date(), heartbeat_at: new Date() })
      .where('id', '=', id)
      .where('status', '=', 'queued')
      .where('cancel_requested', '=', false)
      .returning('id')
      .executeTakeFirst();
    if (!started) controller.abort();
    const progress = {
      signal: controller.signal,
      onProgress: (progress: TrainingProgress) => {
        lastProgress = progress;
        void beat(db, id, controller, progress);
      },
    };
    // Pre-training reads a public table of the gateway's own database, for pooled and federated jobs.
    const initialWeights = resolved.pretrain ? await pretrain(db, resolved) : undefined;
    const { result, evaluation, federation } = dataset
      ? { ...(await train(resolved, dataset, { ...progress, initialWeights })), federation: undefined }
      : await trainOnNodes(resolved as ResolvedJob & { federation: FederatedJob }, {
          ...progress,
          jobId: id,
          policyVersion: policy.version,
          aggregation: aggregation!,
          initialWeights,
        });
    const cost = jobCost(resolved);
    const card = {
      ...result.card,
      // The whole job's cost (search and held-out parts included), then each part.
      privacy: result.card.privacy && {
        ...result.card.privacy,
        epsilon: cost.epsilon,
        delta: cost.delta,
        parts: {
          training: cost.training,
          held_out: cost.held_out,
          population_count: cost.population_count,
          standardisation: cost.standardisation,
          selection: cost.selection,
        },
      },
      policy_version: policy.version,
      table: resolved.table,
      pretrained_on: resolved.pretrain?.table ?? null,
      evaluation,
      ...(federation ? { federation } : {}),
    };
    // Progress ends at what the job was charged: training, then the held-out part.
    const finalProgress = lastProgress && { ...lastProgress, epsilonSpent: cost.epsilon };
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
      const succeeded = await trx
        .updateTable('dpgate.training_jobs')
        .set({
          status: 'succeeded',
          model_id: model.id,
          finished_at: new Date(),
          ...(finalProgress ? { progress: jsonb(finalProgress) } : {}),
        })
        .where('id', '=', id)
        .where('status', '=', 'running')
        .returning('id')
        .executeTakeFirst();
      // Rolls the model back: the job was failed or cancelled meanwhile and must not publish one.
      if (!succeeded) throw new JobEndedElsewhere('the job was ended meanwhile');
    });
  } catch (error) {
    if (error instanceof JobEndedElsewhere) return;
    const cancelled = controller.signal.aborted;
    // Only a stable code: a message could quote a value from the data.
    const code = cancelled
      ? 'cancelled'
      : ((error as { code?: string }).code ?? (error as Error).name ?? 'failed');
    await db
      .updateTable('dpgate.training_jobs')
      .set({ status: cancelled ? 'cancelled' : 'failed', error: String(code), finished_at: new Date() })
      .where('id', '=', id)
      .where('status', 'in', LIVE)
      .execute();
  } finally {
    clearInterval(heartbeat);
    running.delete(id);
  }
}

/**
 * Refreshes the heartbeat (and stores the public progress fields, when given); stops the job if a
 * cancel was requested from any gateway, or if the job was ended elsewhere (no row is live).
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
    .where('status', 'in', LIVE)
    .returning('cancel_requested')
    .executeTakeFirst()
    .then(
      (found) => found ?? { cancel_requested: true },
      // A lost connection is no reason to stop: the next beat retries.
      () => undefined,
    );
  if (row?.cancel_requested) controller.abort();
}

export type CancelOutcome =
  /** The gateway running the job was asked to stop it; it does within one heartbeat. */
  | { readonly outcome: 'requested' }
  /** The job is cancelled (it was queued or running nowhere), or had already ended with `status`. */
  | { readonly outcome: 'ended'; readonly status: string };

/**
 * Cancels a job in any state. A live job is flagged; the gateway running it stops it at once (here)
 * or at its next heartbeat (elsewhere). A live job whose heartbeat missed several beats is run by no
 * one, so it is marked cancelled now. An ended job is left as it is. The charge always stands.
 */
export async function requestCancel(db: Kysely<Database>, id: string): Promise<CancelOutcome> {
  const local = running.get(id);
  const stale = local
    ? sql<boolean>`false`
    : sql<boolean>`(heartbeat_at is null or heartbeat_at < now() - make_interval(secs => ${CANCEL_STALE_MS / 1000}))`;
  const row = await db
    .updateTable('dpgate.training_jobs')
    .set({
      cancel_requested: true,
      status: sql`case when ${stale} then 'cancelled' else status end`,
      error: sql`case when ${stale} then 'cancelled' else error end`,
      finished_at: sql`case when ${stale} then now() else finished_at end`,
    })
    .where('id', '=', id)
    .where('status', 'in', LIVE)
    .returning('status')
    .executeTakeFirst();
  local?.abort();
  if (row && row.status !== 'cancelled') return { outcome: 'requested' };
  if (row) return { outcome: 'ended', status: 'cancelled' };
  const ended = await db
    .selectFrom('dpgate.training_jobs')
    .select('status')
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
  return { outcome: 'ended', status: ended.status };
}

/**
 * Ends queued or running jobs whose heartbeat stopped: `cancelled` if a cancel was asked for, else
 * `failed` (`interrupted`). Their charges stand: the run may already have read the data. Any
 * gateway may run this at any time (it is one UPDATE on the database's clock); `watchJobLiveness`
 * runs it continuously, and reads of a job run it for that job.
 */
export async function failInterruptedJobs(db: Kysely<Database>, jobId?: string): Promise<number> {
  let update = db
    .updateTable('dpgate.training_jobs')
    .set({
      status: sql`case when cancel_requested then 'cancelled' else 'failed' end`,
      error: sql`case when cancel_requested then 'cancelled' else 'interrupted' end`,
      finished_at: new Date(),
    })
    .where('status', 'in', LIVE)
    .where((eb) =>
      eb.or([
        eb('heartbeat_at', 'is', null),
        eb('heartbeat_at', '<', sql<Date>`now() - make_interval(secs => ${HEARTBEAT_TIMEOUT_MS / 1000})`),
      ]),
    );
  if (jobId !== undefined) update = update.where('id', '=', jobId);
  const result = await update.executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/**
 * Checks heartbeats every `intervalMs` (default: one heartbeat interval), so a job whose gateway
 * died is marked failed within HEARTBEAT_TIMEOUT_MS plus one interval, without any restart. Returns
 * a function that stops the watch. Errors (a lost connection) wait for the next round.
 */
export function watchJobLiveness(
  db: Kysely<Database>,
  options: { readonly intervalMs?: number; readonly onInterrupted?: (count: number) => void } = {},
): () => void {
  const timer = setInterval(() => {
    failInterruptedJobs(db).then(
      (count) => {
        if (count > 0) options.onInterrupted?.(count);
      },
      () => {},
    );
  }, options.intervalMs ?? HEARTBEAT_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
