import { logErfc } from '../normal.ts';
import { logAddExp, logSubExp, logSumExp } from './log-space.ts';

/**
 * Rényi DP of one step of the Poisson-subsampled Gaussian mechanism (each record joins the batch
 * independently with probability q; the summed, L2-clipped gradients get N(0, σ²) noise per unit
 * of clipping norm), under add/remove neighbours.
 *
 * Mironov, Talwar & Zhang 2019, "Rényi Differential Privacy of the Sampled Gaussian Mechanism":
 * ε(α) = log(A_α)/(α − 1) with A_α = E_{z∼μ₀}[(μ(z)/μ₀(z))^α], μ₀ = N(0, σ²),
 * μ = (1 − q)μ₀ + q N(1, σ²): the direction MTZ19, Opacus and dp_accounting evaluate (MTZ19 §3
 * argue it dominates the reverse one). A_α comes from the exact binomial expansion for integer α
 * and from the two convergent series for fractional α (MTZ19 §3), all in log space, as in Opacus
 * (`opacus/accountants/analysis/rdp.py`) and Google's dp_accounting.
 */
export interface SubsampledGaussian {
  /** Sampling probability q ∈ [0, 1]. */
  readonly q: number;
  /** Noise multiplier σ > 0 (noise standard deviation divided by the L2 clipping norm). */
  readonly sigma: number;
}

/**
 * Rényi orders used by the accountant: the fractional grid 1.1…10.9 (step 0.1) where large ε
 * are optimised, every integer 11…64, then a sparse tail to 1024 for very small ε (Opacus stops
 * at 63, dp_accounting at 512; large σ with few steps needs the tail).
 */
export const DEFAULT_RDP_ORDERS: readonly number[] = Object.freeze([
  ...Array.from({ length: 99 }, (_, i) => Math.round((1.1 + i * 0.1) * 10) / 10),
  ...Array.from({ length: 54 }, (_, i) => 11 + i),
  80,
  96,
  128,
  160,
  192,
  256,
  320,
  384,
  512,
  768,
  1024,
]);

/**
 * Past i > α the fractional series alternates in sign with shrinking terms, so stopping once a
 * term is below e^{-30}·A_α leaves an error smaller than that term (relative 1e-13).
 */
const NEGLIGIBLE_LOG_TERM = -30;
const MAX_SERIES_TERMS = 100_000;

/** ε(α) of one step, in nats. q = 1 is the plain Gaussian mechanism, ε(α) = α/(2σ²). */
export function subsampledGaussianRdp(mechanism: SubsampledGaussian, order: number): number {
  const { q, sigma } = mechanism;
  if (q === 0) return 0;
  if (order === Number.POSITIVE_INFINITY) return Number.POSITIVE_INFINITY;
  if (q === 1) return order / (2 * sigma * sigma);
  const logA = Number.isInteger(order)
    ? logAIntegerOrder(q, sigma, order)
    : logAFractionalOrder(q, sigma, order);
  return logA / (order - 1);
}

/** log A_α = log Σ_{k=0}^{α} C(α,k) (1−q)^{α−k} q^k e^{(k²−k)/(2σ²)} (MTZ19 §3, integer α). */
function logAIntegerOrder(q: number, sigma: number, order: number): number {
  const logQ = Math.log(q);
  const logOneMinusQ = Math.log1p(-q);
  const terms = new Float64Array(order + 1);
  let logBinomial = 0;
  for (let k = 0; k <= order; k++) {
    terms[k] = logBinomial + k * logQ + (order - k) * logOneMinusQ + (k * k - k) / (2 * sigma * sigma);
    logBinomial += Math.log(order - k) - Math.log(k + 1);
  }
  return logSumExp(terms);
}

/**
 * log A_α for fractional α: A_α = Σᵢ C(α,i) [q^i (1−q)^{α−i} e^{(i²−i)/2σ²} ½erfc((i−z₀)/√2σ)
 * + q^{α−i} (1−q)^i e^{((α−i)²−(α−i))/2σ²} ½erfc((z₀−(α−i))/√2σ)], z₀ = σ² log(1/q − 1) + ½,
 * (MTZ19 §3). C(α,i) changes sign once i > α, so positive and negative parts are kept apart.
 */
function logAFractionalOrder(q: number, sigma: number, order: number): number {
  const logQ = Math.log(q);
  const logOneMinusQ = Math.log1p(-q);
  const z0 = sigma * sigma * Math.log(1 / q - 1) + 0.5;
  const scale = Math.SQRT2 * sigma;
  let logA0 = Number.NEGATIVE_INFINITY;
  let logA1 = Number.NEGATIVE_INFINITY;
  let logAbsBinomial = 0;
  let binomialPositive = true;
  for (let i = 0; i < MAX_SERIES_TERMS; i++) {
    const j = order - i;
    const logT0 = logAbsBinomial + i * logQ + j * logOneMinusQ;
    const logT1 = logAbsBinomial + j * logQ + i * logOneMinusQ;
    const logS0 = logT0 + (i * i - i) / (2 * sigma * sigma) + Math.log(0.5) + logErfc((i - z0) / scale);
    const logS1 = logT1 + (j * j - j) / (2 * sigma * sigma) + Math.log(0.5) + logErfc((z0 - j) / scale);
    if (binomialPositive) {
      logA0 = logAddExp(logA0, logS0);
      logA1 = logAddExp(logA1, logS1);
    } else {
      logA0 = logSubExp(logA0, logS0);
      logA1 = logSubExp(logA1, logS1);
    }
    const logA = logAddExp(logA0, logA1);
    if (i > order && Math.max(logS0, logS1) < logA + NEGLIGIBLE_LOG_TERM) return logA;
    const factor = order - i;
    logAbsBinomial += Math.log(Math.abs(factor)) - Math.log(i + 1);
    if (factor < 0) binomialPositive = !binomialPositive;
  }
  throw new RangeError(`RDP series did not converge for q=${q}, σ=${sigma}, α=${order}`);
}
