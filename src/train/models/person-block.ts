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
 * Kernels. The forward pass, the backward pass through the weights, the activation derivative and
 * the one-row persons' ghost norms and rounding run in block-kernels.ts (WebAssembly SIMD, or the
 * same arithmetic in JavaScript), over the whole block at once: the forward pass runs two rows at a
 * time over each weight, so the 256-unit layers' 0.5 MB weight matrix is read once per block, not
 * once per row. Persons with several rows (their Gram sums) and the rare shrink stay here, in
 * JavaScript, on the same buffers. Parameter layout as in dense-network.ts: per layer the weights
 * [out][in] row-major, then the bias.
 */
import { blockKernels, dot, gridInteger, IDENTITY, RELU, TANH } from './block-kernels.ts';
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
  /** WebAssembly SIMD kernels (the default where available) or the JavaScript ones: same results. */
  readonly simd?: boolean;
}

export function personBlock(shape: BlockShape): PersonBlock {
  const { layers, head, isRelu, rowCapacity } = shape;
  const depth = layers.length;
  const inputSize = layers[0]!.inputs;
  const last = layers[depth - 1]!;
  const parameterCount = last.biasOffset + last.outputs;
  const unitsPerRow = layers.reduce((total, layer) => total + layer.outputs, 0);
  // The buffers the kernels read and write: inputs, outputs and deltas, the accumulator, and the
  // one-row persons' lists, scales and Σ k² (the i32 lists counted as doubles).
  const kernels = blockKernels(
    layers,
    rowCapacity * (inputSize + 2 * unitsPerRow + depth + 6) + parameterCount,
    shape.simd,
  );
  // inputs: the block's feature rows back to back; outputs[l]: layer l's output per row (after the
  // activation for hidden layers, the logits last); deltas[l]: ∂loss/∂(layer l's pre-activation).
  const inputs = kernels.doubles(rowCapacity * inputSize);
  const outputs = layers.map((layer) => kernels.doubles(rowCapacity * layer.outputs));
  const deltas = layers.map((layer) => kernels.doubles(rowCapacity * layer.outputs));
  // The block's rounded contributions, added to the step's sum once per block.
  const accumulator = kernels.doubles(parameterCount);
  // The one-row persons (their row and index), and those of them with a positive scale.
  const oneRowRows = kernels.integers(rowCapacity);
  const oneRowPersons = kernels.integers(rowCapacity);
  let oneRowCount = 0;
  const scaledRows = kernels.integers(rowCapacity);
  const scaledPersons = kernels.integers(rowCapacity);
  const blockScales = kernels.doubles(rowCapacity);
  const blockSquared = kernels.doubles(rowCapacity);
  const labels = new Float64Array(rowCapacity);
  // Person p owns rows personStart[p] … personStart[p + 1] − 1 of the block.
  const personStart = new Int32Array(rowCapacity + 1);
  const normsSquared = kernels.doubles(rowCapacity);
  // ‖a_row‖² per layer for the one-row persons (from the ghost norms, read by the rounding).
  const inputSquares = layers.map(() => kernels.doubles(rowCapacity));
  let rows = 0;
  let persons = 0;

  const layerInput = (l: number): Float64Array => (l === 0 ? inputs : outputs[l - 1]!);

  const forward = (): void => {
    for (let l = 0; l < depth; l++) {
      const activation = l === depth - 1 ? IDENTITY : isRelu ? RELU : TANH;
      kernels.forward(layers[l]!, layerInput(l), outputs[l]!, rows, activation);
    }
  };

  const backward = (): void => {
    const last = layers[depth - 1]!.outputs;
    for (let r = 0; r < rows; r++)
      head.lossGradient(outputs[depth - 1]!, r * last, labels[r]!, deltas[depth - 1]!);
    for (let l = depth - 1; l > 0; l--) {
      kernels.backward(layers[l]!, deltas[l]!, deltas[l - 1]!, rows);
      kernels.activationDerivative(outputs[l - 1]!, deltas[l - 1]!, rows * layers[l]!.inputs, isRelu);
    }
  };

  const ghostNorms = (): void => {
    normsSquared.fill(0, 0, persons);
    oneRowCount = 0;
    for (let p = 0; p < persons; p++) {
      if (personStart[p + 1]! !== personStart[p]! + 1) continue;
      oneRowRows[oneRowCount] = personStart[p]!;
      oneRowPersons[oneRowCount] = p;
      oneRowCount++;
    }
    for (let l = 0; l < depth; l++) {
      const layer = layers[l]!;
      const { inputs: width, outputs: units } = layer;
      const source = layerInput(l);
      const delta = deltas[l]!;
      kernels.ghostOneRow(
        layer,
        source,
        delta,
        oneRowCount,
        oneRowRows,
        oneRowPersons,
        normsSquared,
        inputSquares[l]!,
      );
      for (let p = 0; p < persons; p++) {
        const start = personStart[p]!;
        const end = personStart[p + 1]!;
        if (end === start + 1) continue;
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

  /**
   * r = gridInteger(scale_p·g_j) for every coordinate j of every person p's gradient g, added to
   * `sum`, and Σ r² per person into `roundedSquared`. The one-row persons (nearly all of them) go
   * through the kernel, a layer at a time, skipping the output units whose scaled δ is zero (a zero
   * δ contributes r = 0 everywhere); a person with several rows goes through `emitPerson`. The
   * block's r are summed in `accumulator` first (integers: exact in any order), then added to `sum`.
   */
  const emitAll = (scales: Float64Array, sum: Float64Array, roundedSquared: Float64Array): void => {
    accumulator.fill(0);
    for (let p = 0; p < persons; p++) {
      blockScales[p] = scales[p]!;
      blockSquared[p] = 0;
    }
    let count = 0;
    for (let j = 0; j < oneRowCount; j++) {
      // Scale 0 marks a person whose norm overflowed: they contribute nothing.
      if (!(scales[oneRowPersons[j]!]! > 0)) continue;
      scaledRows[count] = oneRowRows[j]!;
      scaledPersons[count] = oneRowPersons[j]!;
      count++;
    }
    for (let l = 0; l < depth; l++) {
      const layer = layers[l]!;
      const source = layerInput(l);
      kernels.emitOneRow(
        layer,
        source,
        deltas[l]!,
        accumulator,
        count,
        scaledRows,
        scaledPersons,
        blockScales,
        blockSquared,
        inputSquares[l]!,
      );
      const { inputs: width, outputs: units, weightOffset, biasOffset } = layer;
      for (let p = 0; p < persons; p++) {
        if (personStart[p + 1]! === personStart[p]! + 1) continue;
        for (let o = 0; o < units; o++)
          blockSquared[p] =
            blockSquared[p]! +
            emitPerson(
              accumulator,
              weightOffset + o * width,
              biasOffset + o,
              source,
              width,
              deltas[l]!,
              units,
              o,
              p,
              scales[p]!,
              0,
            );
      }
    }
    for (let j = 0; j < parameterCount; j++) sum[j] = sum[j]! + accumulator[j]!;
    for (let p = 0; p < persons; p++) roundedSquared[p] = blockSquared[p]!;
  };

  /**
   * Person p's rounded coordinates for output o of one layer (its weight row and bias): r =
   * gridInteger(Σ_rows scale·δ·a), the rows summed before rounding. With shrink = 0 adds r to `sum`
   * and returns Σ r²; otherwise replaces r by trunc(r·shrink). The operations are those of the
   * kernels for a one-row person (0 + x = x), so the same r come out bit for bit.
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
    const rb = gridInteger(b);
    let squared = rb * rb;
    sum[bias] = shrink === 0 ? sum[bias]! + rb : sum[bias]! - rb + Math.trunc(rb * shrink);
    for (let i = 0; i < width; i++) {
      let x = 0;
      for (let r = start; r < end; r++) x += delta[r * units + o]! * scale * source[r * width + i]!;
      const k = gridInteger(x);
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
      const count = rowCount * featureCount;
      for (let j = 0; j < count; j++) inputs[to + j] = features[from + j]!;
      for (let r = 0; r < rowCount; r++) labels[rows + r] = featureLabels[firstRow + r]!;
      rows += rowCount;
      persons++;
      personStart[persons] = rows;
    },
    loadParameters: (parameters) => kernels.loadParameters(parameters),
    prepare: () => {
      forward();
      backward();
      ghostNorms();
    },
    addRounded: emitAll,
    shrinkRounded: (person, scale, shrink, sum) => emitShrunk(sum, person, scale, shrink),
  };
}
