/** Exact laws of discrete Gaussian noise and of sums of shares on ℤ, for checking bounds. */

/** N_ℤ(0, variance) on [−reach, reach] (the rest is below 1e-300 for the reaches used). */
export function discreteGaussian(variance: number, reach: number): Float64Array {
  const pmf = new Float64Array(2 * reach + 1);
  let total = 0;
  for (let x = -reach; x <= reach; x++) {
    pmf[x + reach] = Math.exp(-(x * x) / (2 * variance));
    total += pmf[x + reach]!;
  }
  return pmf.map((p) => p / total);
}

function convolve(a: Float64Array, b: Float64Array): Float64Array {
  const out = new Float64Array(a.length + b.length - 1);
  for (let i = 0; i < a.length; i++) for (let j = 0; j < b.length; j++) out[i + j]! += a[i]! * b[j]!;
  return out;
}

/** The law of the sum of `parties` i.i.d. N_ℤ(0, variance), centred: index x + reach·parties. */
export function summedShares(variance: number, parties: number, reach: number): Float64Array {
  const share = discreteGaussian(variance, reach);
  let sum = share;
  for (let k = 1; k < parties; k++) sum = convolve(sum, share);
  return sum;
}
