import { describe, expect, it } from 'vitest';
import { dpSgdEpsilon } from '../../src/dp/accounting/index.ts';
import { buildTrainingDataset } from '../../src/train/dataset.ts';
import { type SearchSpec, searchCost, selectionCostOf } from '../../src/train/hyperparameter-search.ts';
import { planPrivacy } from '../../src/train/privacy-plan.ts';
import type { SearchProgress, TrainingProgress } from '../../src/train/progress.ts';
import { TrainingCancelledError } from '../../src/train/train-dp-sgd.ts';
import type { DpSgdSpec } from '../../src/train/training-spec.ts';
import { planInWorker, runSearchInWorker, runTrainingInWorker } from '../../src/train/worker-runner.ts';
import { loadWdbc, WDBC_LOGISTIC, WDBC_SCHEMA, WDBC_TRAIN_SIZE } from '../fixtures/wdbc.ts';

const dataset = buildTrainingDataset({ rows: loadWdbc('train'), schema: WDBC_SCHEMA });
const validation = buildTrainingDataset({ rows: loadWdbc('test'), schema: WDBC_SCHEMA });
const SPEC: DpSgdSpec = {
  ...WDBC_LOGISTIC,
  steps: 60,
  privacy: { accountant: 'rdp', delta: 1e-5, noiseMultiplier: 2 },
};

describe('training in a worker thread', () => {
  it('reports progress with public fields only and returns the model with its card', async () => {
    const events: TrainingProgress[] = [];
    const result = await runTrainingInWorker(SPEC, dataset, {
      onProgress: (progress) => events.push(progress),
    });
    expect(result.parameters).toBeInstanceOf(Float64Array);
    expect(result.parameters.length).toBe(31);
    expect(events.map((event) => event.step)).toEqual(Array.from({ length: 20 }, (_, i) => 3 * (i + 1)));
    for (const event of events) {
      expect(Object.keys(event).sort()).toEqual(
        ['epoch', 'epsilonAccountant', 'epsilonSpent', 'expectedExamplesPerStep', 'step', 'steps'].sort(),
      );
      expect(event.expectedExamplesPerStep).toBe(128);
    }
    const last = events.at(-1)!;
    const q = 128 / WDBC_TRAIN_SIZE;
    expect(last.epsilonSpent).toBe(dpSgdEpsilon({ q, sigma: 2, steps: 60, delta: 1e-5 }, 'rdp'));
    expect(last.epoch).toBeCloseTo(60 * q, 12);
    expect(result.card.privacy?.epsilon).toBe(last.epsilonSpent);
  });

  it('plans in a worker thread, and the training thread uses that plan without planning again', async () => {
    const setting = { q: 128 / WDBC_TRAIN_SIZE, steps: 60, privacy: SPEC.privacy };
    const plan = await planInWorker(setting);
    expect(plan).toEqual(planPrivacy(setting));
    expect(planInWorker(setting)).toBe(planInWorker(setting));
    // A plan that is not this run's is refused rather than trusted.
    await expect(runTrainingInWorker({ ...SPEC, steps: 61 }, dataset, { plan })).rejects.toThrow();
    const result = await runTrainingInWorker(SPEC, dataset, { plan });
    expect(result.plan).toEqual(plan);
  });

  it('stops when cancelled', async () => {
    const controller = new AbortController();
    const job = runTrainingInWorker({ ...SPEC, steps: 20_000 }, dataset, {
      signal: controller.signal,
      onProgress: () => controller.abort(),
    });
    await expect(job).rejects.toBeInstanceOf(TrainingCancelledError);
  });

  it('runs a hyperparameter search, reporting ε spent over all candidates so far', async () => {
    const search: SearchSpec = {
      candidates: [
        { model: { kind: 'logistic' }, clipNorm: 1, optimizer: { kind: 'adam', learningRate: 0.1 } },
        { model: { kind: 'logistic' }, clipNorm: 2, optimizer: { kind: 'adam', learningRate: 0.05 } },
      ],
      sampling: SPEC.sampling,
      steps: 30,
      privacy: { accountant: 'rdp', delta: 1e-5, epsilon: 3 },
      selection: { kind: 'public', validation },
    };
    const events: SearchProgress[] = [];
    const result = await runSearchInWorker(search, dataset, {
      onProgress: (progress) => events.push(progress),
    });
    // 20 reports over the 60 steps of both candidates: every third step of the search.
    expect(events).toHaveLength(20);
    expect(events[9]).toMatchObject({ candidate: 0, candidates: 2, step: 30 });
    expect(events[10]).toMatchObject({ candidate: 1, step: 3 });
    const expected = searchCost({ ...search, selection: selectionCostOf(search.selection) });
    expect(events.at(-1)?.epsilonSpent).toBe(expected.training.epsilon);
    expect(result.cost).toEqual(expected);
    expect(result.best.card.search?.candidates).toBe(2);
  });
});
