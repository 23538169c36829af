/**
 * Shamir t-of-n secret sharing (Shamir 1979) over the prime field GF(p), p = 2^521 − 1 (a Mersenne
 * prime), so any 32-byte secret is one field element. A share is (x, f(x)) for a random polynomial f
 * of degree t − 1 with f(0) = secret; any t shares determine f(0) by Lagrange interpolation, and any
 * t − 1 shares are uniformly distributed whatever the secret (perfect secrecy).
 */
import { bigintToBytes, bytesToBigint, FederationFormatError } from './bytes.ts';
import { randomBytes } from './crypto.ts';

export const FIELD_PRIME = (1n << 521n) - 1n;
/** Bytes of one field element on the wire. */
export const FIELD_BYTES = 66;

export interface Share {
  /** The evaluation point, 1…n (a party's index; never 0). */
  readonly x: number;
  readonly y: bigint;
}

function mod(value: bigint): bigint {
  const r = value % FIELD_PRIME;
  return r < 0n ? r + FIELD_PRIME : r;
}

/** A uniform field element by rejection from 521 random bits (rejects with probability 2^-521). */
function randomFieldElement(): bigint {
  for (;;) {
    const bytes = randomBytes(FIELD_BYTES);
    bytes[0]! &= 0x01; // 528 − 521 = 7 top bits cleared
    const value = bytesToBigint(bytes);
    if (value < FIELD_PRIME) return value;
  }
}

/** Shares of `secret` (at most 64 bytes) at the points `xs`, any `threshold` of which recover it. */
export function splitSecret(secret: Uint8Array, threshold: number, xs: readonly number[]): Share[] {
  if (secret.length > 64) throw new RangeError('splitSecret: secret longer than 64 bytes');
  if (!Number.isInteger(threshold) || threshold < 1 || threshold > xs.length) {
    throw new RangeError('splitSecret: threshold must be between 1 and the number of shares');
  }
  if (new Set(xs).size !== xs.length || xs.some((x) => !Number.isSafeInteger(x) || x < 1)) {
    throw new RangeError('splitSecret: evaluation points must be distinct positive integers');
  }
  const coefficients = [bytesToBigint(secret)];
  for (let i = 1; i < threshold; i++) coefficients.push(randomFieldElement());
  return xs.map((x) => {
    // Horner's rule from the top coefficient.
    let y = 0n;
    const point = BigInt(x);
    for (let i = coefficients.length - 1; i >= 0; i--) y = mod(y * point + coefficients[i]!);
    return { x, y };
  });
}

/**
 * f(0) from `threshold` or more shares, as `length` bytes. Uses exactly the first `threshold` shares;
 * the caller checks the count, since fewer shares give a wrong value rather than an error.
 */
export function combineShares(shares: readonly Share[], threshold: number, length: number): Uint8Array {
  if (shares.length < threshold) throw new RangeError('combineShares: fewer shares than the threshold');
  const used = shares.slice(0, threshold);
  if (new Set(used.map((s) => s.x)).size !== used.length) {
    throw new FederationFormatError('combineShares: two shares at the same point');
  }
  let secret = 0n;
  for (const [i, share] of used.entries()) {
    // Lagrange basis at 0: Π_{j≠i} x_j / (x_j − x_i).
    let numerator = 1n;
    let denominator = 1n;
    for (const [j, other] of used.entries()) {
      if (i === j) continue;
      numerator = mod(numerator * BigInt(other.x));
      denominator = mod(denominator * BigInt(other.x - share.x));
    }
    secret = mod(secret + share.y * numerator * inverse(denominator));
  }
  return bigintToBytes(secret, length);
}

/** a^-1 mod p by the extended Euclidean algorithm (a ≠ 0). */
function inverse(a: bigint): bigint {
  let [oldR, r] = [mod(a), FIELD_PRIME];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  if (oldR !== 1n) throw new RangeError('inverse: not invertible');
  return mod(oldS);
}

export function encodeShareValue(y: bigint): Uint8Array {
  return bigintToBytes(y, FIELD_BYTES);
}

export function decodeShareValue(bytes: Uint8Array): bigint {
  if (bytes.length !== FIELD_BYTES) throw new FederationFormatError('share has the wrong length');
  const y = bytesToBigint(bytes);
  if (y >= FIELD_PRIME) throw new FederationFormatError('share is not a field element');
  return y;
}
