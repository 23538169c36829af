/**
 * Predictions of a released model on new rows: the rows are scaled with the card's policy bounds
 * (and standardised with the card's released estimate, when it has one), exactly as in training. Pure post-processing of released weights: costs nothing.
 */
import type { TrainingDataset } from './dataset.ts';
import { standardiseRow } from './feature-standardisation.ts';
import type { TrainedModel } from './model-card.ts';
import { createModel } from './models/create-model.ts';
import type { Model } from './models/model.ts';
import { decodeBoundedLabel, scaleRow, type TableRow } from './schema.ts';

export type Prediction =
  | { readonly kind: 'binary'; readonly label: 0 | 1; readonly probability: number }
  | { readonly kind: 'class'; readonly label: number; readonly probabilities: readonly number[] }
  | { readonly kind: 'value'; readonly value: number };

export function predict(model: TrainedModel, rows: readonly TableRow[]): Prediction[] {
  const { card, parameters } = model;
  const network = createModel(card.model, card.features.length);
  const schema = { features: card.features, label: card.label };
  const input = new Float64Array(card.features.length);
  const output = new Float64Array(network.outputSize);
  return rows.map((row) => {
    scaleRow(row, schema, input, 0);
    if (card.standardisation) standardiseRow(input, 0, card.standardisation);
    network.predict(parameters, input, 0, output);
    if (network.output.kind === 'binary') {
      const probability = output[0]!;
      return { kind: 'binary', label: probability >= 0.5 ? 1 : 0, probability };
    }
    if (network.output.kind === 'multiclass') {
      return { kind: 'class', label: argmax(output), probabilities: [...output] };
    }
    const value = card.label.kind === 'bounded' ? decodeBoundedLabel(output[0]!, card.label) : output[0]!;
    return { kind: 'value', value };
  });
}

/**
 * The predicted class (binary: 1 iff P(1) ≥ 1/2) of the scaled row at `offset`, for evaluation on
 * already-scaled datasets. `output` is scratch of length model.outputSize.
 */
function predictedClass(
  model: Model,
  parameters: Float64Array,
  features: Float64Array,
  offset: number,
  output: Float64Array,
): number {
  model.predict(parameters, features, offset, output);
  if (model.output.kind === 'binary') return output[0]! >= 0.5 ? 1 : 0;
  if (model.output.kind === 'multiclass') return argmax(output);
  throw new RangeError('a regression model predicts values, not classes');
}

/**
 * How many rows of a bound-scaled dataset the model classifies correctly (exact: callers add noise
 * if private). A model trained on standardised features sees each row standardised as in training.
 */
export function countCorrect(model: TrainedModel, data: TrainingDataset): number {
  if (data.featureCount !== model.card.features.length)
    throw new RangeError('the data has other features than the model');
  const network = createModel(model.card.model, data.featureCount);
  const scratch = new Float64Array(network.outputSize);
  const { standardisation } = model.card;
  const input = new Float64Array(data.featureCount);
  let correct = 0;
  for (let row = 0; row < data.rowCount; row++) {
    let features = data.features;
    let offset = row * data.featureCount;
    if (standardisation) {
      input.set(data.features.subarray(offset, offset + data.featureCount));
      standardiseRow(input, 0, standardisation);
      features = input;
      offset = 0;
    }
    const predicted = predictedClass(network, model.parameters, features, offset, scratch);
    if (predicted === data.labels[row]) correct++;
  }
  return correct;
}

function argmax(values: Float64Array): number {
  let best = 0;
  for (let k = 1; k < values.length; k++) if (values[k]! > values[best]!) best = k;
  return best;
}
