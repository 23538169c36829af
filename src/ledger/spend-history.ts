/**
 * A community's spend after each charge, oldest first: the running totals of the ledger's columns
 * and the ε they amount to under the community's accounting (the figure its gauge shows), so a
 * chart of spend over time needs no accounting of its own.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import { epsilonSpent } from './budget-state.ts';
import { budgetState } from './charge.ts';

/** Enough for years of a busy commons; the newest points are kept when there are more. */
export const MAX_SPEND_POINTS = 5000;

export async function spendHistory(db: Kysely<Database>, communityId: string) {
  const budget = await db
    .selectFrom('dpgate.community_budgets')
    .selectAll()
    .where('community_id', '=', communityId)
    .executeTakeFirst();
  if (!budget) return undefined;
  const charges = (
    await db
      .selectFrom('dpgate.charges')
      .select(['created_at', 'epsilon', 'delta', 'rho'])
      .where('community_id', '=', communityId)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(MAX_SPEND_POINTS)
      .execute()
  ).reverse();
  const base = budgetState(budget);
  // Start from what the dropped older charges (if any) had spent: the totals minus the kept ones.
  const kept = charges.reduce(
    (sum, c) => ({
      epsilon: sum.epsilon + Number(c.epsilon),
      delta: sum.delta + Number(c.delta),
      rho: sum.rho + Number(c.rho ?? 0),
    }),
    { epsilon: 0, delta: 0, rho: 0 },
  );
  let running = {
    epsilon: Math.max(0, base.epsilonSpent - kept.epsilon),
    delta: Math.max(0, base.deltaSpent - kept.delta),
    rho: Math.max(0, base.rhoSpent - kept.rho),
  };
  const points = charges.map((charge) => {
    running = {
      epsilon: running.epsilon + Number(charge.epsilon),
      delta: running.delta + Number(charge.delta),
      rho: running.rho + Number(charge.rho ?? 0),
    };
    const state = {
      ...base,
      epsilonSpent: running.epsilon,
      deltaSpent: running.delta,
      rhoSpent: running.rho,
    };
    return {
      at: charge.created_at.toISOString(),
      epsilon: epsilonSpent(state),
      delta: running.delta,
      ...(base.accounting === 'zcdp' ? { rho: running.rho, xi: running.epsilon } : {}),
    };
  });
  return {
    accounting: base.accounting,
    budget: { epsilon: base.epsilonTotal, delta: base.deltaTotal },
    points,
  };
}
