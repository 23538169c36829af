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
  /** A bound on Σ over the window of |computed − exact| mass from floating-point rounding (FFT and power). */
  readonly roundOffBound: number;
}

/**
 * Rounding of the FFT route, in the sum of absolute mass errors over the window (W points, N-point
 * FFT, T-fold power, unit roundoff u). Higham 2002 ("Accuracy and Stability of Numerical
 * Algorithms", Thm. 24.2): a radix-2 FFT with accurately computed twiddles has
 * ‖ΔX‖₂ ≤ log₂N·η/(1 − log₂N·η)·‖X‖₂, η = u + γ₄(√2 + u) < 8u. Here ‖X‖₂ = √N‖x‖₂ ≤ √N and every
 * |X_k| ≤ 1 (a characteristic function), so the power X_k^T adds at most T·|ΔX_k| + (πT + 4)u; the
 * inverse transform (÷N) maps this to ‖Δy‖₂ ≤ u·(8·log₂N·(T + 1) + πT + 4) (its own rounding
 * included), and Σ_W |Δy_i| ≤ √W·‖Δy‖₂ (Cauchy–Schwarz). Each point weighs at most 1 in δ.
 */
function roundOffBound(size: number, steps: number, windowPoints: number): number {
  const u = 2 ** -53;
  const log2 = Math.log2(size);
  const eta = 8 * u;
  const transform = (log2 * eta) / (1 - log2 * eta);
  return Math.sqrt(windowPoints) * (transform * (steps + 1) + (Math.PI * steps + 4) * u);
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
    throw new RangeError(`PLD grid needs ${size} points; allow a larger epsilonError`);
  }
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
    infinityMass: -Math.expm1(steps * Math.log1p(-pld.infinityMass)),
    droppedMassBound,
    roundOffBound: roundOffBound(size, steps, composed.length),
  };
}

/** The tightest Chernoff bound on the composed loss in one direction (sign +1: upper, −1: lower). */
function chernoffBound(pld: DiscretePld, steps: number, tailMass: number, sign: 1 | -1): number {
  let best = sign * Number.POSITIVE_INFINITY;
  for (const magnitude of CHERNOFF_EXPONENTS) {
    const lambda = sign * magnitude;
    const bound = (steps * logMomentGenerating(pld, lambda) - Math.log(tailMass)) / lambda;
    best = sign > 0 ? Math.min(best, bound) : Math.max(best, bound);
  }
  return best;
}

/**
 * log Σ_k m_k e^{λ g_k} over the finite masses, shifted by the outermost non-zero mass in the
 * direction of λ so nothing overflows; terms that underflow are below 1e-308 of that mass.
 */
function logMomentGenerating({ masses, firstIndex, step }: DiscretePld, lambda: number): number {
  let shift = lambda > 0 ? masses.length - 1 : 0;
  while (masses[shift] === 0) shift += lambda > 0 ? -1 : 1;
  let sum = 0;
  for (let i = 0; i < masses.length; i++) sum += masses[i]! * Math.exp(lambda * (i - shift) * step);
  return Math.log(sum) + lambda * (firstIndex + shift) * step;
}

function nextPowerOfTwo(n: number): number {
  let size = 1;
  while (size < n) size *= 2;
  return size;
}
