import { describe, expect, it } from 'vitest';
import { createOptimizer, learningRateAt } from '../../src/train/optimizers.ts';

describe('optimizers', () => {
  it('follows a cosine schedule with warm-up, and a step schedule', () => {
    const cosine = learningRateAt({ kind: 'cosine', warmupSteps: 10, finalFraction: 0.1 }, 110);
    expect(cosine(5)).toBeCloseTo(0.5, 12);
    expect(cosine(10)).toBeCloseTo(1, 12);
    expect(cosine(60)).toBeCloseTo(0.55, 12);
    expect(cosine(110)).toBeCloseTo(0.1, 12);
    const step = learningRateAt({ kind: 'step', every: 10, factor: 0.5 }, 100);
    expect([step(1), step(10), step(11), step(21)]).toEqual([1, 1, 0.5, 0.25]);
    expect(() => learningRateAt({ kind: 'cosine', warmupSteps: 100 }, 100)).toThrow(RangeError);
  });

  it('applies decoupled weight decay and the scheduled rate to SGD', () => {
    const sgd = createOptimizer(
      { kind: 'sgd', learningRate: 0.1, weightDecay: 0.5, schedule: { kind: 'step', every: 1, factor: 0.5 } },
      1,
      2,
    );
    const theta = Float64Array.of(2);
    sgd.step(theta, Float64Array.of(1)); // θ·(1 − 0.1·0.5) − 0.1·1
    expect(theta[0]).toBeCloseTo(2 * 0.95 - 0.1, 12);
    sgd.step(theta, Float64Array.of(1)); // rate 0.05
    expect(theta[0]).toBeCloseTo((2 * 0.95 - 0.1) * (1 - 0.05 * 0.5) - 0.05, 12);
  });

  it('uses the given Adam betas (β1 = 0: the first step moves by η·g/|g|)', () => {
    const adam = createOptimizer(
      { kind: 'adam', learningRate: 0.1, beta1: 0, beta2: 0.5, epsilon: 1e-12 },
      1,
    );
    const theta = Float64Array.of(0);
    adam.step(theta, Float64Array.of(3));
    expect(theta[0]).toBeCloseTo(-0.1, 9);
    expect(() => createOptimizer({ kind: 'adam', learningRate: 0.1, beta1: 1 }, 1)).toThrow(RangeError);
  });
});
