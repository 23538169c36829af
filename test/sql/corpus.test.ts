/** Planning the corpus (corpus.ts): accepted with scope and sensitivities, or refused with a code. */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Policy } from '../../src/policy/schema.ts';
import { planQuery } from '../../src/sql/index.ts';
import { ACCEPTED, REFUSED } from './corpus.ts';
import { loadDemoPolicy, withHiddenColumn } from './demo-policy.ts';

describe('the SQL corpus over the demo commons', () => {
  let policy: Policy;
  let hidden: Policy;
  beforeAll(async () => {
    policy = await loadDemoPolicy();
    hidden = withHiddenColumn(policy);
  });

  it('has at least 60 queries', () => {
    expect(ACCEPTED.length + REFUSED.length).toBeGreaterThanOrEqual(60);
  });

  it.each(ACCEPTED.map((c) => [c.sql, c] as const))('accepts %s', (_sql, c) => {
    const result = planQuery({ sql: c.sql, policy, role: 'analyst', request: { epsilon: 1, delta: 1e-7 } });
    if (!result.ok) throw new Error(`refused: ${JSON.stringify(result.refusal)}`);
    const plan = result.plan;
    if ('free' in c) {
      expect(plan.kind).toBe('public');
      return;
    }
    if (plan.kind !== 'private' || 'free' in c) throw new Error('expected a private plan');
    expect(plan.scope.communities).toEqual(c.scope);
    expect(plan.measurements.map((m) => m.sensitivity.l1)).toEqual(c.l1);
    if (c.grouping) expect(plan.grouping.kind).toBe(c.grouping);
    if (c.cells !== undefined) {
      if (plan.grouping.kind !== 'public') throw new Error('expected public-domain groups');
      const sizes = plan.grouping.keys.map(({ domain }) =>
        domain.kind === 'values'
          ? domain.values.length
          : domain.kind === 'range'
            ? domain.to - domain.from + 1
            : NaN,
      );
      expect(sizes.reduce((n, size) => n * size, 1)).toBe(c.cells);
    }
    expect(plan.cost.epsilon).toBeLessThanOrEqual(1);
    expect(plan.cost.delta).toBeLessThanOrEqual(1e-7);
  });

  it.each(REFUSED.map((c) => [c.sql, c] as const))('refuses %s', (_sql, c) => {
    const result = planQuery({
      sql: c.sql,
      policy: c.hidden ? hidden : policy,
      role: c.role ?? 'analyst',
      request: c.request ?? { epsilon: 1, delta: 1e-7 },
    });
    if (result.ok) throw new Error(`accepted: ${result.plan.sql.text}`);
    expect(result.refusal.code).toBe(c.refuse);
    expect(result.refusal.message.length).toBeGreaterThan(10);
    if (result.refusal.position !== undefined) {
      expect(result.refusal.position).toBeGreaterThanOrEqual(0);
      expect(result.refusal.position).toBeLessThanOrEqual(c.sql.length);
    }
  });

  it('refuses a public-domain GROUP BY with more cells than the policy allows', () => {
    const small = structuredClone(policy) as Policy;
    (small.limits as { max_result_cells: number }).max_result_cells = 50;
    const sql = 'SELECT educ, sex, COUNT(*) FROM survey_responses GROUP BY educ, sex';
    const result = planQuery({ sql, policy: small, role: 'analyst' });
    expect(result.ok ? undefined : result.refusal.code).toBe('too_many_cells');
    expect(planQuery({ sql, policy, role: 'analyst' }).ok).toBe(true);
  });
});
