/**
 * Released answers, kept so that a retry (same idempotency key) or a repeat (same principal, same
 * normalised query and parameters) returns the stored noisy bytes and never samples fresh noise:
 * two noisy answers for one charge, or a free second answer, would let an analyst average the
 * noise away.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import { jsonb } from '../db/jsonb.ts';

export type StoredAnswer = Awaited<ReturnType<typeof findByIdempotencyKey>>;

export function findByIdempotencyKey(db: Kysely<Database>, principalId: string, idempotencyKey: string) {
  return db
    .selectFrom('dpgate.released_answers')
    .selectAll()
    .where('principal_id', '=', principalId)
    .where('idempotency_key', '=', idempotencyKey)
    .executeTakeFirst();
}

/** The newest released answer to the same normalised request from the same principal. */
export function findRepeat(db: Kysely<Database>, principalId: string, queryFingerprint: string) {
  return db
    .selectFrom('dpgate.released_answers')
    .selectAll()
    .where('principal_id', '=', principalId)
    .where('query_fingerprint', '=', queryFingerprint)
    .where('status', '=', 'released')
    .orderBy('created_at', 'desc')
    .limit(1)
    .executeTakeFirst();
}

export function findAnswer(db: Kysely<Database>, id: string) {
  return db.selectFrom('dpgate.released_answers').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Reserves the answer in the charge's transaction: from here on the charge stands. */
export async function insertPendingAnswer(
  trx: Kysely<Database>,
  answer: {
    readonly id: string;
    readonly principalId: string;
    readonly idempotencyKey: string | null;
    readonly requestHash: string;
    readonly queryFingerprint: string;
    readonly policyVersion: string;
  },
): Promise<void> {
  await trx
    .insertInto('dpgate.released_answers')
    .values({
      id: answer.id,
      principal_id: answer.principalId,
      idempotency_key: answer.idempotencyKey,
      request_hash: answer.requestHash,
      query_fingerprint: answer.queryFingerprint,
      policy_version: answer.policyVersion,
      status: 'pending',
    })
    .execute();
}

export async function markReleased(db: Kysely<Database>, id: string, response: unknown): Promise<void> {
  await db
    .updateTable('dpgate.released_answers')
    .set({ status: 'released', response: jsonb(response), released_at: new Date() })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .execute();
}

export async function markFailed(db: Kysely<Database>, id: string): Promise<void> {
  await db.updateTable('dpgate.released_answers').set({ status: 'failed' }).where('id', '=', id).execute();
}
