import type { LabelSpec } from '../schema.ts';
import { denseNetwork } from './dense-network.ts';
import type { Model, ModelSpec } from './model.ts';

/**
 * The model a spec names, for rows of `inputSize` scaled features: logistic, softmax and linear
 * regression are the dense network without hidden layers and with the matching output head.
 */
export function createModel(spec: ModelSpec, inputSize: number): Model {
  switch (spec.kind) {
    case 'logistic':
      return denseNetwork({ spec, inputSize, hidden: [], activation: 'relu', output: { kind: 'binary' } });
    case 'softmax':
      if (!Number.isSafeInteger(spec.classes) || spec.classes < 2)
        throw new RangeError('softmax needs at least 2 classes');
      return denseNetwork({
        spec,
        inputSize,
        hidden: [],
        activation: 'relu',
        output: { kind: 'multiclass', classes: spec.classes },
      });
    case 'linear':
      return denseNetwork({
        spec,
        inputSize,
        hidden: [],
        activation: 'relu',
        output: { kind: 'regression' },
      });
    case 'mlp':
      return denseNetwork({
        spec,
        inputSize,
        hidden: spec.hidden,
        activation: spec.activation,
        output: spec.output,
      });
  }
}

/**
 * The model for a dataset's features and label, refusing a model whose output does not fit the
 * label (a binary model on a 5-class label would train on clamped nonsense): binary ↔ binary,
 * K classes ↔ a K-class label, regression ↔ a bounded label. The check reads only the schema.
 */
export function createModelFor(
  spec: ModelSpec,
  schema: { features: readonly unknown[]; label: LabelSpec },
): Model {
  const model = createModel(spec, schema.features.length);
  const { output } = model;
  const { label } = schema;
  const fits =
    (output.kind === 'binary' && label.kind === 'binary') ||
    (output.kind === 'multiclass' && label.kind === 'class' && output.classes === label.classes) ||
    (output.kind === 'regression' && label.kind === 'bounded');
  if (!fits)
    throw new RangeError(
      `a ${spec.kind} model with ${output.kind} output cannot learn a ${label.kind} label`,
    );
  return model;
}
