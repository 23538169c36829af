/**
 * The mechanisms as a query or a training step runs them, each on a pair of neighbouring inputs
 * (D′ = D plus one person), with the (ε, δ) the DP core claims for them; and one deliberately
 * broken mechanism (half the noise it claims) that the auditor must catch.
 */

import { zcdpToEpsilon } from '../../src/dp/accounting/index.ts';
import { analyticGaussianDelta, laplaceScaleForEpsilon } from '../../src/dp/calibration.ts';
import { discreteGaussian } from '../../src/dp/discrete-gaussian.ts';
import { discreteLaplace } from '../../src/dp/discrete-laplace.ts';
import { optimalPartitionSelector } from '../../src/dp/optimal-partition-selection.ts';
import type { RandomSource } from '../../src/dp/random.ts';
import { rational } from '../../src/dp/rational.ts';
import { weightedGaussianSelector } from '../../src/dp/weighted-gaussian-selection.ts';
import { selectQuantileEdge } from '../../src/sql/quantile.ts';
import { createNoisyGradientSum } from '../../src/train/noisy-gradient-sum.ts';
import type { AuditTarget } from './auditor.ts';

const EPSILON = 1;

/** COUNT(*): one person adds one row (L1 sensitivity 1). */
export function countTarget(): AuditTarget {
  const scale = laplaceScaleForEpsilon({ epsilon: EPSILON, sensitivity: 1 });
  const epsilon = discreteLaplace({ scale }).loss(1).epsilon;
  return {
    name: 'COUNT (discrete Laplace)',
    epsilon,
    delta: 0,
    run: (neighbour, random) => discreteLaplace({ scale, random }).release(neighbour ? 101 : 100),
  };
}

/** COUNT with Gaussian noise: the discrete Gaussian at σ = 1, claimed by CKS20 Thm. 7 at ε = 1. */
export function gaussianCountTarget(): AuditTarget {
  const claim = discreteGaussian({ sigma: 1 }).approxLoss({ sensitivity: 1, epsilon: 1 });
  return {
    name: 'COUNT (discrete Gaussian, σ = 1)',
    epsilon: claim.epsilon,
    delta: claim.delta,
    run: (neighbour, random) => discreteGaussian({ sigma: 1, random }).release(neighbour ? 101 : 100),
  };
}

/** SUM on the grid: values clamped to [0, 100], granularity 0.5; the person adds 100. */
export function gridSumTarget(): AuditTarget {
  const granularity = 0.5;
  const scale = laplaceScaleForEpsilon({ epsilon: EPSILON, sensitivity: 100 / granularity });
  const epsilon = discreteLaplace({ scale }).onGrid(granularity).loss(100).epsilon;
  return {
    name: 'SUM on a grid (discrete Laplace, g = 0.5)',
    epsilon,
    delta: 0,
    run: (neighbour, random) =>
      discreteLaplace({ scale, random })
        .onGrid(granularity)
        .release(neighbour ? 1137.3 : 1037.3),
  };
}

/** AVG = noisy sum / noisy count, each at ε/2; the person adds the value 100 and one row. */
export function averageTarget(): AuditTarget {
  const sumScale = laplaceScaleForEpsilon({ epsilon: EPSILON / 2, sensitivity: 100 });
  const countScale = laplaceScaleForEpsilon({ epsilon: EPSILON / 2, sensitivity: 1 });
  const epsilon =
    discreteLaplace({ scale: sumScale }).loss(100).epsilon +
    discreteLaplace({ scale: countScale }).loss(1).epsilon;
  return {
    name: 'AVG (noisy sum / noisy count)',
    epsilon,
    delta: 0,
    run: (neighbour, random) => {
      const sum = discreteLaplace({ scale: sumScale, random }).release(neighbour ? 1100 : 1000);
      const count = discreteLaplace({ scale: countScale, random }).release(neighbour ? 21 : 20);
      return sum / Math.max(1, count);
    },
  };
}

/** The median by permute-and-flip over 8 buckets; the person adds one value to bucket 5. */
export function quantileTarget(): AuditTarget {
  const epsilon = rational(1, 1);
  return {
    name: 'median (permute-and-flip)',
    epsilon: 1,
    delta: 0,
    run: (neighbour, random) =>
      selectQuantileEdge({
        counts: neighbour ? [2, 2, 2, 2, 2, 3, 2, 2] : [2, 2, 2, 2, 2, 2, 2, 2],
        percentile: { numerator: 1, denominator: 2 },
        epsilon,
        utilitySensitivity: 1,
        random,
      }),
  };
}

/** Partition selection: a group only the person is in is released (1) or not (0). */
export function partitionSelectionTarget(): AuditTarget {
  const scale = laplaceScaleForEpsilon({ epsilon: EPSILON, sensitivity: 1 });
  const selector = discreteLaplace({ scale }).partitionSelector({ delta: 0.02, maxGroupsPerUnit: 1 });
  return {
    name: 'partition selection (a group of one person)',
    epsilon: (selector.countLoss as { epsilon: number }).epsilon,
    delta: selector.delta,
    run: (neighbour, random) => {
      if (!neighbour) return 0;
      const released = discreteLaplace({ scale, random })
        .partitionSelector({ delta: 0.02, maxGroupsPerUnit: 1 })
        .release(1);
      return released === undefined ? 0 : 1;
    },
  };
}

/**
 * The optimal keep function (Desfontaines et al. 2022): a group of n − 1 or n persons, at the n
 * where π first reaches 1/2, where both of its (ε, δ) inequalities are tight.
 */
export function optimalSelectionTarget(): AuditTarget {
  const options = { epsilon: EPSILON, delta: 0.02, maxGroupsPerUnit: 1 };
  const n = optimalPartitionSelector(options).medianCount;
  return {
    name: `optimal partition selection (a group of ${n - 1} or ${n} persons)`,
    epsilon: EPSILON,
    delta: options.delta,
    run: (neighbour, random) =>
      optimalPartitionSelector({ ...options, random }).keep(neighbour ? n : n - 1) ? 1 : 0,
  };
}

/**
 * The weighted Gaussian selection (Gopi et al. 2020) on a grid of 4 steps per unit, σ = 2 units: the
 * added person is in two groups, one shared (the others' weight just below the threshold) and one
 * theirs alone; the output is which of the two are kept. Claimed: the shared part's ρ converted at
 * δ_c = 0.01, plus δ_B for the group only they are in.
 */
export function weightedSelectionTarget(): AuditTarget {
  const options = { delta: 0.02, maxGroupsPerUnit: 2, grid: 4 };
  const sigmaSquared = rational(64, 1);
  const selector = weightedGaussianSelector(discreteGaussian({ sigmaSquared }), options);
  const [shared, weight] = [selector.threshold - 2, selector.weights[1]!];
  const conversionDelta = 0.01;
  const rho = selector.loss.rho;
  let built: { random: RandomSource; noisy: typeof selector } | undefined;
  return {
    name: 'weighted Gaussian partition selection (two groups, one shared)',
    epsilon: zcdpToEpsilon(rho, conversionDelta),
    delta: conversionDelta + selector.delta,
    run: (neighbour, random) => {
      // One selector per random source (building one searches for T).
      if (built?.random !== random) {
        built = {
          random,
          noisy: weightedGaussianSelector(discreteGaussian({ sigmaSquared, random }), options),
        };
      }
      const { noisy } = built;
      if (!neighbour) return noisy.release(shared) ? 2 : 0;
      return (noisy.release(shared + weight) ? 2 : 0) + (noisy.release(weight) ? 1 : 0);
    },
  };
}

/**
 * One DP-SGD noisy gradient sum (no subsampling) on the grid; the added person has 50 rows whose
 * gradients sum far past the clip norm. Claimed: the Gaussian mechanism with σ = 1, Δ = 1 at ε = 2
 * (Balle & Wang 2018 Thm. 8 for δ).
 */
export function dpSgdStepTarget(): AuditTarget {
  const noiseMultiplier = 1;
  const epsilon = 2;
  return {
    name: 'DP-SGD noisy gradient step (a person of 50 rows)',
    epsilon,
    delta: analyticGaussianDelta({ sigma: noiseMultiplier, epsilon, sensitivity: 1 }),
    run: (neighbour, random) => {
      const step = createNoisyGradientSum({ dimension: 2, clipNorm: 1, noiseMultiplier, random });
      step.addPerson(Float64Array.from([0.3, -0.2]));
      step.addPerson(Float64Array.from([-0.1, 0.4]));
      if (neighbour) {
        const rows = Array.from({ length: 50 }, () => Float64Array.from([1, 0]));
        const total = rows.reduce((sum, row) => sum.map((x, j) => x + row[j]!), new Float64Array(2));
        step.addPerson(total);
      }
      const output = new Float64Array(2);
      step.release(output);
      return output[0]!;
    },
  };
}

/** BROKEN on purpose: claims the ε of scale t but adds noise of scale t/2 (true ε is twice the claim). */
export function halfNoiseTarget(): AuditTarget {
  const scale = laplaceScaleForEpsilon({ epsilon: EPSILON, sensitivity: 1 });
  return {
    name: 'BROKEN: COUNT with half the noise',
    epsilon: discreteLaplace({ scale }).loss(1).epsilon,
    delta: 0,
    run: (neighbour, random: RandomSource) =>
      discreteLaplace({ scale: scale / 2, random }).release(neighbour ? 101 : 100),
  };
}

export const SOUND_TARGETS = [
  countTarget,
  gaussianCountTarget,
  gridSumTarget,
  averageTarget,
  quantileTarget,
  partitionSelectionTarget,
  optimalSelectionTarget,
  weightedSelectionTarget,
  dpSgdStepTarget,
];
