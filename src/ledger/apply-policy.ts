/**
 * Making a validated policy the one in force in the database: record its version, bring every
 * community's budget totals in line with it, and grant the query role exactly the columns it exposes.
 * One transaction, so the database never reflects half a policy.
 * A total below what a community has already spent violates the budget CHECK and the whole apply is
 * refused.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import { jsonb } from '../db/jsonb.ts';
import { syncQueryRole } from '../db/query-role.ts';
import { zcdpBudget } from '../dp/accounting/index.ts';
import type { PolicySnapshot } from '../policy/validate.ts';
import { appendAudit } from './audit-log.ts';
import { installCommunityGuard } from './community-guard.ts';
import { syncRdpBudgets } from './rdp-budgets.ts';

export async function applyPolicy(db: Kysely<Database>, snapshot: PolicySnapshot): Promise<void> {
  const { policy, version } = snapshot;
  await db.transaction().execute(async (trx) => {
    const previous = await trx
      .selectFrom('dpgate.policy_versions')
      .select('version')
      .orderBy('applied_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    await trx
      .insertInto('dpgate.policy_versions')
      .values({
        version,
        policy: jsonb(policy),
        files: jsonb(snapshot.files.map(({ name, text }) => ({ name, text }))),
      })
      // Going back to an earlier version makes it the newest again.
      .onConflict((oc) => oc.column('version').doUpdateSet({ applied_at: new Date() }))
      .execute();
    await syncQueryRole(trx, policy);
    await installCommunityGuard(trx, policy);
    if (previous?.version !== version) {
      await appendAudit(trx, {
        actor: 'system',
        action: 'policy.applied',
        details: {
          version,
          previous: previous?.version ?? null,
          budgets: policy.budgets,
          accounting: policy.accounting,
        },
      });
    }
    for (const [communityId, budget] of Object.entries(policy.budgets)) {
      const totals = {
        accounting: policy.accounting,
        epsilon_total: String(budget.epsilon),
        delta_total: String(budget.delta),
        // The CHECK on rho_spent ≤ rho_total backs up the application's own zCDP check.
        rho_total: policy.accounting === 'zcdp' ? String(zcdpBudget(budget.epsilon, budget.delta)) : null,
        policy_version: version,
      };
      await trx
        .insertInto('dpgate.community_budgets')
        .values({ community_id: communityId, ...totals })
        .onConflict((oc) => oc.column('community_id').doUpdateSet({ ...totals, updated_at: new Date() }))
        .execute();
    }
    await syncRdpBudgets(trx, policy);
  });
}
