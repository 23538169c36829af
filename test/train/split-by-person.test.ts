import { expect, it } from 'vitest';
import { buildTrainingDataset } from '../../src/train/dataset.ts';
import { splitByPerson } from '../../src/train/split-by-person.ts';
import { seededRandom } from '../support/seeded-random.ts';

it('holds out whole persons, about the asked fraction, keeping every row exactly once', () => {
  const rows = Array.from({ length: 3000 }, (_, i) => ({ person: i % 1000, x: (i % 7) - 3, y: i % 2 }));
  const dataset = buildTrainingDataset({
    rows,
    schema: { features: [{ name: 'x', lower: -3, upper: 3 }], label: { kind: 'binary', name: 'y' } },
    personColumn: 'person',
    maxRowsPerPerson: 3,
  });
  const { train, heldOut } = splitByPerson(dataset, 0.2, seededRandom(7));
  expect(train.personCount + heldOut.personCount).toBe(1000);
  expect(train.rowCount + heldOut.rowCount).toBe(3000);
  // 200 ± 5 standard deviations of Binomial(1000, 0.2).
  expect(Math.abs(heldOut.personCount - 200)).toBeLessThan(5 * Math.sqrt(1000 * 0.2 * 0.8));
  for (const part of [train, heldOut]) {
    for (let p = 0; p < part.personCount; p++)
      expect(part.personStart[p + 1]! - part.personStart[p]!).toBe(3);
  }
});
