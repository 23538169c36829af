/**
 * The cryptographic primitives of secure aggregation, all from Web Crypto (Node 20 and Workers):
 * - X25519 key agreement (RFC 7748) for pairwise mask seeds and for the keys that encrypt shares;
 * - HKDF-SHA-256 (RFC 5869) to turn a shared secret into a key bound to the session and the pair;
 * - AES-256-CTR keystream as the mask PRG (a PRF in counter mode: a CSPRNG under the AES assumption);
 * - AES-256-GCM for the Shamir shares sent through the gateway (authenticated, AAD = session, pair);
 * - Ed25519 signatures (RFC 8032) on every message, from long-term keys named in policy.
 */
import type { webcrypto } from 'node:crypto';
import { concatBytes, FederationFormatError, fromBase64Url, toBase64Url, utf8 } from './bytes.ts';

const subtle = globalThis.crypto.subtle;

/** Web Crypto's key types (not in the ES lib this project compiles against). */
export type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
type JsonWebKey = webcrypto.JsonWebKey;

export interface KeyAgreementPair {
  readonly publicKey: Uint8Array;
  readonly privateKey: CryptoKey;
}

export async function generateKeyAgreementPair(): Promise<KeyAgreementPair> {
  const pair = (await subtle.generateKey({ name: 'X25519' }, true, ['deriveBits'])) as CryptoKeyPair;
  return {
    publicKey: new Uint8Array(await subtle.exportKey('raw', pair.publicKey)),
    privateKey: pair.privateKey,
  };
}

/** The 32-byte private scalar of an X25519 key, to be Shamir-shared (JWK `d`). */
export async function exportAgreementSecret(key: CryptoKey): Promise<Uint8Array> {
  const jwk = await subtle.exportKey('jwk', key);
  if (!jwk.d) throw new Error('X25519 key is not extractable');
  return fromBase64Url(jwk.d);
}

/** Re-imports an X25519 private key from its 32-byte scalar and public key. */
export async function importAgreementSecret(secret: Uint8Array, publicKey: Uint8Array): Promise<CryptoKey> {
  return subtle.importKey(
    'jwk',
    { kty: 'OKP', crv: 'X25519', d: toBase64Url(secret), x: toBase64Url(publicKey) },
    { name: 'X25519' },
    false,
    ['deriveBits'],
  );
}

/** X25519(private, public): 32 bytes. Web Crypto refuses low-order public keys (all-zero output). */
export async function agree(privateKey: CryptoKey, peerPublicKey: Uint8Array): Promise<Uint8Array> {
  if (peerPublicKey.length !== 32) throw new FederationFormatError('X25519 public key must be 32 bytes');
  let peer: CryptoKey;
  try {
    peer = await subtle.importKey('raw', peerPublicKey, { name: 'X25519' }, false, []);
    return new Uint8Array(await subtle.deriveBits({ name: 'X25519', public: peer }, privateKey, 256));
  } catch {
    throw new FederationFormatError('X25519 key agreement failed (invalid public key)');
  }
}

/** HKDF-SHA-256 → `length` bytes; `salt` is the session id, `info` names the use and the parties. */
export async function hkdf(
  secret: Uint8Array,
  salt: Uint8Array,
  info: string,
  length = 32,
): Promise<Uint8Array> {
  const key = await subtle.importKey('raw', secret, 'HKDF', false, ['deriveBits']);
  return new Uint8Array(
    await subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt, info: utf8(info) }, key, length * 8),
  );
}

/**
 * `length` bytes of AES-256-CTR keystream under `key` (32 bytes), counter starting at zero with all
 * 128 bits as the counter, so it never wraps within one call.
 */
export async function keystream(key: Uint8Array, length: number): Promise<Uint8Array> {
  const aesKey = await subtle.importKey('raw', key, 'AES-CTR', false, ['encrypt']);
  return new Uint8Array(
    await subtle.encrypt(
      { name: 'AES-CTR', counter: new Uint8Array(16), length: 128 },
      aesKey,
      new Uint8Array(length),
    ),
  );
}

/** AES-256-GCM under a fresh random 96-bit nonce (each key encrypts one message): nonce ‖ ciphertext. */
export async function seal(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Promise<Uint8Array> {
  const aesKey = await subtle.importKey('raw', key, 'AES-GCM', false, ['encrypt']);
  const nonce = globalThis.crypto.getRandomValues(new Uint8Array(12));
  const ciphertext = await subtle.encrypt(
    { name: 'AES-GCM', iv: nonce, additionalData: aad },
    aesKey,
    plaintext,
  );
  return concatBytes(nonce, new Uint8Array(ciphertext));
}

export async function open(key: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Promise<Uint8Array> {
  if (sealed.length < 12 + 16) throw new FederationFormatError('ciphertext too short');
  const aesKey = await subtle.importKey('raw', key, 'AES-GCM', false, ['decrypt']);
  try {
    return new Uint8Array(
      await subtle.decrypt(
        { name: 'AES-GCM', iv: sealed.subarray(0, 12), additionalData: aad },
        aesKey,
        sealed.subarray(12),
      ),
    );
  } catch {
    throw new FederationFormatError('ciphertext does not authenticate');
  }
}

export interface SigningPair {
  /** Raw 32-byte Ed25519 public key, base64url in policy. */
  readonly publicKey: string;
  readonly privateKey: CryptoKey;
}

export type { JsonWebKey };

export async function generateSigningPair(): Promise<SigningPair & { readonly privateJwk: JsonWebKey }> {
  const pair = (await subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as CryptoKeyPair;
  return {
    publicKey: toBase64Url(new Uint8Array(await subtle.exportKey('raw', pair.publicKey))),
    privateKey: pair.privateKey,
    privateJwk: await subtle.exportKey('jwk', pair.privateKey),
  };
}

/** A signing key from its private JWK (as `dpgate node keygen` writes it). */
export async function importSigningKey(jwk: JsonWebKey): Promise<SigningPair> {
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || !jwk.d || !jwk.x) {
    throw new Error('a signing key must be an Ed25519 private JWK');
  }
  const privateKey = await subtle.importKey('jwk', jwk, { name: 'Ed25519' }, false, ['sign']);
  return { publicKey: jwk.x, privateKey };
}

export async function sign(privateKey: CryptoKey, message: Uint8Array): Promise<string> {
  return toBase64Url(new Uint8Array(await subtle.sign({ name: 'Ed25519' }, privateKey, message)));
}

export async function verify(publicKey: string, signature: string, message: Uint8Array): Promise<boolean> {
  try {
    const key = await subtle.importKey('raw', fromBase64Url(publicKey), { name: 'Ed25519' }, false, [
      'verify',
    ]);
    return await subtle.verify({ name: 'Ed25519' }, key, fromBase64Url(signature), message);
  } catch {
    return false;
  }
}

export async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await subtle.digest('SHA-256', bytes));
}

export function randomBytes(length: number): Uint8Array {
  return globalThis.crypto.getRandomValues(new Uint8Array(length));
}

/**
 * A short name for a public key that people can compare aloud: the first 16 bytes of SHA-256 of the
 * raw key, as eight groups of four hex digits. `dpgate node keygen` prints it beside the key.
 */
export async function keyFingerprint(publicKey: string): Promise<string> {
  const digest = new Uint8Array(await subtle.digest('SHA-256', fromBase64Url(publicKey)));
  const hex = Array.from(digest.subarray(0, 16), (byte) => byte.toString(16).padStart(2, '0')).join('');
  return hex.match(/.{4}/g)!.join(' ');
}
