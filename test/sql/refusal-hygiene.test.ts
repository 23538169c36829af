/**
 * Refusals say what is wrong in the analyst's own words and reveal nothing about the policy beyond
 * what the analyst may read: a hidden column is refused exactly like one that does not exist, and no
 * message names an internal parser node.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Policy } from '../../src/policy/schema.ts';
import { planQuery } from '../../src/sql/index.ts';
import { REFUSED } from './corpus.ts';
import { loadDemoPolicy, withHiddenColumn } from './demo-policy.ts';

/** Each template names one column `{c}`: filled with a hidden one and with a name that is nowhere. */
const PROBES: { template: string; hidden: string }[] = [
  { template: 'SELECT COUNT({c}) FROM people', hidden: 'notes' },
  { template: 'SELECT SUM(LENGTH({c})) FROM people', hidden: 'notes' },
  { template: "SELECT COUNT(*) FROM people WHERE {c} LIKE '%x%'", hidden: 'notes' },
  { template: 'SELECT COUNT(*) FROM people p WHERE p.{c} IS NULL', hidden: 'notes' },
  { template: 'SELECT COUNT(*) FROM commons.people WHERE people.{c} IS NULL', hidden: 'notes' },
  { template: 'SELECT {c}, COUNT(*) FROM people GROUP BY {c}', hidden: 'notes' },
  // An output alias with the hidden name: GROUP BY resolves it the same way for both.
  { template: 'SELECT age / 10 AS {c}, COUNT(*) FROM people GROUP BY {c}', hidden: 'notes' },
  {
    template: 'SELECT COUNT(*) FROM people JOIN survey_responses USING (person_id) WHERE {c} IS NULL',
    hidden: 'notes',
  },
  { template: 'WITH w AS (SELECT * FROM people) SELECT COUNT(w.{c}) FROM w', hidden: 'notes' },
  { template: 'SELECT COUNT(*) FROM people JOIN survey_responses USING (person_id, {c})', hidden: 'notes' },
  { template: 'SELECT {c} FROM communities', hidden: 'motto' },
  { template: 'SELECT region FROM communities ORDER BY {c}', hidden: 'motto' },
  {
    template:
      'SELECT COUNT(*) FROM people WHERE community_id IN (SELECT community_id FROM communities WHERE {c} = $$x$$)',
    hidden: 'motto',
  },
];

/** The refusal (or the plan's SQL) with the probed name replaced, so two probes compare equal. */
function outcome(policy: Policy, sql: string, name: string): unknown {
  const result = planQuery({ sql, policy, role: 'analyst', request: { epsilon: 1, delta: 1e-7 } });
  const text = JSON.stringify(result.ok ? result.plan.sql : result.refusal);
  return JSON.parse(text.replaceAll(name, '{c}'));
}

describe('refusal hygiene', () => {
  let policy: Policy;
  beforeAll(async () => {
    policy = withHiddenColumn(await loadDemoPolicy());
  });

  it.each(PROBES.map((p) => [p.template, p] as const))(
    'a hidden column and a missing one are refused alike: %s',
    (_template, { template, hidden }) => {
      const absent = 'x'.repeat(hidden.length);
      const withHidden = outcome(policy, template.replaceAll('{c}', hidden), hidden);
      const withAbsent = outcome(policy, template.replaceAll('{c}', absent), absent);
      expect(withHidden).toEqual(withAbsent);
    },
  );

  const ODD_SYNTAX = [
    'SELECT COUNT(*) FROM people GROUP BY GROUPING(sex)',
    'SELECT COUNT(*) FROM people WHERE age = ANY (ARRAY[1, 2])',
    'SELECT COUNT(*) FROM people WHERE age > ALL (ARRAY[1, 2])',
    'SELECT COUNT(*) FROM people WHERE (age, sex) = ROW(1, 2)',
    'SELECT COUNT(*) FROM people WHERE (married = 1) IS TRUE',
    'SELECT COUNT(*) FROM people WHERE community_id COLLATE "C" = \'x\'',
    'SELECT COUNT(*) FROM people WHERE age BETWEEN SYMMETRIC 10 AND 5',
    'SELECT COUNT(*) FROM people WHERE age > ALL (SELECT 1)',
    'SELECT COUNT(*) FROM people WHERE ARRAY(SELECT 1) IS NOT NULL',
    'SELECT COUNT(*) FROM people TABLESAMPLE SYSTEM (10)',
    'SELECT COUNT(*) FROM people WHERE xmlelement(name a) IS NOT NULL',
    "SELECT COUNT(*) FROM people WHERE JSON_OBJECT('a': 1) IS NOT NULL",
    'SELECT SUM((ARRAY[age])[1]) FROM people',
  ];

  it('names SQL, never a parser node, in every refusal', () => {
    const cases = [...REFUSED, ...ODD_SYNTAX.map((sql) => ({ sql, role: undefined, request: undefined }))];
    const messages = cases.map(({ sql, role, request }) => {
      const result = planQuery({ sql, policy, role: role ?? 'analyst', request: request ?? { epsilon: 1 } });
      if (result.ok) throw new Error(`accepted: ${sql}`);
      return result.refusal.message;
    });
    for (const message of messages) {
      // Node names are CamelCase (GroupingFunc, A_ArrayExpr) or enum constants (AEXPR_OP_ANY, ALL_SUBLINK).
      expect(message).not.toMatch(/[a-z][A-Z]|\bA_[A-Z]|AEXPR_|_SUBLINK|Stmt\b/);
    }
    expect(messages[REFUSED.length]).toContain('GROUPING(…)');
  });
});
