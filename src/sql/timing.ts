/**
 * A dry run's estimate of how long the database will work on a query, from public facts only: the
 * row counts the policy declares for the tables read, the policy's planning throughput, and the
 * bounding the rewrite adds (a per-person aggregation about doubles the work over the scan; a
 * group selection adds a sort of the per-person rows). No data, no catalog statistics: the
 * estimate is the same for every database the policy could describe.
 */
import type { Policy } from '../policy/schema.ts';
import type { QueryPlan } from './plan.ts';

export interface TimeEstimate {
  /** Undefined when a table read declares no row count. */
  readonly seconds: number | undefined;
  readonly timeoutSeconds: number;
  /** Set when the estimate exceeds the timeout, or cannot be made. */
  readonly warning: string | undefined;
}

const BOUNDING_FACTOR = { none: 1, capped: 2, capped_and_selected: 3 } as const;

export function estimateQueryTime(plan: QueryPlan, policy: Policy): TimeEstimate {
  const timeoutSeconds = policy.limits.statement_timeout_ms / 1000;
  const declared = plan.tables.map((t) => policy.tables[t]?.declared_rows);
  if (declared.some((rows) => rows === undefined)) {
    const missing = plan.tables.filter((_, i) => declared[i] === undefined);
    return {
      seconds: undefined,
      timeoutSeconds,
      warning: `no declared_rows in policy for ${missing.join(', ')}: the time this query needs cannot be estimated`,
    };
  }
  const rows = declared.reduce((sum, n) => sum! + n!, 0)!;
  const factor = plan.kind === 'private' ? BOUNDING_FACTOR[plan.bounding] : 1;
  const seconds = (rows * factor) / policy.limits.scan_rows_per_second;
  return {
    seconds,
    timeoutSeconds,
    warning:
      seconds > timeoutSeconds
        ? `this query is likely to take about ${seconds.toFixed(1)} s, more than the statement timeout of ${timeoutSeconds} s; if it times out, its charge stands`
        : undefined,
  };
}
