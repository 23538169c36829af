/**
 * Poisson sampling of persons for one DP-SGD step: each person is in the batch independently with
 * probability q', decided by one exact Bernoulli trial on the CSPRNG: a uniform 32-bit word below
 * threshold = ⌊q·2^32⌋, so q' = threshold/2^32 exactly, with q − 2^-32 < q' ≤ q.
 *
 * Why sampling with q' ≤ q may be accounted at q: the subsampled mechanism's output law is
 * (1 − q')P + q'Q (remove direction; add is symmetric), and for any f-divergence — so for every
 * hockey-stick divergence (hence every (ε, δ) curve and the PLD's) and every exp((α−1)·D_α) —
 * D((1 − q')P + q'Q ‖ P) is convex in q' and 0 at q' = 0, so it is ≤ (q'/q)·D at q ≤ D at q; the
 * same holds for D(P ‖ (1 − q')P + q'Q). The accountant's ε at q therefore bounds the run's.
 */
import type { RandomSource } from '../dp/random.ts';

const TWO_32 = 2 ** 32;
const ONES = 0x01010101;
const HIGH_BITS = 0x80808080 | 0;

/** ⌊q·2^32⌋ (exact: scaling a double by 2^32 is exact). */
export function samplingThreshold(q: number): number {
  if (!(q > 0 && q <= 1)) throw new RangeError(`sampling rate q must be in (0, 1], got ${q}`);
  const threshold = Math.floor(q * TWO_32);
  if (threshold === 0) throw new RangeError(`sampling rate q = ${q} is below 2^-32`);
  return threshold;
}

/** One Bernoulli(threshold/2^32) trial. */
export function isSampled(random: RandomSource, threshold: number): boolean {
  return random.nextUint32() < threshold;
}

/**
 * The same trials, U < threshold for U uniform on 32 bits, decided from U's top byte alone whenever
 * it settles the comparison: U = b·2^24 + R with b a uniform byte and R an independent uniform 24-bit
 * value, and threshold = T·2^24 + t, so U < threshold ⇔ b < T, or b = T and R < t. Only when b = T
 * (probability 1/256) are the other 24 bits drawn (from a fresh word). The outcome of every trial is
 * exactly that of `isSampled`, its law Bernoulli(threshold/2^32), and trials stay independent (each
 * byte of a uniform word is uniform and independent of the others); it reads about a quarter of the
 * random bits, which is most of the cost of sampling from a large population at a small q.
 */
export class PoissonSampler {
  private readonly topByte: number;
  private readonly rest: number;
  private word = 0;
  private bytesLeft = 0;

  constructor(
    private readonly random: RandomSource,
    threshold: number,
  ) {
    this.topByte = Math.floor(threshold / 2 ** 24);
    this.rest = threshold - this.topByte * 2 ** 24;
  }

  /**
   * Runs trials until one succeeds or `limit` have failed, and returns the number that failed
   * (`limit` when none succeeded). It consumes exactly the random words that as many `next()` calls
   * would, in the same order, so every trial is decided as `next()` decides it; a fresh word whose
   * four bytes all exceed T (none can succeed or tie) settles four failures at once.
   */
  failuresBefore(limit: number): number {
    let failures = 0;
    const { topByte } = this;
    // Bytes ≤ T in a word, by the "has a byte less than n" test (exact for n = T + 1 ≤ 128).
    const wordTest = topByte < 128 ? ONES * (topByte + 1) : -1;
    for (;;) {
      if (this.bytesLeft === 0 && wordTest >= 0) {
        while (failures + 4 <= limit) {
          const word = this.random.nextUint32();
          if (((word - wordTest) & ~word & HIGH_BITS) === 0) {
            failures += 4;
            continue;
          }
          this.word = word;
          this.bytesLeft = 4;
          break;
        }
      }
      if (failures === limit) return failures;
      if (this.next()) return failures;
      failures++;
    }
  }

  next(): boolean {
    if (this.bytesLeft === 0) {
      this.word = this.random.nextUint32();
      this.bytesLeft = 4;
    }
    this.bytesLeft--;
    const byte = this.word & 0xff;
    this.word >>>= 8;
    if (byte !== this.topByte) return byte < this.topByte;
    return this.random.nextUint32() >>> 8 < this.rest;
  }
}
