/**
 * Just enough of a WebAssembly assembler to build the person-block kernels (block-kernels.ts) from
 * their source here, with no toolchain: instruction encoders (the opcodes of the WebAssembly 2.0
 * core specification, §5.4, including the fixed-width SIMD proposal's 0xFD-prefixed ones), structured
 * loops, and a module writer with one imported memory and exported functions.
 */

export type Code = readonly number[];

/** Unsigned LEB128 (spec §5.2.2). */
function unsigned(value: number): number[] {
  const bytes: number[] = [];
  let rest = value >>> 0;
  do {
    const byte = rest & 0x7f;
    rest >>>= 7;
    bytes.push(rest === 0 ? byte : byte | 0x80);
  } while (rest !== 0);
  return bytes;
}

/** Signed LEB128 of a 32-bit integer. */
function signed(value: number): number[] {
  const bytes: number[] = [];
  let rest = value | 0;
  for (;;) {
    const byte = rest & 0x7f;
    rest >>= 7;
    const done = (rest === 0 && (byte & 0x40) === 0) || (rest === -1 && (byte & 0x40) !== 0);
    bytes.push(done ? byte : byte | 0x80);
    if (done) return bytes;
  }
}

function float64(value: number): number[] {
  return [...new Uint8Array(Float64Array.of(value).buffer)];
}

export const I32 = 0x7f as const;
export const F64 = 0x7c as const;
export const V128 = 0x7b as const;
export type ValueType = typeof I32 | typeof F64 | typeof V128;

const simd = (opcode: number, ...immediates: number[]): Code => [0xfd, ...unsigned(opcode), ...immediates];
/** memarg: alignment exponent, then byte offset. */
const memory = (align: number, offset: number): number[] => [...unsigned(align), ...unsigned(offset)];

/** Instructions, each taking its operands' code (evaluated in order) and returning the whole. */
export const op = {
  get: (local: number): Code => [0x20, ...unsigned(local)],
  set: (local: number, value: Code): Code => [...value, 0x21, ...unsigned(local)],
  i32: (value: number): Code => [0x41, ...signed(value)],
  f64: (value: number): Code => [0x44, ...float64(value)],
  i32Add: (a: Code, b: Code): Code => [...a, ...b, 0x6a],
  i32Mul: (a: Code, b: Code): Code => [...a, ...b, 0x6c],
  i32LtS: (a: Code, b: Code): Code => [...a, ...b, 0x48],
  i32Shl: (a: Code, b: Code): Code => [...a, ...b, 0x74],
  i32Load: (address: Code, offset = 0): Code => [...address, 0x28, ...memory(2, offset)],
  f64Load: (address: Code, offset = 0): Code => [...address, 0x2b, ...memory(3, offset)],
  f64Store: (address: Code, value: Code, offset = 0): Code => [
    ...address,
    ...value,
    0x39,
    ...memory(3, offset),
  ],
  f64Add: (a: Code, b: Code): Code => [...a, ...b, 0xa0],
  f64Mul: (a: Code, b: Code): Code => [...a, ...b, 0xa2],
  f64Max: (a: Code, b: Code): Code => [...a, ...b, 0xa5],
  f64Nearest: (a: Code): Code => [...a, 0x9e],
  f64Ne: (a: Code, b: Code): Code => [...a, ...b, 0x62],
  i32Or: (a: Code, b: Code): Code => [...a, ...b, 0x72],
  i32And: (a: Code, b: Code): Code => [...a, ...b, 0x71],
  i32LtU: (a: Code, b: Code): Code => [...a, ...b, 0x49],
  f64Lt: (a: Code, b: Code): Code => [...a, ...b, 0x63],
  f64Le: (a: Code, b: Code): Code => [...a, ...b, 0x65],
  f64Gt: (a: Code, b: Code): Code => [...a, ...b, 0x64],
  /** condition ? a : b */
  select: (a: Code, b: Code, condition: Code): Code => [...a, ...b, ...condition, 0x1b],
  v128Load: (address: Code, offset = 0): Code => [...address, ...simd(0x00, ...memory(3, offset))],
  v128Store: (address: Code, value: Code, offset = 0): Code => [
    ...address,
    ...value,
    ...simd(0x0b, ...memory(3, offset)),
  ],
  load64Splat: (address: Code, offset = 0): Code => [...address, ...simd(0x0a, ...memory(3, offset))],
  f64x2Splat: (a: Code): Code => [...a, ...simd(0x14)],
  f64x2Lane: (a: Code, lane: 0 | 1): Code => [...a, ...simd(0x21, lane)],
  f64x2Add: (a: Code, b: Code): Code => [...a, ...b, ...simd(0xf0)],
  f64x2Mul: (a: Code, b: Code): Code => [...a, ...b, ...simd(0xf2)],
  f64x2Max: (a: Code, b: Code): Code => [...a, ...b, ...simd(0xf5)],
  /** pmin(a, b) = b < a ? b : a */
  f64x2Pmin: (a: Code, b: Code): Code => [...a, ...b, ...simd(0xf6)],
  /** pmax(a, b) = a < b ? b : a */
  f64x2Pmax: (a: Code, b: Code): Code => [...a, ...b, ...simd(0xf7)],
  f64x2Nearest: (a: Code): Code => [...a, ...simd(0x94)],
  f64x2Sub: (a: Code, b: Code): Code => [...a, ...b, ...simd(0xf1)],
  /** All-ones lanes where a > b (false for NaN), zero lanes elsewhere. */
  f64x2Gt: (a: Code, b: Code): Code => [...a, ...b, ...simd(0x4a)],
  v128And: (a: Code, b: Code): Code => [...a, ...b, ...simd(0x4e)],
  f64Sub: (a: Code, b: Code): Code => [...a, ...b, 0xa1],
};

/** while (condition) { body } — condition and body as code; no `br` out of the body. */
export function whileLoop(condition: Code, ...body: Code[]): Code {
  return [0x02, 0x40, 0x03, 0x40, ...condition, 0x45, 0x0d, 0x01, ...body.flat(), 0x0c, 0x00, 0x0b, 0x0b];
}

/** if (condition) do { body } while (condition): one branch per pass. */
export function doWhile(condition: Code, ...body: Code[]): Code {
  return ifThen(condition, [0x03, 0x40, ...body.flat(), ...condition, 0x0d, 0x00, 0x0b]);
}

export function ifThen(condition: Code, ...body: Code[]): Code {
  return [...condition, 0x04, 0x40, ...body.flat(), 0x0b];
}

export function ifElse(condition: Code, then: Code, otherwise: Code): Code {
  return [...condition, 0x04, 0x40, ...then, 0x05, ...otherwise, 0x0b];
}

export interface WasmFunction {
  readonly name: string;
  /** Every parameter is an i32 (byte offsets and counts). */
  readonly parameters: number;
  readonly locals: readonly ValueType[];
  readonly body: readonly Code[];
}

function section(id: number, contents: number[]): number[] {
  return [id, ...unsigned(contents.length), ...contents];
}

function vector(items: number[][]): number[] {
  return [...unsigned(items.length), ...items.flat()];
}

function name(text: string): number[] {
  const bytes = [...new TextEncoder().encode(text)];
  return [...unsigned(bytes.length), ...bytes];
}

/** A module importing memory `env.memory` (at least `pages` pages) and exporting `functions`. */
export function wasmModule(functions: readonly WasmFunction[], pages: number): Uint8Array {
  const types = functions.map((f) => [
    0x60,
    ...vector(Array.from({ length: f.parameters }, () => [I32])),
    0x00,
  ]);
  const imports = [[...name('env'), ...name('memory'), 0x02, 0x00, ...unsigned(pages)]];
  const exports = functions.map((f, index) => [...name(f.name), 0x00, ...unsigned(index)]);
  const bodies = functions.map((f) => {
    const locals = vector(f.locals.map((type) => [0x01, type]));
    const code = [...locals, ...f.body.flat(), 0x0b];
    return [...unsigned(code.length), ...code];
  });
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vector(types)),
    ...section(2, vector(imports)),
    ...section(3, vector(functions.map((_, index) => unsigned(index)))),
    ...section(7, vector(exports)),
    ...section(10, vector(bodies)),
  ]);
}
