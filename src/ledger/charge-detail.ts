/**
 * One charge opened up for the community it was made to: what it paid for (the released answer,
 * or the training job and its model card) and the figures its cost was computed from. Everything
 * here was already released to the analyst, so showing it to the community is post-processing.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import { CHARGE_COLUMNS } from './ledger-view.ts';

export async function chargeDetail(db: Kysely<Database>, communityId: string, chargeId: string) {
  const charge = await db
    .selectFrom('dpgate.charges as c')
    .innerJoin('dpgate.community_budgets as b', 'b.community_id', 'c.community_id')
    .leftJoin('dpgate.api_keys as k', 'k.id', 'c.principal_id')
    .select([...CHARGE_COLUMNS, 'b.accounting'])
    .where('c.community_id', '=', communityId)
    .where('c.id', '=', chargeId)
    .executeTakeFirst();
  if (!charge) return undefined;
  const communities = await db
    .selectFrom('dpgate.charges')
    .select('community_id')
    .where('subject_id', '=', charge.subject_id)
    .where('request_id', '=', charge.request_id)
    .orderBy('community_id')
    .execute();
  return {
    id: charge.id,
    at: charge.created_at.toISOString(),
    kind: charge.kind,
    description: charge.description,
    principal: {
      id: charge.principal_id,
      name: charge.principal_name ?? null,
      role: charge.principal_role ?? null,
    },
    epsilon: charge.epsilon,
    delta: charge.delta,
    rho: charge.rho,
    mechanism: charge.mechanism,
    accounting: charge.accounting,
    policy_version: charge.policy_version,
    request_id: charge.request_id,
    communities: communities.map((row) => row.community_id),
    answer: charge.kind === 'query' ? await releasedAnswer(db, charge.subject_id) : null,
    job: charge.kind === 'query' ? null : await trainingJob(db, charge.subject_id),
  };
}

async function releasedAnswer(db: Kysely<Database>, answerId: string) {
  const row = await db
    .selectFrom('dpgate.released_answers')
    .select(['status', 'response', 'released_at'])
    .where('id', '=', answerId)
    .executeTakeFirst();
  if (!row) return null;
  const response = (row.response ?? {}) as Record<string, unknown>;
  return {
    status: row.status,
    released_at: row.released_at?.toISOString() ?? null,
    columns: (response.columns as unknown[] | undefined) ?? [],
    rows: (response.rows as unknown[] | undefined) ?? [],
    accuracy: (response.accuracy as unknown[] | undefined) ?? [],
    cost: response.cost ?? null,
    scope: response.scope ?? null,
  };
}

async function trainingJob(db: Kysely<Database>, jobId: string) {
  const job = await db
    .selectFrom('dpgate.training_jobs as j')
    .leftJoin('dpgate.models as m', 'm.id', 'j.model_id')
    .select(['j.status', 'j.cost', 'j.spec', 'j.finished_at', 'm.card'])
    .where('j.id', '=', jobId)
    .executeTakeFirst();
  if (!job) return null;
  return {
    status: job.status,
    cost: job.cost,
    request: (job.spec as { request?: unknown } | null)?.request ?? null,
    finished_at: job.finished_at?.toISOString() ?? null,
    model_card: job.card ?? null,
  };
}
