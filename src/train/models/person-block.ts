/**
 * The dense network's per-person gradient path for a block of persons at once: one forward and one
 * backward pass over all the block's rows, each person's gradient norm from the layer factors (ghost
 * norms), then each person's gradient, scaled to the noise grid and rounded per person, added
 * straight into the step's integer sum. No per-person gradient is ever written out.
 *
 * Ghost norms. A row's gradient for a layer is [δ ⊗ a, δ] (δ = ∂loss/∂pre-activation, a the layer's
 * input), so a person with rows R has the layer gradient Σ_{r∈R} [δ_r ⊗ a_r, δ_r], whose squared
 * norm is Σ_{r,r'∈R} (δ_r·δ_r')(a_r·a_r' + 1): Gram matrices of the person's rows, and for one row
 * ‖δ‖²(‖a‖² + 1) (Goodfellow 2015, "Efficient Per-Example Gradient Computations"; the identity behind
 * ghost clipping, Li et al. 2022, "Large Language Models Can Be Strong Differentially Private
 * Learners", §4, and Bu et al. 2023's book-keeping, "Differentially Private Optimization on Large
 * Model at Small Cost": norms first, then one pass that writes the clipped sum). The norm only sets
 * the clipping scale; the bound the noise relies on is the exact integer check in
 * noisy-gradient-sum.ts, which holds whatever float error (or cancellation) the norm carries.
 *
 * Loops. Every kernel runs weight row by weight row over the whole block, so one weight row (and the
 * sum's row) stays in cache while every row of the block uses it, and pairs of rows share each load:
 * for the 256-unit layers this reads the 0.5 MB weight matrix once per block instead of once per row.
 * Parameter layout as in dense-network.ts: per layer the weights [out][in] row-major, then the bias.
 */
import { nearestInteger } from '../noisy-gradient-sum.ts';
import type { PersonBlock } from './model.ts';
import type { OutputHead } from './output-heads.ts';

export interface DenseLayer {
  readonly inputs: number;
  readonly outputs: number;
  readonly weightOffset: number;
  readonly biasOffset: number;
}

export interface BlockShape {
  readonly layers: readonly DenseLayer[];
  readonly head: OutputHead;
  readonly isRelu: boolean;
  readonly rowCapacity: number;
}

export function personBlock(shape: BlockShape): PersonBlock {
  const { layers, head, isRelu, rowCapacity } = shape;
  const depth = layers.length;
  const inputSize = layers[0]!.inputs;
  // inputs: the block's feature rows back to back; outputs[l]: layer l's output per row (after the
  // activation for hidden layers, the logits last); deltas[l]: ∂loss/∂(layer l's pre-activation).
  const inputs = new Float64Array(rowCapacity * inputSize);
  const outputs = layers.map((layer) => new Float64Array(rowCapacity * layer.outputs));
  const deltas = layers.map((layer) => new Float64Array(rowCapacity * layer.outputs));
  const labels = new Float64Array(rowCapacity);
  // Person p owns rows personStart[p] … personStart[p + 1] − 1 of the block.
  const personStart = new Int32Array(rowCapacity + 1);
  const normsSquared = new Float64Array(rowCapacity);
  let rows = 0;
  let persons = 0;

  const layerInput = (l: number): Float64Array => (l === 0 ? inputs : outputs[l - 1]!);

  const forward = (parameters: Float64Array): void => {
    for (let l = 0; l < depth; l++) {
      const activation = l === depth - 1 ? IDENTITY : isRelu ? RELU : TANH;
      linearForward(parameters, layers[l]!, layerInput(l), outputs[l]!, rows, activation);
    }
  };

  const backward = (parameters: Float64Array): void => {
    const last = layers[depth - 1]!.outputs;
    for (let r = 0; r < rows; r++)
      head.lossGradient(outputs[depth - 1]!, r * last, labels[r]!, deltas[depth - 1]!);
    for (let l = depth - 1; l > 0; l--) {
      linearBackward(parameters, layers[l]!, deltas[l]!, deltas[l - 1]!, rows);
      activationDerivative(outputs[l - 1]!, deltas[l - 1]!, rows * layers[l]!.inputs, isRelu);
    }
  };

  const ghostNorms = (): void => {
    normsSquared.fill(0, 0, persons);
    for (let l = 0; l < depth; l++) {
      const { inputs: width, outputs: units } = layers[l]!;
      const source = layerInput(l);
      const delta = deltas[l]!;
      for (let p = 0; p < persons; p++) {
        const start = personStart[p]!;
        const end = personStart[p + 1]!;
        let total = 0;
        for (let r = start; r < end; r++) {
          // The diagonal once, each off-diagonal pair twice.
          total +=
            dot(delta, r * units, delta, r * units, units) *
            (dot(source, r * width, source, r * width, width) + 1);
          for (let s = r + 1; s < end; s++) {
            const deltaDot = dot(delta, r * units, delta, s * units, units);
            if (deltaDot !== 0)
              total += 2 * deltaDot * (dot(source, r * width, source, s * width, width) + 1);
          }
        }
        // Cancellation between a person's rows can leave a tiny negative; the scale needs ≥ 0.
        normsSquared[p] = normsSquared[p]! + Math.max(total, 0);
      }
    }
  };

  // For one output unit: the one-row persons whose scaled δ is not zero (ReLU zeroes about half).
  const activeScaled = new Float64Array(rowCapacity);
  const activeSource = new Int32Array(rowCapacity);
  const activePerson = new Int32Array(rowCapacity);

  /**
   * r = round(scale_p·g_j) for every coordinate j of every person p's gradient g, added to `sum`, and
   * Σ r² per person into `roundedSquared`. For each output unit, the one-row persons (nearly all of
   * them) whose scaled δ is not zero go two at a time, sharing one load and store of the sum per
   * coordinate (a zero δ contributes r = 0 everywhere, so skipping it adds nothing); a person with
   * several rows goes through `emitPerson`.
   */
  const emitAll = (sum: Float64Array, scales: Float64Array, roundedSquared: Float64Array): void => {
    for (let l = 0; l < depth; l++) {
      const { inputs: width, outputs: units, weightOffset, biasOffset } = layers[l]!;
      const source = layerInput(l);
      const delta = deltas[l]!;
      for (let o = 0; o < units; o++) {
        const row = weightOffset + o * width;
        const bias = biasOffset + o;
        let active = 0;
        for (let p = 0; p < persons; p++) {
          const start = personStart[p]!;
          if (personStart[p + 1]! !== start + 1) {
            roundedSquared[p] =
              roundedSquared[p]! +
              emitPerson(sum, row, bias, source, width, delta, units, o, p, scales[p]!, 0);
            continue;
          }
          const scale = scales[p]!;
          const d = delta[start * units + o]! * scale;
          // Scale 0 marks a person whose norm overflowed: they contribute nothing.
          if (d === 0 || !(scale > 0)) continue;
          activeScaled[active] = d;
          activeSource[active] = start * width;
          activePerson[active] = p;
          active++;
        }
        let a = 0;
        for (; a + 1 < active; a += 2) {
          const d0 = activeScaled[a]!;
          const d1 = activeScaled[a + 1]!;
          const x0 = activeSource[a]!;
          const x1 = activeSource[a + 1]!;
          const b0 = nearestInteger(d0);
          const b1 = nearestInteger(d1);
          sum[bias] = sum[bias]! + (b0 + b1);
          let s0 = b0 * b0;
          let s1 = b1 * b1;
          for (let i = 0; i < width; i++) {
            const k0 = nearestInteger(d0 * source[x0 + i]!);
            const k1 = nearestInteger(d1 * source[x1 + i]!);
            sum[row + i] = sum[row + i]! + (k0 + k1);
            s0 += k0 * k0;
            s1 += k1 * k1;
          }
          const p0 = activePerson[a]!;
          const p1 = activePerson[a + 1]!;
          roundedSquared[p0] = roundedSquared[p0]! + s0;
          roundedSquared[p1] = roundedSquared[p1]! + s1;
        }
        if (a < active) {
          const d0 = activeScaled[a]!;
          const x0 = activeSource[a]!;
          const b0 = nearestInteger(d0);
          sum[bias] = sum[bias]! + b0;
          let s0 = b0 * b0;
          for (let i = 0; i < width; i++) {
            const k0 = nearestInteger(d0 * source[x0 + i]!);
            sum[row + i] = sum[row + i]! + k0;
            s0 += k0 * k0;
          }
          const p0 = activePerson[a]!;
          roundedSquared[p0] = roundedSquared[p0]! + s0;
        }
      }
    }
  };

  /**
   * Person p's rounded coordinates for output o of one layer (its weight row and bias): r =
   * round(Σ_rows scale·δ·a), the rows summed before rounding. With shrink = 0 adds r to `sum` and
   * returns Σ r²; otherwise replaces r by trunc(r·shrink). The operations are those of `emitAll` for
   * a one-row person (0 + x = x), so the same r come out bit for bit.
   */
  const emitPerson = (
    sum: Float64Array,
    row: number,
    bias: number,
    source: Float64Array,
    width: number,
    delta: Float64Array,
    units: number,
    o: number,
    p: number,
    scale: number,
    shrink: number,
  ): number => {
    // Scale 0 marks a person whose norm overflowed: they contribute nothing (noisy-gradient-sum.ts).
    if (!(scale > 0)) return 0;
    const start = personStart[p]!;
    const end = personStart[p + 1]!;
    let b = 0;
    let nonZero = false;
    for (let r = start; r < end; r++) {
      const d = delta[r * units + o]! * scale;
      if (d !== 0) nonZero = true;
      b += d;
    }
    if (!nonZero) return 0;
    const rb = nearestInteger(b);
    let squared = rb * rb;
    sum[bias] = shrink === 0 ? sum[bias]! + rb : sum[bias]! - rb + Math.trunc(rb * shrink);
    for (let i = 0; i < width; i++) {
      let x = 0;
      for (let r = start; r < end; r++) x += delta[r * units + o]! * scale * source[r * width + i]!;
      const k = nearestInteger(x);
      squared += k * k;
      sum[row + i] = shrink === 0 ? sum[row + i]! + k : sum[row + i]! - k + Math.trunc(k * shrink);
    }
    return squared;
  };

  const emitShrunk = (sum: Float64Array, p: number, scale: number, shrink: number): void => {
    for (let l = 0; l < depth; l++) {
      const { inputs: width, outputs: units, weightOffset, biasOffset } = layers[l]!;
      for (let o = 0; o < units; o++)
        emitPerson(
          sum,
          weightOffset + o * width,
          biasOffset + o,
          layerInput(l),
          width,
          deltas[l]!,
          units,
          o,
          p,
          scale,
          shrink,
        );
    }
  };

  return {
    rowCapacity,
    get rows() {
      return rows;
    },
    get persons() {
      return persons;
    },
    normsSquared,
    clear: () => {
      rows = 0;
      persons = 0;
    },
    addPerson: (features, featureLabels, firstRow, rowCount, featureCount) => {
      if (rowCount < 1 || rows + rowCount > rowCapacity)
        throw new RangeError('the block has no room for this person');
      if (featureCount !== inputSize)
        throw new RangeError(`rows have ${featureCount} features, the model ${inputSize}`);
      // A copy loop, not subarray views: a view per person is garbage in the hot loop.
      const from = firstRow * featureCount;
      const to = rows * inputSize;
      for (let j = 0; j < rowCount * featureCount; j++) inputs[to + j] = features[from + j]!;
      for (let r = 0; r < rowCount; r++) labels[rows + r] = featureLabels[firstRow + r]!;
      rows += rowCount;
      persons++;
      personStart[persons] = rows;
    },
    prepare: (parameters) => {
      forward(parameters);
      backward(parameters);
      ghostNorms();
    },
    addRounded: (scales, sum, roundedSquared) => {
      roundedSquared.fill(0, 0, persons);
      emitAll(sum, scales, roundedSquared);
    },
    shrinkRounded: (person, scale, shrink, sum) => emitShrunk(sum, person, scale, shrink),
  };
}

/**
 * target[r][o] = f(bias[o] + Σ_i W[o][i]·source[r][i]) for the block's rows (f the activation for a
 * hidden layer, the identity for the logits). Four weight rows at a time stay in cache while every
 * block row streams past them, and each input load feeds four products; each sum runs over i in
 * order, as the one-row forward pass does.
 */
function linearForward(
  parameters: Float64Array,
  layer: DenseLayer,
  source: Float64Array,
  target: Float64Array,
  rows: number,
  activation: Activation,
): void {
  const { inputs: width, outputs: units, weightOffset, biasOffset } = layer;
  let o = 0;
  for (; o + 3 < units; o += 4) {
    const w0 = weightOffset + o * width;
    const w1 = w0 + width;
    const w2 = w1 + width;
    const w3 = w2 + width;
    const b0 = parameters[biasOffset + o]!;
    const b1 = parameters[biasOffset + o + 1]!;
    const b2 = parameters[biasOffset + o + 2]!;
    const b3 = parameters[biasOffset + o + 3]!;
    for (let r = 0; r < rows; r++) {
      const x = r * width;
      let s0 = b0;
      let s1 = b1;
      let s2 = b2;
      let s3 = b3;
      for (let i = 0; i < width; i++) {
        const a = source[x + i]!;
        s0 += parameters[w0 + i]! * a;
        s1 += parameters[w1 + i]! * a;
        s2 += parameters[w2 + i]! * a;
        s3 += parameters[w3 + i]! * a;
      }
      const t = r * units + o;
      target[t] = activated(s0, activation);
      target[t + 1] = activated(s1, activation);
      target[t + 2] = activated(s2, activation);
      target[t + 3] = activated(s3, activation);
    }
  }
  for (; o < units; o++) {
    const w = weightOffset + o * width;
    const b = parameters[biasOffset + o]!;
    for (let r = 0; r < rows; r++) {
      const x = r * width;
      let sum = b;
      for (let i = 0; i < width; i++) sum += parameters[w + i]! * source[x + i]!;
      target[r * units + o] = activated(sum, activation);
    }
  }
}

/** What a layer applies to its sums: the logits are left as they are. */
type Activation = typeof IDENTITY | typeof RELU | typeof TANH;
const IDENTITY = 0;
const RELU = 1;
const TANH = 2;

function activated(z: number, activation: Activation): number {
  return activation === RELU ? Math.max(z, 0) : activation === TANH ? Math.tanh(z) : z;
}

/** back[r][i] = Σ_o δ[r][o]·W[o][i] for the block's rows, two rows per weight load. */
function linearBackward(
  parameters: Float64Array,
  layer: DenseLayer,
  delta: Float64Array,
  back: Float64Array,
  rows: number,
): void {
  const { inputs: width, outputs: units, weightOffset } = layer;
  back.fill(0, 0, rows * width);
  let r = 0;
  for (; r + 1 < rows; r += 2) {
    const x0 = r * width;
    const x1 = x0 + width;
    for (let o = 0; o < units; o++) {
      const d0 = delta[r * units + o]!;
      const d1 = delta[(r + 1) * units + o]!;
      if (d0 === 0 && d1 === 0) continue;
      const w = weightOffset + o * width;
      for (let i = 0; i < width; i++) {
        const weight = parameters[w + i]!;
        back[x0 + i] = back[x0 + i]! + d0 * weight;
        back[x1 + i] = back[x1 + i]! + d1 * weight;
      }
    }
  }
  if (r < rows) {
    const x0 = r * width;
    for (let o = 0; o < units; o++) {
      const d0 = delta[r * units + o]!;
      if (d0 === 0) continue;
      const w = weightOffset + o * width;
      for (let i = 0; i < width; i++) back[x0 + i] = back[x0 + i]! + d0 * parameters[w + i]!;
    }
  }
}

/** δ ← δ·f'(z), from the activation's output a = f(z): ReLU 1[a > 0], tanh 1 − a². */
function activationDerivative(
  activated: Float64Array,
  delta: Float64Array,
  count: number,
  isRelu: boolean,
): void {
  if (isRelu) {
    for (let j = 0; j < count; j++) if (!(activated[j]! > 0)) delta[j] = 0;
  } else {
    for (let j = 0; j < count; j++) delta[j] = delta[j]! * (1 - activated[j]! * activated[j]!);
  }
}

function dot(a: Float64Array, aOffset: number, b: Float64Array, bOffset: number, length: number): number {
  let even = 0;
  let odd = 0;
  let i = 0;
  for (; i + 1 < length; i += 2) {
    even += a[aOffset + i]! * b[bOffset + i]!;
    odd += a[aOffset + i + 1]! * b[bOffset + i + 1]!;
  }
  if (i < length) even += a[aOffset + i]! * b[bOffset + i]!;
  return even + odd;
}
