import { describe, expect, it } from 'vitest';
import { dpSgdEpsilon } from '../../src/dp/accounting/index.ts';
import { buildTrainingDataset } from '../../src/train/dataset.ts';
import { type Candidate, searchCost, searchHyperparameters } from '../../src/train/hyperparameter-search.ts';
import { countCorrect } from '../../src/train/predict.ts';
import { evaluatePrivately, privateEvaluationLoss } from '../../src/train/private-evaluation.ts';
import { trainDpSgd } from '../../src/train/train-dp-sgd.ts';
import { trainNonPrivate } from '../../src/train/train-non-private.ts';
import { loadWdbc, WDBC_SCHEMA, WDBC_TRAIN_SIZE } from '../fixtures/wdbc.ts';
import { seededRandom } from '../support/seeded-random.ts';

const random = seededRandom(21);
const train = buildTrainingDataset({ rows: loadWdbc('train'), schema: WDBC_SCHEMA, random });
const test = buildTrainingDataset({ rows: loadWdbc('test'), schema: WDBC_SCHEMA, random });
const SAMPLING = { expectedBatchSize: 128, populationSize: WDBC_TRAIN_SIZE };

const CANDIDATES: Candidate[] = [
  { model: { kind: 'logistic' }, clipNorm: 1, optimizer: { kind: 'adam', learningRate: 0.1 } },
  { model: { kind: 'logistic' }, clipNorm: 0.5, optimizer: { kind: 'sgd', learningRate: 1, momentum: 0.5 } },
  {
    model: { kind: 'mlp', hidden: [8], activation: 'tanh', output: { kind: 'binary' } },
    clipNorm: 1,
    optimizer: { kind: 'adam', learningRate: 0.05 },
  },
];

describe('hyperparameter search', () => {
  it('charges k·T steps of the shared setting, plus the selection ε', () => {
    const cost = searchCost({
      candidates: CANDIDATES,
      sampling: SAMPLING,
      steps: 40,
      privacy: { accountant: 'rdp', delta: 1e-5, epsilon: 3 },
      selection: { kind: 'private', maxRowsPerPerson: test.maxRowsPerPerson, epsilon: 0.5 },
    });
    const { q, sigma } = cost.training;
    expect(cost.training.steps).toBe(120);
    expect(cost.training.epsilon).toBe(dpSgdEpsilon({ q, sigma, steps: 120, delta: 1e-5 }, 'rdp'));
    expect(cost.training.epsilon).toBeLessThanOrEqual(3);
    expect(cost.selectionEpsilon).toBeCloseTo(0.5, 12);
    expect(cost.epsilon).toBe(cost.training.epsilon + cost.selectionEpsilon);
  });

  it('picks a candidate by its noisy held-out score and records the whole cost on its card', () => {
    const result = searchHyperparameters(
      {
        candidates: CANDIDATES,
        sampling: SAMPLING,
        steps: 60,
        privacy: { accountant: 'rdp', delta: 1e-5, epsilon: 8 },
        selection: { kind: 'private', heldOut: test, epsilon: 3 },
      },
      train,
      { random },
    );
    expect(result.scores).toHaveLength(3);
    expect(result.bestIndex).toBe(result.scores.indexOf(Math.max(...result.scores)));
    expect(result.best.card.search).toEqual({
      method: 'composition',
      candidates: 3,
      runs: 3,
      epsilon: result.cost.epsilon,
      delta: 1e-5,
    });
    expect(result.best.card.privacy?.sigma).toBe(result.cost.training.sigma);
    expect(countCorrect(result.best, test) / test.rowCount).toBeGreaterThan(0.85);
  });
});

describe('private evaluation', () => {
  it('releases noisy counts whose ε is what the discrete Laplace mechanism reports', () => {
    const model = trainNonPrivate(
      {
        model: { kind: 'logistic' },
        batchSize: 32,
        epochs: 20,
        optimizer: { kind: 'adam', learningRate: 0.05 },
      },
      train,
      { random },
    );
    const evaluation = evaluatePrivately({ model, heldOut: test, epsilon: 1, random });
    expect(evaluation.loss).toEqual(privateEvaluationLoss(1, 1));
    expect(evaluation.loss.epsilon).toBeCloseTo(1, 9);
    expect(evaluation.loss.epsilon).toBeGreaterThanOrEqual(1);
    expect(Math.abs(evaluation.noisyRows - test.rowCount)).toBeLessThan(40);
    expect(evaluation.accuracy).toBeGreaterThan(0.8);
  });
});

describe('public pre-training', () => {
  it('trains without noise to the non-private accuracy and initialises a private run', () => {
    const pretrained = trainNonPrivate(
      {
        model: { kind: 'logistic' },
        batchSize: 32,
        epochs: 30,
        optimizer: { kind: 'adam', learningRate: 0.05 },
      },
      train,
      { random },
    );
    expect(pretrained.card.privacy).toBeNull();
    expect(countCorrect(pretrained, test) / test.rowCount).toBeGreaterThanOrEqual(0.95);

    const tuned = trainDpSgd(
      {
        model: { kind: 'logistic' },
        clipNorm: 1,
        sampling: SAMPLING,
        steps: 20,
        optimizer: { kind: 'sgd', learningRate: 0.05 },
        privacy: { accountant: 'rdp', delta: 1e-5, epsilon: 1 },
      },
      train,
      { random, initialWeights: pretrained.parameters },
    );
    expect(tuned.card.initialisedFrom).toBe('given weights');
    expect(pretrained.parameters).not.toBe(tuned.parameters);
    expect(countCorrect(tuned, test) / test.rowCount).toBeGreaterThanOrEqual(0.93);
  });
});
