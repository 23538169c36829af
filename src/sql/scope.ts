/**
 * The communities a query is charged to (DESIGN §3). Every private table reaches the unit table, and
 * a person is in exactly one community, so by default every community can be affected. The scope
 * narrows only on a condition every row must satisfy (a top-level conjunct of WHERE, or of an inner
 * join's ON, or of an inlined subquery's WHERE) of the form `community = 'x'` or
 * `community IN ('x', 'y')` with literals, on the community column of the unit table: then no
 * person of another community can contribute a row, and the answer is a function of those
 * communities' data alone (parallel composition).
 *
 * A literal that names no community in policy is refused (`unknown_community`): no budget could
 * pay for such a person, and the gateway must not assume the data holds none (a narrowed scope of
 * zero communities would release them for free).
 */
import type { Policy } from '../policy/schema.ts';
import type { Expr } from './ir.ts';
import type { CommunityScope } from './plan.ts';
import { refuse } from './refusal.ts';

export function communityScope(conditions: readonly Expr[], policy: Policy): CommunityScope {
  const all = Object.keys(policy.budgets).sort();
  let scope: Set<string> | undefined;
  for (const condition of conditions) {
    const named = communitiesNamedBy(condition);
    if (named === undefined) continue;
    for (const community of named) {
      if (!all.includes(community)) {
        refuse(
          'unknown_community',
          `there is no community ${JSON.stringify(community)}; communities: ${all.join(', ')}`,
          condition.location,
        );
      }
    }
    scope = new Set([...(scope ?? named)].filter((c) => named.has(c)));
  }
  if (scope === undefined) return { communities: all, narrowed: false };
  return { communities: all.filter((c) => scope.has(c)), narrowed: true };
}

/** The literals of `community = 'x'` / `community IN (…)`, or undefined if the condition is not of that form. */
function communitiesNamedBy(condition: Expr): Set<string> | undefined {
  if (condition.kind !== 'operator' || !condition.left) return undefined;
  const column = condition.left;
  if (column.kind !== 'column' || column.role !== 'community') return undefined;
  const literals = Array.isArray(condition.right) ? condition.right : [condition.right as Expr];
  const isEquality =
    (condition.form === 'AEXPR_OP' && condition.operator === '=') ||
    (condition.form === 'AEXPR_IN' && condition.operator === '=');
  if (!isEquality || !literals.every((l) => l.kind === 'constant' && typeof l.value === 'string'))
    return undefined;
  return new Set(literals.map((l) => (l.kind === 'constant' ? String(l.value) : '')));
}
