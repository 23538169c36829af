/**
 * Property: for generated accepted queries, the rewritten SQL is one SELECT that parses again, and
 * every literal the analyst wrote travels as a parameter, never as text in the SQL (research §4.5).
 */
import fc from 'fast-check';
import { parseSync } from 'libpg-query';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Policy } from '../../src/policy/schema.ts';
import { planQuery } from '../../src/sql/index.ts';
import { loadDemoPolicy } from './demo-policy.ts';
import { generatedQuery } from './generated-queries.ts';

describe('the rewrite of generated queries', () => {
  let policy: Policy;
  beforeAll(async () => {
    policy = await loadDemoPolicy();
  });

  it('re-parses as one SELECT and carries every analyst literal as a parameter only', () => {
    fc.assert(
      fc.property(generatedQuery, (generated) => {
        const result = planQuery({
          sql: generated.sql,
          policy,
          role: 'analyst',
          request: { epsilon: 1, delta: 1e-7 },
        });
        if (!result.ok) throw new Error(`${generated.sql}: ${JSON.stringify(result.refusal)}`);
        const { text, parameters } = result.plan.sql;
        const statements = parseSync(text).stmts ?? [];
        expect(statements).toHaveLength(1);
        expect(statements[0]!.stmt).toHaveProperty('SelectStmt');
        for (const value of generated.texts) {
          expect(text).not.toContain(value);
          expect(parameters).toContain(value);
        }
        for (const value of generated.numbers) {
          expect(text).not.toMatch(new RegExp(`(?<![\\d.])${String(value).replace('.', '\\.')}(?![\\d.])`));
          expect(parameters).toContain(String(value));
        }
        const referenced = [...text.matchAll(/\$(\d+)/g)].map((m) => Number(m[1]));
        expect(new Set(referenced)).toEqual(new Set(parameters.map((_, i) => i + 1)));
      }),
      { numRuns: 300 },
    );
  });
});
