/**
 * The hot loops of the person-block path (person-block.ts), in WebAssembly SIMD when the runtime has
 * it and in plain JavaScript otherwise, with the same result bit for bit (all in float64):
 *  - `forward`: one dense layer over the block's rows, z = b + Σ_i W[o][i]·a[i] summed over i in
 *    order, then ReLU as Math.max(z, 0) (tanh is applied by JavaScript after either kernel). The SIMD
 *    kernel puts two output units in the two f64x2 lanes, each lane summing in the same order with the
 *    same separate multiply and add, so every z is the double JavaScript computes. It reads the
 *    weights transposed ([in][out], made once per step by `loadParameters`), so that one load
 *    fetches W[o][i] and W[o + 1][i], and runs two rows at a time over each weight load.
 *  - `backward` (δ through the weights), `activationDerivative` and `ghostOneRow` (the one-row
 *    persons' ‖δ‖²(‖a‖² + 1)): each lane one of the sums the JavaScript loop forms, in its order.
 *  - `emitOneRow`: for one layer, every one-row person's rounded, scaled gradient coordinates
 *    k = gridInteger(d·a_i) (d = δ_o·scale_p, the bias's k = gridInteger(d)) added into an
 *    accumulator, and Σ k² into the person's entry of `roundedSquared`, summed in the same order in
 *    both kernels (four partial sums over blocks of four coordinates), so the sums agree even beyond
 *    2^53.
 *
 * `gridInteger` is the nearest integer (ties to even), clamped to ±2^22: f64x2.nearest agrees with
 * `nearestInteger` (noisy-gradient-sum.ts) wherever |x| < 2^51, and beyond that both clamp to the same
 * end; NaN clamps to +2^22, as f64x2.pmin(2^22, NaN) does. A clamped coordinate is over every Δ the
 * grid uses (Δ = 2^k + √d/2 < 2^21 for k ≤ 20 and d < 2^40), so its person's Σ k² exceeds the bound
 * and the exact check shrinks the whole contribution: the clamp changes no contribution that is
 * kept, and it keeps NaN and infinities, which could not be taken back out, out of the sum.
 *
 * The module is assembled here (wasm-assembler.ts) and compiled once, synchronously; a runtime
 * without WebAssembly SIMD, or one that refuses to compile code at run time (a Cloudflare Worker),
 * gets the JavaScript kernels.
 */
import { nearestInteger } from '../noisy-gradient-sum.ts';
import type { DenseLayer } from './person-block.ts';
import {
  type Code,
  doWhile,
  F64,
  I32,
  ifElse,
  ifThen,
  op,
  V128,
  type ValueType,
  type WasmFunction,
  wasmModule,
  whileLoop,
} from './wasm-assembler.ts';

/** |k| ≤ 2^22 for every rounded coordinate (see above). */
const GRID_INTEGER_LIMIT = 2 ** 22;

/** The nearest integer to x, clamped to ±GRID_INTEGER_LIMIT, NaN to +GRID_INTEGER_LIMIT. */
/**
 * When fl(fl(d·d)·s) ≤ 2^42 for s the computed ‖a‖² of a row of n < 2^20 values, every
 * |fl(d·a_i)| < 2^21·(1 + 2^-30), so its nearest integer is inside ±2^22 and the clamp changes
 * nothing: |a_i|² ≤ ‖a‖², the computed sum of squares is below the true one by a relative n·2^-53
 * at most plus n·2^-1075 absolute (underflow), and a finite d² is < 2^1024, so
 * d²‖a‖² ≤ 2^42·(1 + 2^-32) + n·2^-51. An infinite or NaN product fails the test and takes the
 * clamped passes.
 */
const NO_CLAMP_BOUND = 2 ** 42;

export function gridInteger(x: number): number {
  const k = nearestInteger(x);
  // biome-ignore lint/complexity/useMathMinMax: Math.min would keep NaN; this maps it to the limit, as f64x2.pmin does.
  const below = k < GRID_INTEGER_LIMIT ? k : GRID_INTEGER_LIMIT;
  // biome-ignore lint/complexity/useMathMinMax: written as f64x2.pmax computes it, the lanes' twin.
  return below > -GRID_INTEGER_LIMIT ? below : -GRID_INTEGER_LIMIT;
}

export const IDENTITY = 0;
export const RELU = 1;
export const TANH = 2;
/** What a layer applies to its sums: the logits are left as they are. */
export type Activation = typeof IDENTITY | typeof RELU | typeof TANH;

export interface BlockKernels {
  /** A zeroed buffer the kernels can address (carved from the module's memory when SIMD). */
  doubles(length: number): Float64Array;
  integers(length: number): Int32Array;
  /** The parameters the next `forward` calls use. */
  loadParameters(parameters: Float64Array): void;
  forward(
    layer: DenseLayer,
    source: Float64Array,
    target: Float64Array,
    rows: number,
    activation: Activation,
  ): void;
  /**
   * back[r][i] = Σ_o delta[r][o]·W[o][i] over o in order, rows in pairs, a pair's output o skipped
   * when both its δ are zero (the zeroed products would add nothing).
   */
  backward(layer: DenseLayer, delta: Float64Array, back: Float64Array, rows: number): void;
  /** δ ← δ·f'(z) from the activation's output a = f(z): ReLU 1[a > 0] (δ ← 0 else), tanh 1 − a·a. */
  activationDerivative(activated: Float64Array, delta: Float64Array, count: number, isRelu: boolean): void;
  /**
   * For `count` one-row persons: normsSquared[person] += max(0 + ‖δ_row‖²·(‖a_row‖² + 1), 0), each
   * squared norm summed as `dot` does (even and odd entries apart, then joined), and ‖a_row‖² into
   * inputSquares[row] for `emitOneRow`.
   */
  ghostOneRow(
    layer: DenseLayer,
    source: Float64Array,
    delta: Float64Array,
    count: number,
    rowList: Int32Array,
    personList: Int32Array,
    normsSquared: Float64Array,
    inputSquares: Float64Array,
  ): void;
  /**
   * For `count` one-row persons (their row rowList[j], person personList[j]) and every output o of
   * `layer`: d = delta[row][o]·scales[person]; when d ≠ 0, adds gridInteger(d) to the bias entry and
   * gridInteger(d·source[row][i]) to the weight entries of `accumulator` (the parameter layout), and
   * their Σ k² to roundedSquared[person]. `inputSquares` holds what `ghostOneRow` wrote for the
   * same layer and rows.
   */
  emitOneRow(
    layer: DenseLayer,
    source: Float64Array,
    delta: Float64Array,
    accumulator: Float64Array,
    count: number,
    rowList: Int32Array,
    personList: Int32Array,
    scales: Float64Array,
    roundedSquared: Float64Array,
    inputSquares: Float64Array,
  ): void;
}

/**
 * Kernels for a network of these layers, with room for `capacity` doubles of buffers besides the
 * transposed weights (each buffer rounded up to 16 bytes).
 */
export function blockKernels(
  layers: readonly DenseLayer[],
  capacity: number,
  simd = simdAvailable(),
): BlockKernels {
  // The clamp-free passes' proof (NO_CLAMP_BOUND) needs rows of fewer than 2^20 values.
  const rowsShortEnough = layers.every((layer) => layer.inputs < 2 ** 20);
  return simd && rowsShortEnough ? wasmKernels(layers, capacity) : javascriptKernels();
}

function javascriptKernels(): BlockKernels {
  let parameters: Float64Array = new Float64Array(0);
  return {
    doubles: (length) => new Float64Array(length),
    integers: (length) => new Int32Array(length),
    loadParameters: (values) => {
      parameters = values;
    },
    forward: (layer, source, target, rows, activation) =>
      linearForward(parameters, layer, source, target, rows, activation),
    backward: (layer, delta, back, rows) => linearBackward(parameters, layer, delta, back, rows),
    activationDerivative: (activated, delta, count, isRelu) => {
      if (isRelu) {
        for (let j = 0; j < count; j++) if (!(activated[j]! > 0)) delta[j] = 0;
      } else {
        for (let j = 0; j < count; j++) delta[j] = delta[j]! * (1 - activated[j]! * activated[j]!);
      }
    },
    ghostOneRow: (layer, source, delta, count, rowList, personList, normsSquared, inputSquares) => {
      const { inputs: width, outputs: units } = layer;
      for (let j = 0; j < count; j++) {
        const r = rowList[j]!;
        const p = personList[j]!;
        inputSquares[r] = dot(source, r * width, source, r * width, width);
        const total = 0 + dot(delta, r * units, delta, r * units, units) * (inputSquares[r]! + 1);
        normsSquared[p] = normsSquared[p]! + Math.max(total, 0);
      }
    },
    emitOneRow: (layer, source, delta, accumulator, count, rowList, personList, scales, roundedSquared) => {
      // Always clamped: the SIMD kernel's clamp-free passes give the same k (see NO_CLAMP_BOUND).
      const { inputs: width, outputs: units, weightOffset, biasOffset } = layer;
      for (let o = 0; o < units; o++) {
        const row = weightOffset + o * width;
        for (let j = 0; j < count; j++) {
          const r = rowList[j]!;
          const p = personList[j]!;
          const d = delta[r * units + o]! * scales[p]!;
          if (d === 0) continue;
          const b = gridInteger(d);
          accumulator[biasOffset + o] = accumulator[biasOffset + o]! + b;
          const x = r * width;
          // Four sums of squares over blocks of four coordinates, as the SIMD kernel's two pairs
          // of lanes, then a pair and a last one: the same order, so the same Σ k² even past 2^53.
          let even0 = 0;
          let odd0 = 0;
          let even1 = 0;
          let odd1 = 0;
          let i = 0;
          for (; i + 3 < width; i += 4) {
            const k0 = gridInteger(d * source[x + i]!);
            const k1 = gridInteger(d * source[x + i + 1]!);
            const k2 = gridInteger(d * source[x + i + 2]!);
            const k3 = gridInteger(d * source[x + i + 3]!);
            accumulator[row + i] = accumulator[row + i]! + k0;
            accumulator[row + i + 1] = accumulator[row + i + 1]! + k1;
            accumulator[row + i + 2] = accumulator[row + i + 2]! + k2;
            accumulator[row + i + 3] = accumulator[row + i + 3]! + k3;
            even0 += k0 * k0;
            odd0 += k1 * k1;
            even1 += k2 * k2;
            odd1 += k3 * k3;
          }
          let even = even0 + even1;
          let odd = odd0 + odd1;
          if (i + 1 < width) {
            const k0 = gridInteger(d * source[x + i]!);
            const k1 = gridInteger(d * source[x + i + 1]!);
            accumulator[row + i] = accumulator[row + i]! + k0;
            accumulator[row + i + 1] = accumulator[row + i + 1]! + k1;
            even += k0 * k0;
            odd += k1 * k1;
            i += 2;
          }
          if (i < width) {
            const k = gridInteger(d * source[x + i]!);
            accumulator[row + i] = accumulator[row + i]! + k;
            even += k * k;
          }
          roundedSquared[p] = roundedSquared[p]! + (b * b + (even + odd));
        }
      }
    },
  };
}

/**
 * target[r][o] = f(bias[o] + Σ_i W[o][i]·source[r][i]) for the block's rows, each sum over i in
 * order (the JavaScript kernel; four weight rows at a time stay in cache while the rows stream past).
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

/** Σ a[aOffset + i]·b[bOffset + i], the even and odd terms in two sums, joined at the end. */
export function dot(
  a: Float64Array,
  aOffset: number,
  b: Float64Array,
  bOffset: number,
  length: number,
): number {
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

function activated(z: number, activation: Activation): number {
  return activation === RELU ? Math.max(z, 0) : activation === TANH ? Math.tanh(z) : z;
}

/** The part of the WebAssembly API used here (typed by hand: the project's `lib` has none). */
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Memory: new (descriptor: { initial: number }) => { readonly buffer: ArrayBuffer };
  Instance: new (module: object, imports: object) => { readonly exports: object };
}
const wasmApi = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

let compiled: object | null | undefined;

/** The kernels' module, or null where WebAssembly (or its SIMD) is missing or may not compile. */
function kernelModule(): object | null {
  if (compiled === undefined) {
    try {
      const bytes = wasmModule([FORWARD, EMIT_ONE_ROW, BACKWARD, GHOST_ONE_ROW, ACTIVATION_DERIVATIVE], 1);
      compiled = wasmApi?.validate(bytes) ? new wasmApi.Module(bytes) : null;
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

export function simdAvailable(): boolean {
  return kernelModule() !== null;
}

const PAGE_BYTES = 65_536;

function wasmKernels(layers: readonly DenseLayer[], capacity: number): BlockKernels {
  const module = kernelModule();
  if (!(module && wasmApi)) throw new Error('WebAssembly SIMD is not available');
  const last = layers[layers.length - 1]!;
  const parameterCount = last.biasOffset + last.outputs;
  // Every buffer starts on a 16-byte boundary: room for that padding of up to 64 buffers.
  const bytes = (capacity + 2 * parameterCount + 2 * 64) * 8;
  const memory = new wasmApi.Memory({ initial: Math.ceil(bytes / PAGE_BYTES) + 1 });
  const instance = new wasmApi.Instance(module, { env: { memory } });
  const exports = instance.exports as {
    forward: (...args: number[]) => void;
    emitOneRow: (...args: number[]) => void;
    backward: (...args: number[]) => void;
    ghostOneRow: (...args: number[]) => void;
    activationDerivative: (...args: number[]) => void;
  };
  let next = 16;
  const carve = (bytes: number): number => {
    const at = next;
    next += Math.ceil(bytes / 16) * 16;
    if (next > memory.buffer.byteLength) throw new RangeError('block kernels: buffers exceed their memory');
    return at;
  };
  const transposed = new Float64Array(memory.buffer, carve(parameterCount * 8), parameterCount);
  const parameters = new Float64Array(memory.buffer, carve(parameterCount * 8), parameterCount);
  return {
    doubles: (length) => new Float64Array(memory.buffer, carve(length * 8), length),
    integers: (length) => new Int32Array(memory.buffer, carve(length * 4), length),
    loadParameters: (values) => {
      // For the backward pass as they are; for the forward pass each weight matrix [out][in]
      // transposed to [in][out], the biases as they are.
      parameters.set(values.subarray(0, parameterCount));
      transposed.set(parameters);
      for (const { inputs, outputs, weightOffset } of layers)
        for (let o = 0; o < outputs; o++)
          for (let i = 0; i < inputs; i++)
            transposed[weightOffset + i * outputs + o] = parameters[weightOffset + o * inputs + i]!;
    },
    backward: (layer, delta, back, rows) => {
      back.fill(0, 0, rows * layer.inputs);
      exports.backward(
        parameters.byteOffset + layer.weightOffset * 8,
        layer.inputs,
        layer.outputs,
        delta.byteOffset,
        back.byteOffset,
        rows,
      );
    },
    activationDerivative: (activated, delta, count, isRelu) =>
      exports.activationDerivative(activated.byteOffset, delta.byteOffset, count, isRelu ? 1 : 0),
    ghostOneRow: (layer, source, delta, count, rowList, personList, normsSquared, inputSquares) =>
      exports.ghostOneRow(
        source.byteOffset,
        layer.inputs,
        delta.byteOffset,
        layer.outputs,
        count,
        rowList.byteOffset,
        personList.byteOffset,
        normsSquared.byteOffset,
        inputSquares.byteOffset,
      ),
    forward: (layer, source, target, rows, activation) => {
      exports.forward(
        transposed.byteOffset + layer.weightOffset * 8,
        transposed.byteOffset + layer.biasOffset * 8,
        layer.inputs,
        layer.outputs,
        source.byteOffset,
        target.byteOffset,
        rows,
        activation === RELU ? 1 : 0,
      );
      if (activation === TANH)
        for (let j = 0; j < rows * layer.outputs; j++) target[j] = Math.tanh(target[j]!);
    },
    emitOneRow: (
      layer,
      source,
      delta,
      accumulator,
      count,
      rowList,
      personList,
      scales,
      roundedSquared,
      inputSquares,
    ) =>
      exports.emitOneRow(
        source.byteOffset,
        layer.inputs,
        delta.byteOffset,
        layer.outputs,
        accumulator.byteOffset + layer.weightOffset * 8,
        accumulator.byteOffset + layer.biasOffset * 8,
        count,
        rowList.byteOffset,
        personList.byteOffset,
        scales.byteOffset,
        roundedSquared.byteOffset,
        inputSquares.byteOffset,
      ),
  };
}

const { get, set } = op;
const i32Add = (...terms: Code[]): Code =>
  terms.slice(1).reduce((sum, term) => op.i32Add(sum, term), terms[0]!);
const times8 = (index: Code): Code => op.i32Shl(index, op.i32(3));
const increment = (local: number, by: number): Code => set(local, op.i32Add(get(local), op.i32(by)));
const zeroes = op.f64x2Splat(op.f64(0));

/**
 * forward(weights, bias, width, units, source, target, rows, relu), all addresses in bytes: weights
 * [in][out] (transposed), two output units per f64x2 lane pair, two rows per pass sharing each
 * weight load, eight units (four vectors a row) per pass over the rows' inputs, then pairs, then a
 * last odd unit in scalar code; a last odd row alone.
 */
const FORWARD: WasmFunction = (() => {
  const [weights, bias, width, units, source, target, rows, relu] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [r, o, p, i, stride] = [8, 9, 10, 11, 12];
  const rowInput = [13, 14];
  const rowOutput = [15, 16];
  const inputAt = [17, 18];
  const sums = [
    [19, 20, 21, 22],
    [23, 24, 25, 26],
  ];
  const inputs = [27, 28];
  const weight = 29;
  const scalarSums = [30, 31];
  const rowsOf = (count: number): number[] => Array.from({ length: count }, (_, k) => k);
  // Over the rows' inputs: each vector sum += W^T[i][o + 2v … o + 2v + 1]·a[i].
  const pass = (vectors: number, count: number): Code => [
    ...set(p, i32Add(get(weights), times8(get(o)))),
    ...rowsOf(count).flatMap((k) => set(inputAt[k]!, get(rowInput[k]!))),
    ...set(i, op.i32(0)),
    ...whileLoop(
      op.i32LtS(get(i), get(width)),
      ...rowsOf(count).map((k) => set(inputs[k]!, op.load64Splat(get(inputAt[k]!)))),
      sums[0]!
        .slice(0, vectors)
        .flatMap((_, v) => [
          ...set(weight, op.v128Load(get(p), 16 * v)),
          ...rowsOf(count).flatMap((k) =>
            set(sums[k]![v]!, op.f64x2Add(get(sums[k]![v]!), op.f64x2Mul(get(weight), get(inputs[k]!)))),
          ),
        ]),
      set(p, op.i32Add(get(p), get(stride))),
      ...rowsOf(count).map((k) => increment(inputAt[k]!, 8)),
      increment(i, 1),
    ),
  ];
  const vectorUnits = (vectors: number, count: number): Code =>
    whileLoop(
      op.i32LtS(op.i32Add(get(o), op.i32(2 * vectors - 1)), get(units)),
      rowsOf(count).flatMap((k) =>
        sums[k]!.slice(0, vectors).flatMap((sum, v) =>
          set(sum, op.v128Load(i32Add(get(bias), times8(get(o))), 16 * v)),
        ),
      ),
      pass(vectors, count),
      rowsOf(count).flatMap((k) =>
        sums[k]!.slice(0, vectors).flatMap((sum, v) => [
          ...ifThen(get(relu), set(sum, op.f64x2Max(get(sum), zeroes))),
          ...op.v128Store(i32Add(get(rowOutput[k]!), times8(get(o))), get(sum), 16 * v),
        ]),
      ),
      increment(o, 2 * vectors),
    );
  const scalarUnit = (count: number): Code =>
    ifThen(
      op.i32LtS(get(o), get(units)),
      ...rowsOf(count).map((k) => set(scalarSums[k]!, op.f64Load(i32Add(get(bias), times8(get(o)))))),
      set(p, i32Add(get(weights), times8(get(o)))),
      ...rowsOf(count).map((k) => set(inputAt[k]!, get(rowInput[k]!))),
      set(i, op.i32(0)),
      whileLoop(
        op.i32LtS(get(i), get(width)),
        ...rowsOf(count).map((k) =>
          set(
            scalarSums[k]!,
            op.f64Add(get(scalarSums[k]!), op.f64Mul(op.f64Load(get(p)), op.f64Load(get(inputAt[k]!)))),
          ),
        ),
        set(p, op.i32Add(get(p), get(stride))),
        ...rowsOf(count).map((k) => increment(inputAt[k]!, 8)),
        increment(i, 1),
      ),
      ...rowsOf(count).map((k) => [
        ...ifThen(get(relu), set(scalarSums[k]!, op.f64Max(get(scalarSums[k]!), op.f64(0)))),
        ...op.f64Store(i32Add(get(rowOutput[k]!), times8(get(o))), get(scalarSums[k]!)),
      ]),
    );
  const rowPass = (count: number): Code[] => [
    set(rowInput[0]!, i32Add(get(source), times8(op.i32Mul(get(r), get(width))))),
    set(rowOutput[0]!, i32Add(get(target), times8(op.i32Mul(get(r), get(units))))),
    count === 2 ? set(rowInput[1]!, i32Add(get(rowInput[0]!), times8(get(width)))) : [],
    count === 2 ? set(rowOutput[1]!, i32Add(get(rowOutput[0]!), times8(get(units)))) : [],
    set(o, op.i32(0)),
    vectorUnits(4, count),
    vectorUnits(1, count),
    scalarUnit(count),
  ];
  return {
    name: 'forward',
    parameters: 8,
    locals: [...Array.from({ length: 11 }, () => I32), ...Array.from({ length: 11 }, () => V128), F64, F64],
    body: [
      set(stride, times8(get(units))),
      set(r, op.i32(0)),
      whileLoop(op.i32LtS(op.i32Add(get(r), op.i32(1)), get(rows)), ...rowPass(2), increment(r, 2)),
      ifThen(op.i32LtS(get(r), get(rows)), ...rowPass(1)),
    ],
  };
})();

/**
 * emitOneRow(source, width, delta, units, accumulatorWeights, accumulatorBias, count, rowList,
 * personList, scales, roundedSquared, inputSquares), addresses in bytes: what the JavaScript kernel
 * does, a person at a time (their row, scale and running Σ k² held across the layer's units, which
 * come in the same order as in the JavaScript loop, so every Σ k² is formed the same way), two
 * coordinates per f64x2, four a pass, then a pair, then a last odd one scalar.
 */
const EMIT_ONE_ROW: WasmFunction = (() => {
  const [
    source,
    width,
    delta,
    units,
    weights,
    bias,
    count,
    rowList,
    personList,
    scales,
    squares,
    inputSquares,
  ] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  const [o, j, r, p, x, w, end, rowStart, unitRow, deltaAt, biasAt, rowBytes] = [
    12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23,
  ];
  const [d, b, k, tail, scale, total, inputSquared] = [24, 25, 26, 27, 28, 29, 30];
  const [dv, kv, sq, high, low, sq2] = [31, 32, 33, 34, 35, 36];
  // k = nearest(d·x[0..1]) (clamped when `clamp`) added into w[0..1], k² into `sums`, at `offset`.
  const roundPair = (sums: number, offset: number, clamp: boolean): Code => [
    ...set(kv, op.f64x2Nearest(op.f64x2Mul(get(dv), op.v128Load(get(x), offset)))),
    ...(clamp ? set(kv, op.f64x2Pmax(get(low), op.f64x2Pmin(get(high), get(kv)))) : []),
    ...op.v128Store(get(w), op.f64x2Add(op.v128Load(get(w), offset), get(kv)), offset),
    ...set(sums, op.f64x2Add(get(sums), op.f64x2Mul(get(kv), get(kv)))),
  ];
  /** k ← clamp(k) as the lanes do: pmin(L, k) = k < L ? k : L, then pmax(−L, ·) = · > −L ? · : −L. */
  const clampScalar = (local: number): Code => [
    ...set(
      local,
      op.select(get(local), op.f64(GRID_INTEGER_LIMIT), op.f64Lt(get(local), op.f64(GRID_INTEGER_LIMIT))),
    ),
    ...set(
      local,
      op.select(get(local), op.f64(-GRID_INTEGER_LIMIT), op.f64Gt(get(local), op.f64(-GRID_INTEGER_LIMIT))),
    ),
  ];
  const pairs = (clamp: boolean): Code =>
    doWhile(
      op.i32LtU(get(x), get(end)),
      roundPair(sq, 0, clamp),
      roundPair(sq2, 16, clamp),
      increment(x, 32),
      increment(w, 32),
    );
  const listed = (list: number): Code => op.i32Load(i32Add(get(list), op.i32Shl(get(j), op.i32(2))));
  const squareAddress = i32Add(get(squares), times8(get(p)));
  return {
    name: 'emitOneRow',
    parameters: 12,
    locals: [
      ...Array.from({ length: 12 }, (): ValueType => I32),
      ...Array.from({ length: 7 }, (): ValueType => F64),
      ...Array.from({ length: 6 }, (): ValueType => V128),
    ],
    body: [
      set(high, op.f64x2Splat(op.f64(GRID_INTEGER_LIMIT))),
      set(low, op.f64x2Splat(op.f64(-GRID_INTEGER_LIMIT))),
      set(rowBytes, times8(get(width))),
      set(j, op.i32(0)),
      whileLoop(
        op.i32LtS(get(j), get(count)),
        set(r, listed(rowList)),
        set(p, listed(personList)),
        set(scale, op.f64Load(i32Add(get(scales), times8(get(p))))),
        set(inputSquared, op.f64Load(i32Add(get(inputSquares), times8(get(r))))),
        set(total, op.f64Load(squareAddress)),
        set(rowStart, i32Add(get(source), op.i32Mul(get(r), get(rowBytes)))),
        set(deltaAt, i32Add(get(delta), times8(op.i32Mul(get(r), get(units))))),
        set(biasAt, get(bias)),
        set(unitRow, get(weights)),
        set(o, op.i32(0)),
        whileLoop(
          op.i32LtS(get(o), get(units)),
          set(d, op.f64Mul(op.f64Load(get(deltaAt)), get(scale))),
          ifThen(
            op.f64Ne(get(d), op.f64(0)),
            set(b, op.f64Nearest(get(d))),
            clampScalar(b),
            op.f64Store(get(biasAt), op.f64Add(op.f64Load(get(biasAt)), get(b))),
            set(x, get(rowStart)),
            set(w, get(unitRow)),
            set(dv, op.f64x2Splat(get(d))),
            set(sq, zeroes),
            set(sq2, zeroes),
            // Four coordinates a pass (two sums of squares, joined after), then a pair, then one;
            // without the clamp when d²·‖a‖² ≤ 2^42 proves it idle (see `NO_CLAMP_BOUND`).
            set(end, i32Add(get(x), times8(op.i32And(get(width), op.i32(-4))))),
            ifElse(
              op.f64Le(op.f64Mul(op.f64Mul(get(d), get(d)), get(inputSquared)), op.f64(NO_CLAMP_BOUND)),
              pairs(false),
              pairs(true),
            ),
            set(sq, op.f64x2Add(get(sq), get(sq2))),
            ifThen(
              op.i32And(get(width), op.i32(2)),
              roundPair(sq, 0, true),
              increment(x, 16),
              increment(w, 16),
            ),
            set(tail, op.f64x2Lane(get(sq), 0)),
            ifThen(
              op.i32And(get(width), op.i32(1)),
              set(k, op.f64Nearest(op.f64Mul(get(d), op.f64Load(get(x))))),
              clampScalar(k),
              op.f64Store(get(w), op.f64Add(op.f64Load(get(w)), get(k))),
              set(tail, op.f64Add(get(tail), op.f64Mul(get(k), get(k)))),
            ),
            set(
              total,
              op.f64Add(
                get(total),
                op.f64Add(op.f64Mul(get(b), get(b)), op.f64Add(get(tail), op.f64x2Lane(get(sq), 1))),
              ),
            ),
          ),
          increment(deltaAt, 8),
          increment(biasAt, 8),
          set(unitRow, op.i32Add(get(unitRow), get(rowBytes))),
          increment(o, 1),
        ),
        op.f64Store(squareAddress, get(total)),
        increment(j, 1),
      ),
    ],
  };
})();

/**
 * backward(weights, width, units, delta, back, rows), addresses in bytes, `back` zeroed by the
 * caller: what the JavaScript kernel does, two coordinates i per f64x2, a last odd one scalar.
 */
const BACKWARD: WasmFunction = (() => {
  const [weights, width, units, delta, back, rows] = [0, 1, 2, 3, 4, 5];
  const [r, o, i, x0, x1, w] = [6, 7, 8, 9, 10, 11];
  const [d0, d1] = [12, 13];
  const [v0, v1, wv] = [14, 15, 16];
  const deltaAt = (row: Code): Code =>
    op.f64Load(i32Add(get(delta), times8(i32Add(op.i32Mul(row, get(units)), get(o)))));
  // back[x0 + i] += d0·W[o][i] (and for x1 with d1 when `pair`), over i, then a last odd i.
  const addRow = (pair: boolean): Code => [
    ...set(w, i32Add(get(weights), times8(op.i32Mul(get(o), get(width))))),
    ...set(v0, op.f64x2Splat(get(d0))),
    ...(pair ? set(v1, op.f64x2Splat(get(d1))) : []),
    ...set(i, op.i32(0)),
    ...whileLoop(
      op.i32LtS(op.i32Add(get(i), op.i32(1)), get(width)),
      set(wv, op.v128Load(i32Add(get(w), times8(get(i))))),
      op.v128Store(
        i32Add(get(x0), times8(get(i))),
        op.f64x2Add(op.v128Load(i32Add(get(x0), times8(get(i)))), op.f64x2Mul(get(v0), get(wv))),
      ),
      pair
        ? op.v128Store(
            i32Add(get(x1), times8(get(i))),
            op.f64x2Add(op.v128Load(i32Add(get(x1), times8(get(i)))), op.f64x2Mul(get(v1), get(wv))),
          )
        : [],
      increment(i, 2),
    ),
    ...ifThen(
      op.i32LtS(get(i), get(width)),
      op.f64Store(
        i32Add(get(x0), times8(get(i))),
        op.f64Add(
          op.f64Load(i32Add(get(x0), times8(get(i)))),
          op.f64Mul(get(d0), op.f64Load(i32Add(get(w), times8(get(i))))),
        ),
      ),
      pair
        ? op.f64Store(
            i32Add(get(x1), times8(get(i))),
            op.f64Add(
              op.f64Load(i32Add(get(x1), times8(get(i)))),
              op.f64Mul(get(d1), op.f64Load(i32Add(get(w), times8(get(i))))),
            ),
          )
        : [],
    ),
  ];
  return {
    name: 'backward',
    parameters: 6,
    locals: [I32, I32, I32, I32, I32, I32, F64, F64, V128, V128, V128],
    body: [
      set(r, op.i32(0)),
      whileLoop(
        op.i32LtS(op.i32Add(get(r), op.i32(1)), get(rows)),
        set(x0, i32Add(get(back), times8(op.i32Mul(get(r), get(width))))),
        set(x1, i32Add(get(x0), times8(get(width)))),
        set(o, op.i32(0)),
        whileLoop(
          op.i32LtS(get(o), get(units)),
          set(d0, deltaAt(get(r))),
          set(d1, deltaAt(op.i32Add(get(r), op.i32(1)))),
          ifThen(op.i32Or(op.f64Ne(get(d0), op.f64(0)), op.f64Ne(get(d1), op.f64(0))), addRow(true)),
          increment(o, 1),
        ),
        increment(r, 2),
      ),
      ifThen(
        op.i32LtS(get(r), get(rows)),
        set(x0, i32Add(get(back), times8(op.i32Mul(get(r), get(width))))),
        set(o, op.i32(0)),
        whileLoop(
          op.i32LtS(get(o), get(units)),
          set(d0, deltaAt(get(r))),
          ifThen(op.f64Ne(get(d0), op.f64(0)), addRow(false)),
          increment(o, 1),
        ),
      ),
    ],
  };
})();

/**
 * ghostOneRow(source, width, delta, units, count, rowList, personList, normsSquared), addresses in
 * bytes: what the JavaScript kernel does, `dot`'s even and odd sums in the two lanes.
 */
const GHOST_ONE_ROW: WasmFunction = (() => {
  const [source, width, delta, units, count, rowList, personList, norms, inputSquares] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8,
  ];
  const [j, p, x, i] = [9, 10, 11, 12];
  const [deltaSquared, inputSquared, tail] = [13, 14, 15];
  const [sums, v] = [16, 17];
  // result ← Σ x[i]² over `length` entries at `start`, as `dot(x, x)` sums it.
  const squaredNorm = (start: Code, length: number, result: number): Code => [
    ...set(x, start),
    ...set(sums, zeroes),
    ...set(i, op.i32(0)),
    ...whileLoop(
      op.i32LtS(op.i32Add(get(i), op.i32(1)), get(length)),
      set(v, op.v128Load(get(x))),
      set(sums, op.f64x2Add(get(sums), op.f64x2Mul(get(v), get(v)))),
      increment(x, 16),
      increment(i, 2),
    ),
    ...set(tail, op.f64x2Lane(get(sums), 0)),
    ...ifThen(
      op.i32LtS(get(i), get(length)),
      set(tail, op.f64Add(get(tail), op.f64Mul(op.f64Load(get(x)), op.f64Load(get(x))))),
    ),
    ...set(result, op.f64Add(get(tail), op.f64x2Lane(get(sums), 1))),
  ];
  const normAddress = i32Add(get(norms), times8(get(p)));
  return {
    name: 'ghostOneRow',
    parameters: 9,
    locals: [I32, I32, I32, I32, F64, F64, F64, V128, V128],
    body: [
      set(j, op.i32(0)),
      whileLoop(
        op.i32LtS(get(j), get(count)),
        set(p, op.i32Load(i32Add(get(personList), op.i32Shl(get(j), op.i32(2))))),
        squaredNorm(
          i32Add(
            get(delta),
            times8(op.i32Mul(op.i32Load(i32Add(get(rowList), op.i32Shl(get(j), op.i32(2)))), get(units))),
          ),
          units,
          deltaSquared,
        ),
        squaredNorm(
          i32Add(
            get(source),
            times8(op.i32Mul(op.i32Load(i32Add(get(rowList), op.i32Shl(get(j), op.i32(2)))), get(width))),
          ),
          width,
          inputSquared,
        ),
        op.f64Store(
          i32Add(get(inputSquares), times8(op.i32Load(i32Add(get(rowList), op.i32Shl(get(j), op.i32(2)))))),
          get(inputSquared),
        ),
        op.f64Store(
          normAddress,
          op.f64Add(
            op.f64Load(normAddress),
            op.f64Max(
              op.f64Add(op.f64(0), op.f64Mul(get(deltaSquared), op.f64Add(get(inputSquared), op.f64(1)))),
              op.f64(0),
            ),
          ),
        ),
        increment(j, 1),
      ),
    ],
  };
})();

/**
 * activationDerivative(activated, delta, count, relu), addresses in bytes: for ReLU δ AND the lanes'
 * a > 0 mask (+0 where a ≤ 0 or NaN, as `δ = 0`), without a branch per entry; for tanh
 * δ·(1 − a·a). Two entries per f64x2, a last odd one scalar.
 */
const ACTIVATION_DERIVATIVE: WasmFunction = (() => {
  const [activated, delta, count, relu] = [0, 1, 2, 3];
  const [end, a] = [4, 5];
  const [v] = [6];
  const pairs = (...body: Code[]): Code => [
    ...set(end, i32Add(get(delta), times8(op.i32And(get(count), op.i32(-2))))),
    ...doWhile(op.i32LtU(get(delta), get(end)), ...body, increment(activated, 16), increment(delta, 16)),
  ];
  const last = (value: Code): Code =>
    ifThen(op.i32And(get(count), op.i32(1)), op.f64Store(get(delta), value));
  const scalarA = op.f64Load(get(activated));
  return {
    name: 'activationDerivative',
    parameters: 4,
    locals: [I32, F64, V128],
    body: [
      ifThen(
        get(relu),
        pairs(
          op.v128Store(
            get(delta),
            op.v128And(op.v128Load(get(delta)), op.f64x2Gt(op.v128Load(get(activated)), zeroes)),
          ),
        ),
        last(op.select(op.f64Load(get(delta)), op.f64(0), op.f64Gt(scalarA, op.f64(0)))),
        [0x0f],
      ),
      pairs(
        set(v, op.v128Load(get(activated))),
        op.v128Store(
          get(delta),
          op.f64x2Mul(
            op.v128Load(get(delta)),
            op.f64x2Sub(op.f64x2Splat(op.f64(1)), op.f64x2Mul(get(v), get(v))),
          ),
        ),
      ),
      set(a, scalarA),
      last(op.f64Mul(op.f64Load(get(delta)), op.f64Sub(op.f64(1), op.f64Mul(get(a), get(a))))),
    ],
  };
})();
