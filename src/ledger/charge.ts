/**
 * Committing a charge: in one transaction, lock the budget rows of every community in scope in a
 * fixed order, plan the charge on them (version in force, amounts, zcdp and rdp conversions), then
 * record it in one statement that checks ε and δ exactly on NUMERIC, reserves the pending answer,
 * adds the cost to the spent columns, appends one charge row per community and the audit entry.
 * Concurrent gateways queue on the row locks; whoever commits first is charged first, and a request
 * that no longer fits is refused with nothing written.
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

/** A budget row as the ledger holds it (NUMERIC as text). */
export type LockedBudget = BudgetRow & { readonly community_id: string; readonly policy_version: string };

/** One request's charge, planned on locked budget rows: what `recordCharges` writes for it. */
export interface PlannedCharge {
  readonly request: ChargeRequest;
  readonly communities: readonly {
    readonly communityId: string;
    readonly accounting: BudgetState['accounting'];
    readonly charged: CommunityCharge['charged'];
    /** rdp: the composed curve after this charge. */
    readonly rdpSpent: RdpCharge | undefined;
  }[];
}

export type RecordOutcome =
  | { readonly status: 'charged'; readonly charges: CommunityCharge[] }
  | { readonly status: 'refused'; readonly error: BudgetExhaustedError | IdempotencyKeyTakenError }
  /** Planned on a zcdp or rdp state that a refused charge before it in the batch did not produce. */
  | { readonly status: 'replan' };

/**
 * Locks the budget rows of these communities for the rest of the transaction, in a fixed order (so
 * two requests over {a, b} and {b, a} cannot deadlock).
 */
export async function lockBudgets(
  trx: Kysely<Database>,
  communities: readonly string[],
): Promise<Map<string, LockedBudget>> {
  if (!trx.isTransaction) throw new Error('budget rows are locked inside a transaction');
  const ids = [...new Set(communities)].sort();
  if (ids.length === 0) return new Map();
  const rows = await trx
    .selectFrom('dpgate.community_budgets')
    .selectAll()
    .where('community_id', 'in', ids)
    .orderBy('community_id')
    .forUpdate()
    .execute();
  return new Map(rows.map((row) => [row.community_id, row]));
}

/**
 * Plans one request's charge on the locked rows: the version in force, the amounts in each
 * community's accounting mode, and (zcdp, rdp) whether the Rényi or zCDP conversion admits it.
 * Basic budgets are checked exactly on NUMERIC when the charge is recorded. Throws
 * UnknownCommunityError, PolicySupersededError or BudgetExhaustedError; nothing is written.
 */
export function planCharge(
  budgets: ReadonlyMap<string, LockedBudget>,
  request: ChargeRequest,
): PlannedCharge {
  const communities = [...new Set(request.communities)].sort();
  const missing = communities.filter((id) => !budgets.has(id));
  if (missing.length > 0) throw new UnknownCommunityError(`no budget for community ${missing.join(', ')}`);
  const rows = communities.map((id) => budgets.get(id)!);
  // Read on the locked rows: a policy apply that changes them has committed before, or waits until after.
  const superseding = rows.find((row) => row.policy_version !== request.policyVersion);
  if (superseding) throw new PolicySupersededError(superseding.policy_version);

  const planned = rows.map((row) => {
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
      state,
      fits,
      charged: {
        epsilon: decimalAtLeast(amounts.epsilon),
        delta: decimalAtLeast(amounts.delta),
        rho: amounts.rho === null ? null : decimalAtLeast(amounts.rho),
      },
      rdpSpent: rdp?.next,
    };
  });
  // Name only the communities that are short, not every one in scope.
  const unaffordable = planned.filter((p) => !p.fits);
  if (unaffordable.length > 0) {
    throw new BudgetExhaustedError(
      unaffordable.map((p) => ({ communityId: p.communityId, remaining: remaining(p.state) })),
    );
  }
  return {
    request,
    communities: planned.map(({ communityId, accounting, charged, rdpSpent }) => ({
      communityId,
      accounting,
      charged,
      rdpSpent,
    })),
  };
}

/** The locked rows as they will be once this charge is recorded, for planning the next one. */
export function applyPlanned(budgets: Map<string, LockedBudget>, planned: PlannedCharge): void {
  for (const p of planned.communities) {
    const row = budgets.get(p.communityId)!;
    budgets.set(p.communityId, {
      ...row,
      epsilon_spent: decimalSum(row.epsilon_spent, p.charged.epsilon),
      delta_spent: decimalSum(row.delta_spent, p.charged.delta),
      rho_spent: decimalSum(row.rho_spent, p.charged.rho ?? '0'),
      rdp_spent: p.rdpSpent ?? row.rdp_spent ?? null,
    });
  }
}

/**
 * Records planned charges, in order, in one statement (`dpgate.record_charges`, migration 0006) on
 * rows the transaction has locked with `lockBudgets`: per charge, the exact NUMERIC check of ε and
 * δ, the pending answer if there is one (a taken idempotency key refuses the charge), the debit,
 * one charge row per community and the audit entry if there is one. A refused charge writes
 * nothing and leaves the others standing.
 */
export async function recordCharges(
  trx: Kysely<Database>,
  items: readonly { planned: PlannedCharge; answer?: PendingAnswer; audit?: AuditEntry }[],
): Promise<RecordOutcome[]> {
  if (!trx.isTransaction) throw new Error('charges are recorded inside a transaction');
  const batch = items.map(({ planned: { request, communities }, answer, audit }) => ({
    request_id: request.requestId,
    principal_id: request.principal.id,
    kind: request.kind,
    subject_id: request.subjectId,
    description: request.description,
    rdp_curve: { curve: [...request.cost.rdp.curve], delta: request.cost.rdp.delta },
    mechanism: request.cost.mechanism,
    policy_version: request.policyVersion,
    charges: communities.map((p) => ({
      community_id: p.communityId,
      ...p.charged,
      ...(p.rdpSpent ? { rdp_spent: p.rdpSpent } : {}),
    })),
    ...(answer
      ? {
          answer: {
            id: answer.id,
            principal_id: answer.principalId,
            idempotency_key: answer.idempotencyKey,
            request_hash: answer.requestHash,
            query_fingerprint: answer.queryFingerprint,
            policy_version: answer.policyVersion,
          },
        }
      : {}),
    ...(audit ? { audit: auditRecord(audit) } : {}),
  }));
  const result = await sql<{ outcomes: RawOutcome[] }>`
    select dpgate.record_charges(${JSON.stringify(batch)}::jsonb) as outcomes`.execute(trx);
  const outcomes = result.rows[0]?.outcomes ?? [];
  return items.map(({ planned }, index) => {
    const outcome = outcomes[index];
    if (!outcome) throw new Error('dpgate.record_charges returned fewer outcomes than charges');
    if (outcome.status === 'replan') return { status: 'replan' };
    if (outcome.status === 'idempotency_key_taken') {
      return { status: 'refused', error: new IdempotencyKeyTakenError('this idempotency key is taken') };
    }
    const after = new Map(outcome.budgets.map((row) => [row.community_id, row]));
    if (outcome.status === 'exhausted') {
      const short = [...after.values()].map((row) => ({
        communityId: row.community_id,
        remaining: remaining(budgetState(row)),
      }));
      return { status: 'refused', error: new BudgetExhaustedError(short) };
    }
    return {
      status: 'charged',
      charges: planned.communities.map((p) => ({
        communityId: p.communityId,
        accounting: p.accounting,
        charged: p.charged,
        remaining: remaining(budgetState(after.get(p.communityId)!)),
      })),
    };
  });
}

type RawOutcome =
  | { status: 'replan' }
  | { status: 'idempotency_key_taken' }
  | { status: 'exhausted'; budgets: LockedBudget[] }
  | { status: 'charged'; budgets: LockedBudget[] };

/**
 * One charge in the caller's transaction (a `ledgerTransaction`, for its timeouts and retries), so
 * that what it pays for (a job, the audit entry) commits or rolls back with it: locks, plans and
 * records. Throws BudgetExhaustedError, which rolls the transaction back, when any community
 * cannot pay. Answers to queries are charged in groups instead (group-commit.ts).
 */
export async function commitCharge(
  trx: Kysely<Database>,
  request: ChargeRequest,
): Promise<CommunityCharge[]> {
  if (!trx.isTransaction) throw new Error('commitCharge must run inside a transaction');
  if (request.communities.length === 0) return [];
  const planned = planCharge(await lockBudgets(trx, request.communities), request);
  const [outcome] = await recordCharges(trx, [{ planned }]);
  if (outcome?.status === 'charged') return outcome.charges;
  if (outcome?.status === 'refused') throw outcome.error;
  throw new Error('a lone charge was asked to be planned again');
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
