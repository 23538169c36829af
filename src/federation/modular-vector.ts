/**
 * Integer vectors modulo 2^bits (8 ≤ bits ≤ 64), the group secure aggregation masks in. A coordinate
 * is two 32-bit limbs (low, high) in one Uint32Array, so adding two vectors is plain Number
 * arithmetic with a carry: no BigInt in the inner loops. The modulus is a power of two, so a mask
 * read from uniform keystream bits is uniform with no rejection.
 */
import { FederationFormatError } from './bytes.ts';

const TWO_32 = 2 ** 32;
/** Largest magnitude a signed coordinate may take in Number form. */
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

export class ModularVector {
  readonly bits: number;
  readonly length: number;
  /** [low0, high0, low1, high1, ...]; both limbs always reduced by the masks below. */
  readonly limbs: Uint32Array;
  private readonly lowMask: number;
  private readonly highMask: number;

  constructor(bits: number, length: number, limbs?: Uint32Array) {
    if (!Number.isInteger(bits) || bits < 8 || bits > 64)
      throw new RangeError('modulus bits must be in [8, 64]');
    if (!Number.isSafeInteger(length) || length < 0) throw new RangeError('vector length must be ≥ 0');
    this.bits = bits;
    this.length = length;
    this.lowMask = bits >= 32 ? 0xffffffff : 2 ** bits - 1;
    this.highMask = bits >= 64 ? 0xffffffff : bits > 32 ? 2 ** (bits - 32) - 1 : 0;
    this.limbs = limbs ?? new Uint32Array(2 * length);
    if (this.limbs.length !== 2 * length) throw new RangeError('limb array has the wrong length');
  }

  /** Signed safe integers reduced mod 2^bits (two's complement). */
  static fromIntegers(bits: number, values: ArrayLike<number>): ModularVector {
    const vector = new ModularVector(bits, values.length);
    for (let i = 0; i < values.length; i++) {
      const value = values[i]!;
      if (!Number.isSafeInteger(value)) throw new RangeError('fromIntegers: values must be safe integers');
      const magnitude = Math.abs(value);
      let low = magnitude % TWO_32;
      let high = (magnitude - low) / TWO_32;
      if (value < 0) {
        // −m = 2^64 − m: complement both limbs and add one, carrying into the high limb.
        low = (~low + 1) >>> 0;
        high = (~high + (low === 0 ? 1 : 0)) >>> 0;
      }
      vector.limbs[2 * i] = (low & vector.lowMask) >>> 0;
      vector.limbs[2 * i + 1] = (high & vector.highMask) >>> 0;
    }
    return vector;
  }

  /**
   * A uniform vector from keystream bytes: 8 bytes per coordinate, little-endian, reduced mod
   * 2^bits (a power of two, so uniform bits stay uniform).
   */
  static fromKeystream(bits: number, length: number, stream: Uint8Array): ModularVector {
    if (stream.length < 8 * length) throw new RangeError('fromKeystream: not enough keystream');
    const vector = new ModularVector(bits, length);
    const words = new Uint32Array(stream.buffer, stream.byteOffset, 2 * length);
    for (let i = 0; i < length; i++) {
      vector.limbs[2 * i] = (words[2 * i]! & vector.lowMask) >>> 0;
      vector.limbs[2 * i + 1] = (words[2 * i + 1]! & vector.highMask) >>> 0;
    }
    return vector;
  }

  /** this += other (mod 2^bits), in place. */
  add(other: ModularVector): this {
    this.checkCompatible(other);
    const a = this.limbs;
    const b = other.limbs;
    for (let i = 0; i < a.length; i += 2) {
      const low = a[i]! + b[i]!;
      const carry = low >= TWO_32 ? 1 : 0;
      a[i] = (low & this.lowMask) >>> 0;
      a[i + 1] = ((a[i + 1]! + b[i + 1]! + carry) & this.highMask) >>> 0;
    }
    return this;
  }

  /** this −= other (mod 2^bits), in place. */
  subtract(other: ModularVector): this {
    this.checkCompatible(other);
    const a = this.limbs;
    const b = other.limbs;
    for (let i = 0; i < a.length; i += 2) {
      const low = a[i]! - b[i]!;
      const borrow = low < 0 ? 1 : 0;
      a[i] = (low & this.lowMask) >>> 0;
      a[i + 1] = ((a[i + 1]! - b[i + 1]! - borrow) & this.highMask) >>> 0;
    }
    return this;
  }

  clone(): ModularVector {
    return new ModularVector(this.bits, this.length, this.limbs.slice());
  }

  /**
   * Each coordinate as the signed integer in [−2^(bits−1), 2^(bits−1)) it represents. Throws when one
   * is beyond ±(2^53 − 1); the callers size `bits` and check bounds so that a decoded sum is exact.
   */
  toSignedIntegers(): number[] {
    const out = new Array<number>(this.length);
    const signBitHigh = this.bits > 32;
    for (let i = 0; i < this.length; i++) {
      let low = this.limbs[2 * i]!;
      let high = this.limbs[2 * i + 1]!;
      const negative = signBitHigh ? high >= 2 ** (this.bits - 33) : low >= 2 ** (this.bits - 1);
      if (!negative) {
        out[i] = high * TWO_32 + low;
      } else if (!signBitHigh) {
        out[i] = low - 2 ** this.bits;
      } else {
        // magnitude = 2^bits − value, limb by limb.
        low = (~low + 1) >>> 0;
        high = ((~high + (low === 0 ? 1 : 0)) & this.highMask) >>> 0;
        out[i] = -(high * TWO_32 + low);
      }
      if (Math.abs(out[i]!) > MAX_SAFE) throw new RangeError('toSignedIntegers: a coordinate exceeds 2^53');
    }
    return out;
  }

  /** Bytes per coordinate on the wire. */
  get coordinateBytes(): number {
    return Math.ceil(this.bits / 8);
  }

  /** ceil(bits/8) little-endian bytes per coordinate. */
  toBytes(): Uint8Array {
    const width = this.coordinateBytes;
    const out = new Uint8Array(width * this.length);
    for (let i = 0; i < this.length; i++) {
      const low = this.limbs[2 * i]!;
      const high = this.limbs[2 * i + 1]!;
      for (let b = 0; b < width; b++) {
        out[i * width + b] = b < 4 ? (low >>> (8 * b)) & 0xff : (high >>> (8 * (b - 4))) & 0xff;
      }
    }
    return out;
  }

  /** The inverse of toBytes; refuses a wrong length or a coordinate outside [0, 2^bits). */
  static fromBytes(bits: number, length: number, bytes: Uint8Array): ModularVector {
    const vector = new ModularVector(bits, length);
    const width = vector.coordinateBytes;
    if (bytes.length !== width * length) throw new FederationFormatError('vector has the wrong length');
    for (let i = 0; i < length; i++) {
      let low = 0;
      let high = 0;
      for (let b = 0; b < width; b++) {
        const byte = bytes[i * width + b]!;
        if (b < 4) low += byte * 2 ** (8 * b);
        else high += byte * 2 ** (8 * (b - 4));
      }
      if (low > vector.lowMask || high > vector.highMask) {
        throw new FederationFormatError('vector coordinate outside the modulus');
      }
      vector.limbs[2 * i] = low;
      vector.limbs[2 * i + 1] = high;
    }
    return vector;
  }

  equals(other: ModularVector): boolean {
    if (other.bits !== this.bits || other.length !== this.length) return false;
    for (let i = 0; i < this.limbs.length; i++) if (this.limbs[i] !== other.limbs[i]) return false;
    return true;
  }

  private checkCompatible(other: ModularVector): void {
    if (other.bits !== this.bits || other.length !== this.length) {
      throw new RangeError('vectors differ in modulus or length');
    }
  }
}
