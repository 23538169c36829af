/**
 * A random-stopping search always does its fixed N runs: the progress events, and the number of
 * runs trained and scored, are the same whatever K is drawn (forced here through `drawStop`), and
 * only the best of the first min(K, N) runs is released.
 */
import { describe, expect, it } from 'vitest';
import { buildTrainingDataset } from '../../src/train/dataset.ts';
import type { Candidate } from '../../src/train/hyperparameter-search.ts';
import { progressCheckpoints } from '../../src/train/privacy-plan.ts';
import type { RandomStoppingProgress } from '../../src/train/progress.ts';
import { randomStoppingCost, randomStoppingSearch } from '../../src/train/random-stopping-search.ts';
import { samplingRate } from '../../src/train/training-spec.ts';
import { loadWdbc, WDBC_SCHEMA, WDBC_TRAIN_SIZE } from '../fixtures/wdbc.ts';
import { seededRandom } from '../support/seeded-random.ts';

const setup = seededRandom(5);
const train = buildTrainingDataset({ rows: loadWdbc('train'), schema: WDBC_SCHEMA, random: setup });
const heldOut = buildTrainingDataset({ rows: loadWdbc('test'), schema: WDBC_SCHEMA, random: setup });
const SAMPLING = { expectedBatchSize: 128, populationSize: WDBC_TRAIN_SIZE };
const CANDIDATES: Candidate[] = [
  { model: { kind: 'logistic' }, clipNorm: 1, optimizer: { kind: 'adam', learningRate: 0.1 } },
  { model: { kind: 'logistic' }, clipNorm: 0.5, optimizer: { kind: 'sgd', learningRate: 1 } },
];
const STEPS = 4;
const cost = randomStoppingCost({
  q: samplingRate(SAMPLING),
  sigma: 4,
  steps: STEPS,
  delta: 1e-5,
  selectionEpsilon: 1,
  maxRowsPerPerson: heldOut.maxRowsPerPerson,
  stopping: { eta: 1, gamma: 0.5 },
});

function runWith(counted: number) {
  const events: RandomStoppingProgress[] = [];
  const result = randomStoppingSearch(
    { candidates: CANDIDATES, sampling: SAMPLING, steps: STEPS, heldOut, cost },
    train,
    { random: seededRandom(77), onProgress: (event) => events.push(event), drawStop: () => counted },
  );
  return { events, result };
}

describe('random-stopping search', () => {
  it('runs N times with the same events whatever K is, and releases the best of the first min(K, N)', () => {
    expect(cost.runs).toBeGreaterThan(10);
    const one = runWith(1);
    const all = runWith(10 * cost.runs);
    expect(one.events).toEqual(all.events);
    // Progress at the plan-fixed steps of all N·T steps, the last at the end of run N.
    expect(one.events).toHaveLength(progressCheckpoints(cost.runs * STEPS).length);
    expect(one.events.at(-1)).toMatchObject({ run: cost.runs - 1, step: STEPS });
    expect(one.events.every((event) => event.runs === cost.runs && event.epsilonSpent === cost.epsilon)).toBe(
      true,
    );
    // The events name the run, never the candidate it drew.
    expect(Object.keys(one.events[0]!).sort()).toEqual([
      'epoch',
      'epsilonAccountant',
      'epsilonSpent',
      'expectedExamplesPerStep',
      'run',
      'runs',
      'step',
      'steps',
    ]);
    // Same randomness, same runs: the first run alone, or the best of all N.
    expect(all.result.bestScore).toBeGreaterThanOrEqual(one.result.bestScore);
    expect(one.result.best.card.search).toEqual({
      method: 'random_stopping',
      candidates: 2,
      runs: cost.runs,
      epsilon: cost.epsilon,
      delta: cost.delta,
    });
  });
});
