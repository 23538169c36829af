/**
 * Release of real values on the grid g·ℤ (Mironov 2012's fix; Google's "granularity" in "Secure Noise
 * Generation"): the true value is rounded to the nearest grid step, integer noise is added in steps,
 * and the result is scaled back, so the noise never meets floating point.
 *
 * Rounding is exact: x and g are doubles, i.e. dyadic rationals, and round(x/g) (halves up, like
 * Math.round) is computed from their exact values in BigInt, so it is a well-defined function of x
 * whatever g is. Prefer g = 2^k (1, 0.5, 1/1024, …): the output k·g is then an exact grid point;
 * for another g (a policy's 0.01) the output is the double nearest k·g, a function of the released
 * integer k only (post-processing).
 *
 * Rounding sensitivity. round(x) = ⌊x + 1/2⌋, and ⌊a⌋ − ⌊b⌋ is an integer < a − b + 1, so
 * |round(u) − round(u')| ≤ ⌈|u − u'|⌉ (in steps: u = x/g). If at most k cells change between
 * neighbours, by d_1 … d_k steps with Σ d_i ≤ D = Δ/g, the L1 change is Σ ⌈d_i⌉ < D + k, an integer,
 * so at most ⌈D⌉ + k − 1 (0 when Δ = 0); this is tight (one cell just under ⌈D⌉, the others just
 * above 0). The L2 change is at most ‖d + 1‖₂ ≤ D + √k, and at most the L1 change. So
 *  - L1: ⌈Δ/g⌉ + k − 1 (discrete Laplace),   - L2: min(Δ/g + √k, ⌈Δ/g⌉ + k − 1) (discrete Gaussian);
 * a single cell moves by ⌈Δ/g⌉ steps, not ⌊Δ/g⌋ + 1 (one step less when Δ/g is a whole number).
 * ⌈Δ/g⌉ is computed from the exact values of both doubles; Δ/g in the L2 bound is rounded up past
 * float error. `loss` applies this, so callers pass the real Δ.
 */
import type { NoiseInterval } from './accuracy.ts';
import type { MechanismCore, NoiseMechanism } from './mechanism.ts';
import type { PrivacyLoss } from './privacy-loss.ts';
import { roundedUp } from './rational.ts';

export interface GridMechanism<Loss extends PrivacyLoss> {
  readonly granularity: number;
  /** The loss for real sensitivity Δ with at most `maxChangedCells` cells differing (default 1). */
  loss(sensitivity: number, maxChangedCells?: number): Loss;
  release(value: number): number;
  releaseVector(values: readonly number[]): number[];
  /** |released − true| ≤ halfWidth (noise steps · g plus g/2 of rounding) with probability ≥ coverage. */
  interval(confidence: number): NoiseInterval;
}

export interface GridParts<Loss extends PrivacyLoss> {
  readonly core: MechanismCore<Loss>;
  readonly integerMechanism: NoiseMechanism<Loss>;
  /** Integer steps → noisy integer steps (clamped as in `release`). */
  readonly addNoise: (steps: number) => number;
  readonly granularity: number;
}

export function gridMechanism<Loss extends PrivacyLoss>(parts: GridParts<Loss>): GridMechanism<Loss> {
  const { core, integerMechanism, addNoise, granularity } = parts;
  if (!(Number.isFinite(granularity) && granularity > 0))
    throw new RangeError('granularity must be positive');
  const release = (value: number): number => addNoise(nearestStep(value, granularity)) * granularity;
  return {
    granularity,
    loss: (sensitivity, maxChangedCells = 1) => {
      if (!(Number.isFinite(sensitivity) && sensitivity >= 0))
        throw new RangeError('sensitivity must be ≥ 0');
      if (!Number.isInteger(maxChangedCells) || maxChangedCells < 1) {
        throw new RangeError('maxChangedCells must be a positive integer');
      }
      const ceiling = ceilingRatio(sensitivity, granularity);
      const l1Steps = ceiling === 0 ? 0 : ceiling + maxChangedCells - 1;
      return integerMechanism.loss(
        core.gridSteps(l1Steps, roundedUp(sensitivity / granularity), maxChangedCells),
      );
    },
    release,
    releaseVector: (values) => values.map(release),
    interval: (confidence) => {
      const steps = integerMechanism.interval(confidence);
      return { halfWidth: (steps.halfWidth + 0.5) * granularity, coverage: steps.coverage };
    },
  };
}

const STEP_LIMIT = 2n ** 52n;

/** round(value/granularity), halves up, from the exact values of both doubles; clamped to ±2^52. */
export function nearestStep(value: number, granularity: number): number {
  if (!Number.isFinite(value)) throw new TypeError('release: the value must be finite');
  const x = exactDyadic(value);
  const g = exactDyadic(granularity);
  // value/granularity = numerator/denominator with denominator > 0.
  const shift = x.exponent - g.exponent;
  const numerator = shift >= 0 ? x.mantissa << BigInt(shift) : x.mantissa;
  const denominator = shift >= 0 ? g.mantissa : g.mantissa << BigInt(-shift);
  // floor(v + 1/2) = floor((2n + d) / 2d); BigInt division truncates, so correct negative quotients.
  const top = 2n * numerator + denominator;
  const bottom = 2n * denominator;
  let step = top / bottom;
  if (top < 0n && step * bottom !== top) step -= 1n;
  if (step > STEP_LIMIT) step = STEP_LIMIT;
  if (step < -STEP_LIMIT) step = -STEP_LIMIT;
  return Number(step);
}

/** ⌈a/b⌉ for finite doubles a ≥ 0 and b > 0, from their exact values. */
function ceilingRatio(a: number, b: number): number {
  const x = exactDyadic(a);
  const y = exactDyadic(b);
  const shift = x.exponent - y.exponent;
  const numerator = shift >= 0 ? x.mantissa << BigInt(shift) : x.mantissa;
  const denominator = shift >= 0 ? y.mantissa : y.mantissa << BigInt(-shift);
  return Number((numerator + denominator - 1n) / denominator);
}

/** A finite double as mantissa·2^exponent with an integer (signed) mantissa, exactly. */
function exactDyadic(x: number): { mantissa: bigint; exponent: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const negative = bits >> 63n === 1n;
  const biasedExponent = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  const magnitude = biasedExponent === 0 ? fraction : fraction | (1n << 52n);
  const exponent = biasedExponent === 0 ? -1074 : biasedExponent - 1075;
  return { mantissa: negative ? -magnitude : magnitude, exponent };
}
