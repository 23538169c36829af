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
