/**
 * Training progress carries only functions of the plan: the same plan reports the same values at
 * the same steps whatever the data (how many persons are sampled, how many rows each has), and its
 * ε is the job's own accountant's, ending exactly at the plan's (what is charged).
 */
import { describe, expect, it } from 'vitest';
import { dpSgdEpsilon } from '../../src/dp/accounting/index.ts';
import { buildTrainingDataset } from '../../src/train/dataset.ts';
import { epsilonSchedule, planPrivacy, progressCheckpoints } from '../../src/train/privacy-plan.ts';
import type { TrainingProgress } from '../../src/train/progress.ts';
import type { TableRow } from '../../src/train/schema.ts';
import { trainDpSgd } from '../../src/train/train-dp-sgd.ts';
import type { DpSgdSpec } from '../../src/train/training-spec.ts';
import { seededRandom } from '../support/seeded-random.ts';

const schema = {
  features: [{ name: 'x', lower: -1, upper: 1 }],
  label: { kind: 'binary', name: 'y' },
} as const;

/** 200 persons with `rows` rows each. */
function persons(rows: number) {
  const table: TableRow[] = [];
  for (let p = 0; p < 200; p++)
    for (let r = 0; r < rows; r++) table.push({ person: p, x: (p % 7) / 7, y: p % 2 });
  return buildTrainingDataset({ rows: table, schema, personColumn: 'person', maxRowsPerPerson: rows });
}

const spec: DpSgdSpec = {
  model: { kind: 'logistic' },
  clipNorm: 1,
  sampling: { expectedBatchSize: 20, populationSize: 200 },
  steps: 40,
  optimizer: { kind: 'sgd', learningRate: 0.1 },
  privacy: { accountant: 'rdp', delta: 1e-5, noiseMultiplier: 1.5 },
};

function progressOf(rows: number, seed: number, plan = spec): TrainingProgress[] {
  const events: TrainingProgress[] = [];
  trainDpSgd(plan, persons(rows), { random: seededRandom(seed), onProgress: (p) => events.push(p) });
  return events;
}

describe('training progress', () => {
  it('is the same for every dataset of the same public size: no measured time, no data-dependent step', () => {
    // One row per person against fifty (fifty times the work per step), other sampling draws too.
    const few = progressOf(1, 1);
    const many = progressOf(50, 2);
    expect(many).toEqual(few);
    expect(few.map((p) => p.step)).toEqual(progressCheckpoints(40));
    expect(few.at(-1)).toEqual({
      step: 40,
      steps: 40,
      epoch: 40 * 0.1,
      epsilonSpent: planPrivacy({ q: 0.1, steps: 40, privacy: spec.privacy }).epsilon,
      epsilonAccountant: 'rdp',
      expectedExamplesPerStep: 20,
    });
  });

  it('reports the PLD accountant’s ε for a PLD job, ending exactly at the plan’s ε', () => {
    const pld: DpSgdSpec = { ...spec, steps: 10, privacy: { accountant: 'pld', delta: 1e-5, epsilon: 3 } };
    const events = progressOf(1, 3, pld);
    const plan = planPrivacy({ q: 0.1, steps: 10, privacy: pld.privacy });
    expect(events.map((p) => p.epsilonAccountant)).toEqual(Array(10).fill('pld'));
    expect(events.at(-1)?.epsilonSpent).toBe(plan.epsilon);
    expect(events[4]?.epsilonSpent).toBe(
      dpSgdEpsilon({ q: 0.1, sigma: plan.sigma, steps: 5, delta: 1e-5 }, 'pld'),
    );
    // Below the RDP figure the old progress reported, and never decreasing.
    expect(plan.epsilon).toBeLessThan(
      dpSgdEpsilon({ q: 0.1, sigma: plan.sigma, steps: 10, delta: 1e-5 }, 'rdp'),
    );
    const epsilons = events.map((p) => p.epsilonSpent);
    expect([...epsilons].sort((a, b) => a - b)).toEqual(epsilons);
    expect(epsilonSchedule(plan, [10])).toEqual([plan.epsilon]);
  });
});
