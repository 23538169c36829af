/**
 * One-row persons are clipped and rounded straight from the layer factors (the per-example gradient
 * is never written out): the contribution matches the materialised one up to float rounding ties,
 * and its exact integer bound holds even when the norm it is given is wrong. Poisson sampling that
 * reads a byte at a time decides every trial exactly as the 32-bit comparison does.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RandomSource } from '../../src/dp/random.ts';
import { createModel } from '../../src/train/models/create-model.ts';
import { addClippedToGrid, addRoundedToGrid, personGrid } from '../../src/train/noisy-gradient-sum.ts';
import { PoissonSampler, samplingThreshold } from '../../src/train/poisson-sampling.ts';
import { seededRandom } from '../support/seeded-random.ts';

describe('clipping from the layer factors', () => {
  for (const hidden of [[], [7], [6, 5]] as const) {
    it(`matches the materialised gradient and keeps ‖r‖ ≤ Δ exactly (hidden ${JSON.stringify(hidden)})`, () => {
      const inputs = 5;
      const model =
        hidden.length === 0
          ? createModel({ kind: 'logistic' }, inputs)
          : createModel(
              { kind: 'mlp', hidden: hidden as [number], activation: 'tanh', output: { kind: 'binary' } },
              inputs,
            );
      const d = model.parameterCount;
      fc.assert(
        fc.property(
          fc.double({ min: 1e-3, max: 10, noNaN: true }),
          fc.double({ min: 0.01, max: 20, noNaN: true }),
          fc.integer({ min: 0, max: 2 ** 31 }),
          fc.boolean(),
          (clipNorm, weightScale, seed, lie) => {
            const random = seededRandom(seed);
            const uniform = (): number => random.nextUint32() / 2 ** 32;
            const parameters = Float64Array.from({ length: d }, () => weightScale * (2 * uniform() - 1));
            const features = Float64Array.from({ length: inputs }, () => 2 * uniform() - 1);
            const label = uniform() < 0.5 ? 0 : 1;
            const gradient = new Float64Array(d);
            const norm = model.exampleGradient(parameters, features, 0, label, gradient);
            const grid = personGrid(d, clipNorm, 1.5);
            const materialised = new Float64Array(d);
            addClippedToGrid(gradient, grid, materialised);
            const fused = new Float64Array(d);
            const ghost = model.prepareExample(parameters, features, 0, label);
            expect(ghost).toBeCloseTo(norm, 6);
            // A wrong norm (far too small: no clipping) must not break the bound.
            addRoundedToGrid(model.roundedGradient, grid, fused, lie ? ghost * 1e-6 : ghost);
            let squared = 0;
            for (let j = 0; j < d; j++) {
              expect(Number.isInteger(fused[j])).toBe(true);
              squared += fused[j]! * fused[j]!;
              if (!lie) expect(Math.abs(fused[j]! - materialised[j]!)).toBeLessThanOrEqual(1);
            }
            expect(squared).toBeLessThanOrEqual(grid.sensitivityInSteps ** 2);
          },
        ),
        { numRuns: 200 },
      );
    });
  }
});

describe('Poisson sampling a byte at a time', () => {
  it('decides each trial exactly as U < threshold for the 32-bit U it stands for', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 ** 32 }),
        fc.array(fc.integer({ min: 0, max: 2 ** 32 - 1 }), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        (threshold, words, refine) => {
          // A source that records what it hands out, so each trial's U can be rebuilt.
          const queue = [...words, refine];
          const source: RandomSource = { nextUint32: () => queue.shift() ?? 0 };
          const sampler = new PoissonSampler(source, threshold);
          const first = words[0]!;
          const byte = first & 0xff;
          // U = byte·2^24 + (top 24 bits of the next word), when the byte ties; else the byte decides.
          const rest = (words.length > 1 ? words[1]! : refine) >>> 8;
          expect(sampler.next()).toBe(byte * 2 ** 24 + rest < threshold);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('samples at rate q (|count − nq| within 5 standard deviations), including q = 1', () => {
    for (const q of [0.005, 1 / 256, 0.3, 1]) {
      const sampler = new PoissonSampler(seededRandom(7), samplingThreshold(q));
      const trials = 400_000;
      let count = 0;
      for (let i = 0; i < trials; i++) if (sampler.next()) count++;
      const sd = Math.sqrt(trials * q * (1 - q));
      expect(Math.abs(count - trials * q)).toBeLessThanOrEqual(5 * sd + 1e-9);
    }
  });
});
