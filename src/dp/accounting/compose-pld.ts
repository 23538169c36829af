import type { DiscretePld } from './discrete-pld.ts';
import { fft } from './fft.ts';

/**
 * The T-fold self-composition of a discrete PLD, kept on a window [lo, hi] of the grid.
 * `droppedMassBound` bounds the finite mass of the composed distribution outside the window; the
 * caller adds it to δ, which covers both its absence and the FFT wrapping it into the window
 * (wrapped mass only adds non-negative mass at other points, and each point counts at most 1).
 */
export interface ComposedPld extends DiscretePld {
  readonly droppedMassBound: number;
  /**
   * A bound on ‖computed − exact‖₂ of the window's masses from floating-point rounding (FFT and
   * power). Σ_i w_i·|error_i| for weights w_i ∈ [0, 1] that vanish at losses ≤ 0 is at most
   * √(points with loss > 0)·roundOffBound (Cauchy–Schwarz).
   */
  readonly roundOffBound: number;
}

const U = 2 ** -53;

/**
 * Rounding of the FFT route, as a bound on ‖Δy‖₂ of the composed masses (N-point FFT, T-fold
 * power, unit roundoff u), for a measure x with ‖x‖₁ ≤ M and ‖x‖₂ given. Higham 2002 ("Accuracy and
 * Stability of Numerical Algorithms", Thm. 24.2): a radix-2 FFT whose twiddles are within μ has
 * ‖ΔX‖₂ ≤ c·‖X‖₂, c = log₂N·η/(1 − log₂N·η), η = μ + γ₄(√2 + μ). Our twiddles cos/sin(2πk/N)
 * carry the rounding of 2π·k (≤ 1.35u relative, angle < π) and 1 ulp of cos and sin: μ < 8u, so
 * η < 14u. With ‖X‖₂ = √N‖x‖₂ and |X_k| ≤ M:
 * - the power: |X_k^T − X̂_k^T| ≤ T(M + B)^{T−1}|ΔX_k| with B = c√N‖x‖₂ ≥ every |ΔX_k|, plus the
 *   power's own rounding p per entry (modulus exp(T·log|X|): T·u·(1.5 + 2|log r|) relative; angle
 *   T·atan2: (8 + π)·T·u; cos, sin and products: a few u), with r^T·T·|log r| ≤ 1/e for r ≤ 1;
 * - the inverse transform (÷N exact, N a power of two) maps ‖ΔZ‖₂ to ‖ΔZ‖₂/√N and adds its own
 *   c·‖Z‖₂/√N ≤ c·M^T.
 * So ‖Δy‖₂ ≤ T(M + B)^{T−1}·c·‖x‖₂ + p + c·M^T.
 */
function roundOffBound(size: number, steps: number, totalMass: number, twoNorm: number): number {
  const log2 = Math.log2(size);
  const eta = 14 * U;
  const transform = (log2 * eta) / (1 - log2 * eta);
  const largest = Math.max(1, totalMass);
  const perEntry = transform * Math.sqrt(size) * twoNorm;
  const powerMass = largest ** steps;
  const growth = steps * powerMass * Math.exp((steps - 1) * Math.log1p(perEntry / largest));
  const power =
    U * (powerMass * (17.5 * steps + 5) + 2 * Math.max(1 / Math.E, powerMass * steps * Math.log(largest)));
  return (growth * transform * twoNorm + power + transform * powerMass) * (1 + 1e-6);
}

/** Largest FFT we accept (2²⁴ points, 256 MiB of Float64Array); beyond, ask for a coarser grid. */
const MAX_FFT_SIZE = 2 ** 24;

/** Chernoff exponents tried for the window: λ = ±2^{j/2}, j = −16…22. */
const CHERNOFF_EXPONENTS: readonly number[] = Array.from({ length: 39 }, (_, j) => 2 ** ((j - 16) / 2));

/**
 * Composes by one FFT, a pointwise T-th power and an inverse FFT (Koskela, Jälkö & Honkela 2020).
 * The window comes from the Chernoff bound P(S > hi) ≤ M(λ)^T e^{−λ·hi} (and its mirror for lo),
 * with M the moment generating function of the finite part of one step, so the mass outside it
 * is at most `tailMass` on each side.
 */
export function selfCompose(pld: DiscretePld, steps: number, tailMass: number): ComposedPld {
  const { step, firstIndex, masses } = pld;
  const lastIndex = firstIndex + masses.length - 1;
  const upper = chernoffBound(pld, steps, tailMass, 1);
  const lower = chernoffBound(pld, steps, tailMass, -1);
  const hiIndex = Math.min(steps * lastIndex, Math.ceil(upper / step));
  const loIndex = Math.max(steps * firstIndex, Math.floor(lower / step));
  const droppedMassBound =
    (hiIndex < steps * lastIndex ? tailMass : 0) + (loIndex > steps * firstIndex ? tailMass : 0);

  const size = nextPowerOfTwo(Math.max(masses.length, hiIndex - loIndex + 1));
  if (size > MAX_FFT_SIZE) {
    throw new RangeError(`PLD grid needs ${size} points; allow a coarser step`);
  }
  let squares = 0;
  for (const mass of masses) squares += mass * mass;
  const twoNorm = Math.sqrt(squares * (1 + (masses.length + 2) * U)) * (1 + 2 * U);
  const real = new Float64Array(size);
  const imaginary = new Float64Array(size);
  real.set(masses);
  fft(real, imaginary);
  for (let i = 0; i < size; i++) {
    const logModulus = 0.5 * Math.log(real[i]! * real[i]! + imaginary[i]! * imaginary[i]!);
    const modulus = Math.exp(steps * logModulus);
    const angle = steps * Math.atan2(imaginary[i]!, real[i]!);
    real[i] = modulus * Math.cos(angle);
    imaginary[i] = modulus * Math.sin(angle);
  }
  fft(real, imaginary, true);

  // Output position p holds composed grid index T·firstIndex + p (mod size).
  const composed = new Float64Array(hiIndex - loIndex + 1);
  const offset = steps * firstIndex;
  for (let index = loIndex; index <= hiIndex; index++) {
    const position = (((index - offset) % size) + size) % size;
    composed[index - loIndex] = Math.max(0, real[position]!);
  }
  return {
    step,
    firstIndex: loIndex,
    masses: composed,
    // 1 − (1 − p)^T: the log1p/product/expm1 route is within 8u relative (t/(e^t − 1) ≤ 1).
    infinityMass: -Math.expm1(steps * Math.log1p(-pld.infinityMass)) * (1 + 8 * U),
    totalMass: pld.totalMass ** steps * (1 + 1e-9),
    droppedMassBound,
    roundOffBound: roundOffBound(size, steps, pld.totalMass, twoNorm),
  };
}

/** The tightest Chernoff bound on the composed loss in one direction (sign +1: upper, −1: lower). */
function chernoffBound(pld: DiscretePld, steps: number, tailMass: number, sign: 1 | -1): number {
  let best = sign * Number.POSITIVE_INFINITY;
  for (const magnitude of CHERNOFF_EXPONENTS) {
    const lambda = sign * magnitude;
    const exponent = steps * logMomentGenerating(pld, lambda) - Math.log(tailMass);
    const bound = (exponent + 4 * U * Math.abs(exponent) + 1e-12) / lambda;
    best = sign > 0 ? Math.min(best, bound) : Math.max(best, bound);
  }
  return best;
}

/**
 * An upper bound on log Σ_k m_k e^{λ g_k} over the finite masses, shifted by the outermost non-zero
 * mass in the direction of λ so nothing overflows. Each term's exponent is ≤ 0 and rounds by
 * ≤ 2u·|exponent| (so the term by that much relative), exp adds 1 ulp, the sum n·u: the computed
 * sum is within u·(2·|λ|·span + n + 4) relative, which is added.
 */
function logMomentGenerating({ masses, firstIndex, step }: DiscretePld, lambda: number): number {
  let shift = lambda > 0 ? masses.length - 1 : 0;
  while (masses[shift] === 0) shift += lambda > 0 ? -1 : 1;
  let sum = 0;
  // Only the side of `shift` towards the other end: beyond it every mass is 0 (and e^{…} may be ∞).
  const [from, to] = lambda > 0 ? [0, shift] : [shift, masses.length - 1];
  for (let i = from; i <= to; i++) sum += masses[i]! * Math.exp(lambda * (i - shift) * step);
  const relative = U * (2 * Math.abs(lambda) * masses.length * step + masses.length + 4);
  return Math.log(sum) + Math.log1p(2 * relative) + 2 * U + lambda * (firstIndex + shift) * step;
}

function nextPowerOfTwo(n: number): number {
  let size = 1;
  while (size < n) size *= 2;
  return size;
}
