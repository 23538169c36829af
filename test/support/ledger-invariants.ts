/**
 * The ledger's promises, checked directly in the database after a fault or an attack: each
 * community's spent columns equal the sum of its committed charges and stay within its totals;
 * every released answer has a committed charge; every charge pays for an answer or a training job
 * that exists, in a definite state; the audit chain verifies.
 */
import { type Kysely, sql } from 'kysely';
import type { Database } from '../../src/db/database.ts';
import { verifyAuditChain } from '../../src/ledger/audit-log.ts';

export interface LedgerInvariants {
  readonly held: boolean;
  readonly violations: readonly string[];
  readonly charges: number;
  readonly answers: Record<string, number>;
  readonly auditEntries: number;
}

export async function checkLedgerInvariants(
  db: Kysely<Database>,
  options: { allowPending?: boolean } = {},
): Promise<LedgerInvariants> {
  const violations: string[] = [];
  const budgets = await sql<{
    community_id: string;
    epsilon_spent: string;
    delta_spent: string;
    rho_spent: string;
    epsilon_total: string;
    delta_total: string;
    rho_total: string | null;
    charged_epsilon: string;
    charged_delta: string;
    charged_rho: string;
  }>`
    select b.community_id, b.epsilon_spent, b.delta_spent, b.rho_spent, b.epsilon_total, b.delta_total,
      b.rho_total, coalesce(sum(c.epsilon), 0) as charged_epsilon, coalesce(sum(c.delta), 0) as charged_delta,
      coalesce(sum(c.rho), 0) as charged_rho
    from dpgate.community_budgets b left join dpgate.charges c using (community_id)
    group by b.community_id`.execute(db);
  for (const row of budgets.rows) {
    // Compared on NUMERIC text through the database, never through floats.
    const exact = await sql<{ same: boolean; within: boolean }>`
      select (${row.epsilon_spent}::numeric = ${row.charged_epsilon}::numeric
          and ${row.delta_spent}::numeric = ${row.charged_delta}::numeric
          and ${row.rho_spent}::numeric = ${row.charged_rho}::numeric) as same,
        (${row.epsilon_spent}::numeric <= ${row.epsilon_total}::numeric
          and ${row.delta_spent}::numeric <= ${row.delta_total}::numeric
          and (${row.rho_total}::numeric is null or ${row.rho_spent}::numeric <= ${row.rho_total}::numeric)) as within`.execute(
      db,
    );
    if (!exact.rows[0]?.same)
      violations.push(`${row.community_id}: spent differs from the sum of its charges`);
    if (!exact.rows[0]?.within) violations.push(`${row.community_id}: spent exceeds the total`);
  }
  const unpaid = await sql<{ n: number }>`
    select count(*)::int as n from dpgate.released_answers a
    where a.status = 'released' and not exists (select 1 from dpgate.charges c where c.subject_id = a.id::text)`.execute(
    db,
  );
  if (unpaid.rows[0]!.n > 0) violations.push(`${unpaid.rows[0]!.n} released answers without a charge`);
  const orphans = await sql<{ n: number }>`
    select count(*)::int as n from dpgate.charges c
    where (c.kind = 'query' and not exists (select 1 from dpgate.released_answers a where a.id::text = c.subject_id))
       or (c.kind <> 'query' and not exists (select 1 from dpgate.training_jobs j where j.id::text = c.subject_id))`.execute(
    db,
  );
  if (orphans.rows[0]!.n > 0) violations.push(`${orphans.rows[0]!.n} charges without an answer or a job`);
  const states = await sql<{ status: string; n: number }>`
    select status, count(*)::int as n from dpgate.released_answers group by status`.execute(db);
  const answers = Object.fromEntries(states.rows.map((row) => [row.status, row.n]));
  if (!options.allowPending && (answers.pending ?? 0) > 0)
    violations.push(`${answers.pending} answers still pending`);
  const audit = await verifyAuditChain(db);
  if (!audit.ok) violations.push(`audit chain broken at entry ${audit.brokenAtId}: ${audit.reason}`);
  const charges = await sql<{ n: number }>`select count(*)::int as n from dpgate.charges`.execute(db);
  return {
    held: violations.length === 0,
    violations,
    charges: charges.rows[0]!.n,
    answers,
    auditEntries: audit.entries,
  };
}
