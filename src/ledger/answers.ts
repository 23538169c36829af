/**
 * Released answers, kept so that a retry (same idempotency key) or a repeat (same principal, same
 * normalised query and parameters) returns the stored noisy bytes and never samples fresh noise:
 * two noisy answers for one charge, or a free second answer, would let an analyst average the
 * noise away.
 */
import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/database.ts';
import { jsonb } from '../db/jsonb.ts';
import { appendAudit } from './audit-log.ts';
import { GroupWrite, type ItemOutcome } from './group-write.ts';

export type StoredAnswer = Awaited<ReturnType<typeof findByIdempotencyKey>>;

export function findByIdempotencyKey(db: Kysely<Database>, principalId: string, idempotencyKey: string) {
  return db
    .selectFrom('dpgate.released_answers')
    .selectAll()
    .where('principal_id', '=', principalId)
    .where('idempotency_key', '=', idempotencyKey)
    .executeTakeFirst();
}

export function findAnswer(db: Kysely<Database>, id: string) {
  return db.selectFrom('dpgate.released_answers').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The answer a charge reserves, pending, in the charge's own statement (charge.ts recordCharges). */
export interface PendingAnswer {
  readonly id: string;
  readonly principalId: string;
  readonly idempotencyKey: string | null;
  readonly requestHash: string;
  readonly queryFingerprint: string;
  readonly policyVersion: string;
}

/**
 * Stores the answer as sent: `text` is the exact body, so replays are byte-identical. The answers
 * this process releases while one group of them is being stored go together in the next statement
 * (group-write.ts); the promise settles once the statement that carried this answer has finished,
 * and an error of that statement fails every answer it carried.
 */
export function markReleased(db: Kysely<Database>, id: string, text: string): Promise<void> {
  let group = releases.get(db);
  if (!group) {
    group = new GroupWrite((answers) => storeReleased(db, answers), MAX_RELEASES_PER_STATEMENT);
    releases.set(db, group);
  }
  return group.add({ id, text });
}

interface Release {
  readonly id: string;
  readonly text: string;
}

/** Bounds one statement's size whatever the load. */
const MAX_RELEASES_PER_STATEMENT = 32;

const releases = new WeakMap<Kysely<Database>, GroupWrite<Release, void>>();

/** One autocommit statement; an answer no longer pending (resolved as failed meanwhile) is left as it is. */
async function storeReleased(
  db: Kysely<Database>,
  answers: readonly Release[],
): Promise<ItemOutcome<void>[]> {
  await sql`
    update dpgate.released_answers as a
    set status = 'released', response = cast(r.text as jsonb), response_text = r.text, released_at = now()
    from jsonb_to_recordset(${jsonb(answers)}) as r(id uuid, text text)
    where a.id = r.id and a.status = 'pending'`.execute(db);
  return answers.map(() => ({ ok: true, value: undefined }));
}

export async function markFailed(db: Kysely<Database>, id: string): Promise<void> {
  await db
    .updateTable('dpgate.released_answers')
    .set({ status: 'failed' })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .execute();
}

/**
 * A pending answer older than `timeoutMs` was cut off (its gateway crashed or lost the database
 * between the charge and the release): no gateway can still release it, because every release
 * runs well within that time. It becomes `failed`; its charge stands, because the cut-off may have
 * come after the data was read. True when this call made the change.
 */
export async function failIfAbandoned(db: Kysely<Database>, id: string, timeoutMs: number): Promise<boolean> {
  const result = await db
    .updateTable('dpgate.released_answers')
    .set({ status: 'failed' })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .where('created_at', '<', sql<Date>`now() - make_interval(secs => ${timeoutMs / 1000})`)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/**
 * Every abandoned pending answer (see failIfAbandoned) becomes `failed`, with one audit entry naming
 * them. Run by each gateway at start and periodically, so crashes leave no answer pending for long
 * even when nobody retries. Resolves to how many were resolved.
 */
export async function failAbandonedAnswers(db: Kysely<Database>, timeoutMs: number): Promise<number> {
  return db.transaction().execute(async (trx) => {
    const resolved = await trx
      .updateTable('dpgate.released_answers')
      .set({ status: 'failed' })
      .where('status', '=', 'pending')
      .where('created_at', '<', sql<Date>`now() - make_interval(secs => ${timeoutMs / 1000})`)
      .returning('id')
      .execute();
    if (resolved.length > 0) {
      await appendAudit(trx, {
        actor: 'system',
        action: 'query.failed',
        details: { answer_ids: resolved.map((row) => row.id), reason: 'abandoned' },
      });
    }
    return resolved.length;
  });
}

/** The bytes a replay sends: the stored text, or (answers stored before it was kept) its JSON. */
export function storedText(answer: NonNullable<StoredAnswer>): string | undefined {
  if (answer.response_text !== null) return answer.response_text;
  return answer.response === null ? undefined : JSON.stringify(answer.response);
}
