/**
 * Committing a charge in one round trip for every accounting mode. The gateway plans the charge on
 * a snapshot of the budget rows (the amounts in each community's accounting mode, and for zcdp and
 * rdp the converted check, which needs floating-point functions), and one statement,
 * `dpgate.commit_charges`, locks the rows and commits the charge only if every row it was planned
 * on still holds exactly those values: then the gateway's checks were made on the locked rows, as if
 * it had locked them first. The statement also refuses an unknown community or a superseded policy
 * version, checks ε, δ and ρ exactly on NUMERIC, reserves the pending answer, adds the cost to the
 * spent columns, appends one charge row per community and the audit entry. A charge planned on rows
 * that changed since has nothing written and is planned again on the rows the statement returns. Concurrent gateways queue on the row locks;
 * whoever commits first is charged first, and a request that no longer fits is refused with nothing
 * written.
 *
 * Every community in scope is charged the request's full cost: a person belongs to one community,
 * so that is each person's privacy loss (parallel composition; DESIGN.md §3).
 */
import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/database.ts';
import { NO_RDP_CHARGE, type RdpCharge } from '../dp/accounting/rdp-ledger.ts';
import type { Principal } from '../principals/principal.ts';
import type { PendingAnswer } from './answers.ts';
import { type AuditEntry, auditRecord } from './audit-log.ts';
import { type BudgetState, chargeAmounts, rdpStep, remaining, zcdpChargeFits } from './budget-state.ts';
import { decimalAtLeast, decimalSum } from './decimal.ts';
import { LEDGER_LOCK_TIMEOUT_MS } from './ledger-transaction.ts';
import type { ReleaseCost } from './release-cost.ts';

export interface ChargeRequest {
  readonly requestId: string;
  readonly principal: Principal;
  readonly kind: 'query' | 'training' | 'evaluation';
  /** The answer or training job paid for. */
  readonly subjectId: string;
  /** What contributors read in their ledger: the query text or a job summary. */
  readonly description: string;
  readonly communities: readonly string[];
  readonly cost: ReleaseCost;
  readonly policyVersion: string;
}

export interface CommunityCharge {
  readonly communityId: string;
  readonly accounting: BudgetState['accounting'];
  readonly charged: { readonly epsilon: string; readonly delta: string; readonly rho: string | null };
  readonly remaining: { readonly epsilon: number; readonly delta: number };
}

/** The budget of these communities cannot pay for the request; nothing was charged. */
export class BudgetExhaustedError extends Error {
  override name = 'BudgetExhaustedError';
  readonly communities: readonly { communityId: string; remaining: { epsilon: number; delta: number } }[];
  constructor(communities: BudgetExhaustedError['communities']) {
    super(
      `the privacy budget of ${communities.map((c) => c.communityId).join(', ')} cannot pay for this request`,
    );
    this.communities = communities;
  }
}

/**
 * The budget rows carry another policy version than the one the request was planned under: another
 * gateway applied a newer policy. Nothing was charged; the caller adopts the version in force and
 * plans again, so no answer is ever released under a superseded policy.
 */
export class PolicySupersededError extends Error {
  override name = 'PolicySupersededError';
  readonly versionInForce: string;
  constructor(versionInForce: string) {
    super(`the policy in force is ${versionInForce}, not the version this request was planned under`);
    this.versionInForce = versionInForce;
  }
}

/** A community in scope has no budget row: the policy in force and the database disagree. */
export class UnknownCommunityError extends Error {
  override name = 'UnknownCommunityError';
}

/** Another request with this idempotency key, on any gateway, committed its charge first; nothing was charged. */
export class IdempotencyKeyTakenError extends Error {
  override name = 'IdempotencyKeyTakenError';
}

/** A budget row as the ledger holds it (NUMERIC as text), as `dpgate.budget_json` returns it. */
export type BudgetRecord = BudgetRow & { readonly community_id: string; readonly policy_version: string };

/** What a charge was planned on, per community: rows read from the ledger, each as last seen. */
export type BudgetSnapshot = Map<string, BudgetRecord>;

export interface PlannedCommunity {
  readonly communityId: string;
  readonly accounting: BudgetState['accounting'];
  readonly charged: CommunityCharge['charged'];
  /** rdp: the composed curve after this charge. */
  readonly rdpSpent: RdpCharge | undefined;
  /** Whether the zcdp or rdp conversion admits the charge on `plannedOn` (basic: decided on NUMERIC). */
  readonly fits: boolean;
  /** The row the charge was planned on: the statement charges only if the locked row still holds it. */
  readonly plannedOn: BudgetRecord;
}

/** One request's charge, planned on a snapshot: what `recordCharges` sends for it. */
export interface PlannedCharge {
  readonly request: ChargeRequest;
  /** The communities in scope, in id order. */
  readonly scope: readonly string[];
  /**
   * Per community in scope; undefined when the snapshot lacks a row, so the statement can only
   * lock the rows and report them (the charge comes back `stale`, or refused for an unknown
   * community or a superseded version).
   */
  readonly communities: readonly PlannedCommunity[] | undefined;
}

export type RecordOutcome =
  | { readonly status: 'charged'; readonly charges: CommunityCharge[] }
  | {
      readonly status: 'refused';
      readonly error:
        | BudgetExhaustedError
        | IdempotencyKeyTakenError
        | PolicySupersededError
        | UnknownCommunityError;
    }
  /** Planned on rows that changed since: nothing written; plan again on the rows returned. */
  | { readonly status: 'stale' }
  /** A released answer to the same request from the same principal exists: nothing charged. */
  | { readonly status: 'repeat'; readonly responseText: string };

/**
 * Plans one request's charge on a snapshot: the amounts in each community's accounting mode, and
 * (zcdp, rdp) whether the Rényi or zCDP conversion admits it. Pure: whether the snapshot is the
 * ledger as it is, whether the policy version is the one in force and whether the communities
 * exist are decided by the statement on the locked rows. Throws only for an rdp row without its
 * filter's order, which no policy apply writes.
 */
export function planCharge(
  snapshot: ReadonlyMap<string, BudgetRecord>,
  request: ChargeRequest,
): PlannedCharge {
  const scope = [...new Set(request.communities)].sort();
  const rows = scope.map((id) => snapshot.get(id));
  if (!rows.every((row) => row !== undefined)) return { request, scope, communities: undefined };
  const communities = rows.map((row): PlannedCommunity => {
    const state = budgetState(row);
    // Fail closed: an rdp row without its filter's order and curve would admit charges against an
    // empty filter. A policy apply writes both in the transaction that switches the row to rdp.
    if (state.accounting === 'rdp' && !state.rdp) {
      throw new Error(`the rdp budget of community ${row.community_id} has no filter order`);
    }
    const amounts = chargeAmounts(state, request.cost);
    // rdp: the composed curve after this charge, and whether the Rényi filter admits it.
    const rdp = state.accounting === 'rdp' ? rdpStep(state, request.cost) : undefined;
    const fits =
      state.accounting === 'zcdp'
        ? zcdpChargeFits(state, amounts)
        : state.accounting === 'rdp'
          ? rdp!.fits
          : true;
    return {
      communityId: row.community_id,
      accounting: state.accounting,
      charged: {
        epsilon: decimalAtLeast(amounts.epsilon),
        delta: decimalAtLeast(amounts.delta),
        rho: amounts.rho === null ? null : decimalAtLeast(amounts.rho),
      },
      rdpSpent: rdp?.next,
      fits,
      plannedOn: row,
    };
  });
  return { request, scope, communities };
}

/**
 * The snapshot as it will be once this charge is recorded, for planning the next one in the same
 * batch; a charge that will be refused (or cannot be planned) leaves it as it is.
 */
export function applyPlanned(snapshot: BudgetSnapshot, planned: PlannedCharge): void {
  if (!planned.communities?.every((p) => p.fits)) return;
  for (const p of planned.communities) {
    const row = p.plannedOn;
    snapshot.set(p.communityId, {
      ...row,
      epsilon_spent: decimalSum(row.epsilon_spent, p.charged.epsilon),
      delta_spent: decimalSum(row.delta_spent, p.charged.delta),
      rho_spent: decimalSum(row.rho_spent, p.charged.rho ?? '0'),
      rdp_spent: p.rdpSpent ?? row.rdp_spent ?? null,
    });
  }
}

/** A charge to commit: its request, and for an answer the pending answer, audit entry and repeat lookup. */
export interface ChargeItem {
  readonly request: ChargeRequest;
  /** Reserved, pending, by the charge's own statement: never an answer without a charge. */
  readonly answer?: PendingAnswer;
  /** The audit entry recording the charge, from what each community is charged. */
  readonly audit?: (communities: readonly PlannedCommunity[]) => AuditEntry;
  /** Look for a released answer to this request first (reuse_answers): then nothing is charged. */
  readonly repeat?: { readonly principalId: string; readonly queryFingerprint: string };
}

/**
 * Records planned charges, in order, in one statement (`dpgate.commit_charges`, migration 0008),
 * in `executor`'s transaction when it is one, otherwise in the statement's own. Returns each
 * charge's outcome and every row of the batch as the statement left it (locked until the end of
 * the transaction).
 */
export async function recordCharges(
  executor: Kysely<Database>,
  items: readonly { readonly planned: PlannedCharge; readonly item: ChargeItem }[],
): Promise<{ outcomes: RecordOutcome[]; budgets: BudgetRecord[] }> {
  const batch = items.map(({ planned: { request, scope, communities }, item }) => ({
    request_id: request.requestId,
    principal_id: request.principal.id,
    kind: request.kind,
    subject_id: request.subjectId,
    description: request.description,
    rdp_curve: { curve: [...request.cost.rdp.curve], delta: request.cost.rdp.delta },
    mechanism: request.cost.mechanism,
    policy_version: request.policyVersion,
    charges: communities
      ? communities.map((p) => ({
          community_id: p.communityId,
          ...p.charged,
          ...(p.rdpSpent ? { rdp_spent: p.rdpSpent } : {}),
          fits: p.fits,
          planned_on: plannedOnFields(p.plannedOn),
        }))
      : scope.map((id) => ({ community_id: id })),
    ...(item.answer
      ? {
          answer: {
            id: item.answer.id,
            principal_id: item.answer.principalId,
            idempotency_key: item.answer.idempotencyKey,
            request_hash: item.answer.requestHash,
            query_fingerprint: item.answer.queryFingerprint,
            policy_version: item.answer.policyVersion,
          },
        }
      : {}),
    ...(item.audit && communities ? { audit: auditRecord(item.audit(communities)) } : {}),
    ...(item.repeat
      ? {
          repeat: {
            principal_id: item.repeat.principalId,
            query_fingerprint: item.repeat.queryFingerprint,
          },
        }
      : {}),
  }));
  const result = await sql<{ committed: { outcomes: RawOutcome[]; budgets: BudgetRecord[] } }>`
    select dpgate.commit_charges(${JSON.stringify(batch)}::jsonb, ${LEDGER_LOCK_TIMEOUT_MS}) as committed`.execute(
    executor,
  );
  const committed = result.rows[0]?.committed;
  if (!committed || committed.outcomes.length !== items.length) {
    throw new Error('dpgate.commit_charges returned another number of outcomes than charges');
  }
  const outcomes = items.map(({ planned }, index) => outcomeOf(planned, committed.outcomes[index]!));
  return { outcomes, budgets: committed.budgets };
}

type RawOutcome =
  | { status: 'stale' }
  | { status: 'repeat'; response: string }
  | { status: 'idempotency_key_taken' }
  | { status: 'superseded'; version_in_force: string }
  | { status: 'unknown_community'; communities: string[] }
  | { status: 'exhausted'; budgets: BudgetRecord[] }
  | { status: 'charged'; budgets: BudgetRecord[] };

/**
 * What of a row a charge's plan depends on, for the statement to compare with the locked row: a
 * basic charge only on the accounting mode (its amounts are the request's; the spend is checked on
 * NUMERIC), a zcdp or rdp charge on the totals, the spend, the filter's order and the curve.
 */
function plannedOnFields(row: BudgetRecord) {
  if (row.accounting === 'basic') return { accounting: row.accounting };
  const { accounting, epsilon_total, delta_total, epsilon_spent, delta_spent, rho_spent } = row;
  return {
    accounting,
    epsilon_total,
    delta_total,
    epsilon_spent,
    delta_spent,
    rho_spent,
    rdp_order: row.rdp_order ?? null,
    rdp_spent: row.rdp_spent ?? null,
  };
}

/** What the statement decided for one charge, as the gateway acts on it. */
function outcomeOf(planned: PlannedCharge, outcome: RawOutcome): RecordOutcome {
  switch (outcome.status) {
    case 'stale':
      return { status: 'stale' };
    case 'repeat':
      return { status: 'repeat', responseText: outcome.response };
    case 'idempotency_key_taken':
      return { status: 'refused', error: new IdempotencyKeyTakenError('this idempotency key is taken') };
    case 'superseded':
      return { status: 'refused', error: new PolicySupersededError(outcome.version_in_force) };
    case 'unknown_community':
      return {
        status: 'refused',
        error: new UnknownCommunityError(`no budget for community ${outcome.communities.join(', ')}`),
      };
    case 'exhausted':
      return {
        status: 'refused',
        error: new BudgetExhaustedError(
          outcome.budgets.map((row) => ({
            communityId: row.community_id,
            remaining: remaining(budgetState(row)),
          })),
        ),
      };
    case 'charged': {
      const after = new Map(outcome.budgets.map((row) => [row.community_id, row]));
      return {
        status: 'charged',
        charges: (planned.communities ?? []).map((p) => ({
          communityId: p.communityId,
          accounting: p.accounting,
          charged: p.charged,
          remaining: remaining(budgetState(after.get(p.communityId)!)),
        })),
      };
    }
  }
}

export type Settlement = RecordOutcome | { readonly status: 'failed'; readonly error: unknown };

/**
 * Commits charges in order through `recordCharges`, each planned on `snapshot` as the charges
 * before it leave it; the snapshot takes the rows every statement returns. Inside a transaction
 * (`untilSettled`) the first statement leaves the rows locked, so the charges it found stale are
 * planned again on the rows it returned and sent again, until none is: each statement settles at
 * least its first charge, planned on the locked rows themselves. Otherwise one statement is sent
 * and stale charges come back as such. A charge that cannot be planned settles as `failed`.
 */
export async function settleCharges(
  executor: Kysely<Database>,
  items: readonly ChargeItem[],
  snapshot: BudgetSnapshot,
  { untilSettled }: { readonly untilSettled: boolean },
): Promise<Settlement[]> {
  const settled: Settlement[] = items.map(() => ({ status: 'stale' }));
  // The rows this call's own statements returned: another group's statement may update the shared
  // snapshot meanwhile with rows read before this transaction locked them.
  const seen: BudgetSnapshot = new Map(snapshot);
  let open = items.map((_, index) => index);
  for (let round = 1; open.length > 0; round++) {
    const working: BudgetSnapshot = new Map(seen);
    const sent: { index: number; planned: PlannedCharge; item: ChargeItem }[] = [];
    for (const index of open) {
      const item = items[index]!;
      try {
        const planned = planCharge(working, item.request);
        applyPlanned(working, planned);
        sent.push({ index, planned, item });
      } catch (error) {
        settled[index] = { status: 'failed', error };
      }
    }
    if (sent.length === 0) break;
    const { outcomes, budgets } = await recordCharges(executor, sent);
    // Planned on rows the statement itself returned under this transaction's locks, the first charge
    // cannot be stale; were it, looping would not end.
    if (round > 1 && outcomes[0]?.status === 'stale') {
      throw new Error('a charge planned on the locked rows was found stale');
    }
    for (const row of budgets) {
      seen.set(row.community_id, row);
      snapshot.set(row.community_id, row);
    }
    open = [];
    outcomes.forEach((outcome, k) => {
      const { index } = sent[k]!;
      settled[index] = outcome;
      if (outcome.status === 'stale') open.push(index);
    });
    if (!untilSettled) break;
  }
  return settled;
}

/** Reads budget rows without locking them: a snapshot to plan charges on. */
export async function readBudgets(
  db: Kysely<Database>,
  communities: readonly string[],
): Promise<BudgetRecord[]> {
  if (communities.length === 0) return [];
  const rows = await db
    .selectFrom('dpgate.community_budgets as b')
    .select(sql<BudgetRecord>`dpgate.budget_json(b)`.as('budget'))
    .where('b.community_id', 'in', [...communities])
    .execute();
  return rows.map((row) => row.budget);
}

/**
 * One charge in the caller's transaction (a `ledgerTransaction`, for its timeouts and retries), so
 * that what it pays for (a job, the audit entry) commits or rolls back with it. Its first statement
 * locks the rows and returns them, the second charges on them. Throws BudgetExhaustedError, which
 * rolls the transaction back, when any community cannot pay. Answers to queries are charged in
 * groups instead (group-commit.ts).
 */
export async function commitCharge(
  trx: Kysely<Database>,
  request: ChargeRequest,
): Promise<CommunityCharge[]> {
  if (!trx.isTransaction) throw new Error('commitCharge must run inside a transaction');
  if (request.communities.length === 0) return [];
  const [outcome] = await settleCharges(trx, [{ request }], new Map(), { untilSettled: true });
  if (outcome?.status === 'charged') return outcome.charges;
  if (outcome?.status === 'refused' || outcome?.status === 'failed') throw outcome.error;
  throw new Error(`a lone charge was settled as ${outcome?.status}`);
}

type BudgetRow = { accounting: BudgetState['accounting'] } & Record<
  'epsilon_total' | 'delta_total' | 'epsilon_spent' | 'delta_spent' | 'rho_spent',
  string
> & { rho_total?: string | null; rdp_order?: string | null; rdp_spent?: RdpCharge | null };

export function budgetState(row: BudgetRow): BudgetState {
  const rdp =
    row.accounting === 'rdp' && row.rdp_order != null
      ? { order: Number(row.rdp_order), spent: row.rdp_spent ?? NO_RDP_CHARGE }
      : undefined;
  return {
    accounting: row.accounting,
    epsilonTotal: Number(row.epsilon_total),
    deltaTotal: Number(row.delta_total),
    epsilonSpent: Number(row.epsilon_spent),
    deltaSpent: Number(row.delta_spent),
    rhoSpent: Number(row.rho_spent),
    ...(rdp ? { rdp } : {}),
    decimals: {
      epsilonTotal: row.epsilon_total,
      epsilonSpent: row.epsilon_spent,
      deltaTotal: row.delta_total,
      deltaSpent: row.delta_spent,
      rhoTotal: row.rho_total ?? null,
      rhoSpent: row.rho_spent,
    },
  };
}
