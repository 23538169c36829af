/**
 * Randomness for noise. Production noise comes only from `crypto.getRandomValues` (Web Crypto, so the
 * same code runs on Node and Workers). Everything above this file asks for exact uniform integers;
 * nothing converts random bits to floats.
 */

import { floorDivide } from './rational.ts';

/** A source of independent uniform 32-bit words. Tests inject a seeded one; production uses `cryptoRandom`. */
export interface RandomSource {
  nextUint32(): number;
}

// 64 KiB is the most one getRandomValues call may fill; one call per 16384 words keeps the
// per-word cost to an array read.
const POOL_WORDS = 16_384;
const TWO_32 = 2 ** 32;
const TWO_53 = 2 ** 53;

class CryptoRandomSource implements RandomSource {
  private readonly pool = new Uint32Array(POOL_WORDS);
  private next = POOL_WORDS;

  nextUint32(): number {
    if (this.next === POOL_WORDS) {
      crypto.getRandomValues(this.pool);
      this.next = 0;
    }
    return this.pool[this.next++]!;
  }
}

/** The process-wide cryptographically secure source every mechanism uses unless given another. */
export const cryptoRandom: RandomSource = new CryptoRandomSource();

/**
 * A uniform integer in [0, n) for a safe integer n ≥ 1, by rejection (never modulo bias): a draw
 * is kept only below the largest multiple of n that fits the word range. At most half the draws
 * are rejected, so the expected cost is under two draws. Below 2^32 no float modulo is formed
 * (it is a library call, slower than the rest of a draw).
 */
export function uniformInt(random: RandomSource, n: number): number {
  if (!(n >= 1)) notARange(n);
  if (n <= TWO_32) {
    // Each value of [0, n) is ⌊word/m⌋ for exactly m = ⌊2^32/n⌋ of the words below m·n.
    const perValue = floorDivide(TWO_32, n);
    const limit = perValue * n;
    for (;;) {
      const word = random.nextUint32();
      if (word < limit) return floorDivide(word, perValue);
    }
  }
  if (!Number.isSafeInteger(n)) notARange(n);
  // 21 + 32 = 53 uniform bits; every value below 2^53 and every % here is exact in a double.
  const limit = TWO_53 - (TWO_53 % n);
  for (;;) {
    const draw = (random.nextUint32() >>> 11) * TWO_32 + random.nextUint32();
    if (draw < limit) return draw % n;
  }
}

// Kept out of line: a throw with a template string inside uniformInt stops V8 inlining it (2× slower).
function notARange(n: number): never {
  throw new RangeError(`uniformInt: ${n} is not a safe integer ≥ 1`);
}

/** A uniform bigint in [0, n) for n ≥ 1: draw bitLength(n) bits, reject values ≥ n (expected < 2 tries). */
export function uniformBigInt(random: RandomSource, n: bigint): bigint {
  if (n < 1n) throw new RangeError('uniformBigInt: n must be at least 1');
  const bits = n.toString(2).length;
  const words = Math.ceil(bits / 32);
  const topMask = bits % 32 === 0 ? 0xffffffff : 2 ** (bits % 32) - 1;
  for (;;) {
    // `>>> 0`: `&` yields a signed 32-bit integer, which would make the top word negative.
    let draw = BigInt((random.nextUint32() & topMask) >>> 0);
    for (let i = 1; i < words; i++) draw = (draw << 32n) | BigInt(random.nextUint32());
    if (draw < n) return draw;
  }
}

/** One fair coin. */
export function randomBit(random: RandomSource): boolean {
  return (random.nextUint32() & 1) === 1;
}
