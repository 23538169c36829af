import { describe, expect, it } from 'vitest';
import { createModel } from '../../src/train/models/create-model.ts';
import type { ModelSpec } from '../../src/train/models/model.ts';
import { seededRandom } from '../support/seeded-random.ts';

const INPUTS = 5;

const MODELS: readonly [string, ModelSpec, (random: () => number) => number][] = [
  ['logistic', { kind: 'logistic' }, (u) => (u() < 0.5 ? 0 : 1)],
  ['softmax (4 classes)', { kind: 'softmax', classes: 4 }, (u) => Math.floor(u() * 4)],
  ['linear', { kind: 'linear' }, (u) => 2 * u() - 1],
  [
    'mlp, 1 hidden relu, binary',
    { kind: 'mlp', hidden: [7], activation: 'relu', output: { kind: 'binary' } },
    (u) => (u() < 0.5 ? 0 : 1),
  ],
  [
    'mlp, 1 hidden tanh, regression',
    { kind: 'mlp', hidden: [6], activation: 'tanh', output: { kind: 'regression' } },
    (u) => 2 * u() - 1,
  ],
  [
    'mlp, 2 hidden relu, 3 classes',
    { kind: 'mlp', hidden: [8, 5], activation: 'relu', output: { kind: 'multiclass', classes: 3 } },
    (u) => Math.floor(u() * 3),
  ],
  [
    'mlp, 2 hidden tanh, binary',
    { kind: 'mlp', hidden: [6, 4], activation: 'tanh', output: { kind: 'binary' } },
    (u) => (u() < 0.5 ? 0 : 1),
  ],
];

describe('per-example gradients match central finite differences', () => {
  for (const [name, spec, drawLabel] of MODELS) {
    it(name, () => {
      const random = seededRandom(17);
      const uniform = (): number => random.nextUint32() / 2 ** 32;
      const model = createModel(spec, INPUTS);
      const parameters = new Float64Array(model.parameterCount);
      for (let trial = 0; trial < 20; trial++) {
        model.init(parameters, random);
        // Non-zero everywhere (also for the convex models that start at zero), so every path is exercised.
        for (let j = 0; j < parameters.length; j++) parameters[j] = parameters[j]! + (uniform() - 0.5);
        const features = Float64Array.from({ length: INPUTS + 3 }, () => 2 * uniform() - 1);
        const offset = 3;
        const label = drawLabel(uniform);
        const gradient = new Float64Array(model.parameterCount);
        model.addExampleGradient(parameters, features, offset, label, gradient);
        // exampleGradient's returned ‖g‖² (from the layer factors) is the norm of what it wrote.
        const written = new Float64Array(model.parameterCount);
        const normSquared = model.exampleGradient(parameters, features, offset, label, written);
        // (x + 0 turns −0 into +0: a ReLU-silenced row is written as ±0.)
        expect([...written].map((x) => x + 0)).toEqual([...gradient].map((x) => x + 0));
        expect(normSquared).toBeCloseTo(
          gradient.reduce((total, g) => total + g * g, 0),
          10,
        );
        const h = 1e-6;
        for (let j = 0; j < parameters.length; j++) {
          const saved = parameters[j]!;
          parameters[j] = saved + h;
          const up = model.loss(parameters, features, offset, label);
          parameters[j] = saved - h;
          const down = model.loss(parameters, features, offset, label);
          parameters[j] = saved;
          const numeric = (up - down) / (2 * h);
          expect(Math.abs(gradient[j]! - numeric)).toBeLessThan(1e-6 * Math.max(1, Math.abs(numeric)));
        }
      }
    });
  }

  it('addExampleGradient accumulates; exampleGradient overwrites', () => {
    const model = createModel(
      { kind: 'mlp', hidden: [4], activation: 'tanh', output: { kind: 'binary' } },
      3,
    );
    const parameters = new Float64Array(model.parameterCount);
    model.init(parameters, seededRandom(3));
    const rows = Float64Array.of(0.1, -0.5, 0.9, -1, 0.3, 0.2);
    const both = new Float64Array(model.parameterCount);
    model.addExampleGradient(parameters, rows, 0, 1, both);
    model.addExampleGradient(parameters, rows, 3, 0, both);
    const first = new Float64Array(model.parameterCount);
    const second = new Float64Array(model.parameterCount);
    model.addExampleGradient(parameters, rows, 0, 1, first);
    model.addExampleGradient(parameters, rows, 3, 0, second);
    both.forEach((value, j) => {
      expect(value).toBeCloseTo(first[j]! + second[j]!, 12);
    });
    // exampleGradient overwrites whatever the buffer held.
    const overwritten = new Float64Array(model.parameterCount).fill(123);
    model.exampleGradient(parameters, rows, 3, 0, overwritten);
    expect([...overwritten]).toEqual([...second]);
  });
});
