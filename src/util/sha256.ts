/**
 * SHA-256 of a text, as lower-case hex. node:crypto hashes synchronously, with no promise and no
 * copy of the text into a buffer first; Workers have it under the `nodejs_compat` flag (wrangler.toml).
 */
import { createHash } from 'node:crypto';

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
