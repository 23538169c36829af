/**
 * How a query's budget for its noisy measurements is split among them, to minimise the error of the
 * aggregates the analyst asked for rather than to give every measurement the same share.
 *
 * Objective. Each aggregate's error is its first-order (delta-method) variance relative to its own
 * size, so a COUNT, a SUM and an AVG weigh alike. In a group of C rows whose values are x:
 *   COUNT        Var(Ĉ)/C²                                          = V_c / C²
 *   SUM          Var(Ŝ)/(C² m₂)                                     = V_s / (C² m₂)
 *   AVG = S/C    Var(Ŝ/Ĉ)/m₂ ≈ (V_s + μ² V_c)/(C² m₂)
 *   VAR = Q/C − (S/C)²
 *                Var/σ⁴ ≈ (V_q + 4μ² V_s + (2μ² − m₂)² V_c)/(C² σ⁴)
 *   STDDEV       a quarter of VAR's (Var(√v) ≈ Var(v)/(4v))
 * with V_i the noise variance of measurement i and μ, m₂, σ² the mean, second moment and variance of
 * x. Those are unknown before the data is read, and the split must not depend on the data: the
 * planning values are those of x uniform on its clamping bounds [lo, hi], μ = (lo + hi)/2,
 * m₂ = (lo² + lo·hi + hi²)/3, σ² = (hi − lo)²/12. C² is common to all terms and drops out, so the
 * objective is Σᵢ αᵢ Vᵢ with αᵢ the sum of the coefficients above.
 *
 * Closed form. Measurement i with sensitivity Δᵢ (in the value's units) and share wᵢ has
 * Vᵢ = cᵢ / wᵢᵖ with cᵢ ∝ Δᵢ²: p = 2 for discrete Laplace under ε (V = 2(Δ/ε)²), p = 1 for the
 * discrete Gaussian under ρ (V = Δ²/(2ρ)). Minimising Σ αᵢ cᵢ / wᵢᵖ subject to Σ wᵢ = W (Lagrange:
 * p αᵢ cᵢ / wᵢᵖ⁺¹ = λ for all i) gives
 *   wᵢ = W · (αᵢ cᵢ)^(1/(p+1)) / Σⱼ (αⱼ cⱼ)^(1/(p+1)),
 * the equal split exactly when every αᵢ cᵢ is the same (a lone COUNT, COUNT(*) with SUM(1)). For AVG
 * alone under Laplace this is w_s/w_c = (Δ_s² / (μ² Δ_c²))^(1/3) = (max(|lo|,|hi|)/|μ|)^(2/3): over
 * [0, 100], 1.59 to 1, and 13% less variance than halves. Every share is positive and the shares sum
 * to W, so the privacy accounting is unchanged: the split only moves budget between releases.
 */
import type { Interval } from './bounds.ts';
import type { Aggregate } from './plan.ts';

/** What the split needs of a measurement: its sensitivity in its units and its value bounds. */
export interface SplitMeasurement {
  /** Δ in the value's units (grid steps × step size): L1 for Laplace, L2 for Gaussian. */
  readonly sensitivity: number;
}

/** The planning moments of a value uniform on [lo, hi]. */
export function planningMoments(bounds: Interval): { mean: number; secondMoment: number; variance: number } {
  const { low, high } = bounds;
  return {
    mean: (low + high) / 2,
    secondMoment: (low * low + low * high + high * high) / 3,
    variance: (high - low) ** 2 / 12,
  };
}

/** αᵢ of the objective above, one per measurement; `bounds[i]` are the clamping bounds of a sum's values. */
export function errorWeights(
  aggregates: readonly Aggregate[],
  bounds: readonly (Interval | undefined)[],
): number[] {
  const weights = new Array<number>(bounds.length).fill(0);
  const add = (index: number, weight: number) => {
    // A planning moment of 0 (bounds [0, 0]: the value is always 0) gives the term no scale; weigh it 1.
    weights[index]! += Number.isFinite(weight) && weight > 0 ? weight : 1;
  };
  for (const aggregate of aggregates) {
    switch (aggregate.kind) {
      case 'count':
        add(aggregate.count, 1);
        break;
      case 'sum': {
        const values = bounds[aggregate.sum];
        add(aggregate.sum, values ? 1 / planningMoments(values).secondMoment : 1);
        break;
      }
      case 'avg': {
        const { mean, secondMoment } = planningMoments(aggregate.bounds);
        add(aggregate.sum, 1 / secondMoment);
        if (mean !== 0) add(aggregate.count, (mean * mean) / secondMoment);
        break;
      }
      case 'variance':
      case 'stddev': {
        const { mean, secondMoment, variance } = planningMoments(aggregate.bounds);
        const scale = (aggregate.kind === 'stddev' ? 4 : 1) * variance * variance;
        add(aggregate.sumOfSquares, 1 / scale);
        if (mean !== 0) add(aggregate.sum, (4 * mean * mean) / scale);
        add(aggregate.count, (2 * mean * mean - secondMoment) ** 2 / scale);
        break;
      }
      case 'quantile':
        break;
    }
  }
  return weights;
}

/**
 * wᵢ = W (αᵢ cᵢ)^(1/(p+1)) / Σⱼ (αⱼ cⱼ)^(1/(p+1)), cᵢ = Δᵢ². A measurement no aggregate weighs
 * (αᵢ = 0) gets the smallest share any other gets, so none is left without budget.
 */
export function optimalShares(
  total: number,
  weights: readonly number[],
  measurements: readonly SplitMeasurement[],
  exponent: 1 | 2,
): number[] {
  const raw = measurements.map(
    (m, i) => (weights[i]! * Math.max(m.sensitivity, Number.MIN_VALUE) ** 2) ** (1 / (exponent + 1)),
  );
  const floor = Math.min(...raw.filter((x) => x > 0 && Number.isFinite(x)), 1);
  const parts = raw.map((x) => (x > 0 && Number.isFinite(x) ? x : floor));
  // Where the equal split is optimal, it is returned exactly as the equal split computes it.
  if (parts.every((x) => x === parts[0])) return parts.map(() => total / parts.length);
  const sum = parts.reduce((a, b) => a + b, 0);
  return parts.map((x) => (total * x) / sum);
}
