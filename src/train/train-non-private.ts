/**
 * Training on PUBLIC data (tables marked public in policy): plain minibatch gradient descent, no
 * clipping, no noise, no privacy cost. Its weights can start a private run (`initialWeights` of
 * trainDpSgd), which then pays only for its own steps: the public weights are a data-independent
 * input from the private data's point of view.
 */
import { cryptoRandom, type RandomSource, uniformInt } from '../dp/random.ts';
import type { TrainingDataset } from './dataset.ts';
import type { TrainedModel } from './model-card.ts';
import { createModelFor } from './models/create-model.ts';
import type { ModelSpec } from './models/model.ts';
import { createOptimizer, type OptimizerSpec } from './optimizers.ts';
import { initialParameters } from './train-dp-sgd.ts';

export interface PublicTrainingSpec {
  readonly model: ModelSpec;
  readonly batchSize: number;
  readonly epochs: number;
  readonly optimizer: OptimizerSpec;
}

export interface PublicTrainingOptions {
  /** Shuffles the rows and initialises the weights; defaults to the CSPRNG. */
  readonly random?: RandomSource;
  readonly initialWeights?: Float64Array;
}

export function trainNonPrivate(
  spec: PublicTrainingSpec,
  publicData: TrainingDataset,
  options: PublicTrainingOptions = {},
): TrainedModel {
  if (!(Number.isSafeInteger(spec.batchSize) && spec.batchSize >= 1))
    throw new RangeError('batch size must be ≥ 1');
  if (!(Number.isSafeInteger(spec.epochs) && spec.epochs >= 1)) throw new RangeError('epochs must be ≥ 1');
  const random = options.random ?? cryptoRandom;
  const model = createModelFor(spec.model, publicData.schema);
  const parameters = initialParameters(model.parameterCount, options.initialWeights);
  if (options.initialWeights === undefined) model.init(parameters, random);
  const optimizer = createOptimizer(
    spec.optimizer,
    model.parameterCount,
    spec.epochs * Math.ceil(publicData.rowCount / spec.batchSize),
  );
  const { features, labels, rowCount, featureCount } = publicData;
  const order = Int32Array.from({ length: rowCount }, (_, i) => i);
  const gradient = new Float64Array(model.parameterCount);

  for (let epoch = 0; epoch < spec.epochs; epoch++) {
    shuffle(order, random);
    for (let start = 0; start < rowCount; start += spec.batchSize) {
      const end = Math.min(rowCount, start + spec.batchSize);
      gradient.fill(0);
      for (let k = start; k < end; k++) {
        const row = order[k]!;
        model.addExampleGradient(parameters, features, row * featureCount, labels[row]!, gradient);
      }
      for (let j = 0; j < gradient.length; j++) gradient[j] = gradient[j]! / (end - start);
      optimizer.step(parameters, gradient);
    }
  }
  return {
    parameters,
    card: {
      model: spec.model,
      features: publicData.schema.features,
      label: publicData.schema.label,
      optimizer: spec.optimizer,
      training: 'public',
      privacy: null,
      initialisedFrom: options.initialWeights === undefined ? 'random' : 'given weights',
    },
  };
}

function shuffle(order: Int32Array, random: RandomSource): void {
  for (let i = order.length - 1; i > 0; i--) {
    const j = uniformInt(random, i + 1);
    const held = order[i]!;
    order[i] = order[j]!;
    order[j] = held;
  }
}
