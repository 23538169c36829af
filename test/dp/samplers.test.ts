import { describe, expect, it } from 'vitest';
import { bernoulliExpMinus, bernoulliExpMinusBig, bernoulliRatio } from '../../src/dp/bernoulli.ts';
import { cryptoRandom, type RandomSource, uniformBigInt, uniformInt } from '../../src/dp/random.ts';
import {
  type Rational,
  rational,
  rationalAtLeast,
  rationalValue,
  squareAtLeast,
} from '../../src/dp/rational.ts';
import {
  planDiscreteGaussian,
  sampleDiscreteGaussian,
  sampleDiscreteLaplace,
} from '../../src/dp/samplers.ts';
import { seededRandom } from '../support/seeded-random.ts';
import {
  chiSquareTest,
  criticalValue,
  discreteGaussianPmf,
  discreteLaplacePmf,
  type ExactPmf,
  moments,
} from './chi-square.ts';

const SAMPLES = 200_000;

function draw(count: number, sample: () => number): number[] {
  return Array.from({ length: count }, sample);
}

/** Sample mean within 6 standard errors of 0, sample variance within 6 of its own standard errors. */
function expectMoments(samples: readonly number[], pmf: ExactPmf): void {
  const exact = moments(pmf);
  const n = samples.length;
  const mean = samples.reduce((sum, x) => sum + x, 0) / n;
  const variance = samples.reduce((sum, x) => sum + (x - mean) ** 2, 0) / (n - 1);
  expect(Math.abs(mean)).toBeLessThanOrEqual(6 * Math.sqrt(exact.variance / n));
  const varianceError = Math.sqrt((exact.fourth - exact.variance ** 2) / n);
  expect(Math.abs(variance - exact.variance)).toBeLessThanOrEqual(6 * varianceError);
}

describe('discrete Laplace sampler (CKS20 Algorithm 2)', () => {
  const cases: Array<[string, Rational, number]> = [
    ['0.1', rationalAtLeast(0.1), 1_000_000], // tails are rare: enough draws for ≥ 20 per tail bin
    ['1', rational(1), SAMPLES],
    ['10', rational(10), SAMPLES],
    ['100', rational(100), SAMPLES],
    ['10^4', rational(10_000), SAMPLES],
    ['7/3', rational(7, 3), SAMPLES],
    // Either side of the one-word path's limit (numerator ≤ 2^32: U and the sign from one word). The
    // MLP grid noise's proposal (numerator just above 2^31) is tested through the Gaussian below.
    ['(2^32 − 1)/2^22 (one-word path, block 2^30)', rational(2 ** 32 - 1, 2 ** 22), SAMPLES],
    ['(2^32 + 1)/2^22 (above it: CKS20 block, sign word)', rational(2 ** 32 + 1, 2 ** 22), SAMPLES],
    ['3/5 (block 1: U always 0)', rational(3, 5), SAMPLES],
  ];
  it.each(cases)(
    'matches the exact pmf at scale %s (χ², p = 1e-4), with the right mean and variance',
    (_, scale, n) => {
      const random = seededRandom(20_260_001);
      const samples = draw(n, () => sampleDiscreteLaplace(random, scale));
      const pmf = discreteLaplacePmf(rationalValue(scale));
      const result = chiSquareTest(samples, pmf);
      expect(result.degreesOfFreedom).toBeGreaterThanOrEqual(2);
      expect(result.statistic).toBeLessThanOrEqual(result.critical);
      expectMoments(samples, pmf);
    },
  );

  it('passes with the crypto source too', () => {
    const scale = rational(10);
    const samples = draw(SAMPLES, () => sampleDiscreteLaplace(cryptoRandom, scale));
    expect(chiSquareTest(samples, discreteLaplacePmf(10)).passes).toBe(true);
  });

  it('power check: a sampler with a 10% wrong scale fails the same test', () => {
    const random = seededRandom(7);
    const wrong = rational(11);
    const samples = draw(SAMPLES, () => sampleDiscreteLaplace(random, wrong));
    const result = chiSquareTest(samples, discreteLaplacePmf(10));
    expect(result.passes).toBe(false);
    expect(result.statistic).toBeGreaterThan(10 * result.critical);
  });
});

describe('discrete Gaussian sampler (CKS20 Algorithm 3)', () => {
  const cases: Array<[string, Rational]> = [
    ['σ = 0.7 (σ² = a/b with 2ab > 2^53: BigInt acceptance path)', squareAtLeast(0.7)],
    ['σ = 1', rational(1)],
    ['σ² = 7/3', rational(7, 3)],
    ['σ = 10', squareAtLeast(10)],
    ['σ = 100', squareAtLeast(100)],
    ['σ = 10^4', squareAtLeast(10_000)],
    ['σ = 3.7306 (dyadic σ² from a float)', squareAtLeast(3.7306)],
    // DP-SGD's grid noise: σ·(2^20 + √d/2) for σ = 1, d = 1,409 (offset cut to 8 bits, t ≈ σ).
    ['σ = 1,048,595 (the MLP grid noise)', squareAtLeast(1_048_595)],
    ['σ = 1,048,575 (just below 2^20: t furthest from the 2^20 offset)', squareAtLeast(1_048_575)],
    // σ² = 2^40 + 1: the proposal's numerator is σ² itself, above 2^32 (CKS20 block, sign word).
    ['σ² = 2^40 + 1 (proposal numerator above 2^32)', rational(2 ** 40 + 1)],
  ];
  it.each(cases)(
    'matches the exact pmf at %s (χ², p = 1e-4), with the right mean and variance',
    (_, sigmaSquared) => {
      const random = seededRandom(20_260_002);
      const plan = planDiscreteGaussian(sigmaSquared);
      const samples = draw(SAMPLES, () => sampleDiscreteGaussian(random, plan));
      const pmf = discreteGaussianPmf(rationalValue(sigmaSquared));
      const result = chiSquareTest(samples, pmf);
      expect(result.degreesOfFreedom).toBeGreaterThanOrEqual(2);
      expect(result.statistic).toBeLessThanOrEqual(result.critical);
      expectMoments(samples, pmf);
    },
  );

  it('σ = 0.1 is a point mass at 0 up to P(Z ≠ 0) ≈ 4e-22', () => {
    const random = seededRandom(3);
    const plan = planDiscreteGaussian(squareAtLeast(0.1));
    expect(draw(50_000, () => sampleDiscreteGaussian(random, plan)).every((z) => z === 0)).toBe(true);
  });

  it('passes with the crypto source too', () => {
    const sigmaSquared = rational(100);
    const plan = planDiscreteGaussian(sigmaSquared);
    const samples = draw(SAMPLES, () => sampleDiscreteGaussian(cryptoRandom, plan));
    expect(chiSquareTest(samples, discreteGaussianPmf(100)).passes).toBe(true);
  });

  it('power check: σ 5% too large fails the same test', () => {
    const random = seededRandom(11);
    const plan = planDiscreteGaussian(squareAtLeast(10.5));
    const samples = draw(SAMPLES, () => sampleDiscreteGaussian(random, plan));
    expect(chiSquareTest(samples, discreteGaussianPmf(100)).passes).toBe(false);
  });
});

describe('Bernoulli(exp(−n/d)) (CKS20 Algorithm 1)', () => {
  const gammas: Array<[number, number]> = [
    [0, 1],
    [1, 3],
    [1, 1],
    [7, 3],
    [5, 1],
  ];
  /** Frequency within 5 binomial standard errors of exp(−γ). */
  function expectFrequency(draw: () => boolean, gamma: number): void {
    const n = 100_000;
    let hits = 0;
    for (let i = 0; i < n; i++) if (draw()) hits++;
    const p = Math.exp(-gamma);
    expect(Math.abs(hits / n - p)).toBeLessThanOrEqual(5 * Math.sqrt((p * (1 - p)) / n) + 1e-12);
  }
  it.each(gammas)('Number path: γ = %i/%i', (n, d) => {
    const random = seededRandom(n * 31 + d);
    expectFrequency(() => bernoulliExpMinus(random, n, d), n / d);
  });
  it.each(gammas)('BigInt path: γ = %i/%i', (n, d) => {
    const random = seededRandom(n * 37 + d);
    expectFrequency(() => bernoulliExpMinusBig(random, BigInt(n), BigInt(d)), n / d);
  });
  it('BigInt path with a denominator beyond 2^53', () => {
    const random = seededRandom(5);
    const d = 2n ** 70n;
    expectFrequency(() => bernoulliExpMinusBig(random, d / 2n, d), 0.5);
  });
});

describe('Bernoulli(n/(d·k)) from one word, exact in the band (bernoulliRatio)', () => {
  /** Frequency within 5 binomial standard errors of p. */
  function expectRate(draw: () => boolean, p: number, n = 100_000): void {
    let hits = 0;
    for (let i = 0; i < n; i++) if (draw()) hits++;
    expect(Math.abs(hits / n - p)).toBeLessThanOrEqual(5 * Math.sqrt((p * (1 - p)) / n) + 1e-12);
  }
  it.each([
    [1, 3, 1],
    [2, 7, 3],
    [0, 5, 1],
    [5, 5, 1],
    [2 ** 40 + 1, 3 * 2 ** 40, 7], // d·k above 2^45: what the old path drew two words for
    [2 ** 52, 2 ** 52 + 1, 2 ** 20], // d·k above 2^53: exact by the same word
  ])('decides %d/(%d·%d) at its exact rate', (n, d, k) => {
    const random = seededRandom(n + 13 * d + k);
    expectRate(() => bernoulliRatio(random, n, d, k), n / d / k);
  });

  /** A source whose first word is `first`, then words of one shared seeded stream. */
  const rest = seededRandom(17);
  const startingWith = (first: number): RandomSource => {
    let fresh = true;
    return {
      nextUint32: () => {
        if (!fresh) return rest.nextUint32();
        fresh = false;
        return first;
      },
    };
  };
  it('in the band around the threshold, answers with the exact conditional law', () => {
    // 1/3 of 2^32 is 1,431,655,765⅓: the word 1,431,655,765 is true exactly when the bits that
    // would follow it are below ⅓, the next word never is.
    const straddling = 1_431_655_765;
    let hits = 0;
    const n = 60_000;
    for (let i = 0; i < n; i++) if (bernoulliRatio(startingWith(straddling), 1, 3, 1)) hits++;
    expect(Math.abs(hits / n - 1 / 3)).toBeLessThanOrEqual(5 * Math.sqrt(2 / 9 / n));
    expect(bernoulliRatio(startingWith(straddling + 1), 1, 3, 1)).toBe(false);
    expect(bernoulliRatio(startingWith(straddling - 1), 1, 3, 1)).toBe(true);
  });
});

describe('uniform integers by rejection', () => {
  const uniformCases: Array<[string, (random: RandomSource) => number, number]> = [
    ['n = 3', (random) => uniformInt(random, 3), 3],
    ['n = 2^32 − 5 (rejection near the word size)', (random) => uniformInt(random, 2 ** 32 - 5) % 7, 7],
    ['n = 3·2^40 (53-bit path)', (random) => uniformInt(random, 3 * 2 ** 40) % 6, 6],
    ['bigint n = 5^30', (random) => Number(uniformBigInt(random, 5n ** 30n) % 5n), 5],
  ];
  it.each(uniformCases)('%s is uniform (χ², p = 1e-4)', (_, drawValue, cells) => {
    const random = seededRandom(99);
    const counts = new Array<number>(cells).fill(0);
    const n = 60_000;
    for (let i = 0; i < n; i++) counts[drawValue(random)]!++;
    const statistic = counts.reduce((sum, count) => sum + (count - n / cells) ** 2 / (n / cells), 0);
    expect(statistic).toBeLessThanOrEqual(criticalValue(cells - 1));
  });
});

describe('uniformBigInt when the bound fills whole 32-bit words', () => {
  // Regression: `word & 0xffffffff` is a signed int32 in JavaScript, so a bound whose bit length is a
  // multiple of 32 used to draw negative values about half the time.
  it.each([2_516_582_400n, 2n ** 64n - 5n])('draws only in [0, %s) and centres on the middle', (n) => {
    const random = seededRandom(11);
    const draws = Array.from({ length: 20_000 }, () => uniformBigInt(random, n));
    expect(draws.every((draw) => draw >= 0n && draw < n)).toBe(true);
    const mean = draws.reduce((sum, draw) => sum + Number(draw) / Number(n), 0) / draws.length;
    // Uniform on [0, 1) has standard deviation 1/√12; 6 standard errors.
    expect(Math.abs(mean - 0.5)).toBeLessThan(6 / Math.sqrt(12) / Math.sqrt(draws.length));
  });
});
