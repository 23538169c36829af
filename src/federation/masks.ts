/**
 * The masks of Bonawitz et al. 2017 (§4, "double masking"): each node u adds a self-mask PRG(b_u)
 * and, for every other survivor v, ±PRG(s_uv) with s_uv = X25519(s_u, s_v) the same for both, so
 * the pairwise masks cancel in the sum. PRG = AES-256-CTR keystream under an HKDF key bound to the
 * session id and the pair.
 */
import { utf8 } from './bytes.ts';
import { hkdf, keystream } from './crypto.ts';
import { pairLabel } from './messages.ts';
import { ModularVector } from './modular-vector.ts';

export interface VectorShape {
  readonly bits: number;
  readonly length: number;
}

async function expand(key: Uint8Array, shape: VectorShape): Promise<ModularVector> {
  return ModularVector.fromKeystream(shape.bits, shape.length, await keystream(key, 8 * shape.length));
}

/** PRG(s_uv): the same vector for (u, v) and (v, u). */
export async function pairMask(
  sharedSecret: Uint8Array,
  sessionId: string,
  u: string,
  v: string,
  shape: VectorShape,
): Promise<ModularVector> {
  const [low, high] = u < v ? [u, v] : [v, u];
  return expand(await hkdf(sharedSecret, utf8(sessionId), pairLabel('mask', low, high)), shape);
}

/** PRG(b_u). */
export async function selfMask(
  seed: Uint8Array,
  sessionId: string,
  u: string,
  shape: VectorShape,
): Promise<ModularVector> {
  return expand(await hkdf(seed, utf8(sessionId), pairLabel('self-mask', u, u)), shape);
}

/** The AES-GCM key for shares u sends to v (the same from either side) and the AAD naming the direction. */
export async function shareKey(
  sharedSecret: Uint8Array,
  sessionId: string,
  from: string,
  to: string,
): Promise<{ key: Uint8Array; aad: Uint8Array }> {
  const [low, high] = from < to ? [from, to] : [to, from];
  return {
    key: await hkdf(sharedSecret, utf8(sessionId), pairLabel('share-key', low, high)),
    aad: utf8(`${sessionId} ${pairLabel('shares', from, to)}`),
  };
}
