/**
 * In-place iterative radix-2 Cooley–Tukey FFT on split real/imaginary arrays. The PLD accountant
 * uses it to compose a discretised privacy-loss distribution with itself T times (Koskela,
 * Jälkö & Honkela 2020, "Computing Tight Differential Privacy Guarantees Using FFT").
 * Twiddles come from Math.cos/Math.sin per index rather than a recurrence, so rounding error
 * stays O(ε_machine · log N).
 */
export function fft(real: Float64Array, imaginary: Float64Array, inverse = false): void {
  const size = real.length;
  if (imaginary.length !== size || (size & (size - 1)) !== 0) {
    throw new RangeError(`fft needs two arrays of the same power-of-two length, got ${size}`);
  }
  reverseBitOrder(real, imaginary);
  const half = size >>> 1;
  const cosines = new Float64Array(half);
  const sines = new Float64Array(half);
  const sign = inverse ? 1 : -1;
  for (let k = 0; k < half; k++) {
    cosines[k] = Math.cos((2 * Math.PI * k) / size);
    sines[k] = sign * Math.sin((2 * Math.PI * k) / size);
  }
  for (let length = 2; length <= size; length <<= 1) {
    const halfLength = length >>> 1;
    const stride = size / length;
    for (let start = 0; start < size; start += length) {
      for (let k = 0; k < halfLength; k++) {
        const c = cosines[k * stride]!;
        const s = sines[k * stride]!;
        const even = start + k;
        const odd = even + halfLength;
        const oddReal = real[odd]! * c - imaginary[odd]! * s;
        const oddImaginary = real[odd]! * s + imaginary[odd]! * c;
        real[odd] = real[even]! - oddReal;
        imaginary[odd] = imaginary[even]! - oddImaginary;
        real[even] = real[even]! + oddReal;
        imaginary[even] = imaginary[even]! + oddImaginary;
      }
    }
  }
  if (inverse) {
    for (let i = 0; i < size; i++) {
      real[i] = real[i]! / size;
      imaginary[i] = imaginary[i]! / size;
    }
  }
}

function reverseBitOrder(real: Float64Array, imaginary: Float64Array): void {
  const size = real.length;
  for (let i = 1, j = 0; i < size; i++) {
    let bit = size >>> 1;
    for (; j & bit; bit >>>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      const swapReal = real[i]!;
      real[i] = real[j]!;
      real[j] = swapReal;
      const swapImaginary = imaginary[i]!;
      imaginary[i] = imaginary[j]!;
      imaginary[j] = swapImaginary;
    }
  }
}
