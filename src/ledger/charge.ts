/**
 * Committing a charge: one transaction that locks the budget rows of every community in scope in a
 * fixed order (so two requests over {a, b} and {b, a} cannot deadlock), checks each remaining budget
 * under its accounting mode, adds the cost to the spent columns and appends one charge row per
 * community. Concurrent gateways queue on the row locks; whoever commits first is charged first,
 * and a request that no longer fits is refused with nothing written.
 *
 * Every community in scope is charged the request's full cost: a person belongs to one community,
 * so that is each person's privacy loss (parallel composition; DESIGN.md §3).
 */
import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/database.ts';
import { jsonb } from '../db/jsonb.ts';
import { NO_RDP_CHARGE, type RdpCharge } from '../dp/accounting/rdp-ledger.ts';
import type { Principal } from '../principals/principal.ts';
import { type BudgetState, chargeAmounts, rdpStep, remaining, zcdpChargeFits } from './budget-state.ts';
import { decimalAtLeast } from './decimal.ts';
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

/**
 * Must run inside the caller's transaction (a `ledgerTransaction`, for its timeouts and retries), so that what the charge pays for (a pending answer, a
 * job, the audit entry) commits or rolls back with it. Throws BudgetExhaustedError, which rolls the
 * transaction back, when any community cannot pay.
 */
export async function commitCharge(
  trx: Kysely<Database>,
  request: ChargeRequest,
): Promise<CommunityCharge[]> {
  if (!trx.isTransaction) throw new Error('commitCharge must run inside a transaction');
  const communities = [...new Set(request.communities)].sort();
  if (communities.length === 0) return [];

  const rows = await trx
    .selectFrom('dpgate.community_budgets')
    .selectAll()
    .where('community_id', 'in', communities)
    .orderBy('community_id')
    .forUpdate()
    .execute();
  const missing = communities.filter((id) => !rows.some((row) => row.community_id === id));
  if (missing.length > 0) throw new UnknownCommunityError(`no budget for community ${missing.join(', ')}`);
  // Read on the locked rows: a policy apply that changes them has committed before, or waits until after.
  const superseding = rows.find((row) => row.policy_version !== request.policyVersion);
  if (superseding) throw new PolicySupersededError(superseding.policy_version);

  const planned = rows.map((row) => {
    const state = budgetState(row);
    const amounts = chargeAmounts(state, request.cost);
    const charged = {
      epsilon: decimalAtLeast(amounts.epsilon),
      delta: decimalAtLeast(amounts.delta),
      rho: amounts.rho === null ? null : decimalAtLeast(amounts.rho),
    };
    // rdp: the composed curve after this charge, and whether the Rényi filter admits it.
    const rdp = state.accounting === 'rdp' ? rdpStep(state, request.cost) : undefined;
    return {
      communityId: row.community_id,
      state,
      amounts,
      charged,
      rdpSpent: rdp?.next,
      rdpFits: rdp?.fits,
    };
  });
  // zcdp and rdp budgets need their conversions: checked here, on the locked rows.
  const unaffordable = planned.filter(
    (p) =>
      (p.state.accounting === 'zcdp' && !zcdpChargeFits(p.state, p.amounts)) ||
      (p.state.accounting === 'rdp' && !p.rdpFits),
  );
  const updated = unaffordable.length === 0 ? await debit(trx, planned) : [];
  // Name only the communities that are short, not every one in scope.
  const exhausted =
    unaffordable.length > 0
      ? unaffordable
      : planned.filter((p) => !updated.some((row) => row.community_id === p.communityId));
  if (exhausted.length > 0) {
    throw new BudgetExhaustedError(
      exhausted.map((p) => ({ communityId: p.communityId, remaining: remaining(p.state) })),
    );
  }
  const charges: CommunityCharge[] = planned.map((p) => ({
    communityId: p.communityId,
    accounting: p.state.accounting,
    charged: p.charged,
    remaining: remaining(budgetState(updated.find((row) => row.community_id === p.communityId)!)),
  }));

  await trx
    .insertInto('dpgate.charges')
    .values(
      charges.map((charge) => ({
        community_id: charge.communityId,
        request_id: request.requestId,
        principal_id: request.principal.id,
        kind: request.kind,
        subject_id: request.subjectId,
        description: request.description,
        epsilon: charge.charged.epsilon,
        delta: charge.charged.delta,
        rho: charge.charged.rho,
        rdp_curve: jsonb({ curve: [...request.cost.rdp.curve], delta: request.cost.rdp.delta }),
        mechanism: request.cost.mechanism,
        policy_version: request.policyVersion,
      })),
    )
    .execute();
  return charges;
}

/**
 * Adds each community's charge to its spent columns in one statement, on rows this transaction has
 * already locked. Basic budgets are compared exactly, on NUMERIC, in the statement's own condition:
 * a community missing from the result could not pay, and the caller rolls everything back.
 */
async function debit(
  trx: Kysely<Database>,
  planned: readonly {
    communityId: string;
    charged: CommunityCharge['charged'];
    rdpSpent: RdpCharge | undefined;
  }[],
): Promise<(BudgetRow & { community_id: string })[]> {
  const values = sql.join(
    planned.map(
      (p) =>
        sql`(${p.communityId}::text, ${p.charged.epsilon}::numeric, ${p.charged.delta}::numeric, ${p.charged.rho ?? '0'}::numeric, ${p.rdpSpent ? JSON.stringify(p.rdpSpent) : null}::jsonb)`,
    ),
  );
  const result = await sql<BudgetRow & { community_id: string }>`
    update dpgate.community_budgets as b
    set epsilon_spent = b.epsilon_spent + v.epsilon,
        delta_spent = b.delta_spent + v.delta,
        rho_spent = b.rho_spent + v.rho,
        rdp_spent = coalesce(v.rdp_spent, b.rdp_spent),
        updated_at = now()
    from (values ${values}) as v (community_id, epsilon, delta, rho, rdp_spent)
    where b.community_id = v.community_id
      and b.epsilon_spent + v.epsilon <= b.epsilon_total
      and b.delta_spent + v.delta <= b.delta_total
    returning b.*`.execute(trx);
  return result.rows;
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
