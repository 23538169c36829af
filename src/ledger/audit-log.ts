/**
 * The audit log: append-only and hash-chained. Each entry's hash covers the previous entry's hash
 * and the entry's own content, so an edited, inserted or deleted entry breaks the chain from that
 * point on. Appends are serialised by a transaction-scoped advisory lock, so two gateways never
 * chain onto the same predecessor; an append commits or rolls back with the work it records.
 * Database triggers refuse UPDATE and DELETE (migration 0001).
 */
import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/database.ts';
import { jsonb } from '../db/jsonb.ts';
import { canonicalJson } from '../util/canonical-json.ts';
import { sha256Hex } from '../util/sha256.ts';

export const GENESIS_HASH = '0'.repeat(64);
const AUDIT_LOCK_KEY = 7_302_114_003;

export type AuditAction =
  | 'query.refused'
  | 'query.charged'
  | 'query.released'
  | 'query.failed'
  | 'training.charged'
  | 'policy.applied'
  | 'policy.refused'
  | 'key.created'
  | 'key.revoked'
  | 'key.rotated';

export interface AuditEntry {
  /** Who: a principal id, or `system` / `cli`. */
  readonly actor: string;
  readonly action: AuditAction;
  readonly requestId?: string | null;
  readonly details: Record<string, unknown>;
}

function entryHash(prevHash: string, at: Date, entry: AuditEntry): Promise<string> {
  const content = canonicalJson({
    at: at.toISOString(),
    actor: entry.actor,
    action: entry.action,
    request_id: entry.requestId ?? null,
    details: entry.details,
  });
  return sha256Hex(`${prevHash}\n${content}`);
}

/** Appends in the caller's transaction when given one; otherwise in a transaction of its own. */
export async function appendAudit(db: Kysely<Database>, entry: AuditEntry): Promise<void> {
  if (!db.isTransaction) return db.transaction().execute((trx) => appendAudit(trx, entry));
  await sql`select pg_advisory_xact_lock(${AUDIT_LOCK_KEY})`.execute(db);
  const head = await db
    .selectFrom('dpgate.audit_log')
    .select('hash')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  const prevHash = head?.hash ?? GENESIS_HASH;
  const at = new Date();
  await db
    .insertInto('dpgate.audit_log')
    .values({
      at,
      actor: entry.actor,
      action: entry.action,
      request_id: entry.requestId ?? null,
      details: jsonb(entry.details),
      prev_hash: prevHash,
      hash: await entryHash(prevHash, at, entry),
    })
    .execute();
}

export type AuditVerification =
  | { readonly ok: true; readonly entries: number; readonly headHash: string }
  | { readonly ok: false; readonly entries: number; readonly brokenAtId: number; readonly reason: string };

/**
 * Walks the chain from the start. Reports the first entry whose link or content does not match.
 * Truncating the newest entries leaves a valid shorter chain: compare `headHash` with a copy
 * published elsewhere (docs/ledger.md).
 */
export async function verifyAuditChain(db: Kysely<Database>, batchSize = 1000): Promise<AuditVerification> {
  let prevHash = GENESIS_HASH;
  let entries = 0;
  let afterId = 0;
  for (;;) {
    const batch = await db
      .selectFrom('dpgate.audit_log')
      .selectAll()
      .where('id', '>', afterId)
      .orderBy('id')
      .limit(batchSize)
      .execute();
    for (const row of batch) {
      if (row.prev_hash !== prevHash) {
        return {
          ok: false,
          entries,
          brokenAtId: row.id,
          reason:
            'its link to the previous entry does not match: an entry before it was inserted, edited or deleted',
        };
      }
      const expected = await entryHash(prevHash, row.at, {
        actor: row.actor,
        action: row.action as AuditAction,
        requestId: row.request_id,
        details: row.details as Record<string, unknown>,
      });
      if (row.hash !== expected) {
        return {
          ok: false,
          entries,
          brokenAtId: row.id,
          reason: 'its content does not match its hash: the entry was edited',
        };
      }
      prevHash = row.hash;
      entries++;
      afterId = row.id;
    }
    if (batch.length < batchSize) return { ok: true, entries, headHash: prevHash };
  }
}
