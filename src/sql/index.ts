/**
 * dpgate's private SQL, the pure half: `planQuery` (parse, analyze, scope, cost, rewrite) and
 * `release` (noise, partition selection, post-processing). See docs/sql.md.
 */

export type {
  Aggregate,
  CatalogFacts,
  CommunityScope,
  Grouping,
  Measurement,
  MechanismName,
  NoiseSpec,
  PrivateQueryPlan,
  PublicQueryPlan,
  QuantileMeasurement,
  QueryCost,
  QueryPlan,
  QueryRequest,
  RewrittenSql,
  Selection,
  Sensitivity,
} from './plan.ts';
export { chargesNothing, type PlanQueryInput, type PlanQueryResult, planQuery } from './plan-query.ts';
export type { OutputValue } from './post-process.ts';
export { SQL_REFUSAL_CODES, type SqlRefusal, type SqlRefusalCode } from './refusal.ts';
export {
  type CellAccuracy,
  CONFIDENCE,
  type PostProcessingStep,
  plannedAccuracy,
  type ReleasedAnswer,
  type ReleaseOptions,
  release,
} from './release.ts';
export { estimateQueryTime, type TimeEstimate } from './timing.ts';
