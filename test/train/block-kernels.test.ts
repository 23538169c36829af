/**
 * The person block's WebAssembly SIMD kernels against its JavaScript kernels (the fallback where
 * SIMD is missing) and against the materialised per-person gradient: the same norms and the same
 * integer contributions bit for bit, each person's within one grid step per coordinate of clipping
 * their written-out gradient, and every person's ‖r_p‖ ≤ Δ exactly on adversarial rows (huge or
 * non-finite values, huge weights, persons with many rows).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { gridInteger, simdAvailable } from '../../src/train/models/block-kernels.ts';
import { createModel } from '../../src/train/models/create-model.ts';
import type { Model, ModelSpec, PersonBlock } from '../../src/train/models/model.ts';
import {
  addBlockToGrid,
  addClippedToGrid,
  nearestInteger,
  personGrid,
} from '../../src/train/noisy-gradient-sum.ts';
import { seededRandom } from '../support/seeded-random.ts';

const CAPACITY = 24;

interface Case {
  readonly features: Float64Array;
  readonly labels: Float64Array;
  readonly rowsPerPerson: readonly number[];
  readonly parameters: Float64Array;
}

/**
 * Runs the block on the case's persons, all together, and returns the sum, the norms and each Σ r².
 * `normFactor` ≠ 1 replaces the norms by wrong ones (the exact check must hold whatever they are).
 */
function blockSum(model: Model, block: PersonBlock, input: Case, clipNorm: number, normFactor = 1) {
  const { features, labels, rowsPerPerson, parameters } = input;
  const grid = personGrid(model.parameterCount, clipNorm, 1.5);
  const scratch = { scales: new Float64Array(CAPACITY), roundedSquared: new Float64Array(CAPACITY) };
  block.clear();
  let row = 0;
  for (const rows of rowsPerPerson) {
    block.addPerson(features, labels, row, rows, model.inputSize);
    row += rows;
  }
  block.loadParameters(parameters);
  block.prepare();
  for (let p = 0; p < block.persons; p++) block.normsSquared[p] = block.normsSquared[p]! * normFactor;
  const norms = Array.from(block.normsSquared.subarray(0, block.persons));
  const sum = new Float64Array(model.parameterCount);
  addBlockToGrid(block, grid, sum, scratch);
  return { sum, norms, roundedSquared: Array.from(scratch.roundedSquared.subarray(0, block.persons)) };
}

const MODELS: readonly { readonly spec: ModelSpec; readonly inputs: number }[] = [
  { spec: { kind: 'logistic' }, inputs: 5 },
  { spec: { kind: 'mlp', hidden: [7], activation: 'relu', output: { kind: 'binary' } }, inputs: 6 },
  { spec: { kind: 'mlp', hidden: [9], activation: 'tanh', output: { kind: 'binary' } }, inputs: 11 },
  {
    spec: { kind: 'mlp', hidden: [10, 3], activation: 'relu', output: { kind: 'multiclass', classes: 3 } },
    inputs: 20,
  },
];

it('assembles and compiles the SIMD kernels on Node (else training would fall back silently)', () => {
  expect(simdAvailable()).toBe(true);
});

describe('the SIMD person-block kernels', () => {
  for (const { spec, inputs } of MODELS) {
    const model = createModel(spec, inputs);
    const simd = model.personBlock(CAPACITY, true);
    const javascript = model.personBlock(CAPACITY, false);
    const d = model.parameterCount;

    it(`give the JavaScript kernels' norms and contributions exactly, and the materialised gradient's to one step (${JSON.stringify(spec)})`, () => {
      fc.assert(
        fc.property(
          fc.double({ min: 1e-3, max: 10, noNaN: true }),
          fc.double({ min: 0.01, max: 20, noNaN: true }),
          fc.integer({ min: 0, max: 2 ** 31 }),
          fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 8 }),
          (clipNorm, weightScale, seed, rowsPerPerson) => {
            const input = randomCase(seed, weightScale, 1, rowsPerPerson, inputs, d);
            const fast = blockSum(model, simd, input, clipNorm);
            expect(fast).toEqual(blockSum(model, javascript, input, clipNorm));
            // Each person alone against their written-out gradient, clipped and rounded.
            const grid = personGrid(d, clipNorm, 1.5);
            let row = 0;
            for (const rows of rowsPerPerson) {
              const gradient = new Float64Array(d);
              model.exampleGradient(
                input.parameters,
                input.features,
                row * inputs,
                input.labels[row]!,
                gradient,
              );
              for (let r = row + 1; r < row + rows; r++)
                model.addExampleGradient(
                  input.parameters,
                  input.features,
                  r * inputs,
                  input.labels[r]!,
                  gradient,
                );
              const materialised = new Float64Array(d);
              addClippedToGrid(gradient, grid, materialised);
              const alone = blockSum(model, simd, { ...input, ...slice(input, row, rows, inputs) }, clipNorm);
              for (let j = 0; j < d; j++)
                expect(Math.abs(alone.sum[j]! - materialised[j]!)).toBeLessThanOrEqual(1);
              row += rows;
            }
          },
        ),
        { numRuns: 60 },
      );
    });

    it(`keep every ‖r_p‖ ≤ Δ exactly on adversarial rows and weights (${JSON.stringify(spec)})`, () => {
      const extremes = [1e150, -1e200, 1e300, Number.MAX_VALUE, 1e-300, Number.NaN, Number.POSITIVE_INFINITY];
      fc.assert(
        fc.property(
          fc.double({ min: 1e-300, max: 1e6, noNaN: true }),
          fc.constantFrom(1, 1e3, 1e100, 1e160),
          fc.integer({ min: 0, max: 2 ** 31 }),
          fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 3 }),
          fc.array(fc.constantFrom(...extremes), { minLength: 0, maxLength: 4 }),
          fc.constantFrom(1, 1e-12, 0),
          (clipNorm, weightScale, seed, rowsPerPerson, planted, normFactor) => {
            const input = randomCase(seed, weightScale, 1e3, rowsPerPerson, inputs, d);
            // Plant extreme values at random places of the rows.
            const random = seededRandom(seed + 1);
            for (const value of planted) input.features[random.nextUint32() % input.features.length] = value;
            const grid = personGrid(d, clipNorm, 1.5);
            let row = 0;
            for (const rows of rowsPerPerson) {
              const alone = slice(input, row, rows, inputs);
              const fast = blockSum(model, simd, { ...input, ...alone }, clipNorm, normFactor);
              expect(fast).toEqual(blockSum(model, javascript, { ...input, ...alone }, clipNorm, normFactor));
              let squared = 0;
              for (let j = 0; j < d; j++) {
                expect(Number.isInteger(fast.sum[j])).toBe(true);
                squared += fast.sum[j]! * fast.sum[j]!;
              }
              expect(squared).toBeLessThanOrEqual(grid.sensitivityInSteps ** 2);
              row += rows;
            }
          },
        ),
        { numRuns: 80 },
      );
    });
  }

  it('rounds as nearestInteger does inside the clamp, and clamps NaN and infinities', () => {
    fc.assert(
      fc.property(fc.double({ min: -(2 ** 22), max: 2 ** 22, noNaN: true }), (x) => {
        expect(gridInteger(x)).toBe(nearestInteger(x));
      }),
    );
    expect(gridInteger(Number.NaN)).toBe(2 ** 22);
    expect(gridInteger(Number.POSITIVE_INFINITY)).toBe(2 ** 22);
    expect(gridInteger(-1e300)).toBe(-(2 ** 22));
  });
});

function randomCase(
  seed: number,
  weightScale: number,
  featureScale: number,
  rowsPerPerson: readonly number[],
  inputs: number,
  parameterCount: number,
): Case {
  const random = seededRandom(seed);
  const uniform = (): number => random.nextUint32() / 2 ** 32;
  const rowCount = rowsPerPerson.reduce((a, b) => a + b, 0);
  return {
    parameters: Float64Array.from({ length: parameterCount }, () => weightScale * (2 * uniform() - 1)),
    features: Float64Array.from({ length: rowCount * inputs }, () => featureScale * (2 * uniform() - 1)),
    labels: Float64Array.from({ length: rowCount }, () => (uniform() < 0.5 ? 0 : 1)),
    rowsPerPerson,
  };
}

/** One person's rows as a case of their own. */
function slice(input: Case, row: number, rows: number, inputs: number): Omit<Case, 'parameters'> {
  return {
    features: input.features.slice(row * inputs, (row + rows) * inputs),
    labels: input.labels.slice(row, row + rows),
    rowsPerPerson: [rows],
  };
}
