/**
 * API keys seen recently, so that a busy gateway does not look the same key up on every request.
 * Only keys found valid are kept, for `ttlMs`; unknown and revoked keys are looked up each time.
 * The price is the revocation delay: a key revoked through another gateway or the CLI is still
 * accepted here until its entry expires (at most `ttlMs`); revoking or rotating through this
 * gateway forgets every entry at once.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import { sha256Hex } from '../util/sha256.ts';
import { authenticateKey } from './api-keys.ts';
import type { Principal } from './principal.ts';

/** Bounds the memory of the cache whatever the number of keys: past it, the cache starts over. */
const MAX_KEYS = 10_000;

export interface KeyLookup {
  authenticate(key: string): Promise<Principal | undefined>;
  /** Drops every kept key: after a revocation or rotation made here. */
  forget(): void;
}

export function keyLookup(db: Kysely<Database>, ttlMs = 0): KeyLookup {
  // Kept under the key's hash, not the key itself.
  const kept = new Map<string, { principal: Principal; until: number }>();
  return {
    async authenticate(key) {
      if (ttlMs <= 0) return authenticateKey(db, key);
      const hash = sha256Hex(key);
      const now = performance.now();
      const entry = kept.get(hash);
      if (entry && entry.until > now) return entry.principal;
      const principal = await authenticateKey(db, key, hash);
      if (principal) {
        if (kept.size >= MAX_KEYS) kept.clear();
        kept.set(hash, { principal, until: now + ttlMs });
      } else kept.delete(hash);
      return principal;
    },
    forget: () => kept.clear(),
  };
}
