/**
 * One analyst query, end to end: plan (free) → [dry run] → retry (free, stored bytes) → repeat or
 * charge (one statement of a group commit, ledger/group-commit.ts: a released answer to the same
 * request is returned with nothing charged, otherwise the charge commits with the pending answer and
 * the audit entry) → execute read-only → release with noise → store → respond.
 *
 * The order is the privacy argument: nothing computed from private rows exists before the charge
 * has committed, and a refused request (plan, policy, budget) has written nothing but its audit
 * entry. A crash after the charge leaves a charge and a pending answer: never an answer without a
 * charge. A failure after the charge keeps the charge (it may depend on the data) and says nothing
 * about the data.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import { isDatabaseUnavailable, isStatementTimeout } from '../db/database-errors.ts';
import type { QueryRunner } from '../db/query-runner.ts';
import type { RandomSource } from '../dp/random.ts';
import { Problem } from '../http/problem.ts';
import {
  failIfAbandoned,
  findByIdempotencyKey,
  markFailed,
  markReleased,
  type StoredAnswer,
  storedText,
} from '../ledger/answers.ts';
import { appendAudit } from '../ledger/audit-log.ts';
import { remaining } from '../ledger/budget-state.ts';
import {
  BudgetExhaustedError,
  budgetState,
  type CommunityCharge,
  IdempotencyKeyTakenError,
} from '../ledger/charge.ts';
import { type AnswerChargeOutcome, chargeAnswer } from '../ledger/group-commit.ts';
import { queryReleaseCost } from '../ledger/release-cost.ts';
import type { PolicySnapshot } from '../policy/validate.ts';
import type { Principal } from '../principals/principal.ts';
import {
  chargesNothing,
  estimateQueryTime,
  type PostProcessingStep,
  type PrivateQueryPlan,
  plannedAccuracy,
  planQuery,
  type QueryPlan,
  release,
  type Selection,
  type TimeEstimate,
} from '../sql/index.ts';
import { canonicalJson } from '../util/canonical-json.ts';
import { sha256Hex } from '../util/sha256.ts';
import { runReadOnly } from './execute.ts';
import type { FaultInjector } from './fault-points.ts';
import type { PlannedRequest, RepeatCache } from './repeat-cache.ts';

export interface QueryBody {
  readonly sql: string;
  readonly epsilon?: number | undefined;
  readonly delta?: number | undefined;
  readonly mechanism?: 'laplace' | 'gaussian' | undefined;
  readonly dry_run?: boolean | undefined;
  readonly idempotency_key?: string | undefined;
  readonly post_process?: readonly PostProcessingStep[] | undefined;
}

export interface AnswerContext {
  /** The ledger: charges, answers, audit. Never runs a data query. */
  readonly db: Kysely<Database>;
  /** Where the data query runs (db/query-runner.ts): never a ledger connection's session. */
  readonly queries: QueryRunner;
  readonly policy: PolicySnapshot;
  readonly principal: Principal;
  readonly requestId: string;
  readonly random?: RandomSource | undefined;
  readonly faults?: FaultInjector | undefined;
  /** After this long a pending answer is taken as cut off and resolved as failed. */
  readonly pendingAnswerTimeoutMs?: number | undefined;
  /** Plans and repeats seen before by this process; absent, every request is planned and looked up. */
  readonly repeats?: RepeatCache | undefined;
}

/** A pending answer this old cannot still be released by any gateway (see failIfAbandoned). */
export const DEFAULT_PENDING_ANSWER_TIMEOUT_MS = 120_000;
/** How long a request whose idempotency key lost a race waits for the winner's answer. */
const RACE_WAIT_MS = 15_000;

export interface QueryOutcome {
  /** The response body, serialised once: a stored answer's exact bytes, so replays match them. */
  readonly text: string;
  /** True when the stored answer of an earlier request with this idempotency key is returned. */
  readonly replayed: boolean;
}

const fresh = (body: unknown): QueryOutcome => ({ text: JSON.stringify(body), replayed: false });

export async function answerQuery(context: AnswerContext, body: QueryBody): Promise<QueryOutcome> {
  const { db, policy, principal, requestId } = context;
  const { planned, fingerprint } = planRequest(context, body);
  if (!planned.ok) {
    const { refusal } = planned;
    await appendAudit(db, {
      actor: principal.id,
      action: 'query.refused',
      requestId,
      details: {
        code: refusal.code,
        position: refusal.position ?? null,
        sql_sha256: sha256Hex(body.sql),
      },
    });
    throw new Problem(refusal.code, refusal.message, {
      extensions: refusal.position === undefined ? {} : { position: refusal.position },
    });
  }
  const { plan } = planned;
  if (body.dry_run) return fresh(await dryRun(db, plan, policy));
  if (plan.kind === 'public' || chargesNothing(plan)) return fresh(await answerPublic(context, plan));
  if (fingerprint === undefined) throw new Error('a private plan was planned without its fingerprint');

  const requestHash = () => sha256Hex(canonicalJson({ ...body, dry_run: false }));
  if (body.idempotency_key) {
    const earlier = await findByIdempotencyKey(db, principal.id, body.idempotency_key);
    // A pending answer may be a racer's still running: wait for it, as the loser of a race does.
    if (earlier) {
      return earlier.status === 'pending'
        ? replayRaceWinner(context, body.idempotency_key, requestHash())
        : replay(context, earlier, requestHash());
    }
  }
  if (policy.policy.reuse_answers && !body.idempotency_key) {
    // Without an idempotency key there is no replay to tell apart: a repeat seen before is served
    // from this process, with no statement. Repeats released elsewhere are looked up by the charge's
    // own statement, before it charges anything.
    const seen = context.repeats?.repeat(principal.id, fingerprint);
    if (seen !== undefined) return { text: seen, replayed: false };
  }
  return chargeAndAnswer(context, body, plan, { requestHash: requestHash(), fingerprint });
}

/** The plan of the request and the fingerprint of its release, from the cache when seen before. */
function planRequest(context: AnswerContext, body: QueryBody): PlannedRequest {
  const { policy, principal } = context;
  const plan = (): PlannedRequest => {
    const planned = planQuery({
      sql: body.sql,
      policy: policy.policy,
      role: principal.role,
      request: { epsilon: body.epsilon, delta: body.delta, mechanism: body.mechanism },
      catalog: policy.catalog,
    });
    if (!planned.ok || planned.plan.kind === 'public') return { planned, fingerprint: undefined };
    const fingerprint = sha256Hex(
      canonicalJson({
        sql: planned.plan.sql,
        mechanism: planned.plan.mechanism,
        losses: planned.plan.cost.losses,
        version: policy.version,
        ...(body.post_process?.length ? { post_process: body.post_process } : {}),
      }),
    );
    return { planned, fingerprint };
  };
  if (!context.repeats) return plan();
  // Everything planning and the fingerprint read from the request; the snapshot is the cache's own key.
  const request = canonicalJson({
    sql: body.sql,
    epsilon: body.epsilon,
    delta: body.delta,
    mechanism: body.mechanism,
    post_process: body.post_process,
    role: principal.role,
  });
  return context.repeats.plan(policy, request, plan);
}

async function chargeAndAnswer(
  context: AnswerContext,
  body: QueryBody,
  plan: PrivateQueryPlan,
  keys: { requestHash: string; fingerprint: string },
): Promise<QueryOutcome> {
  const { db, policy, principal, requestId, faults } = context;
  const answerId = crypto.randomUUID();
  const cost = queryReleaseCost(plan);
  await faults?.('before-charge');
  let charged: AnswerChargeOutcome;
  try {
    charged = await chargeAnswer(db, {
      request: {
        requestId,
        principal,
        kind: 'query',
        subjectId: answerId,
        description: body.sql,
        communities: plan.scope.communities,
        cost,
        policyVersion: policy.version,
      },
      answer: {
        id: answerId,
        principalId: principal.id,
        idempotencyKey: body.idempotency_key ?? null,
        requestHash: keys.requestHash,
        queryFingerprint: keys.fingerprint,
        policyVersion: policy.version,
      },
      audit: (communities) => ({
        actor: principal.id,
        action: 'query.charged',
        requestId,
        details: {
          answer_id: answerId,
          communities: communities.map((c) => c.communityId),
          charged: communities.map((c) => c.charged),
        },
      }),
      ...(policy.policy.reuse_answers
        ? { repeat: { principalId: principal.id, queryFingerprint: keys.fingerprint } }
        : {}),
    });
  } catch (error) {
    if (body.idempotency_key && error instanceof IdempotencyKeyTakenError) {
      // Another request with this key (on any gateway) committed its charge first: this one rolled
      // back and answers with that request's outcome.
      return replayRaceWinner(context, body.idempotency_key, keys.requestHash);
    }
    if (error instanceof BudgetExhaustedError) {
      await appendAudit(db, {
        actor: principal.id,
        action: 'query.refused',
        requestId,
        details: {
          code: 'budget_exhausted',
          communities: error.communities.map((c) => c.communityId),
          sql_sha256: sha256Hex(body.sql),
        },
      });
      throw new Problem('budget_exhausted', error.message, {
        extensions: {
          communities: error.communities.map((c) => ({ community: c.communityId, remaining: c.remaining })),
        },
      });
    }
    throw error;
  }
  if (charged.status === 'repeat') return repeated(context, body, keys, charged.responseText);
  const charges = charged.charges;
  // From here on the charge stands.
  let response: Record<string, unknown>;
  try {
    await faults?.('after-charge');
    const trueRows = await runReadOnly(context.queries, plan.sql, policy.policy.limits.statement_timeout_ms);
    await faults?.('after-execute');
    const answer = release(plan, trueRows, {
      ...(context.random ? { random: context.random } : {}),
      postProcessing: body.post_process ?? [],
    });
    response = {
      id: answerId,
      status: 'released',
      sql: body.sql,
      columns: answer.columns,
      rows: answer.rows,
      accuracy: answer.accuracy,
      ...(answer.postProcessing ? { post_processing: answer.postProcessing } : {}),
      ...(answer.rows.length === 0 ? { empty_release: emptyReleaseReason(plan) } : {}),
      cost: costBody(plan),
      scope: plan.scope,
      charged: charges.map(chargeBody),
      remaining: Object.fromEntries(charges.map((c) => [c.communityId, c.remaining])),
      policy_version: policy.version,
      released_at: new Date().toISOString(),
      repeated: false,
    };
    await faults?.('after-release');
  } catch (error) {
    await onFreshConnection(() => markFailed(db, answerId)).catch(() => {});
    await appendAudit(db, {
      actor: principal.id,
      action: 'query.failed',
      requestId,
      details: { answer_id: answerId },
    }).catch(() => {});
    if (error instanceof Problem) throw error;
    if (isDatabaseUnavailable(error) && !isStatementTimeout(error)) {
      throw new Problem(
        'database_unavailable',
        'The database connection was lost while the query ran. Its charge stands; a retry with the same idempotency_key gets a definite answer.',
        { extensions: { answer_id: answerId }, headers: { 'retry-after': '1' }, cause: error },
      );
    }
    // The error may quote data (a value that failed a cast, a constraint): say nothing of it.
    throw new Problem(
      'execution_failed',
      'The query failed while running. Its charge stands, because the failure may depend on the data.',
      {
        extensions: { answer_id: answerId },
        cause: error,
      },
    );
  }
  const text = JSON.stringify(response);
  await onFreshConnection(() => markReleased(db, answerId, text));
  return { text, replayed: false };
}

/**
 * The stored answer to the same request, found by the charge's statement instead of a charge. It
 * may be this very request's answer, committed by a racer since the key was looked up: then it is
 * a replay, and its stored bytes are the answer.
 */
async function repeated(
  context: AnswerContext,
  body: QueryBody,
  keys: { requestHash: string; fingerprint: string },
  responseText: string,
): Promise<QueryOutcome> {
  const { db, principal } = context;
  const same = body.idempotency_key && (await findByIdempotencyKey(db, principal.id, body.idempotency_key));
  if (same) return replay(context, same, keys.requestHash);
  const answer = fresh({ ...(JSON.parse(responseText) as object), repeated: true, charged: [] });
  context.repeats?.keepRepeat(principal.id, keys.fingerprint, answer.text);
  return answer;
}

/**
 * Once more when the connection was lost: the pool hands out a new one. Used for the single-row
 * updates after a charge, which are safe to repeat; what still fails is left to the sweep of
 * abandoned answers.
 */
async function onFreshConnection<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!isDatabaseUnavailable(error)) throw error;
    return work();
  }
}

async function answerPublic({ queries, policy }: AnswerContext, plan: QueryPlan) {
  const rows = await runReadOnly(queries, plan.sql, policy.policy.limits.statement_timeout_ms);
  const answer = release(plan, rows);
  return {
    id: null,
    status: 'released',
    columns: answer.columns,
    rows: answer.rows,
    accuracy: answer.accuracy,
    cost: { epsilon: 0, delta: 0, mechanism: 'none' },
    scope: { communities: [], narrowed: false },
    charged: [],
    remaining: {},
    policy_version: policy.version,
    public: true,
  };
}

/** Cost, scope and per-measurement accuracy, with what each community in scope has left. */
async function dryRun(db: Kysely<Database>, plan: QueryPlan, policy: PolicySnapshot) {
  if (plan.kind === 'public') {
    return {
      dry_run: true,
      public: true,
      cost: { epsilon: 0, delta: 0, mechanism: 'none' },
      scope: { communities: [], narrowed: false },
    };
  }
  const budgets = await db
    .selectFrom('dpgate.community_budgets')
    .selectAll()
    .where('community_id', 'in', plan.scope.communities.length > 0 ? [...plan.scope.communities] : [''])
    .execute();
  return {
    dry_run: true,
    cost: costBody(plan),
    scope: plan.scope,
    columns: plan.columns.map((column) => column.name),
    /** Per output column, known before any data is read: what a released row's cells will carry. */
    planned_accuracy: plannedAccuracy(plan),
    timing: timingBody(estimateQueryTime(plan, policy.policy)),
    remaining: Object.fromEntries(budgets.map((row) => [row.community_id, remaining(budgetState(row))])),
    policy_version: policy.version,
  };
}

function timingBody(estimate: TimeEstimate) {
  return {
    estimated_seconds: estimate.seconds ?? null,
    statement_timeout_seconds: estimate.timeoutSeconds,
    ...(estimate.warning ? { warning: estimate.warning } : {}),
  };
}

function costBody(plan: PrivateQueryPlan) {
  return {
    epsilon: plan.cost.epsilon,
    delta: plan.cost.delta,
    ...(plan.cost.rho === undefined ? {} : { rho: plan.cost.rho }),
    mechanism: plan.mechanism,
    ...(plan.grouping.kind === 'selected'
      ? { partition_selection: selectionBody(plan.grouping.selection) }
      : {}),
  };
}

/**
 * Which partition selection the planner chose (docs/sql.md §7) and the group size it keeps half the
 * time: one figure, or for the weighted Gaussian one per number of groups each person is in.
 */
function selectionBody(selection: Selection) {
  switch (selection.kind) {
    case 'threshold':
      return { method: 'threshold', half_kept_at_persons: selection.threshold };
    case 'optimal':
      return { method: 'optimal_keep_function', half_kept_at_persons: selection.medianCount };
    case 'weighted_gaussian':
      return {
        method: 'weighted_gaussian',
        half_kept_at_persons_by_groups_per_person: selection.medianCounts,
      };
  }
}

/**
 * Why a charged answer has no rows, from the plan alone (never from the data): a released row count
 * of zero is itself a noisy, charged fact, and the analyst should know which step produced it.
 */
function emptyReleaseReason(plan: PrivateQueryPlan): string {
  if (plan.grouping.kind === 'selected') {
    return 'No group passed partition selection: each group without a public domain is released only by a random draw that favours groups of many persons (a noisy count of persons, or of their weights, against a threshold, or a keep probability that grows with that count), so groups of few persons stay hidden. The charge pays for that selection. Declaring the key’s public domain in policy, or a larger ε, releases more groups.';
  }
  return 'Every row was removed by HAVING, LIMIT or OFFSET, which apply to the noisy values after release.';
}

function chargeBody(charge: CommunityCharge) {
  return { community: charge.communityId, accounting: charge.accounting, ...charge.charged };
}

/** A retry returns the stored answer; the same key with another body is an error, not a new query. */
async function replay(
  context: AnswerContext,
  earlier: NonNullable<StoredAnswer>,
  requestHash: string,
): Promise<QueryOutcome> {
  if (earlier.request_hash !== requestHash) {
    throw new Problem(
      'idempotency_conflict',
      'This idempotency_key was already used with a different request body.',
    );
  }
  const text = earlier.status === 'released' ? storedText(earlier) : undefined;
  if (text !== undefined) return { text, replayed: true };
  const timeoutMs = context.pendingAnswerTimeoutMs ?? DEFAULT_PENDING_ANSWER_TIMEOUT_MS;
  if (earlier.status === 'pending' && (await failIfAbandoned(context.db, earlier.id, timeoutMs))) {
    await appendAudit(context.db, {
      actor: 'system',
      action: 'query.failed',
      requestId: context.requestId,
      details: { answer_id: earlier.id, reason: 'abandoned' },
    });
    return replay(context, { ...earlier, status: 'failed' }, requestHash);
  }
  if (earlier.status === 'failed') {
    throw new Problem(
      'answer_failed',
      'This request was charged and then failed before its answer was released; its charge stands.',
      { extensions: { answer_id: earlier.id } },
    );
  }
  throw new Problem(
    'answer_pending',
    'This request was charged and its answer is not stored yet: it is still running, or was cut off and will be marked failed. Its charge stands.',
    { extensions: { answer_id: earlier.id }, headers: { 'retry-after': '1' } },
  );
}

/** Waits (bounded) for the request that won an idempotency race to release or fail, then replays it. */
async function replayRaceWinner(
  context: AnswerContext,
  idempotencyKey: string,
  requestHash: string,
): Promise<QueryOutcome> {
  const deadline = Date.now() + RACE_WAIT_MS;
  for (;;) {
    const winner = await findByIdempotencyKey(context.db, context.principal.id, idempotencyKey);
    if (!winner) throw new Error('an idempotency key conflicted with an answer that does not exist');
    try {
      // Resolves a released, failed or abandoned answer; a pending one is waited for until the deadline.
      return await replay(context, winner, requestHash);
    } catch (error) {
      if (!(error instanceof Problem && error.code === 'answer_pending') || Date.now() >= deadline)
        throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
