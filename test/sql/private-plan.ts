import { type PlanQueryInput, type PrivateQueryPlan, planQuery } from '../../src/sql/index.ts';

/** The plan of a query a test expects planned privately; otherwise an error naming the SQL and why. */
export function privatePlanOf(input: PlanQueryInput): PrivateQueryPlan {
  const result = planQuery(input);
  if (!result.ok) throw new Error(`${input.sql}: ${JSON.stringify(result.refusal)}`);
  if (result.plan.kind !== 'private') throw new Error(`${input.sql}: expected a private plan`);
  return result.plan;
}
