/**
 * Persons are clipped and rounded in blocks straight from the layer factors (no per-person gradient
 * is written out): the contributions match the materialised ones up to float rounding ties, and each
 * person's exact integer bound holds even when the norms the block computed are wrong. Poisson
 * sampling that reads a byte (or a word) at a time decides every trial exactly as the 32-bit
 * comparison does.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RandomSource } from '../../src/dp/random.ts';
import { createModel } from '../../src/train/models/create-model.ts';
import { addBlockToGrid, addClippedToGrid, personGrid } from '../../src/train/noisy-gradient-sum.ts';
import { PoissonSampler, samplingThreshold } from '../../src/train/poisson-sampling.ts';
import { seededRandom } from '../support/seeded-random.ts';

describe('clipping from the layer factors, a block of persons at once', () => {
  for (const hidden of [[], [7], [6, 5]] as const) {
    it(`matches the materialised gradient and keeps every ‖r_p‖ ≤ Δ exactly (hidden ${JSON.stringify(hidden)})`, () => {
      const inputs = 5;
      const model =
        hidden.length === 0
          ? createModel({ kind: 'logistic' }, inputs)
          : createModel(
              {
                kind: 'mlp',
                hidden: hidden as [number],
                activation: hidden.length === 1 ? 'tanh' : 'relu',
                output: { kind: 'binary' },
              },
              inputs,
            );
      const d = model.parameterCount;
      const block = model.personBlock(24);
      fc.assert(
        fc.property(
          fc.double({ min: 1e-3, max: 10, noNaN: true }),
          fc.double({ min: 0.01, max: 20, noNaN: true }),
          fc.integer({ min: 0, max: 2 ** 31 }),
          // Rows per person: mostly one, some several (their norm is a Gram sum over rows).
          fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 6 }),
          fc.boolean(),
          (clipNorm, weightScale, seed, rowsPerPerson, lie) => {
            const random = seededRandom(seed);
            const uniform = (): number => random.nextUint32() / 2 ** 32;
            const parameters = Float64Array.from({ length: d }, () => weightScale * (2 * uniform() - 1));
            const rowCount = rowsPerPerson.reduce((a, b) => a + b, 0);
            const features = Float64Array.from({ length: rowCount * inputs }, () => 2 * uniform() - 1);
            const labels = Float64Array.from({ length: rowCount }, () => (uniform() < 0.5 ? 0 : 1));
            const grid = personGrid(d, clipNorm, 1.5);
            const materialised = new Float64Array(d);
            const gradient = new Float64Array(d);
            block.clear();
            let row = 0;
            for (const rows of rowsPerPerson) {
              const norm = model.exampleGradient(parameters, features, row * inputs, labels[row]!, gradient);
              for (let r = row + 1; r < row + rows; r++)
                model.addExampleGradient(parameters, features, r * inputs, labels[r]!, gradient);
              addClippedToGrid(gradient, grid, materialised, rows === 1 ? norm : undefined);
              block.addPerson(features, labels, row, rows, inputs);
              row += rows;
            }
            block.loadParameters(parameters);
            block.prepare();
            const scratch = { scales: new Float64Array(24), roundedSquared: new Float64Array(24) };
            // A wrong norm (far too small: no clipping) must not break the bound.
            if (lie)
              for (let p = 0; p < block.persons; p++) block.normsSquared[p] = block.normsSquared[p]! * 1e-6;
            // Each person alone, to check their own bound, and all together, to check the sum.
            const together = new Float64Array(d);
            addBlockToGrid(block, grid, together, scratch);
            for (let j = 0; j < d; j++) {
              expect(Number.isInteger(together[j])).toBe(true);
              if (!lie)
                expect(Math.abs(together[j]! - materialised[j]!)).toBeLessThanOrEqual(rowsPerPerson.length);
            }
            row = 0;
            for (const rows of rowsPerPerson) {
              block.clear();
              block.addPerson(features, labels, row, rows, inputs);
              row += rows;
              block.loadParameters(parameters);
              block.prepare();
              if (lie) block.normsSquared[0] = block.normsSquared[0]! * 1e-6;
              const alone = new Float64Array(d);
              addBlockToGrid(block, grid, alone, scratch);
              let squared = 0;
              for (let j = 0; j < d; j++) squared += alone[j]! * alone[j]!;
              expect(squared).toBeLessThanOrEqual(grid.sensitivityInSteps ** 2);
            }
          },
        ),
        { numRuns: 200 },
      );
    });
  }

  it('gives a person with several rows the norm of their summed gradient (Gram sums over rows)', () => {
    const model = createModel(
      { kind: 'mlp', hidden: [6, 4], activation: 'tanh', output: { kind: 'multiclass', classes: 3 } },
      5,
    );
    const random = seededRandom(3);
    const uniform = (): number => random.nextUint32() / 2 ** 32;
    const parameters = Float64Array.from({ length: model.parameterCount }, () => 2 * uniform() - 1);
    const features = Float64Array.from({ length: 4 * 5 }, () => 2 * uniform() - 1);
    const labels = Float64Array.from([0, 2, 1, 2]);
    const gradient = new Float64Array(model.parameterCount);
    model.exampleGradient(parameters, features, 0, labels[0]!, gradient);
    for (let r = 1; r < 4; r++) model.addExampleGradient(parameters, features, r * 5, labels[r]!, gradient);
    const block = model.personBlock(8);
    block.addPerson(features, labels, 0, 4, 5);
    block.loadParameters(parameters);
    block.prepare();
    const squared = gradient.reduce((total, g) => total + g * g, 0);
    expect(block.normsSquared[0]).toBeCloseTo(squared, 10);
  });
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

  it('skips failures a word at a time exactly as one trial at a time would', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 ** 32 }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 30 }),
        (threshold, seed, limits) => {
          const one = new PoissonSampler(seededRandom(seed), threshold);
          const skipping = new PoissonSampler(seededRandom(seed), threshold);
          for (const limit of limits) {
            let failures = 0;
            while (failures < limit && !one.next()) failures++;
            expect(skipping.failuresBefore(limit)).toBe(failures);
          }
          // Both have consumed the same words: the next trials agree too.
          for (let i = 0; i < 20; i++) expect(skipping.next()).toBe(one.next());
        },
      ),
      { numRuns: 500 },
    );
    // Small thresholds (the case the word test speeds up), where most words settle four failures.
    for (const q of [0.001, 0.005, 0.02, 0.3]) {
      const one = new PoissonSampler(seededRandom(11), samplingThreshold(q));
      const skipping = new PoissonSampler(seededRandom(11), samplingThreshold(q));
      for (let k = 0; k < 2000; k++) {
        let failures = 0;
        while (failures < 5000 && !one.next()) failures++;
        expect(skipping.failuresBefore(5000)).toBe(failures);
      }
    }
  });
});
