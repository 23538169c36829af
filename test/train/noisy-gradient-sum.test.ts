import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createModel } from '../../src/train/models/create-model.ts';
import {
  addClippedToGrid,
  createNoisyGradientSum,
  personGrid,
  SMOOTHING,
} from '../../src/train/noisy-gradient-sum.ts';
import { isSampled, samplingThreshold } from '../../src/train/poisson-sampling.ts';
import { seededRandom } from '../support/seeded-random.ts';

describe('per-person clipping on the grid', () => {
  it('a person with up to 300 rows contributes at most C (+ the accounted rounding), exactly', () => {
    const inputs = 6;
    const model = createModel(
      { kind: 'mlp', hidden: [5], activation: 'relu', output: { kind: 'binary' } },
      inputs,
    );
    const d = model.parameterCount;
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 300 }),
        fc.double({ min: 1e-3, max: 10, noNaN: true }),
        fc.double({ min: 0.01, max: 20, noNaN: true }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        (rows, clipNorm, weightScale, seed) => {
          const random = seededRandom(seed);
          const uniform = (): number => random.nextUint32() / 2 ** 32;
          const parameters = Float64Array.from({ length: d }, () => weightScale * (2 * uniform() - 1));
          const features = Float64Array.from({ length: rows * inputs }, () => 2 * uniform() - 1);
          const personGradient = new Float64Array(d);
          for (let r = 0; r < rows; r++) {
            model.addExampleGradient(
              parameters,
              features,
              r * inputs,
              uniform() < 0.5 ? 0 : 1,
              personGradient,
            );
          }
          const grid = personGrid(d, clipNorm, 1.5);
          const rounded = new Float64Array(d);
          addClippedToGrid(personGradient, grid, rounded);
          let squared = 0;
          for (const r of rounded) {
            expect(Number.isInteger(r)).toBe(true);
            squared += r * r;
          }
          // Exact in integers: ‖r‖² ≤ Δ² with Δ = 2^k + √d/2, the sensitivity the noise is scaled to.
          expect(squared).toBeLessThanOrEqual(grid.sensitivityInSteps ** 2);
          // In gradient units: ‖r·g‖ ≤ C·(1 + √d·2^-(k+1)), i.e. C up to the rounding the noise accounts for.
          const granularity = clipNorm / grid.stepsPerClip;
          expect(Math.sqrt(squared) * granularity).toBeLessThanOrEqual(
            clipNorm * (1 + Math.sqrt(d) / (2 * grid.stepsPerClip)),
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it('leaves a gradient already inside the clip norm unclipped (up to the grid)', () => {
    const grid = personGrid(3, 2, 1);
    const rounded = new Float64Array(3);
    addClippedToGrid(Float64Array.of(0.3, -0.4, 1.2), grid, rounded);
    const g = 2 / grid.stepsPerClip;
    expect([...rounded].map((r) => r * g)).toEqual([0.3, -0.4, 1.2].map((x) => Math.round(x / g) * g));
  });

  it('drops a non-finite gradient instead of letting NaN reach the release', () => {
    const grid = personGrid(2, 1, 1);
    const sum = Float64Array.of(5, 7);
    addClippedToGrid(Float64Array.of(Number.NaN, 1), grid, sum);
    addClippedToGrid(Float64Array.of(1e300, 1e300), grid, sum);
    expect([...sum]).toEqual([5, 7]);
  });
});

describe('Poisson sampling', () => {
  it('samples at rate q (|count − nq| within 5 standard deviations)', () => {
    const random = seededRandom(99);
    for (const q of [0.001, 0.1, 0.37, 256 / 50_000]) {
      const threshold = samplingThreshold(q);
      expect(threshold / 2 ** 32).toBeLessThanOrEqual(q);
      const trials = 400_000;
      let count = 0;
      for (let i = 0; i < trials; i++) if (isSampled(random, threshold)) count++;
      const sd = Math.sqrt(trials * q * (1 - q));
      expect(Math.abs(count - trials * q)).toBeLessThan(5 * sd);
    }
  });

  it('refuses rates outside (0, 1]', () => {
    expect(() => samplingThreshold(0)).toThrow(RangeError);
    expect(() => samplingThreshold(1.5)).toThrow(RangeError);
    expect(samplingThreshold(1)).toBe(2 ** 32);
  });
});

describe('noise on a zero gradient', () => {
  it.each([1.3, 10])('has standard deviation σC per coordinate, on the grid (σ = %s)', (sigma) => {
    const clipNorm = 0.7;
    const dimension = 500;
    const noisy = createNoisyGradientSum({
      dimension,
      clipNorm,
      noiseMultiplier: sigma,
      random: seededRandom(5),
    });
    const output = new Float64Array(dimension);
    let sum = 0;
    let squares = 0;
    const releases = 60;
    for (let r = 0; r < releases; r++) {
      noisy.reset();
      noisy.release(output);
      for (const value of output) {
        // k·g for an integer k (the double nearest it, as C = 0.7 is not dyadic).
        const steps = value / noisy.granularity;
        expect(Math.abs(steps - Math.round(steps))).toBeLessThan(1e-6);
        sum += value;
        squares += value * value;
      }
    }
    const n = releases * dimension;
    const mean = sum / n;
    const sd = Math.sqrt(squares / n - mean * mean);
    // 30,000 draws: the sample sd is within 2% of the true one with overwhelming probability.
    expect(Math.abs(sd / (sigma * clipNorm) - 1)).toBeLessThan(0.02);
    expect(Math.abs(mean)).toBeLessThan((5 * sigma * clipNorm) / Math.sqrt(n));
    // The accounted noise: σ·(2^k + √d/2) steps, i.e. σC up to a relative √d·2^-(k+1).
    expect(noisy.noiseInSteps * noisy.granularity).toBeCloseTo(sigma * clipNorm, 3);
  });

  it('draws the smoothing term on top of σΔ, so the step is a post-processing of the continuous Gaussian', () => {
    for (const [sigma, dimension] of [
      [0.5, 1409],
      [1.1, 10],
      [40, 3],
    ] as const) {
      const noisy = createNoisyGradientSum({
        dimension,
        clipNorm: 1,
        noiseMultiplier: sigma,
        random: seededRandom(1),
      });
      const grid = personGrid(dimension, 1, sigma);
      const accounted = sigma * grid.sensitivityInSteps;
      // The kernel argument needs t² = σ_grid² − (σΔ)² ≥ 8 after float rounding.
      expect(noisy.noiseInSteps ** 2 - accounted ** 2).toBeGreaterThanOrEqual(8);
      expect(noisy.noiseInSteps ** 2 - accounted ** 2).toBeLessThanOrEqual(SMOOTHING ** 2 + 1);
    }
  });
});
