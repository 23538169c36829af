/**
 * Running rewritten SQL against the commons on a QueryRunner (db/query-runner.ts): read-only, as the
 * least-privilege query role, under TimeZone UTC, within the policy's statement timeout. The SQL
 * comes from the rewriter, never from the analyst's text, and its literals arrive as parameters.
 */
import type { QueryRunner, TrueRow } from '../db/query-runner.ts';
import type { RewrittenSql } from '../sql/index.ts';

export function runReadOnly(
  queries: QueryRunner,
  query: RewrittenSql,
  timeoutMs: number,
): Promise<TrueRow[]> {
  return queries.run({ text: query.text, parameters: boundParameters(query) }, timeoutMs);
}

/** The query's parameters, with a fresh selection key from the CSPRNG where the rewrite asks for one. */
function boundParameters(query: RewrittenSql): unknown[] {
  const parameters: unknown[] = [...query.parameters];
  if (query.selectionKeyParameter !== undefined) {
    parameters[query.selectionKeyParameter - 1] = String(crypto.getRandomValues(new BigInt64Array(1))[0]);
  }
  return parameters;
}
