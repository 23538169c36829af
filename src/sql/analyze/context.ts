/** What every analysis step needs: the policy snapshot, the role asking, CTEs in scope, fresh aliases. */
import type { CommonTableExpr } from 'libpg-query';
import type { Policy, Role } from '../../policy/schema.ts';

export interface AnalysisContext {
  readonly policy: Policy;
  readonly role: Role;
  /** Non-recursive CTEs visible here, by name; each reference is analyzed afresh (like a view). */
  readonly ctes: ReadonlyMap<string, CommonTableExpr>;
  /** A fresh internal table alias (t1, t2, …): analyst aliases never reach the rewritten SQL. */
  nextAlias(): string;
}

export function rootContext(policy: Policy, role: Role): AnalysisContext {
  let count = 0;
  return { policy, role, ctes: new Map(), nextAlias: () => `t${++count}` };
}

/** The context inside CTE `name`'s own query: a non-recursive CTE cannot see itself. */
export function withoutCte(context: AnalysisContext, name: string): AnalysisContext {
  const visible = new Map(context.ctes);
  visible.delete(name);
  return { ...context, ctes: visible };
}

export function withCtes(context: AnalysisContext, ctes: readonly CommonTableExpr[]): AnalysisContext {
  if (ctes.length === 0) return context;
  const visible = new Map(context.ctes);
  for (const cte of ctes) if (cte.ctename) visible.set(cte.ctename, cte);
  return { ...context, ctes: visible };
}
