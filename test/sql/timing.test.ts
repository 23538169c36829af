/** The dry run's time estimate: policy facts only, a warning past the statement timeout. */
import { expect, it } from 'vitest';
import type { Policy } from '../../src/policy/schema.ts';
import { estimateQueryTime, planQuery, type QueryPlan } from '../../src/sql/index.ts';
import { loadDemoPolicy } from './demo-policy.ts';

function withRows(policy: Policy, rows: Record<string, number>): Policy {
  const copy = structuredClone(policy) as Policy;
  for (const [table, n] of Object.entries(rows))
    (copy.tables[table] as { declared_rows?: number }).declared_rows = n;
  (copy.limits as { statement_timeout_ms: number }).statement_timeout_ms = 5_000;
  (copy.limits as { scan_rows_per_second: number }).scan_rows_per_second = 1_000_000;
  return copy;
}

function plan(sql: string, policy: Policy, unique: readonly string[] = []): QueryPlan {
  const result = planQuery({ sql, policy, role: 'analyst', catalog: { uniqueColumns: unique } });
  if (!result.ok) throw new Error(result.refusal.message);
  return result.plan;
}

it('estimates from declared rows and the bounding the plan needs, and warns past the timeout', async () => {
  const policy = withRows(await loadDemoPolicy(), { people: 4_000_000, survey_responses: 4_000_000 });
  const direct = estimateQueryTime(plan('SELECT COUNT(*) FROM people', policy, ['people.person_id']), policy);
  expect(direct).toEqual({ seconds: 4, timeoutSeconds: 5, warning: undefined });
  const capped = estimateQueryTime(plan('SELECT COUNT(*) FROM people', policy), policy);
  expect(capped.seconds).toBe(8);
  expect(capped.warning).toMatch(
    /about 8\.0 s, more than the statement timeout of 5 s; if it times out, its charge stands/,
  );
  const selected = estimateQueryTime(
    plan(
      'SELECT community_id, COUNT(*) FROM survey_responses s JOIN people p USING (person_id) GROUP BY community_id',
      policy,
    ),
    policy,
  );
  expect(selected.seconds).toBe(((4_000_000 + 4_000_000) * 3) / 1_000_000);
});

it('says when a table declares no row count', async () => {
  const policy = withRows(await loadDemoPolicy(), {});
  const estimate = estimateQueryTime(plan('SELECT COUNT(*) FROM survey_responses', policy), policy);
  expect(estimate.seconds).toBeUndefined();
  expect(estimate.warning).toMatch(/no declared_rows in policy for survey_responses/);
});
