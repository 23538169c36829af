import { describe, expect, it } from 'vitest';
import { DEFAULT_RDP_ORDERS, rdpToApprox, subsampledGaussianRdp } from '../../src/dp/accounting/index.ts';
import { LEDGER_RDP_ORDERS, pureRdp } from '../../src/dp/accounting/rdp-ledger.ts';
import { buildTrainingDataset } from '../../src/train/dataset.ts';
import { type Candidate, searchCost, searchHyperparameters } from '../../src/train/hyperparameter-search.ts';
import { scoreLoss } from '../../src/train/private-evaluation.ts';
import {
  geometricRule,
  randomStoppingRdp,
  sampleGeometricRuns,
  truncatedNegativeBinomialMean,
} from '../../src/train/private-selection.ts';
import { loadWdbc, WDBC_SCHEMA, WDBC_TRAIN_SIZE } from '../fixtures/wdbc.ts';
import { seededRandom } from '../support/seeded-random.ts';

/** Papernot & Steinke 2022, Thm. 2, written out for one λ and one λ̂. */
const theorem2 = (options: {
  epsilon: number;
  epsilonHat: number;
  order: number;
  orderHat: number;
  shape: number;
  gamma: number;
  mean: number;
}) =>
  options.epsilon +
  (1 + options.shape) * (1 - 1 / options.orderHat) * options.epsilonHat +
  ((1 + options.shape) * Math.log(1 / options.gamma)) / options.orderHat +
  Math.log(options.mean) / (options.order - 1);

describe('random stopping (Papernot & Steinke 2022)', () => {
  it('has the truncated negative binomial means of their Definition 1', () => {
    expect(truncatedNegativeBinomialMean(1, 0.1)).toBeCloseTo(10, 12); // geometric: 1/γ
    expect(truncatedNegativeBinomialMean(0, 0.1)).toBeCloseTo(9 / Math.log(10), 12); // logarithmic
    expect(truncatedNegativeBinomialMean(0.5, 0.1)).toBeCloseTo(0.45 / (0.1 * (1 - Math.sqrt(0.1))), 12);
  });

  it('matches Theorem 2 at chosen points, for the geometric and another shape', () => {
    // A Gaussian base mechanism, ε(λ) = λρ, on two orders: every λ̂ and the monotone step by hand.
    const rho = 0.5;
    const orders = [2, 4];
    const base = orders.map((order) => order * rho);
    for (const shape of [1, 0.5]) {
      const gamma = 0.1;
      const mean = truncatedNegativeBinomialMean(shape, gamma);
      const at = (order: number) =>
        Math.min(
          ...orders.map((orderHat) =>
            theorem2({
              epsilon: order * rho,
              epsilonHat: orderHat * rho,
              order,
              orderHat,
              shape,
              gamma,
              mean,
            }),
          ),
        );
      const bound = randomStoppingRdp({ kind: 'truncated_negative_binomial', shape, gamma }, orders, base);
      // At λ = 4 the formula itself; at λ = 2 the smaller of it and the λ = 4 bound (monotonicity).
      expect(bound[1]).toBeCloseTo(at(4), 12);
      expect(bound[0]).toBeCloseTo(Math.min(at(2), at(4)), 12);
    }
    // The geometric case in numbers: ρ = 0.5, γ = 0.1 gives 2 + 2(½ + ln10/2) + ln10/3 at λ = 4.
    const geometric = randomStoppingRdp(geometricRule(10), orders, base);
    expect(geometric[1]).toBeCloseTo(2 + 2 * (0.5 + Math.log(10) / 2) + Math.log(10) / 3, 12);
  });

  it('draws K from the geometric distribution with mean k', () => {
    const random = seededRandom(5);
    const draws = 40_000;
    const counts = new Map<number, number>();
    let total = 0;
    for (let i = 0; i < draws; i++) {
      const k = sampleGeometricRuns(random, 4);
      total += k;
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    expect(total / draws).toBeGreaterThan(3.9);
    expect(total / draws).toBeLessThan(4.1);
    for (const k of [1, 2, 3, 4, 5]) {
      const expected = draws * 0.25 * 0.75 ** (k - 1);
      // Five standard deviations of a binomial count.
      expect(Math.abs((counts.get(k) ?? 0) - expected)).toBeLessThan(5 * Math.sqrt(expected));
    }
  });
});

const CANDIDATE: Candidate = {
  model: { kind: 'logistic' },
  clipNorm: 1,
  optimizer: { kind: 'adam', learningRate: 0.1 },
};

describe('choosing the selection', () => {
  const price = (k: number, sigma: number, steps: number) =>
    searchCost({
      candidates: Array.from({ length: k }, () => CANDIDATE),
      sampling: { expectedBatchSize: 100, populationSize: 1000 },
      steps,
      privacy: { accountant: 'rdp', delta: 1e-6, noiseMultiplier: sigma },
      selection: { kind: 'private', epsilon: 0.1, maxRowsPerPerson: 1 },
    });

  it('prices both and runs the cheaper: composition for two light runs, random stopping for many', () => {
    const few = price(2, 5, 5);
    const many = price(16, 1, 100);
    for (const cost of [few, many]) {
      expect(cost.epsilon).toBe(Math.min(cost.compositionEpsilon, cost.randomStoppingEpsilon!));
      expect(cost.method).toBe(
        cost.randomStoppingEpsilon! < cost.compositionEpsilon ? 'random_stopping' : 'composition',
      );
    }
    expect(few.method).toBe('composition');
    expect(many.method).toBe('random_stopping');
    expect(many.epsilon).toBeLessThan(many.compositionEpsilon / 2);
  });

  it('charges random stopping by the bound over one run and one score, on the ledger orders too', () => {
    const cost = price(16, 1, 100);
    const scoreEpsilon = scoreLoss(0.1 / 16, 1).epsilon;
    expect(cost.scoreEpsilon).toBe(scoreEpsilon);
    const run = { q: 0.1, sigma: 1 };
    const orders = [...new Set([...DEFAULT_RDP_ORDERS, ...LEDGER_RDP_ORDERS])].sort((a, b) => a - b);
    const base = orders.map(
      (order) => 100 * subsampledGaussianRdp(run, order) + pureRdp(scoreEpsilon, order),
    );
    const curve = randomStoppingRdp(geometricRule(16), orders, base);
    expect(cost.randomStoppingEpsilon).toBe(rdpToApprox(orders, curve, 1e-6).epsilon);
    expect(cost.rdpCurve).toEqual(LEDGER_RDP_ORDERS.map((order) => curve[orders.indexOf(order)]));
  });

  it('releases only the best run of a random stopping search, with its candidate and score', () => {
    const random = seededRandom(8);
    const train = buildTrainingDataset({ rows: loadWdbc('train'), schema: WDBC_SCHEMA, random });
    const heldOut = buildTrainingDataset({ rows: loadWdbc('test'), schema: WDBC_SCHEMA, random });
    const candidates: Candidate[] = [CANDIDATE, { ...CANDIDATE, clipNorm: 0.5 }, CANDIDATE, CANDIDATE];
    const result = searchHyperparameters(
      {
        candidates,
        sampling: { expectedBatchSize: 128, populationSize: WDBC_TRAIN_SIZE },
        steps: 40,
        privacy: { accountant: 'rdp', delta: 1e-5, noiseMultiplier: 1 },
        selection: { kind: 'private', heldOut, epsilon: 1 },
      },
      train,
      { random },
    );
    expect(result.cost.method).toBe('random_stopping');
    expect(result.scores).toHaveLength(1);
    expect(result.best.card.search).toEqual({
      candidates: 4,
      method: 'random_stopping',
      epsilon: result.cost.epsilon,
      delta: 1e-5,
    });
    expect(result.bestIndex).toBeGreaterThanOrEqual(0);
    expect(result.bestIndex).toBeLessThan(4);
    // A noisy correct count of the 114 held-out rows, at ε = 1/4 per score.
    expect(result.scores[0]!).toBeGreaterThan(80);
  });
});
