import { describe, expect, it } from 'vitest';
import { averageInterval, varianceInterval } from '../../src/dp/accuracy.ts';
import { discreteGaussian } from '../../src/dp/discrete-gaussian.ts';
import { discreteLaplace } from '../../src/dp/discrete-laplace.ts';
import { seededRandom } from '../support/seeded-random.ts';

const DRAWS = 20_000;

describe('AVG and VAR intervals from noisy sums and counts', () => {
  const bounds: [number, number] = [0, 100];
  // A small group, where the count noise matters: 40 values, mean 37.5, population variance 600.
  const values = Array.from({ length: 40 }, (_, i) => (i % 4) * 25);
  const trueCount = values.length;
  const trueSum = values.reduce((a, b) => a + b, 0);
  const trueSquares = values.reduce((a, b) => a + b * b, 0);
  const trueMean = trueSum / trueCount;
  const trueVariance = trueSquares / trueCount - trueMean ** 2;

  it('AVG: the Bonferroni interval covers the true mean in ≥ 95% − 1.5% of draws', () => {
    const sumMechanism = discreteLaplace({ scale: 100, random: seededRandom(1) });
    const countMechanism = discreteLaplace({ scale: 2, random: seededRandom(2) });
    let covered = 0;
    for (let i = 0; i < DRAWS; i++) {
      const interval = averageInterval({
        noisySum: sumMechanism.release(trueSum),
        noisyCount: countMechanism.release(trueCount),
        sumMechanism,
        countMechanism,
        bounds,
        confidence: 0.95,
      });
      expect(interval.lower).toBeLessThanOrEqual(interval.upper);
      if (interval.lower <= trueMean && trueMean <= interval.upper) covered++;
    }
    expect(covered / DRAWS).toBeGreaterThanOrEqual(0.95 - 0.015);
  });

  it('VAR: the Bonferroni interval covers the true variance in ≥ 95% − 1.5% of draws', () => {
    const squaresMechanism = discreteGaussian({ sigma: 3000, random: seededRandom(3) });
    const sumMechanism = discreteGaussian({ sigma: 50, random: seededRandom(4) });
    const countMechanism = discreteGaussian({ sigma: 1.5, random: seededRandom(5) });
    let covered = 0;
    for (let i = 0; i < DRAWS; i++) {
      const interval = varianceInterval({
        noisySumOfSquares: squaresMechanism.release(trueSquares),
        noisySum: sumMechanism.release(trueSum),
        noisyCount: countMechanism.release(trueCount),
        sumOfSquaresMechanism: squaresMechanism,
        sumMechanism,
        countMechanism,
        bounds,
        confidence: 0.95,
      });
      if (interval.lower <= trueVariance && trueVariance <= interval.upper) covered++;
    }
    expect(covered / DRAWS).toBeGreaterThanOrEqual(0.95 - 0.015);
  });

  it('a count that is surely below 1 gives the whole bounds', () => {
    const mechanism = discreteLaplace({ scale: 5 });
    const interval = averageInterval({
      noisySum: 3,
      noisyCount: -40,
      sumMechanism: mechanism,
      countMechanism: mechanism,
      bounds,
      confidence: 0.95,
    });
    expect([interval.lower, interval.upper]).toEqual([0, 100]);
  });
});
