import { describe, expect, it } from 'vitest';
import { buildTrainingDataset } from '../../src/train/dataset.ts';
import {
  estimateStandardisation,
  MAX_STANDARD_SCORE,
  standardisationLoss,
  standardiseDataset,
} from '../../src/train/feature-standardisation.ts';
import { countCorrect, predict } from '../../src/train/predict.ts';
import { trainDpSgd } from '../../src/train/train-dp-sgd.ts';
import { loadWdbc, WDBC_LOGISTIC, WDBC_SCHEMA } from '../fixtures/wdbc.ts';
import { seededRandom } from '../support/seeded-random.ts';

const random = seededRandom(31);
const train = buildTrainingDataset({ rows: loadWdbc('train'), schema: WDBC_SCHEMA, random });
const d = train.featureCount;

/** Exact mean and spread of each bound-scaled feature (what the DP estimate approximates). */
function exact(dataset: typeof train) {
  const mean = Array.from({ length: d }, (_, j) => {
    let sum = 0;
    for (let row = 0; row < dataset.rowCount; row++) sum += dataset.features[row * d + j]!;
    return sum / dataset.rowCount;
  });
  const spread = mean.map((mu, j) => {
    let sum = 0;
    for (let row = 0; row < dataset.rowCount; row++) sum += (dataset.features[row * d + j]! - mu) ** 2;
    return Math.sqrt(sum / dataset.rowCount);
  });
  return { mean, spread };
}

describe('DP feature standardisation', () => {
  it('costs the discrete Gaussian’s own ρ, for sensitivity m·2^12·√(2d + 1)', () => {
    const one = standardisationLoss(0.5, d, 1);
    expect(one.rho).toBeLessThanOrEqual(0.5);
    expect(one.rho).toBeGreaterThan(0.5 * (1 - 1e-6));
    // More rows per person: a larger sensitivity, so more noise for the same ρ, not more ρ.
    expect(standardisationLoss(0.5, d, 4).rho).toBeLessThanOrEqual(0.5);
  });

  it('estimates each feature’s mean and spread close to the exact ones at a moderate ρ', () => {
    const truth = exact(train);
    const estimate = estimateStandardisation(train, 1, random);
    // 455 persons, 61 noisy sums at ρ = 1: the noise on a mean, or on a mean square, is about
    // √61/(√2·455) ≈ 0.012 (standard deviation); the variance adds both.
    for (let j = 0; j < d; j++) {
      expect(Math.abs(estimate.mean[j]! - truth.mean[j]!)).toBeLessThan(0.08);
      const variance = Math.max(0.05, truth.spread[j]!) ** 2;
      expect(Math.abs(estimate.spread[j]! ** 2 - variance)).toBeLessThan(0.12);
    }
    const standardised = standardiseDataset(train, estimate);
    expect(standardised.features).not.toBe(train.features);
    expect(Math.max(...standardised.features.map(Math.abs))).toBeLessThanOrEqual(MAX_STANDARD_SCORE);
  });

  it('trains on standardised features, keeps the estimate on the card and applies it at prediction', () => {
    const test = buildTrainingDataset({ rows: loadWdbc('test'), schema: WDBC_SCHEMA, random });
    const model = trainDpSgd({ ...WDBC_LOGISTIC, standardise: { rho: 0.1 } }, train, { random });
    expect(model.card.standardisation?.mean).toHaveLength(d);
    const rows = loadWdbc('test');
    const predicted = predict(model, rows);
    const label = WDBC_SCHEMA.label.name;
    const right = predicted.filter(
      (p, i) => p.kind === 'binary' && p.label === Number(rows[i]![label]),
    ).length;
    // Prediction from raw rows and evaluation on bound-scaled rows apply the same map.
    expect(right).toBe(countCorrect(model, test));
    expect(right / rows.length).toBeGreaterThan(0.9);
  });
});
