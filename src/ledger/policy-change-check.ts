/** Checking a candidate policy set against this database: its catalog and what the ledger has spent. */
import type { Kysely } from 'kysely';
import { readCommonsCatalog } from '../db/commons-catalog.ts';
import type { Database } from '../db/database.ts';
import { checkPolicyChange } from '../policy/check-policy-change.ts';
import type { PolicyFile } from '../policy/policy-files.ts';
import type { PolicyValidation } from '../policy/validate.ts';
import { type CommunitySpend, checkSpendWithinPolicy } from './spend-within-policy.ts';

export function checkPolicyChangeInDatabase(
  db: Kysely<Database>,
  files: readonly PolicyFile[],
): Promise<PolicyValidation> {
  return checkPolicyChange(files, {
    readCatalog: (policy) => readCommonsCatalog(db, policy),
    checkLedger: async (policy) => checkSpendWithinPolicy(policy, await readCommunitySpend(db)),
  });
}

async function readCommunitySpend(db: Kysely<Database>): Promise<CommunitySpend[]> {
  const rows = await db
    .selectFrom('dpgate.community_budgets as budget')
    .leftJoin('dpgate.charges as charge', 'charge.community_id', 'budget.community_id')
    .select(({ fn }) => [
      'budget.community_id',
      'budget.epsilon_spent',
      'budget.delta_spent',
      'budget.rho_spent',
      'budget.accounting',
      fn.count<number>('charge.id').as('charges'),
    ])
    .groupBy([
      'budget.community_id',
      'budget.epsilon_spent',
      'budget.delta_spent',
      'budget.rho_spent',
      'budget.accounting',
    ])
    .execute();
  return rows.map((row) => ({
    communityId: row.community_id,
    epsilonSpent: row.epsilon_spent,
    deltaSpent: row.delta_spent,
    rhoSpent: row.rho_spent,
    accounting: row.accounting,
    charges: row.charges,
  }));
}
