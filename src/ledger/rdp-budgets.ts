/**
 * Setting up `rdp` budgets when a policy is applied: the filter's order is fixed the first time a
 * community's budget is under rdp (it never moves afterwards, as the filter theorem requires), and a
 * community that switches to rdp starts from the composed curve of every charge it already has.
 * A charge made before curves were stored gets the curve its recorded loss implies (rdp-ledger.ts,
 * `rdpChargeOf`): ρ as αρ, ε as ε-DP, δ as a δ part. Runs in the policy-apply transaction.
 */
import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/database.ts';
import { jsonb } from '../db/jsonb.ts';
import {
  composeRdpCharges,
  type RdpCharge,
  rdpBudget,
  rdpChargeOf,
  rdpSpend,
} from '../dp/accounting/rdp-ledger.ts';
import type { PrivacyLoss } from '../dp/privacy-loss.ts';
import type { Policy } from '../policy/schema.ts';
import { decimalAtLeast } from './decimal.ts';

export async function syncRdpBudgets(trx: Kysely<Database>, policy: Policy): Promise<void> {
  if (policy.accounting !== 'rdp') return;
  const rows = await trx
    .selectFrom('dpgate.community_budgets')
    .select(['community_id', 'rdp_order', 'rdp_spent'])
    .where('community_id', 'in', Object.keys(policy.budgets))
    .orderBy('community_id')
    .forUpdate()
    .execute();
  for (const row of rows) {
    const budget = policy.budgets[row.community_id]!;
    const order =
      row.rdp_order === null
        ? rdpBudget(budget.epsilon, budget.delta, policy.rdp_order).order
        : Number(row.rdp_order);
    if (row.rdp_spent !== null && row.rdp_order !== null) continue;
    const spent = await composedCharges(trx, row.community_id);
    const spend = rdpSpend(rdpBudget(budget.epsilon, budget.delta, order), spent);
    await trx
      .updateTable('dpgate.community_budgets')
      .set({
        rdp_order: String(order),
        rdp_spent: jsonb({ curve: [...spent.curve], delta: spent.delta }),
        epsilon_spent: decimalAtLeast(spend.epsilon),
        delta_spent: decimalAtLeast(spent.delta),
      })
      .where('community_id', '=', row.community_id)
      .execute();
  }
}

/** Every committed charge of a community composed, each by its stored curve or the one its loss implies. */
async function composedCharges(trx: Kysely<Database>, communityId: string): Promise<RdpCharge> {
  const charges = await sql<{
    epsilon: string;
    delta: string;
    rho: string | null;
    rdp_curve: RdpCharge | null;
  }>`
    select epsilon, delta, rho, rdp_curve from dpgate.charges where community_id = ${communityId}`.execute(
    trx,
  );
  return composeRdpCharges(charges.rows.map((charge) => charge.rdp_curve ?? impliedCharge(charge)));
}

function impliedCharge(charge: { epsilon: string; delta: string; rho: string | null }): RdpCharge {
  const losses: PrivacyLoss[] = [];
  if (charge.rho !== null && Number(charge.rho) > 0) losses.push({ kind: 'zcdp', rho: Number(charge.rho) });
  const epsilon = Number(charge.epsilon);
  const delta = Number(charge.delta);
  if (delta > 0) losses.push({ kind: 'approx', epsilon, delta });
  else if (epsilon > 0) losses.push({ kind: 'pure', epsilon });
  return rdpChargeOf(losses);
}
