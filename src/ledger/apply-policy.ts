/**
 * Making a validated policy the one in force in the database: record its version, bring every
 * community's budget totals in line with it, and grant the query role exactly the columns it exposes.
 * One transaction, so the database never reflects half a policy.
 * A total below what a community has already spent violates the budget CHECK and the whole apply is
 * refused.
 *
 * Lock order, the same as a charge's: budget rows in `community_id` order, then the audit chain's
 * lock. Applies serialise on an advisory lock of their own first (concurrent GRANTs on one role
 * fail in PostgreSQL), which no charge takes. A version already in force is a no-op, so a gateway
 * starting or reloading the same files takes no lock a charge needs.
 */
import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/database.ts';
import { jsonb } from '../db/jsonb.ts';
import { syncQueryRole } from '../db/query-role.ts';
import { zcdpBudget } from '../dp/accounting/index.ts';
import type { PolicySnapshot } from '../policy/validate.ts';
import { appendAudit } from './audit-log.ts';
import { installCommunityGuard } from './community-guard.ts';
import { ledgerTransaction } from './ledger-transaction.ts';
import { syncRdpBudgets } from './rdp-budgets.ts';

const POLICY_APPLY_LOCK_KEY = 7_302_114_004;

/** Resolves to false when the version was already in force and nothing was written. */
export async function applyPolicy(db: Kysely<Database>, snapshot: PolicySnapshot): Promise<boolean> {
  const { policy, version } = snapshot;
  const budgets = Object.entries(policy.budgets).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return ledgerTransaction(
    db,
    async (trx) => {
      await sql`select pg_advisory_xact_lock(${POLICY_APPLY_LOCK_KEY})`.execute(trx);
      const previous = await trx
        .selectFrom('dpgate.policy_versions')
        .select('version')
        .orderBy('applied_at', 'desc')
        .limit(1)
        .executeTakeFirst();
      if (previous?.version === version && (await budgetsCarry(trx, version, budgets.length))) return false;

      for (const [communityId, budget] of budgets) {
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
      // Stamped now, with every budget row locked, not at the transaction's start: a charge that
      // held a row before this apply could lock it commits earlier, so every charge stamped after
      // `applied_at` was planned under this version or refused as superseded.
      const appliedAt = sql<Date>`clock_timestamp()`;
      await trx
        .insertInto('dpgate.policy_versions')
        .values({
          version,
          policy: jsonb(policy),
          files: jsonb(snapshot.files.map(({ name, text }) => ({ name, text }))),
          applied_at: appliedAt,
        })
        // Going back to an earlier version makes it the newest again.
        .onConflict((oc) => oc.column('version').doUpdateSet({ applied_at: appliedAt }))
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
      await syncRdpBudgets(trx, policy);
      return true;
    },
    { retryLockTimeouts: true },
  );
}

/** Whether every one of the policy's budget rows already carries this version. */
async function budgetsCarry(trx: Kysely<Database>, version: string, count: number): Promise<boolean> {
  const row = await trx
    .selectFrom('dpgate.community_budgets')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('policy_version', '=', version)
    .executeTakeFirstOrThrow();
  return Number(row.n) === count;
}
