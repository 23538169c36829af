/**
 * From the measurements a query needs and the analyst's (ε, δ) to calibrated mechanisms and the
 * cost the ledger charges.
 *
 * Sensitivities (add/remove one person). After the rewrite's contribution bounding a person has
 * rows in at most k groups (L0, `max_groups_per_unit`) and at most r rows in each (L∞, the product
 * of `max_rows_per_unit` over the private tables joined). Every summed value is clamped to [lo, hi]
 * and counted in grid steps, so one person moves one group's
 *  - row count by ≤ r;  - distinct-person count by ≤ 1;
 *  - sum by ≤ r·max(|lo|, |hi|) steps (not hi − lo: removing a person removes their values, it does
 *    not replace them); - sum of squares by ≤ r·max(lo², hi²) (in its own, coarser steps);
 * and, over the k groups, the vector of one measurement by k·(that) in L1 and √k·(that) in L2.
 *
 * Split. The n releases (each measurement, each quantile, and the noisy person counts of partition
 * selection when groups are thresholded, unless COUNT(DISTINCT person) is asked: then its noisy
 * value serves selection too) have n equal shares of the budget W (ε, or ρ under gaussian); the
 * measurements pool theirs and re-split them to minimise the error of the analyst's aggregates
 * (split.ts, closed form there):
 *  - laplace: release i gets ε_i of pure DP (discrete Laplace with t = Δ1/ε_i); the total is the sum
 *    of the losses the mechanisms report (≤ ε); partition selection adds its (ε_sel, δ_sel ≤ δ).
 *  - gaussian: the ρ of the request is zcdpBudget(ε, δ′) (the largest ρ whose tight (ε, δ′)
 *    conversion fits), with δ′ = δ, or δ/2 when half of δ goes to partition selection; release i
 *    gets ρ_i (discrete Gaussian with σ = Δ2/√(2ρ_i)). The charge records ρ and selection's part.
 *  - partition selection then takes what the measurements leave of (ε, δ), in the form that keeps
 *    groups of the fewest persons (`chooseSelection`); the measurements' noise does not change.
 *  - a quantile is pure ε-DP per group (permute-and-flip); under gaussian its share ρ/n buys
 *    ε = √(2ρ/(n·k)) per group, since ε-DP is ε²/2-zCDP (Bun & Steinke 2016, Prop. 1.4).
 * Each share is shaved by 2^-20 so float rounding in calibration never pushes the total over.
 */
import { zcdpBudget, zcdpToEpsilon } from '../dp/accounting/index.ts';
import {
  discreteGaussianVarianceForApproxDp,
  gaussianSigmaForRho,
  laplaceScaleForEpsilon,
} from '../dp/calibration.ts';
import { type DiscreteGaussian, discreteGaussian } from '../dp/discrete-gaussian.ts';
import { discreteLaplace } from '../dp/discrete-laplace.ts';
import {
  optimalMedianCountAtLeast,
  optimalPartitionSelector,
  optimalSelectionFits,
} from '../dp/optimal-partition-selection.ts';
import type { PrivacyLoss } from '../dp/privacy-loss.ts';
import { type Rational, rational, rationalValue } from '../dp/rational.ts';
import {
  MAX_WEIGHTED_GROUPS,
  SELECTION_GRID,
  weightedGaussianSelector,
} from '../dp/weighted-gaussian-selection.ts';
import { Recent } from '../util/recent.ts';
import type { MeasurementDraft, QuantileDraft, ValueTransform } from './analyze/aggregates.ts';
import { type Interval, magnitude, square } from './bounds.ts';
import { noiseScale, type SqlMechanism, specOf } from './noise.ts';
import type {
  Aggregate,
  Measurement,
  MechanismName,
  OptimalSelection,
  QuantileMeasurement,
  QueryCost,
  Sensitivity,
  WeightedSelection,
} from './plan.ts';
import { refuse } from './refusal.ts';
import { errorWeights, optimalShares } from './split.ts';

export interface CostRequest {
  readonly mechanism: MechanismName;
  readonly epsilon: number;
  readonly delta: number;
  readonly measurements: readonly MeasurementDraft[];
  readonly quantiles: readonly QuantileDraft[];
  /** The analyst's aggregates over the measurements: what the budget split minimises the error of. */
  readonly aggregates: readonly Aggregate[];
  readonly maxRowsPerGroup: number;
  readonly maxGroupsPerUnit: number;
  /** L1: rows per person in all groups together, when below maxGroupsPerUnit × maxRowsPerGroup. */
  readonly maxRowsInTotal?: number;
  /** Groups without a public domain: partition selection needs δ. */
  readonly thresholded: boolean;
  /** How the ledger composes charges: a `basic` one can take an exact (ε, δ) Gaussian calibration. */
  readonly accounting: 'basic' | 'zcdp' | 'rdp';
}

export interface Costed {
  readonly measurements: Measurement[];
  readonly quantiles: QuantileMeasurement[];
  readonly selection: CostedSelection | undefined;
  readonly cost: QueryCost;
}

/** How thresholded groups are chosen (docs/sql.md §7 and docs/privacy.md, "Partition selection"). */
export type CostedSelection =
  | {
      /** A noisy distinct-person count against a threshold (Laplace or Gaussian thresholding). */
      readonly kind: 'threshold';
      readonly mechanism: SqlMechanism;
      readonly delta: number;
      readonly threshold: number;
      /** The loss of the noisy counts (not charged again when they are a measurement's). */
      readonly loss: PrivacyLoss;
      /** The COUNT(DISTINCT person) measurement whose noisy value selection reads, if any. */
      readonly measurement: number | undefined;
    }
  /** The optimal keep function of Desfontaines et al. 2022 (optimal-partition-selection.ts). */
  | OptimalSelection
  /** The weighted Gaussian of Gopi et al. 2020, for k > 1 (weighted-gaussian-selection.ts). */
  | WeightedSelection;

const SHAVE = 1 - 2 ** -20;

type StepsTransform = Extract<ValueTransform, { kind: 'steps' }>;

export function costQuery(request: CostRequest): Costed {
  const { mechanism, epsilon, delta, maxRowsPerGroup: r, maxGroupsPerUnit: k } = request;
  if (request.thresholded && !(delta > 0)) {
    refuse(
      'delta_required',
      'grouping by a column without a public domain needs delta > 0 for partition selection',
    );
  }
  if (mechanism === 'gaussian' && !(delta > 0)) refuse('delta_required', 'Gaussian noise needs delta > 0');
  // The noisy distinct-person counts of partition selection are COUNT(DISTINCT person) per group:
  // when the analyst asks for that too, one release serves both (its noisy value is what selection
  // compares with the threshold), and the budget of a second one goes back to the others.
  const reused = request.thresholded ? request.measurements.findIndex((m) => m.kind === 'units') : -1;
  const releases =
    request.measurements.length + request.quantiles.length + (request.thresholded && reused < 0 ? 1 : 0);
  const selectionDelta = request.thresholded ? (mechanism === 'gaussian' ? delta / 2 : delta) : 0;
  const conversionDelta = delta - selectionDelta;
  const rho = mechanism === 'gaussian' ? zcdpBudget(epsilon, conversionDelta) : 0;
  const equalShare = (mechanism === 'gaussian' ? rho : epsilon) / releases;
  const share = equalShare * SHAVE;

  const calibrate = (sensitivity: Sensitivity, budget: number): SqlMechanism =>
    withinRange(() =>
      mechanism === 'laplace'
        ? discreteLaplace({
            scale: laplaceScaleForEpsilon({ epsilon: budget, sensitivity: Math.max(sensitivity.l1, 1) }),
          })
        : discreteGaussian({
            sigma: gaussianSigmaForRho({ rho: budget, sensitivity: Math.max(sensitivity.l2, 1) }),
          }),
    );

  // The measurements' equal shares, pooled and re-split to minimise the aggregates' error (split.ts).
  const sensitivities = request.measurements.map((draft) =>
    rowCapped(draft) && request.maxRowsInTotal !== undefined
      ? spreadWithTotal(perGroupSensitivity(draft, r), k, r, request.maxRowsInTotal)
      : spread(perGroupSensitivity(draft, r), k),
  );
  const shares = optimalShares(
    equalShare * request.measurements.length,
    errorWeights(
      request.aggregates,
      request.measurements.map((d) => (d.kind === 'sum' ? d.value.transform.bounds : undefined)),
    ),
    request.measurements.map((draft, i) => ({
      sensitivity:
        Math.max(mechanism === 'laplace' ? sensitivities[i]!.l1 : sensitivities[i]!.l2, 1) * stepOf(draft),
    })),
    mechanism === 'laplace' ? 2 : 1,
  );
  const mechanisms = request.measurements.map((_, i) => calibrate(sensitivities[i]!, shares[i]! * SHAVE));

  const measurements = request.measurements.map((draft, i): Measurement => {
    const sensitivity = sensitivities[i]!;
    const noise = mechanisms[i]!;
    const loss = noise.loss(mechanism === 'laplace' ? sensitivity.l1 : sensitivity.l2);
    const common = { column: draft.column, sensitivity, noise: specOf(noise), loss };
    return draft.kind === 'sum' || draft.kind === 'sum_of_squares'
      ? { kind: draft.kind, granularity: draft.value.transform.granularity, ...common }
      : { kind: draft.kind, ...common };
  });

  const quantiles = request.quantiles.map((draft): QuantileMeasurement => {
    const { numerator: a, denominator: c } = draft.percentile;
    const perGroupEpsilon = mechanism === 'laplace' ? share / k : Math.sqrt((2 * share) / k);
    const epsilonPerGroup = rationalAtMost(perGroupEpsilon);
    const exact = rationalValue(epsilonPerGroup);
    const loss: PrivacyLoss =
      mechanism === 'laplace'
        ? { kind: 'pure', epsilon: k * exact }
        : { kind: 'zcdp', rho: (k * exact * exact) / 2 };
    return {
      columns: draft.columns,
      bounds: draft.value.transform.bounds,
      percentile: draft.percentile,
      epsilonPerGroup,
      utilitySensitivity: r * Math.max(a, c - a),
      loss,
    };
  });

  const chosen = request.thresholded
    ? chooseSelection({
        mechanism,
        epsilon,
        delta,
        maxGroupsPerUnit: k,
        // What the measurements and quantiles may spend (each of their shares is shaved below this).
        measuredBudget: equalShare * (releases - (reused >= 0 ? 0 : 1)),
        baseline: (() => {
          const counts = reused >= 0 ? mechanisms[reused]! : calibrate(spread(1, k), share);
          return thresholdCandidate(counts, selectionDelta, k, conversionDelta, reused);
        })(),
        counts: (budget) => {
          try {
            return discreteGaussian({
              sigma: gaussianSigmaForRho({ rho: budget, sensitivity: Math.sqrt(k) }),
            });
          } catch (error) {
            if (error instanceof RangeError) return undefined;
            throw error;
          }
        },
      })
    : undefined;

  const exact = exactSingleGaussian(request, measurements);
  if (exact) return exact;

  const selection = chosen?.selection;
  const losses = [
    ...measurements.map((m) => m.loss),
    ...quantiles.map((q) => q.loss),
    // A reused count is paid for once, as the measurement; the optimal selection is charged apart,
    // and so is the weighted one under laplace (its ρ converted, in its epsilon and delta).
    ...((selection?.kind === 'threshold' && selection.measurement === undefined) ||
    (selection?.kind === 'weighted_gaussian' && mechanism === 'gaussian')
      ? [selection.loss]
      : []),
  ];
  return {
    measurements,
    quantiles,
    selection,
    cost: totalCost(mechanism, losses, selection, chosen?.conversionDelta ?? conversionDelta),
  };
}

interface Candidate {
  readonly selection: CostedSelection;
  /** The δ at which the query's ρ converts to ε (gaussian). */
  readonly conversionDelta: number;
  /** The least count kept with probability ≥ 1/2: the figure candidates are compared by. */
  readonly medianCount: number;
}

function thresholdCandidate(
  counts: SqlMechanism,
  delta: number,
  k: number,
  conversionDelta: number,
  reused: number,
): Candidate {
  const selector = counts.partitionSelector({ delta, maxGroupsPerUnit: k });
  return {
    selection: {
      kind: 'threshold',
      mechanism: counts,
      delta: selector.delta,
      threshold: selector.threshold,
      loss: selector.countLoss,
      measurement: reused >= 0 ? reused : undefined,
    },
    conversionDelta,
    // The noise is symmetric with P(Z ≥ 0) > 1/2, so a count at the threshold is kept more often than not.
    medianCount: selector.threshold,
  };
}

function optimalCandidate(
  epsilon: number,
  delta: number,
  k: number,
  conversionDelta: number,
): Candidate | undefined {
  const options = { epsilon, delta, maxGroupsPerUnit: k };
  if (!(epsilon > 0) || !optimalSelectionFits(options)) return undefined;
  const selector = optimalPartitionSelector(options);
  return {
    selection: { kind: 'optimal', epsilon, delta, medianCount: selector.medianCount, loss: selector.loss },
    conversionDelta,
    medianCount: selector.medianCount,
  };
}

/**
 * The weighted Gaussian selection (Gopi et al. 2020) with ρ for its noisy weights and δ for the groups
 * only the added person is in. Under gaussian its ρ joins the measurements' (converted at δ_c with
 * them); under laplace it is converted alone, at δ_c, into the (ε_sel, δ_c + δ_B) part it is charged.
 * Offered for k > 1 only: at k = 1 it is Gaussian thresholding on a finer grid.
 */
function weightedCandidate(options: {
  readonly mechanism: MechanismName;
  readonly rho: number;
  readonly delta: number;
  readonly maxGroupsPerUnit: number;
  readonly conversionDelta: number;
}): Candidate | undefined {
  const { rho, delta, maxGroupsPerUnit: k, conversionDelta } = options;
  if (!(rho > 0) || k < 2 || k > MAX_WEIGHTED_GROUPS) return undefined;
  let noise: DiscreteGaussian;
  try {
    noise = discreteGaussian({ sigma: gaussianSigmaForRho({ rho, sensitivity: SELECTION_GRID }) });
  } catch (error) {
    if (error instanceof RangeError) return undefined;
    throw error;
  }
  const selector = weightedGaussianSelector(noise, { delta, maxGroupsPerUnit: k });
  const alone = options.mechanism === 'laplace';
  return {
    selection: {
      kind: 'weighted_gaussian',
      noise: specOf(noise),
      grid: selector.grid,
      weights: selector.weights,
      threshold: selector.threshold,
      selectionDelta: selector.delta,
      loss: selector.loss,
      epsilon: alone ? zcdpToEpsilon(selector.loss.rho, conversionDelta) : 0,
      delta: selector.delta + (alone ? conversionDelta : 0),
      medianCounts: selector.medianCounts,
    },
    conversionDelta: alone ? 0 : conversionDelta,
    // Persons' group counts are unknown to the planner: each j = 1 … k counts alike.
    medianCount: selector.medianCounts.reduce((sum, n) => sum + n, 0) / k,
  };
}

/**
 * The shares of δ a query may give the conversion of ρ to ε (its measurements' under gaussian, the
 * weighted selection's under laplace); the rest goes to selection. A larger share is what helps
 * thresholding (ρ grows with ln(1/δ_c) while the threshold grows with ln(1/δ_sel) only through √ρ).
 */
const CONVERSION_SHARES = [0.5, 0.75, 0.9];

/**
 * Partition selection that keeps every measurement's noise as it is and keeps groups of as few
 * persons as possible (the least count kept with probability ≥ 1/2; for the weighted selection, the
 * mean over j = 1 … k of that count for a group whose persons are each in j groups), among mechanisms
 * that are each (ε, δ)-correct with the measurements' budget fixed. The choice reads the query and
 * the policy only, never the data.
 *  - A COUNT(DISTINCT person) the analyst asked for is thresholded (its noisy value is released
 *    anyway, so selection costs only δ).
 *  - laplace: the optimal keep function (Desfontaines et al. 2022) with the share thresholding had
 *    (ε/n and δ); it keeps more than thresholding at the same (ε, δ) at every count. For k > 1 also
 *    the weighted Gaussian with the ρ that share converts to at δ_c, for each split of δ.
 *  - gaussian: the ρ of the measurements is fixed; each split of δ into δ_c (converting ρ) and
 *    δ − δ_c (selection) buys Gaussian thresholding or (k > 1) the weighted Gaussian with
 *    ρ_sel = zcdpBudget(ε, δ_c) − ρ_meas, or the optimal keep function with
 *    ε_sel = ε − zcdpToEpsilon(ρ_meas, δ_c). The equal split of δ with Gaussian thresholding is the
 *    starting point, so the choice is never worse than it.
 * The candidates depend on (mechanism, ε, δ, k, the measurements' budget) only, so the search runs
 * once per such tuple (`searched`); its tens of zCDP conversions and keep tables then cost nothing.
 */
function chooseSelection(options: {
  readonly mechanism: MechanismName;
  readonly epsilon: number;
  readonly delta: number;
  readonly maxGroupsPerUnit: number;
  readonly measuredBudget: number;
  readonly baseline: Candidate;
  /** Gaussian distinct-person counts for a ρ, if that ρ can be sampled. */
  readonly counts: (budget: number) => SqlMechanism | undefined;
}): Candidate {
  const { mechanism, epsilon, delta, maxGroupsPerUnit: k, measuredBudget, baseline } = options;
  if (baseline.selection.kind === 'threshold' && baseline.selection.measurement !== undefined)
    return baseline;
  // The baseline is a function of the rest of the key (its share is the measurements' equal share).
  const key = `${mechanism}|${epsilon}|${delta}|${k}|${measuredBudget}|${baseline.medianCount}`;
  const found = searched.get(key);
  if (found) return found;
  const best = searchSelection(options);
  searched.set(key, best);
  return best;
}

/** Searches already run: a planner sees few distinct (ε, δ, k) in practice. */
const searched = new Recent<Candidate>(256);

function searchSelection(options: Parameters<typeof chooseSelection>[0]): Candidate {
  const { mechanism, epsilon, delta, maxGroupsPerUnit: k, measuredBudget } = options;
  let best = options.baseline;
  const consider = (candidate: Candidate | undefined) => {
    if (candidate && candidate.medianCount < best.medianCount) best = candidate;
  };
  // Optimal keep functions last: a table (BigInt, ~2 µs a count) is built only when the closed-form
  // lower bound on its median count says it could beat the best so far.
  const optimal: [epsilon: number, delta: number, conversionDelta: number][] = [];
  if (mechanism === 'laplace') {
    const rest = (epsilon - measuredBudget) * SHAVE;
    optimal.push([rest, delta, 0]);
    if (rest > 0 && k > 1) {
      for (const share of CONVERSION_SHARES) {
        const conversionDelta = delta * share;
        const rho = zcdpBudget(rest, conversionDelta) * SHAVE;
        consider(
          weightedCandidate({
            mechanism,
            rho,
            delta: delta - conversionDelta,
            maxGroupsPerUnit: k,
            conversionDelta,
          }),
        );
      }
    }
  } else {
    for (const share of CONVERSION_SHARES) {
      const conversionDelta = delta * share;
      const selectionDelta = delta - conversionDelta;
      const rho = (zcdpBudget(epsilon, conversionDelta) - measuredBudget) * SHAVE;
      // The equal split with thresholding is the baseline already.
      const counts = rho > 0 && share !== 0.5 ? options.counts(rho) : undefined;
      if (counts) consider(thresholdCandidate(counts, selectionDelta, k, conversionDelta, -1));
      consider(
        weightedCandidate({ mechanism, rho, delta: selectionDelta, maxGroupsPerUnit: k, conversionDelta }),
      );
      const rest = (epsilon - zcdpToEpsilon(measuredBudget, conversionDelta)) * SHAVE;
      optimal.push([rest, selectionDelta, conversionDelta]);
    }
    // Nothing else to release (a query of keys only): no ρ to convert, so selection may take all of δ.
    if (measuredBudget === 0) optimal.push([epsilon * SHAVE, delta, 0]);
  }
  for (const [rest, selectionDelta, conversionDelta] of optimal) {
    if (!(rest > 0)) continue;
    const atLeast = optimalMedianCountAtLeast({ epsilon: rest, delta: selectionDelta, maxGroupsPerUnit: k });
    if (atLeast < best.medianCount) consider(optimalCandidate(rest, selectionDelta, k, conversionDelta));
  }
  return best;
}

/** zCDP σ up to which the exact calibration is computed in the request (its cost is O(σ) per step). */
const EXACT_GAUSSIAN_MAX_SIGMA = 128;

/**
 * One Gaussian release charged to a `basic` ledger (which composes (ε, δ) and never ρ): calibrated
 * exactly for (ε, δ) by the discrete Gaussian's own privacy curve (Canonne, Kamath & Steinke 2020,
 * Thm. 7, checked at the exact σ² the sampler uses) instead of through ρ and its conversion, which is
 * loose for a single release: at (1, 10⁻⁵) and Δ = 1, σ 3.74 instead of 4.05. Thm. 7 is for one
 * integer, so only a query with one measurement in one group per person (k = 1) qualifies, and only
 * while σ is small enough to compute here (EXACT_GAUSSIAN_MAX_SIGMA); the charge is the (ε, δ) itself.
 */
function exactSingleGaussian(request: CostRequest, measurements: readonly Measurement[]): Costed | undefined {
  const [measurement] = measurements;
  const single =
    request.mechanism === 'gaussian' &&
    request.accounting === 'basic' &&
    measurements.length === 1 &&
    request.quantiles.length === 0 &&
    !request.thresholded &&
    request.maxGroupsPerUnit === 1;
  if (!single || !measurement || noiseScale(measurement.noise) > EXACT_GAUSSIAN_MAX_SIGMA) return undefined;
  const epsilon = request.epsilon * SHAVE;
  const sensitivity = Math.max(measurement.sensitivity.l2, 1);
  const sigmaSquared = discreteGaussianVarianceForApproxDp({ epsilon, delta: request.delta, sensitivity });
  const noise = withinRange(() => discreteGaussian({ sigmaSquared }));
  const loss: PrivacyLoss = { kind: 'approx', epsilon, delta: request.delta };
  return {
    measurements: [{ ...measurement, noise: specOf(noise), loss }],
    quantiles: [],
    selection: undefined,
    cost: { losses: [loss], epsilon, delta: request.delta },
  };
}

/**
 * The charge: the measurements' pure ε or ρ, plus selection as an (ε_sel, δ_sel) part (ε_sel = 0 for
 * thresholding, whose counts are priced with the measurements). The (ε, δ) of the whole query adds
 * the parts (basic composition, Dwork & Roth 2014, Thm. 3.16: selection first, then for the groups it
 * chose, the noisy measurements, DP for every fixed choice).
 */
function totalCost(
  mechanism: MechanismName,
  losses: readonly PrivacyLoss[],
  selection: CostedSelection | undefined,
  conversionDelta: number,
): QueryCost {
  const part =
    selection === undefined
      ? undefined
      : { epsilon: selection.kind === 'threshold' ? 0 : selection.epsilon, delta: selection.delta };
  const withSelection = (loss: PrivacyLoss): PrivacyLoss[] =>
    part ? [loss, { kind: 'approx', ...part }] : [loss];
  if (mechanism === 'laplace') {
    const epsilon = losses.reduce((sum, l) => sum + (l.kind === 'pure' ? l.epsilon : 0), 0);
    return {
      losses: withSelection({ kind: 'pure', epsilon }),
      epsilon: epsilon + (part?.epsilon ?? 0),
      delta: part?.delta ?? 0,
    };
  }
  const rho = losses.reduce((sum, l) => sum + (l.kind === 'zcdp' ? l.rho : 0), 0);
  return {
    losses: withSelection({ kind: 'zcdp', rho }),
    epsilon: (rho > 0 ? zcdpToEpsilon(rho, conversionDelta) : 0) + (part?.epsilon ?? 0),
    delta: conversionDelta + (part?.delta ?? 0),
    rho,
    zcdpDelta: conversionDelta,
  };
}

function perGroupSensitivity(draft: MeasurementDraft, maxRowsPerGroup: number): number {
  switch (draft.kind) {
    case 'rows':
      return maxRowsPerGroup;
    // The rewrite keeps at most r distinct values per person and group, and with a policy bound d
    // at most d per person in all, chosen from that person's values alone; removing the person
    // removes at most min(r, d) values from each group's set.
    case 'distinct_values':
      return Math.min(maxRowsPerGroup, draft.maxPerUnit ?? maxRowsPerGroup);
    case 'units':
      return 1;
    case 'sum':
    case 'sum_of_squares':
      return maxRowsPerGroup * magnitude(stepBounds(draft.value.transform));
  }
}

/** The value of one unit of a measurement: its grid step for sums, 1 for counts. */
function stepOf(draft: MeasurementDraft): number {
  return draft.kind === 'sum' || draft.kind === 'sum_of_squares' ? draft.value.transform.granularity : 1;
}

function spread(perGroup: number, groups: number): Sensitivity {
  return { perGroup, l1: groups * perGroup, l2: Math.sqrt(groups) * perGroup };
}

/** Row counts and sums: the measurements the rewrite scales down to a person's total row cap. */
function rowCapped(draft: MeasurementDraft): boolean {
  return draft.kind === 'rows' || draft.kind === 'sum' || draft.kind === 'sum_of_squares';
}

/**
 * With a total cap R as well: a person's capped values x_g (one per group, |x_g| ≤ r·u, where
 * u = perGroup/r is one row's bound) satisfy Σ|x_g| ≤ R·u (rewrite.ts scales them so), hence
 * L1 ≤ min(k·r, R)·u and L2 ≤ √(Σ x_g²) ≤ √(max|x_g| · Σ|x_g|) ≤ √(r·R)·u, and ≤ √k·r·u.
 */
function spreadWithTotal(perGroup: number, groups: number, r: number, total: number): Sensitivity {
  const row = perGroup / r;
  return {
    perGroup,
    l1: Math.min(groups * r, total) * row,
    l2: Math.min(Math.sqrt(groups) * r, Math.sqrt(r * total)) * row,
  };
}

/** The range of one clamped (squared) value in grid steps, rounded outwards (any rounding rule stays inside). */
export function stepBounds(transform: StepsTransform): Interval {
  const range = transform.squared ? square(transform.bounds) : transform.bounds;
  return {
    low: Math.floor(range.low / transform.granularity),
    high: Math.ceil(range.high / transform.granularity),
  };
}

/**
 * The largest multiple of 2^-24 ≤ x: rounding ε down only adds noise, and a small denominator keeps
 * the quantile mechanism's exact Bernoulli draws in safe integers (quantile.ts).
 */
function rationalAtMost(x: number): Rational {
  const scale = 2 ** 24;
  const numerator = Math.floor(x * scale);
  if (numerator < 1) refuse('noise_out_of_range', 'epsilon is too small for a quantile in this query');
  return rational(numerator, scale);
}

/** The DP core refuses scales it cannot sample exactly (e.g. ε so small that t > 2^40). */
function withinRange(build: () => SqlMechanism): SqlMechanism {
  try {
    return build();
  } catch (error) {
    if (error instanceof RangeError) {
      return refuse(
        'noise_out_of_range',
        'the noise this epsilon needs is outside what dpgate can sample exactly; use a larger epsilon or fewer aggregates',
      );
    }
    throw error;
  }
}
