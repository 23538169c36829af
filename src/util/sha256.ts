/**
 * SHA-256 of a text, as lower-case hex. node:crypto hashes synchronously, with no promise and no
 * copy of the text into a buffer first; Workers have it under the `nodejs_compat` flag (wrangler.toml).
 */
import { createHash } from 'node:crypto';

export function sha256HexSync(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The same as a promise, for callers written against Web Crypto's asynchronous digest. */
export async function sha256Hex(text: string): Promise<string> {
  return sha256HexSync(text);
}
