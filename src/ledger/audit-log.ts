/**
 * The audit log: append-only and hash-chained. Each entry's hash covers the previous entry's hash
 * and the entry's own content, so an edited, inserted or deleted entry breaks the chain from that
 * point on. Appends run in the database (`dpgate.append_audit`, migration 0006), serialised by a
 * transaction-scoped advisory lock, so two gateways never chain onto the same predecessor; an
 * append commits or rolls back with the work it records.
 * Database triggers refuse UPDATE and DELETE (migration 0001).
 */
import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/database.ts';
import { canonicalJson } from '../util/canonical-json.ts';
import { sha256Hex } from '../util/sha256.ts';

/** The previous hash of the first entry (also in `dpgate.append_audit`). */
export const GENESIS_HASH = '0'.repeat(64);

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

/** The text an entry's hash covers after the previous hash: its fields, canonically serialised. */
function entryContent(at: Date, entry: AuditEntry): string {
  return canonicalJson({
    at: at.toISOString(),
    actor: entry.actor,
    action: entry.action,
    request_id: entry.requestId ?? null,
    details: entry.details,
  });
}

function entryHash(prevHash: string, at: Date, entry: AuditEntry): string {
  return sha256Hex(`${prevHash}\n${entryContent(at, entry)}`);
}

/**
 * An entry as `dpgate.append_audit` takes it (migration 0006): the fields and the content they
 * serialise to, which the function hashes with the head of the chain, read under the audit lock.
 */
export function auditRecord(entry: AuditEntry, at = new Date()) {
  return {
    at: at.toISOString(),
    actor: entry.actor,
    action: entry.action,
    request_id: entry.requestId ?? null,
    details: entry.details,
    content: entryContent(at, entry),
  };
}

/**
 * One statement: in the caller's transaction when given one (it commits or rolls back with the work
 * it records), otherwise in the statement's own.
 */
export async function appendAudit(db: Kysely<Database>, entry: AuditEntry): Promise<void> {
  await sql`select dpgate.append_audit(${JSON.stringify([auditRecord(entry)])}::jsonb)`.execute(db);
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
      const expected = entryHash(prevHash, row.at, {
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
