/**
 * A fully connected network with a hand-written forward and backward pass on Float64Arrays: the one
 * implementation behind every model kind (logistic, softmax and linear regression are the network
 * with no hidden layer). Backpropagation on one row keeps each layer's factors (δ and the layer's
 * input a) and writes the per-example gradient from them into a caller-owned buffer; DP-SGD's
 * batched path over many persons at once is person-block.ts. All scratch space is allocated once.
 *
 * Parameter layout, layer by layer: the weight matrix row-major [out][in], then the bias [out].
 */
import type { RandomSource } from '../../dp/random.ts';
import type { Activation, Model, ModelSpec, OutputKind } from './model.ts';
import { outputHead } from './output-heads.ts';
import { type DenseLayer, personBlock } from './person-block.ts';

export interface DenseNetworkShape {
  readonly spec: ModelSpec;
  readonly inputSize: number;
  readonly hidden: readonly number[];
  readonly activation: Activation;
  readonly output: OutputKind;
}

export function denseNetwork(shape: DenseNetworkShape): Model {
  const head = outputHead(shape.output);
  const widths = [shape.inputSize, ...shape.hidden, head.units];
  for (const width of widths) {
    if (!Number.isSafeInteger(width) || width < 1) throw new RangeError(`layer width ${width} is not ≥ 1`);
  }
  const layers: DenseLayer[] = [];
  let parameterCount = 0;
  for (let l = 0; l + 1 < widths.length; l++) {
    const inputs = widths[l]!;
    const outputs = widths[l + 1]!;
    layers.push({
      inputs,
      outputs,
      weightOffset: parameterCount,
      biasOffset: parameterCount + inputs * outputs,
    });
    parameterCount += (inputs + 1) * outputs;
  }
  const depth = layers.length;
  // activations[l] is layer l's output (after the activation for hidden layers, the logits last);
  // deltas[l] is ∂loss/∂(layer l's pre-activation).
  const activations = layers.map((layer) => new Float64Array(layer.outputs));
  const deltas = layers.map((layer) => new Float64Array(layer.outputs));
  const logits = activations[depth - 1]!;
  const isRelu = shape.activation === 'relu';

  const forward = (parameters: Float64Array, features: Float64Array, offset: number): void => {
    for (let l = 0; l < depth; l++) {
      const { inputs, outputs, weightOffset, biasOffset } = layers[l]!;
      const source = l === 0 ? features : activations[l - 1]!;
      const sourceOffset = l === 0 ? offset : 0;
      const target = activations[l]!;
      const hidden = l < depth - 1;
      for (let o = 0; o < outputs; o++) {
        let sum = parameters[biasOffset + o]!;
        const row = weightOffset + o * inputs;
        for (let i = 0; i < inputs; i++) sum += parameters[row + i]! * source[sourceOffset + i]!;
        target[o] = hidden ? (isRelu ? Math.max(sum, 0) : Math.tanh(sum)) : sum;
      }
    }
  };

  // The example `backpropagate` last saw: its features, for the first layer's factor.
  let preparedFeatures: Float64Array = new Float64Array(0);
  let preparedOffset = 0;

  /**
   * Forward, then each layer's δ (∂loss/∂pre-activation), pushed back through the weights. Returns
   * ‖gradient‖² from the factors: a layer's gradient is [δ ⊗ a, δ], whose squared norm is
   * ‖δ‖²(‖a‖² + 1) (Goodfellow 2015, "Efficient Per-Example Gradient Computations").
   */
  const backpropagate = (
    parameters: Float64Array,
    features: Float64Array,
    offset: number,
    label: number,
  ): number => {
    forward(parameters, features, offset);
    head.lossGradient(logits, 0, label, deltas[depth - 1]!);
    preparedFeatures = features;
    preparedOffset = offset;
    let normSquared = 0;
    for (let l = depth - 1; l >= 0; l--) {
      const { inputs, outputs, weightOffset } = layers[l]!;
      const source = l === 0 ? features : activations[l - 1]!;
      const sourceOffset = l === 0 ? offset : 0;
      const delta = deltas[l]!;
      let deltaSquared = 0;
      for (let o = 0; o < outputs; o++) deltaSquared += delta[o]! * delta[o]!;
      let inputSquared = 1;
      for (let i = 0; i < inputs; i++) inputSquared += source[sourceOffset + i]! * source[sourceOffset + i]!;
      normSquared += deltaSquared * inputSquared;
      if (l === 0) break;
      const back = deltas[l - 1]!;
      back.fill(0);
      for (let o = 0; o < outputs; o++) {
        const d = delta[o]!;
        if (d === 0) continue;
        const row = weightOffset + o * inputs;
        for (let i = 0; i < inputs; i++) back[i] = back[i]! + d * parameters[row + i]!;
      }
      for (let i = 0; i < inputs; i++) {
        const a = source[i]!;
        back[i] = back[i]! * (isRelu ? (a > 0 ? 1 : 0) : 1 - a * a);
      }
    }
    return normSquared;
  };

  /**
   * Writes (or, with `accumulate`, adds) the prepared example's gradient [δ ⊗ a, δ] into `gradient`;
   * `accumulate` false overwrites, so a person's first row needs no zeroed buffer.
   */
  const writeGradient = (gradient: Float64Array, accumulate: boolean): void => {
    for (let l = 0; l < depth; l++) {
      const { inputs, outputs, weightOffset, biasOffset } = layers[l]!;
      const source = l === 0 ? preparedFeatures : activations[l - 1]!;
      const sourceOffset = l === 0 ? preparedOffset : 0;
      const delta = deltas[l]!;
      for (let o = 0; o < outputs; o++) {
        const d = delta[o]!;
        const row = weightOffset + o * inputs;
        if (accumulate) {
          if (d === 0) continue;
          gradient[biasOffset + o] = gradient[biasOffset + o]! + d;
          for (let i = 0; i < inputs; i++)
            gradient[row + i] = gradient[row + i]! + d * source[sourceOffset + i]!;
        } else {
          gradient[biasOffset + o] = d;
          for (let i = 0; i < inputs; i++) gradient[row + i] = d * source[sourceOffset + i]!;
        }
      }
    }
  };

  return {
    spec: shape.spec,
    output: shape.output,
    inputSize: shape.inputSize,
    outputSize: head.units,
    parameterCount,
    init: (parameters, random) => {
      parameters.fill(0);
      // A network without hidden layers is convex: zero is the natural start. With hidden layers the
      // weights need symmetry breaking: Glorot-uniform for tanh, He-uniform for ReLU, biases zero.
      if (depth === 1) return;
      for (const { inputs, outputs, weightOffset } of layers) {
        const limit = isRelu ? Math.sqrt(6 / inputs) : Math.sqrt(6 / (inputs + outputs));
        for (let j = 0; j < inputs * outputs; j++)
          parameters[weightOffset + j] = limit * (2 * unitUniform(random) - 1);
      }
    },
    loss: (parameters, features, offset, label) => {
      forward(parameters, features, offset);
      return head.loss(logits, label);
    },
    exampleGradient: (parameters, features, offset, label, gradient) => {
      const normSquared = backpropagate(parameters, features, offset, label);
      writeGradient(gradient, false);
      return normSquared;
    },
    addExampleGradient: (parameters, features, offset, label, gradient) => {
      backpropagate(parameters, features, offset, label);
      writeGradient(gradient, true);
    },
    personBlock: (rowCapacity, simd) => personBlock({ layers, head, isRelu, rowCapacity, simd }),
    predict: (parameters, features, offset, output) => {
      forward(parameters, features, offset);
      head.predict(logits, output);
    },
  };
}

/**
 * A float in (0, 1) for weight initialisation only. Initial weights do not depend on the data, so
 * turning random bits into a float here is harmless; noise never goes through this.
 */
function unitUniform(random: RandomSource): number {
  return (random.nextUint32() + 0.5) / 2 ** 32;
}
