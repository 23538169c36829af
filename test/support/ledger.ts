/** Budgets and principals for ledger tests, written straight into the tables. */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../src/db/database.ts';
import { zcdpBudget } from '../../src/dp/accounting/index.ts';
import { rdpBudget } from '../../src/dp/accounting/rdp-ledger.ts';
import { type ChargeRequest, type CommunityCharge, commitCharge } from '../../src/ledger/charge.ts';
import type { AnswerCharge } from '../../src/ledger/group-commit.ts';
import { releaseCost } from '../../src/ledger/release-cost.ts';
import type { Principal } from '../../src/principals/principal.ts';

export async function setBudget(
  db: Kysely<Database>,
  communityId: string,
  budget: { accounting: 'basic' | 'zcdp' | 'rdp'; epsilon: number; delta: number },
): Promise<void> {
  const values = {
    accounting: budget.accounting,
    epsilon_total: String(budget.epsilon),
    delta_total: String(budget.delta),
    epsilon_spent: '0',
    delta_spent: '0',
    rho_spent: '0',
    rho_total: budget.accounting === 'zcdp' ? String(zcdpBudget(budget.epsilon, budget.delta)) : null,
    rdp_order: budget.accounting === 'rdp' ? String(rdpBudget(budget.epsilon, budget.delta).order) : null,
    rdp_spent: null,
    policy_version: 'test',
  };
  await db
    .insertInto('dpgate.community_budgets')
    .values({ community_id: communityId, ...values })
    .onConflict((oc) => oc.column('community_id').doUpdateSet(values))
    .execute();
}

export function testPrincipal(role: Principal['role'] = 'analyst'): Principal {
  return { id: randomUUID(), name: `test ${role}`, role, communityId: null };
}

/** A query charge of pure ε to these communities; override any field. */
export function pureCharge(
  communities: readonly string[],
  epsilon: number,
  overrides: Partial<ChargeRequest> = {},
): ChargeRequest {
  const id = randomUUID();
  return {
    requestId: id,
    principal: testPrincipal(),
    kind: 'query',
    subjectId: id,
    description: 'SELECT COUNT(*) FROM people',
    communities,
    cost: releaseCost({ losses: [{ kind: 'pure', epsilon }], mechanism: 'discrete_laplace' }),
    policyVersion: 'test',
    ...overrides,
  };
}

/** Commits one charge in a transaction of its own. */
export function charge(db: Kysely<Database>, request: ChargeRequest): Promise<CommunityCharge[]> {
  return db.transaction().execute((trx) => commitCharge(trx, request));
}

/** An answer's charge as the query path hands it to group commit: the pending answer and its audit entry. */
export function answerCharge(request: ChargeRequest, idempotencyKey: string | null = null): AnswerCharge {
  return {
    request,
    answer: {
      id: request.subjectId,
      principalId: request.principal.id,
      idempotencyKey,
      requestHash: 'h',
      queryFingerprint: randomUUID(),
      policyVersion: request.policyVersion,
    },
    audit: (communities) => ({
      actor: request.principal.id,
      action: 'query.charged',
      requestId: request.requestId,
      details: { answer_id: request.subjectId, communities: communities.map((c) => c.communityId) },
    }),
  };
}
