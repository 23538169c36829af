/**
 * API keys. A key is 256 random bits shown once at creation; the database keeps only its SHA-256
 * hash and a short prefix for people to recognise it by, so a leaked database holds no usable key.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import { appendAudit } from '../ledger/audit-log.ts';
import type { Role } from '../policy/schema.ts';
import { sha256Hex } from '../util/sha256.ts';
import type { Principal } from './principal.ts';

const KEY_BYTES = 32;
const PREFIX_LENGTH = 12;

export interface NewApiKey {
  readonly role: Role;
  readonly name: string;
  readonly communityId?: string | null | undefined;
}

export interface CreatedApiKey {
  readonly principal: Principal;
  /** The secret itself: returned once, never stored. */
  readonly key: string;
  readonly prefix: string;
}

export class ApiKeyError extends Error {
  override name = 'ApiKeyError';
}

/** Refuses a key request that cannot be right, before any database work. */
export function checkNewApiKey(request: NewApiKey): void {
  const communityId = request.communityId ?? null;
  if (request.role === 'contributor' && !communityId) {
    throw new ApiKeyError('a contributor key needs --community: contributors read one community’s ledger');
  }
  if (request.role !== 'contributor' && communityId) {
    throw new ApiKeyError(`--community applies to contributor keys only, not ${request.role}`);
  }
  if (!request.name.trim()) throw new ApiKeyError('a key needs a name, so people can tell keys apart');
}

export async function createApiKey(db: Kysely<Database>, request: NewApiKey): Promise<CreatedApiKey> {
  checkNewApiKey(request);
  const communityId = request.communityId ?? null;
  const key = `dpg_${base64url(crypto.getRandomValues(new Uint8Array(KEY_BYTES)))}`;
  const prefix = key.slice(0, PREFIX_LENGTH);
  const row = await db.transaction().execute(async (trx) => {
    const inserted = await trx
      .insertInto('dpgate.api_keys')
      .values({
        name: request.name,
        role: request.role,
        community_id: communityId,
        key_prefix: prefix,
        key_hash: await sha256Hex(key),
      })
      .returning(['id', 'name', 'role', 'community_id'])
      .executeTakeFirstOrThrow();
    await appendAudit(trx, {
      actor: 'cli',
      action: 'key.created',
      details: {
        key_id: inserted.id,
        name: inserted.name,
        role: inserted.role,
        community_id: communityId,
        prefix,
      },
    });
    return inserted;
  });
  return { principal: toPrincipal(row), key, prefix };
}

/** The principal a presented key belongs to, or undefined for an unknown or revoked key. */
export async function authenticateKey(db: Kysely<Database>, key: string): Promise<Principal | undefined> {
  if (!key.startsWith('dpg_') || key.length > 128) return undefined;
  const row = await db
    .selectFrom('dpgate.api_keys')
    .select(['id', 'name', 'role', 'community_id'])
    .where('key_hash', '=', await sha256Hex(key))
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return row ? toPrincipal(row) : undefined;
}

/** A printable hint of a key for logs: its prefix only. */
export function keyHint(key: string): string {
  return `${key.slice(0, PREFIX_LENGTH)}…`;
}

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

function toPrincipal(row: { id: string; name: string; role: Role; community_id: string | null }): Principal {
  return { id: row.id, name: row.name, role: row.role, communityId: row.community_id };
}
