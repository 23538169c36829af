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

/** A key as councils list it: never its hash or secret. */
export interface ApiKeyRecord {
  readonly id: string;
  readonly name: string;
  readonly role: Role;
  readonly community: string | null;
  readonly prefix: string;
  readonly createdAt: Date;
  readonly revokedAt: Date | null;
}

/** Who made a key change, for the audit log: a principal id, or `cli`. */
export type KeyActor = string;

export interface CreatedApiKey {
  readonly principal: Principal;
  /** The secret itself: returned once, never stored. */
  readonly key: string;
  readonly prefix: string;
  readonly record: ApiKeyRecord;
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

export async function createApiKey(
  db: Kysely<Database>,
  request: NewApiKey,
  actor: KeyActor = 'cli',
): Promise<CreatedApiKey> {
  checkNewApiKey(request);
  const created = await db.transaction().execute((trx) => insertKey(trx, request, actor));
  return {
    principal: toPrincipal(created.row),
    key: created.key,
    prefix: created.row.key_prefix,
    record: toRecord(created.row),
  };
}

/** Every key, newest first. */
export async function listApiKeys(db: Kysely<Database>): Promise<ApiKeyRecord[]> {
  const rows = await db
    .selectFrom('dpgate.api_keys')
    .select(KEY_COLUMNS)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
  return rows.map(toRecord);
}

export class ApiKeyNotFound extends ApiKeyError {
  override name = 'ApiKeyNotFound';
}

export class ApiKeyAlreadyRevoked extends ApiKeyError {
  override name = 'ApiKeyAlreadyRevoked';
}

/** Revokes a key at once: the next request made with it is refused. */
export async function revokeApiKey(db: Kysely<Database>, id: string, actor: KeyActor): Promise<ApiKeyRecord> {
  return db.transaction().execute(async (trx) => {
    const revoked = await revokeLocked(trx, id);
    await appendAudit(trx, {
      actor,
      action: 'key.revoked',
      details: { key_id: revoked.id, name: revoked.name, role: revoked.role, prefix: revoked.prefix },
    });
    return revoked;
  });
}

/**
 * A new key with the old one's name, role and community; the old key is revoked in the same
 * transaction, so there is never a moment with both or neither.
 */
export async function rotateApiKey(
  db: Kysely<Database>,
  id: string,
  actor: KeyActor,
): Promise<{ record: ApiKeyRecord; key: string }> {
  return db.transaction().execute(async (trx) => {
    const old = await revokeLocked(trx, id);
    const created = await insertKey(
      trx,
      { name: old.name, role: old.role, communityId: old.community },
      actor,
      old.id,
    );
    return { record: toRecord(created.row), key: created.key };
  });
}

const KEY_COLUMNS = ['id', 'name', 'role', 'community_id', 'key_prefix', 'created_at', 'revoked_at'] as const;

async function insertKey(trx: Kysely<Database>, request: NewApiKey, actor: KeyActor, rotatedFrom?: string) {
  const communityId = request.communityId ?? null;
  const key = `dpg_${base64url(crypto.getRandomValues(new Uint8Array(KEY_BYTES)))}`;
  const prefix = key.slice(0, PREFIX_LENGTH);
  const row = await trx
    .insertInto('dpgate.api_keys')
    .values({
      name: request.name,
      role: request.role,
      community_id: communityId,
      key_prefix: prefix,
      key_hash: sha256Hex(key),
    })
    .returning(KEY_COLUMNS)
    .executeTakeFirstOrThrow();
  await appendAudit(trx, {
    actor,
    action: rotatedFrom ? 'key.rotated' : 'key.created',
    details: {
      key_id: row.id,
      name: row.name,
      role: row.role,
      community_id: communityId,
      prefix,
      ...(rotatedFrom ? { rotated_from: rotatedFrom } : {}),
    },
  });
  return { row, key };
}

async function revokeLocked(trx: Kysely<Database>, id: string): Promise<ApiKeyRecord> {
  const row = await trx
    .selectFrom('dpgate.api_keys')
    .select(KEY_COLUMNS)
    .where('id', '=', id)
    .forUpdate()
    .executeTakeFirst();
  if (!row) throw new ApiKeyNotFound(`there is no API key with id ${id}`);
  if (row.revoked_at) throw new ApiKeyAlreadyRevoked(`the API key ${row.key_prefix}… is already revoked`);
  const revoked = await trx
    .updateTable('dpgate.api_keys')
    .set({ revoked_at: new Date() })
    .where('id', '=', id)
    .returning(KEY_COLUMNS)
    .executeTakeFirstOrThrow();
  return toRecord(revoked);
}

function toRecord(row: {
  id: string;
  name: string;
  role: Role;
  community_id: string | null;
  key_prefix: string;
  created_at: Date;
  revoked_at: Date | null;
}): ApiKeyRecord {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    community: row.community_id,
    prefix: row.key_prefix,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  };
}

/**
 * The principal a presented key belongs to, or undefined for an unknown or revoked key. A caller
 * that has hashed the key already passes its hash, so the key is hashed once.
 */
export async function authenticateKey(
  db: Kysely<Database>,
  key: string,
  keyHash = sha256Hex(key),
): Promise<Principal | undefined> {
  if (!key.startsWith('dpg_') || key.length > 128) return undefined;
  const row = await db
    .selectFrom('dpgate.api_keys')
    .select(['id', 'name', 'role', 'community_id'])
    .where('key_hash', '=', keyHash)
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
