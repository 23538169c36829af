/**
 * A statistical privacy auditor, in the spirit of DP-Sniper (Bichsel, Steffen, Bogunovic, Vechev
 * 2021, "DP-Sniper: Black-Box Discovery of Differential Privacy Violations using Classifiers") and
 * Google's DP statistical tester (Wilson et al. 2020 §5): run a mechanism many times on two
 * neighbouring inputs D and D′, pick an output event S on one half of the draws (the threshold on a
 * test statistic that maximises the same lower confidence bound as below, so an event seen only a
 * few times in a tail does not win on a lucky count), estimate P[M(D) ∈ S] and P[M(D′) ∈ S]
 * on the other half with Clopper–Pearson intervals, and report the lower confidence bound
 *   ε_lower = log((p_lower(D′) − δ) / p_upper(D)),
 * for both directions. A sound (ε, δ)-DP mechanism has ε_lower ≤ ε except with probability at most
 * the confidence level's α (the two intervals are each at level 1 − α/2, Bonferroni).
 */
import type { RandomSource } from '../../src/dp/random.ts';

export interface AuditTarget {
  readonly name: string;
  /** One run on D (`neighbour` false) or D′ (`neighbour` true), reduced to a real statistic. */
  run(neighbour: boolean, random: RandomSource): number;
  readonly epsilon: number;
  readonly delta: number;
}

export interface AuditResult {
  readonly name: string;
  readonly claimedEpsilon: number;
  readonly epsilonLower: number;
  readonly threshold: number;
  readonly samples: number;
}

/** Draws per side; half pick the event, half estimate its probabilities. */
export function audit(target: AuditTarget, samples: number, random: RandomSource, alpha = 1e-3): AuditResult {
  const draw = (neighbour: boolean) =>
    Float64Array.from({ length: samples }, () => target.run(neighbour, random));
  const base = draw(false);
  const neighbour = draw(true);
  const half = Math.floor(samples / 2);
  const [pickBase, testBase] = [base.subarray(0, half), base.subarray(half)];
  const [pickNeighbour, testNeighbour] = [neighbour.subarray(0, half), neighbour.subarray(half)];

  let best = { epsilon: Number.NEGATIVE_INFINITY, threshold: 0, above: true, swap: false };
  for (const threshold of candidateThresholds(pickBase, pickNeighbour)) {
    for (const above of [true, false]) {
      const inBase = count(pickBase, threshold, above);
      const inNeighbour = count(pickNeighbour, threshold, above);
      for (const swap of [false, true]) {
        const [numerator, denominator] = swap ? [inBase, inNeighbour] : [inNeighbour, inBase];
        const epsilon = epsilonLower(numerator, denominator, half, target.delta, alpha);
        if (epsilon > best.epsilon) best = { epsilon, threshold, above, swap };
      }
    }
  }
  const n = testBase.length;
  const inBase = count(testBase, best.threshold, best.above);
  const inNeighbour = count(testNeighbour, best.threshold, best.above);
  const [numerator, denominator] = best.swap ? [inBase, inNeighbour] : [inNeighbour, inBase];
  return {
    name: target.name,
    claimedEpsilon: target.epsilon,
    epsilonLower: epsilonLower(numerator, denominator, n, target.delta, alpha),
    threshold: best.threshold,
    samples,
  };
}

function count(values: Float64Array, threshold: number, above: boolean): number {
  let n = 0;
  for (const value of values) if (above ? value >= threshold : value <= threshold) n++;
  return n;
}

/** Quantiles of the pooled draws: where the likelihood ratio of a monotone family is extreme. */
function candidateThresholds(a: Float64Array, b: Float64Array): number[] {
  const pooled = Float64Array.from([...a, ...b]).sort();
  const levels = [
    0.0005,
    0.001,
    0.002,
    0.005,
    ...Array.from({ length: 99 }, (_, i) => (i + 1) / 100),
    0.995,
    0.998,
    0.999,
    0.9995,
  ];
  return [...new Set(levels.map((level) => pooled[Math.floor(level * (pooled.length - 1))]!))];
}

/** log((lower(k1/n) − δ)/upper(k0/n)) with Clopper–Pearson bounds at level 1 − α/2 each. */
function epsilonLower(
  numerator: number,
  denominator: number,
  n: number,
  delta: number,
  alpha: number,
): number {
  const lower = clopperPearsonLower(numerator, n, alpha / 2) - delta;
  const upper = clopperPearsonUpper(denominator, n, alpha / 2);
  if (!(lower > 0)) return Number.NEGATIVE_INFINITY;
  return Math.log(lower / upper);
}

/** The p with P[Bin(n, p) ≥ k] = α (exact binomial tail, Clopper & Pearson 1934). */
export function clopperPearsonLower(k: number, n: number, alpha: number): number {
  if (k === 0) return 0;
  return inverseIncreasing((p) => regularisedBeta(p, k, n - k + 1), alpha);
}

/** The p with P[Bin(n, p) ≤ k] = α. */
export function clopperPearsonUpper(k: number, n: number, alpha: number): number {
  if (k === n) return 1;
  return inverseIncreasing((p) => regularisedBeta(p, k + 1, n - k), 1 - alpha);
}

function inverseIncreasing(f: (p: number) => number, target: number): number {
  let low = 0;
  let high = 1;
  for (let i = 0; i < 100; i++) {
    const middle = (low + high) / 2;
    if (f(middle) < target) low = middle;
    else high = middle;
  }
  return (low + high) / 2;
}

/** I_x(a, b) by the continued fraction of Numerical Recipes (3rd ed. §6.4), with log-gamma prefactor. */
export function regularisedBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const logFront = logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log1p(-x);
  if (x < (a + 1) / (a + b + 2)) return (Math.exp(logFront) * betaFraction(x, a, b)) / a;
  return 1 - (Math.exp(logFront) * betaFraction(1 - x, b, a)) / b;
}

function betaFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 10_000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a - 1 + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + 1 + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const step = d * c;
    h *= step;
    if (Math.abs(step - 1) < 1e-15) break;
  }
  return h;
}

/** Lanczos approximation (g = 7, n = 9), relative error ~1e-15 for x > 0. */
function logGamma(x: number): number {
  const g = 7;
  const coefficients = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const y = x - 1;
  let sum = coefficients[0]!;
  for (let i = 1; i < g + 2; i++) sum += coefficients[i]! / (y + i);
  const t = y + g + 0.5;
  return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(sum);
}
