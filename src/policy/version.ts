/**
 * A policy's version is the SHA-256 of its canonical JSON (keys sorted), so reformatting a file or
 * moving a table to another file keeps the version, and any change of meaning makes a new one.
 */
import { canonicalJson } from '../util/canonical-json.ts';
import { sha256Hex } from '../util/sha256.ts';
import type { Policy } from './schema.ts';

export function policyVersion(policy: Policy): string {
  return sha256Hex(canonicalJson(policy));
}
