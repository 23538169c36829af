import { describe, expect, it } from 'vitest';
import { buildTrainingDataset } from '../../src/train/dataset.ts';
import { createModelFor } from '../../src/train/models/create-model.ts';
import type { DatasetSchema } from '../../src/train/schema.ts';
import { samplingRate, stepsForEpochs } from '../../src/train/training-spec.ts';
import { seededRandom } from '../support/seeded-random.ts';

const SCHEMA: DatasetSchema = {
  features: [
    { name: 'age', lower: 0, upper: 100 },
    { name: 'income', lower: 0, upper: 500_000 },
  ],
  label: { kind: 'bounded', name: 'score', lower: 0, upper: 10 },
};

describe('training dataset', () => {
  it('scales with policy bounds only, clamps, and maps missing values to the middle', () => {
    const dataset = buildTrainingDataset({
      rows: [
        { age: 50, income: '1000000', score: 12 },
        { age: null, income: 0, score: 5 },
      ],
      schema: SCHEMA,
    });
    expect([...dataset.features]).toEqual([0, 1, 0, -1]);
    expect([...dataset.labels]).toEqual([1, 0]);
    expect(dataset.personCount).toBe(2);
  });

  it('groups rows by person and keeps at most maxRowsPerPerson of them, chosen at random', () => {
    const rows = [
      ...Array.from({ length: 6 }, (_, i) => ({ pid: 1n, age: i, income: 0, score: 0 })),
      { pid: 2, age: 99, income: 0, score: 0 },
      { pid: '1', age: 6, income: 0, score: 0 },
    ];
    const seen = new Set<number>();
    for (let seed = 0; seed < 40; seed++) {
      const dataset = buildTrainingDataset({
        rows,
        schema: SCHEMA,
        personColumn: 'pid',
        maxRowsPerPerson: 2,
        random: seededRandom(seed),
      });
      expect(dataset.personCount).toBe(2);
      expect([...dataset.personStart]).toEqual([0, 2, 3]);
      for (let row = 0; row < 2; row++) seen.add(Math.round(((dataset.features[2 * row]! + 1) / 2) * 100));
    }
    // Person 1 (keyed 1n and '1' alike) has 7 rows; over 40 draws every one of them gets picked.
    expect([...seen].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });
});

describe('training spec', () => {
  it('turns epochs into steps at the sampling rate', () => {
    expect(stepsForEpochs(2, { expectedBatchSize: 128, populationSize: 455 })).toBe(8);
    expect(() => samplingRate({ expectedBatchSize: 500, populationSize: 455 })).toThrow(RangeError);
  });

  it('refuses a model whose output does not fit the label', () => {
    expect(() => createModelFor({ kind: 'logistic' }, SCHEMA)).toThrow(RangeError);
    expect(createModelFor({ kind: 'linear' }, SCHEMA).parameterCount).toBe(3);
    const classes: DatasetSchema = { ...SCHEMA, label: { kind: 'class', name: 'c', classes: 3 } };
    expect(() => createModelFor({ kind: 'softmax', classes: 4 }, classes)).toThrow(RangeError);
    expect(createModelFor({ kind: 'softmax', classes: 3 }, classes).outputSize).toBe(3);
  });
});
