/**
 * The optimal (ε, δ)-DP partition selection for one group per unit (Desfontaines, Voss, Gipson,
 * Mandayam 2022, "Differentially private partition selection", PoPETs, Thm. 1), computed exactly.
 *
 * Mechanism. A group whose distinct-unit count is n is kept with probability π(n), independently of
 * every other group, and nothing else about it is released. π(0) = 0 (a group nobody is in never
 * appears) and, for n ≥ 1,
 *   π(n) = min(e^ε·π(n−1) + δ,  1 − e^−ε·(1 − π(n−1) − δ),  1).
 * Thm. 1 of the paper: among all (ε, δ)-DP mechanisms that keep a group of n units with a probability
 * depending on n only, this π is the largest at every n at once. Its closed form there is
 * π(n) = δ·(e^(nε) − 1)/(e^ε − 1) up to a crossover, then 1 − π falls geometrically to 0.
 *
 * Privacy, for one group per unit. Neighbours differ by one unit, so one group's count moves by one
 * (n−1 ↔ n, with n − 1 = 0 for a group only that unit is in) and every other group's decision has
 * the same law on both sides. For a keep/drop coin the two inequalities
 *   π(n) ≤ e^ε·π(n−1) + δ   and   1 − π(n−1) ≤ e^ε·(1 − π(n)) + δ
 * together with π non-decreasing (which gives the two reverse ones) are (ε, δ)-DP in both directions
 * of add/remove, and a product with identical independent factors keeps it.
 *
 * Exactness. π here is the same recurrence with e^ε replaced by an exact rational E ≤ e^ε (a
 * truncated Taylor sum, each term rounded down) and each value rounded down to a multiple of 2^-128.
 * Each step then satisfies both inequalities with E and a rounded-down δ, hence with e^ε and δ: the
 * first because it is rounded down, the second because 1 − π(n) is at least (1 − π(n−1) − δ)/E ≥
 * (1 − π(n−1) − δ)/e^ε; and it never falls below π(n−1). So what is sampled is an (ε, δ)-DP keep
 * function by the argument above, within 2^-120 or so of the optimum, and the coin is drawn exactly
 * from uniform words against its binary expansion (`bernoulliDyadic`). No float touches the decision.
 *
 * Several groups per unit (k). The per-group mechanism gets ε/k and δ/k; a unit changes at most k
 * independent decisions, so the whole selection is (ε, δ)-DP by basic composition (Dwork & Roth 2014,
 * Thm. 3.16), as Google's differential-privacy library does for the same mechanism.
 */
import { bernoulliDyadic } from './bernoulli.ts';
import type { PrivacyLoss } from './privacy-loss.ts';
import { cryptoRandom, type RandomSource } from './random.ts';

/** Fixed-point bits of every keep probability and of E. */
export const KEEP_PROBABILITY_BITS = 128;
const SCALE = 1n << BigInt(KEEP_PROBABILITY_BITS);
/**
 * The most counts the keep function may take to reach 1: its table costs about 2 µs a count, so a
 * selector is built in a few ms at most (the ramp is about 2·ln(1/δ)/ε counts long; beyond this the
 * SQL layer thresholds instead).
 */
export const MAX_RAMP = 2048;
/** Tables already built (planning and release of one query build the same one), most recent last. */
const tables = new Map<string, bigint[]>();
const CACHED_TABLES = 16;
/** Rounds ε/k and δ/k down past float rounding, so k times them is never more than asked. */
const DOWN = 1 - 2 ** -50;

export interface OptimalSelectionOptions {
  readonly epsilon: number;
  readonly delta: number;
  /** Policy L0 bound: the most groups one privacy unit can appear in. */
  readonly maxGroupsPerUnit: number;
  readonly random?: RandomSource;
}

export interface OptimalPartitionSelector {
  readonly maxGroupsPerUnit: number;
  /** (ε, δ) of the whole selection: what a charge records. */
  readonly loss: PrivacyLoss & { readonly kind: 'approx' };
  /** The least distinct-unit count kept with probability at least 1/2. */
  readonly medianCount: number;
  /** The least count kept with probability 1. */
  readonly certainCount: number;
  /** π(n) as the exact fraction numerator / 2^KEEP_PROBABILITY_BITS. */
  keepNumerator(distinctUnits: number): bigint;
  /** π(n) rounded to a float, for reports and tests. */
  keepProbability(distinctUnits: number): number;
  /** One exact Bernoulli(π(n)) draw: whether a group of this many distinct units is released. */
  keep(distinctUnits: number): boolean;
}

/** Whether the keep function for these parameters reaches 1 within MAX_RAMP counts. */
export function optimalSelectionFits(options: Omit<OptimalSelectionOptions, 'random'>): boolean {
  try {
    keepTable(perGroup(options));
    return true;
  } catch (error) {
    if (error instanceof RangeError) return false;
    throw error;
  }
}

/**
 * A lower bound on `medianCount`, in closed form, so a planner can skip building a table that cannot
 * win: π(n) ≤ e^ε'·π(n−1) + δ' gives π(n) ≤ δ'·(e^(nε') − 1)/(e^ε' − 1) (ε' = ε/k, δ' = δ/k; the table's
 * rounded-down ε' and δ' only lower π), which is below 1/2 for every n < ln(1 + (e^ε' − 1)/(2δ'))/ε'.
 */
export function optimalMedianCountAtLeast(options: Omit<OptimalSelectionOptions, 'random'>): number {
  const { epsilon, delta, maxGroupsPerUnit: k } = options;
  const perEpsilon = epsilon / k;
  const bound = Math.log1p(Math.expm1(perEpsilon) / ((2 * delta) / k)) / perEpsilon;
  // Shaved so float rounding never lifts it above the true least count; 1 where e^ε' overflows.
  return Number.isFinite(bound) ? Math.max(1, Math.floor(bound * (1 - 1e-9))) : 1;
}

export function optimalPartitionSelector(options: OptimalSelectionOptions): OptimalPartitionSelector {
  const random = options.random ?? cryptoRandom;
  const table = keepTable(perGroup(options));
  const last = table.length - 1;
  const at = (n: number): bigint => {
    if (!Number.isInteger(n) || n < 0)
      throw new RangeError('partition selection: a count is a whole number ≥ 0');
    return n >= last ? SCALE : table[n]!;
  };
  const half = SCALE >> 1n;
  return {
    maxGroupsPerUnit: options.maxGroupsPerUnit,
    loss: { kind: 'approx', epsilon: options.epsilon, delta: options.delta },
    medianCount: table.findIndex((p) => p >= half),
    certainCount: last,
    keepNumerator: at,
    keepProbability: (n) => Number(at(n)) / Number(SCALE),
    keep: (n) => bernoulliDyadic(random, at(n), KEEP_PROBABILITY_BITS),
  };
}

interface PerGroup {
  readonly epsilon: number;
  readonly delta: number;
}

function perGroup(options: Omit<OptimalSelectionOptions, 'random'>): PerGroup {
  const { epsilon, delta, maxGroupsPerUnit: k } = options;
  if (!(epsilon > 0 && Number.isFinite(epsilon)))
    throw new RangeError('partition selection: epsilon must be > 0');
  if (!(delta > 0 && delta < 1)) throw new RangeError('partition selection: delta must be in (0, 1)');
  if (!Number.isInteger(k) || k < 1) {
    throw new RangeError('partition selection: maxGroupsPerUnit must be a positive integer');
  }
  return { epsilon: (epsilon / k) * DOWN, delta: (delta / k) * DOWN };
}

/** π(0), π(1), …, up to the first count whose π is 1, as numerators over 2^128. */
function keepTable(parameters: PerGroup): bigint[] {
  const key = `${parameters.epsilon}:${parameters.delta}`;
  const cached = tables.get(key);
  if (cached) return cached;
  const table = buildKeepTable(parameters);
  if (tables.size >= CACHED_TABLES) tables.delete(tables.keys().next().value!);
  tables.set(key, table);
  return table;
}

function buildKeepTable({ epsilon, delta }: PerGroup): bigint[] {
  // π(n) ≤ δ·Σ_{j<n} e^(jε) ≤ n·δ·e^(nε): when that is below 1 at MAX_RAMP, the table cannot fit.
  if (Math.log(MAX_RAMP) + Math.log(delta) + MAX_RAMP * epsilon < -1e-9) tooLong();
  const e = expLowerBound(epsilon);
  // A double times a power of two is exact, so this is ⌊δ·2^128⌋ exactly.
  const d = BigInt(Math.floor(delta * Number(SCALE)));
  if (d < 1n) throw new RangeError('partition selection: delta is too small');
  const table = [0n];
  let p = 0n;
  while (p < SCALE) {
    const grow = ((e * p) >> BigInt(KEEP_PROBABILITY_BITS)) + d;
    const rest = SCALE - p - d;
    const shrink = rest <= 0n ? SCALE : SCALE - ceilDivide(rest << BigInt(KEEP_PROBABILITY_BITS), e);
    p = grow < shrink ? grow : shrink;
    if (p > SCALE) p = SCALE;
    table.push(p);
    if (table.length > MAX_RAMP + 1) tooLong();
  }
  return table;
}

function tooLong(): never {
  throw new RangeError('partition selection: epsilon is too small for the optimal keep function');
}

/** ⌊2^128·Σ_j x^j/j!⌋ over the terms until one rounds to 0, every term rounded down: ≤ 2^128·e^x. */
function expLowerBound(x: number): bigint {
  const fixed = BigInt(Math.floor(x * Number(SCALE)));
  let term = SCALE;
  let sum = SCALE;
  for (let j = 1n; term > 0n; j++) {
    term = (term * fixed) / (j * SCALE);
    sum += term;
  }
  return sum;
}

function ceilDivide(a: bigint, b: bigint): bigint {
  return (a + b - 1n) / b;
}
