/**
 * The QueryPlan: everything decided before data is touched. Its types follow the privacy rules so
 * wrong states cannot be written down: a public plan has no noise and no cost; a private plan has a
 * community scope, a mechanism per measurement and a cost; thresholded groups carry the partition
 * selection that prices them, public-domain groups carry their domains. (A scope is empty only when
 * the query's own conditions exclude every community, e.g. `community_id = 'a' AND community_id =
 * 'b'`: its answer then depends on no one's data.)
 */
import type { PrivacyLoss } from '../dp/privacy-loss.ts';
import type { Rational } from '../dp/rational.ts';
import type { Interval } from './bounds.ts';
import type { TruncationUnit } from './calendar.ts';
import type { Expr } from './ir.ts';
import type { OutputExpr } from './post-process.ts';

export type MechanismName = 'laplace' | 'gaussian';

export interface QueryRequest {
  /** Defaults to the policy's `limits.default_epsilon`. */
  readonly epsilon?: number;
  /** Defaults to the policy's `limits.default_delta`. */
  readonly delta?: number;
  /** Defaults to the policy's `default_mechanism`. */
  readonly mechanism?: MechanismName;
}

/** SQL to run as it stands: `$n` in `text` is `parameters[n - 1]`. */
export interface RewrittenSql {
  readonly text: string;
  readonly parameters: readonly (string | number | boolean)[];
  /**
   * When set, `$n` for this n is the key of the keyed hash that selects a person's groups: the
   * executor must bind a fresh 64-bit draw from the CSPRNG in its place, per run, and never return it.
   */
  readonly selectionKeyParameter?: number;
}

/**
 * Facts about the commons database the planner may rely on, read from PostgreSQL's catalog when a
 * policy is applied or loaded (never from the data).
 */
export interface CatalogFacts {
  /** `table.column` pairs a single-column unique index proves hold each non-NULL value at most once. */
  readonly uniqueColumns: readonly string[];
}

/** The communities whose budgets the query is charged to (DESIGN §3). */
export interface CommunityScope {
  readonly communities: readonly string[];
  /** True when a top-level WHERE conjunct on the community column narrowed it. */
  readonly narrowed: boolean;
}

/** How far one person can move one true per-group value (perGroup), and all of them (l1, l2). */
export interface Sensitivity {
  readonly perGroup: number;
  readonly l1: number;
  readonly l2: number;
}

/** Exact noise parameters, rebuilt into the same mechanism object at release. */
export type NoiseSpec =
  | { readonly family: 'discrete_laplace'; readonly scale: Rational }
  | { readonly family: 'discrete_gaussian'; readonly sigmaSquared: Rational };

/** A true per-group quantity the rewritten SQL computes (column `column`), released with noise. */
export type Measurement = (
  | { readonly kind: 'rows' }
  | { readonly kind: 'units' }
  | { readonly kind: 'distinct_values' }
  | {
      readonly kind: 'sum' | 'sum_of_squares';
      /** The value of one step of the measured sum (for squares, a step of the squared values). */
      readonly granularity: number;
    }
) & {
  readonly column: string;
  readonly sensitivity: Sensitivity;
  readonly noise: NoiseSpec;
  readonly loss: PrivacyLoss;
};

/**
 * A DP quantile by the exponential mechanism in its permute-and-flip form over the bucket edges of
 * the bounded domain (quantile.ts). The SQL returns one count per bucket (`columns`).
 */
export interface QuantileMeasurement {
  readonly columns: readonly string[];
  readonly bounds: Interval;
  /** The percentile as an exact fraction. */
  readonly percentile: { readonly numerator: number; readonly denominator: number };
  /** ε of the mechanism in each group (a person in k groups costs k times this). */
  readonly epsilonPerGroup: Rational;
  /** Utility sensitivity per group: rows per person per group · max(p, 1 − p), scaled to integers. */
  readonly utilitySensitivity: number;
  readonly loss: PrivacyLoss;
}

/** An analyst's aggregate call, and which measurements it is post-processing of. */
export type Aggregate =
  | { readonly kind: 'count'; readonly count: number }
  | { readonly kind: 'sum'; readonly sum: number }
  | { readonly kind: 'avg'; readonly sum: number; readonly count: number; readonly bounds: Interval }
  | {
      readonly kind: 'variance' | 'stddev';
      readonly sample: boolean;
      readonly sumOfSquares: number;
      readonly sum: number;
      readonly count: number;
      readonly bounds: Interval;
    }
  | { readonly kind: 'quantile'; readonly quantile: number; readonly discrete: boolean };

export type PublicDomain =
  | { readonly kind: 'values'; readonly values: readonly (string | number | boolean)[] }
  | { readonly kind: 'range'; readonly from: number; readonly to: number }
  | { readonly kind: 'table'; readonly schema: string; readonly table: string; readonly column: string }
  /**
   * Every `step` from `from` to `to` (calendar days `YYYY-MM-DD`, both aligned to the step): the
   * image of a public range of days under date_trunc or ::date, as dates or as timestamps.
   */
  | {
      readonly kind: 'days';
      readonly type: 'date' | 'timestamp';
      readonly from: string;
      readonly to: string;
      readonly step: TruncationUnit;
    };

export interface GroupKey {
  /** The key's result column in the rewritten SQL. */
  readonly column: string;
  readonly expr: Expr;
}

export type Grouping =
  | { readonly kind: 'none' }
  | { readonly kind: 'public'; readonly keys: readonly (GroupKey & { readonly domain: PublicDomain })[] }
  | {
      readonly kind: 'selected';
      readonly keys: readonly GroupKey[];
      /** Column of the distinct-person count per group. */
      readonly unitsColumn: string;
      readonly selection: Selection;
    };

/** How thresholded groups are chosen (cost.ts picks one; release.ts rebuilds it from these numbers). */
export type Selection =
  | {
      /** A noisy distinct-person count against a threshold. */
      readonly kind: 'threshold';
      readonly noise: NoiseSpec;
      readonly delta: number;
      readonly threshold: number;
      readonly loss: PrivacyLoss;
      /**
       * When the analyst asks for COUNT(DISTINCT person), its measurement: its noisy value is the
       * count selection compares with the threshold (one release, one charge, for both).
       */
      readonly measurement: number | undefined;
    }
  | OptimalSelection
  | (WeightedSelection & {
      /** Column of the weight sum per group the rewrite computes. */
      readonly column: string;
    });

/** Each group kept with the optimal probability of its distinct-person count (no count released). */
export interface OptimalSelection {
  readonly kind: 'optimal';
  readonly epsilon: number;
  readonly delta: number;
  /** The least distinct-person count kept with probability ≥ 1/2. */
  readonly medianCount: number;
  readonly loss: PrivacyLoss;
}

/**
 * The weighted Gaussian selection (Gopi et al. 2020; src/dp/weighted-gaussian-selection.ts): each
 * person adds weights[j − 1] (⌊grid/√j⌋) to each of their j groups, the weight sum of a group gets
 * discrete Gaussian noise, and the group is kept iff it reaches the threshold. No weight is released.
 */
export interface WeightedSelection {
  readonly kind: 'weighted_gaussian';
  /** The noise of the weight sums, in grid steps. */
  readonly noise: NoiseSpec;
  readonly grid: number;
  readonly weights: readonly number[];
  readonly threshold: number;
  /** The chance some group only the added person is in is kept (≤ the δ selection was given). */
  readonly selectionDelta: number;
  /** ρ of the noisy weights (charged with the measurements under gaussian). */
  readonly loss: PrivacyLoss;
  /**
   * The charge's (ε, δ) part for selection: (0, selectionDelta) under gaussian; under laplace the ρ
   * converted at its own share of δ, (ε_sel, δ_c + selectionDelta).
   */
  readonly epsilon: number;
  readonly delta: number;
  /** medianCounts[j − 1]: the least group of persons each in j groups kept with probability ≥ 1/2. */
  readonly medianCounts: readonly number[];
}

export interface OutputColumn {
  readonly name: string;
  readonly expr: OutputExpr;
}

export interface SortKey {
  readonly expr: OutputExpr;
  readonly descending: boolean;
  readonly nullsFirst: boolean;
}

export interface QueryCost {
  /** The losses as the mechanisms report them, ready for `composeBasic` / `composeZcdp`. */
  readonly losses: readonly PrivacyLoss[];
  /** (ε, δ) of the whole release: for zCDP noise, ρ converted at the δ set aside for it. */
  readonly epsilon: number;
  readonly delta: number;
  /** Total ρ when the noise is Gaussian. */
  readonly rho?: number;
  /** The part of δ at which ρ was converted to ε (δ less what partition selection spends). */
  readonly zcdpDelta?: number;
}

export interface PublicQueryPlan {
  readonly kind: 'public';
  readonly tables: readonly string[];
  readonly sql: RewrittenSql;
}

export interface PrivateQueryPlan {
  readonly kind: 'private';
  readonly tables: readonly string[];
  readonly scope: CommunityScope;
  readonly mechanism: MechanismName;
  /** Policy L∞ and L0 bounds the rewrite enforces. */
  readonly contribution: {
    readonly maxRowsPerGroup: number;
    readonly maxGroupsPerUnit: number;
    /** L1: a person's rows in all groups together, when it is tighter than groups × rows per group. */
    readonly maxRowsInTotal?: number;
  };
  /**
   * The bounding work in the SQL: none (the catalog proves one row per person), a per-person
   * aggregation that caps L∞, or that plus a keyed-hash selection of each person's groups (L0).
   */
  readonly bounding: 'none' | 'capped' | 'capped_and_selected';
  readonly grouping: Grouping;
  readonly measurements: readonly Measurement[];
  readonly quantiles: readonly QuantileMeasurement[];
  readonly aggregates: readonly Aggregate[];
  readonly columns: readonly OutputColumn[];
  readonly having: OutputExpr | undefined;
  readonly orderBy: readonly SortKey[];
  readonly limit: number | undefined;
  readonly offset: number | undefined;
  /**
   * The policy's `max_result_cells` over the number of columns: release keeps at most this many rows
   * (after ORDER BY and LIMIT), which bounds answers whose groups are only known after selection.
   */
  readonly maxRows: number;
  readonly cost: QueryCost;
  readonly sql: RewrittenSql;
}

export type QueryPlan = PublicQueryPlan | PrivateQueryPlan;
