/**
 * The loss on the last layer's raw outputs (logits) for each kind of label, with its gradient with
 * respect to those outputs. Each is computed in a numerically stable form (no exp overflow).
 */
import type { OutputKind } from './model.ts';

export interface OutputHead {
  /** Units of the last layer. */
  readonly units: number;
  loss(logits: Float64Array, label: number): number;
  /** Writes ∂loss/∂logits into `delta`, both read and written from `offset` on (a row of a block). */
  lossGradient(logits: Float64Array, offset: number, label: number, delta: Float64Array): void;
  /** Writes the prediction (probabilities or value) into `output`. */
  predict(logits: Float64Array, output: Float64Array): void;
}

export function outputHead(output: OutputKind): OutputHead {
  switch (output.kind) {
    case 'binary':
      return binaryCrossEntropy;
    case 'multiclass':
      return softmaxCrossEntropy(output.classes);
    case 'regression':
      return squaredError;
  }
}

/** log(1 + e^z) without overflow. */
function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/** Binary cross-entropy on a logit z: log(1 + e^z) − y·z; ∂/∂z = sigmoid(z) − y. */
const binaryCrossEntropy: OutputHead = {
  units: 1,
  loss: (logits, label) => softplus(logits[0]!) - label * logits[0]!,
  lossGradient: (logits, offset, label, delta) => {
    delta[offset] = sigmoid(logits[offset]!) - label;
  },
  predict: (logits, output) => {
    output[0] = sigmoid(logits[0]!);
  },
};

/** Cross-entropy of softmax(z) against class y: logsumexp(z) − z_y; ∂/∂z_k = p_k − [k = y]. */
function softmaxCrossEntropy(classes: number): OutputHead {
  const logSumExp = (logits: Float64Array, offset: number): number => {
    let max = logits[offset]!;
    for (let k = 1; k < classes; k++) if (logits[offset + k]! > max) max = logits[offset + k]!;
    let sum = 0;
    for (let k = 0; k < classes; k++) sum += Math.exp(logits[offset + k]! - max);
    return max + Math.log(sum);
  };
  const probabilities = (logits: Float64Array, offset: number, output: Float64Array): void => {
    const normaliser = logSumExp(logits, offset);
    for (let k = 0; k < classes; k++) output[offset + k] = Math.exp(logits[offset + k]! - normaliser);
  };
  return {
    units: classes,
    loss: (logits, label) => logSumExp(logits, 0) - logits[label]!,
    lossGradient: (logits, offset, label, delta) => {
      probabilities(logits, offset, delta);
      delta[offset + label] = delta[offset + label]! - 1;
    },
    predict: (logits, output) => probabilities(logits, 0, output),
  };
}

/** Half squared error (z − y)²/2 on a label scaled to [−1, 1]; ∂/∂z = z − y. */
const squaredError: OutputHead = {
  units: 1,
  loss: (logits, label) => 0.5 * (logits[0]! - label) ** 2,
  lossGradient: (logits, offset, label, delta) => {
    delta[offset] = logits[offset]! - label;
  },
  predict: (logits, output) => {
    output[0] = logits[0]!;
  },
};
