import { describe, expect, it } from 'vitest';
import { dpSgdEpsilon } from '../../src/dp/accounting/index.ts';
import { buildTrainingDataset } from '../../src/train/dataset.ts';
import { predict } from '../../src/train/predict.ts';
import { TrainingCancelledError, trainDpSgd } from '../../src/train/train-dp-sgd.ts';
import { loadWdbc, WDBC_LOGISTIC, WDBC_SCHEMA } from '../fixtures/wdbc.ts';
import { seededRandom } from '../support/seeded-random.ts';

// wdbc has one row per patient, so row-level and person-level DP coincide here.
const train = loadWdbc('train');
const test = loadWdbc('test');

function testAccuracy(seed: number): number {
  const random = seededRandom(seed);
  const dataset = buildTrainingDataset({ rows: train, schema: WDBC_SCHEMA, random });
  const model = trainDpSgd(WDBC_LOGISTIC, dataset, { random });
  const predictions = predict(model, test);
  return predictions.filter((p, i) => p.kind === 'binary' && p.label === test[i]!.label).length / test.length;
}

describe('DP-SGD on wdbc (fixed split, label 1 = benign)', () => {
  it('logistic regression at ε = 3, δ = 1e-5 reaches test accuracy ≥ 0.94 (mean of 5 seeds)', () => {
    const accuracies = [1, 2, 3, 4, 5].map(testAccuracy);
    const mean = accuracies.reduce((a, b) => a + b) / accuracies.length;
    expect(mean).toBeGreaterThanOrEqual(0.94);
  });

  it('reports the DP core’s ε for its (q, σ, steps, δ), by either accountant', () => {
    const random = seededRandom(8);
    const dataset = buildTrainingDataset({ rows: train, schema: WDBC_SCHEMA, random });
    const calibrated = trainDpSgd({ ...WDBC_LOGISTIC, steps: 5 }, dataset, { random });
    const { q, sigma, steps, delta } = calibrated.plan;
    expect(calibrated.card.privacy?.epsilon).toBe(dpSgdEpsilon({ q, sigma, steps, delta }, 'rdp'));
    expect(calibrated.card.privacy?.epsilon).toBeLessThanOrEqual(3);
    expect(q).toBe(128 / 455);

    const given = trainDpSgd(
      { ...WDBC_LOGISTIC, steps: 5, privacy: { accountant: 'pld', delta: 1e-5, noiseMultiplier: 2 } },
      dataset,
      { random },
    );
    expect(given.card.privacy).toMatchObject({ sigma: 2, accountant: 'pld', steps: 5 });
    expect(given.card.privacy?.epsilon).toBe(dpSgdEpsilon({ q, sigma: 2, steps: 5, delta: 1e-5 }, 'pld'));
  });

  it('stops at the next step once its signal aborts', () => {
    const dataset = buildTrainingDataset({ rows: train, schema: WDBC_SCHEMA });
    const controller = new AbortController();
    let lastStep = 0;
    const run = (): unknown =>
      trainDpSgd({ ...WDBC_LOGISTIC, steps: 1000 }, dataset, {
        signal: controller.signal,
        onProgress: ({ step }) => {
          lastStep = step;
          controller.abort();
        },
      });
    expect(run).toThrow(TrainingCancelledError);
    // The first report comes after step 1000/20 = 50; the run stops before step 51.
    expect(lastStep).toBe(50);
  });
});
