/**
 * Whether what the ledger has already spent fits a candidate policy's budgets. A budget may grow but
 * never drop below its community's spend; a charged community may not vanish from the budgets,
 * because its charges would then answer to no budget; and accounting may not change from zcdp to
 * basic once ρ is spent, because a basic ledger does not count ρ and would forget that spend, nor
 * leave rdp once charged, since neither other mode counts Rényi curves.
 * Spend is read in the candidate's accounting with the ledger's own rule (`budget-state.ts`). Pure.
 *
 * The comparison is in floating point. A total within one rounding step of the exact NUMERIC spend
 * can pass here; the budget CHECK constraints then refuse the apply, which is reported as a refusal.
 */
import { zcdpBudget } from '../dp/accounting/index.ts';
import type { PolicyIssue } from '../policy/issues.ts';
import type { Policy } from '../policy/schema.ts';
import { epsilonSpent } from './budget-state.ts';

/** One community's spent columns as the ledger holds them (exact decimals as text). */
export interface CommunitySpend {
  readonly communityId: string;
  readonly epsilonSpent: string;
  readonly deltaSpent: string;
  readonly rhoSpent: string;
  /** The accounting the ledger has used so far (absent: not known to the caller). */
  readonly accounting?: 'basic' | 'zcdp' | 'rdp';
  readonly charges: number;
}

type Issue = Omit<PolicyIssue, 'file' | 'line' | 'column'>;

export function checkSpendWithinPolicy(policy: Policy, spend: readonly CommunitySpend[]): Issue[] {
  return spend.flatMap((community) => communityIssues(policy, community));
}

function communityIssues(policy: Policy, community: CommunitySpend): Issue[] {
  const id = community.communityId;
  const budget = policy.budgets[id];
  if (!budget) {
    if (community.charges === 0) return [];
    return [
      {
        path: ['budgets'],
        message: `has no budget for community "${id}", which has ${community.charges} charge${community.charges === 1 ? '' : 's'} in the ledger; a charged community cannot be removed`,
      },
    ];
  }
  const state = {
    accounting: policy.accounting,
    epsilonTotal: budget.epsilon,
    deltaTotal: budget.delta,
    epsilonSpent: Number(community.epsilonSpent),
    deltaSpent: Number(community.deltaSpent),
    rhoSpent: Number(community.rhoSpent),
  };
  if (community.accounting === 'rdp' && policy.accounting !== 'rdp' && community.charges > 0) {
    return [
      {
        path: ['accounting'],
        message: `cannot leave rdp: ${id} has charges composed by their Rényi curves, which ${policy.accounting} accounting does not count`,
      },
    ];
  }
  if (policy.accounting === 'basic' && state.rhoSpent > 0) {
    return [
      {
        path: ['accounting'],
        message: `cannot be basic: ${id} has spent ρ = ${community.rhoSpent} under zcdp, which basic accounting does not count`,
      },
    ];
  }
  const issues: Issue[] = [];
  if (state.deltaSpent > budget.delta) {
    issues.push({
      path: ['budgets', id, 'delta'],
      message: `${budget.delta} is below the δ = ${community.deltaSpent} that ${id} has already spent`,
    });
  }
  const spentEpsilon = epsilonSpent(state);
  if (spentEpsilon > budget.epsilon) {
    issues.push({
      path: ['budgets', id, 'epsilon'],
      message: Number.isFinite(spentEpsilon)
        ? `${budget.epsilon} is below the ε = ${spentEpsilon} that ${id} has already spent (${policy.accounting} accounting)`
        : `${budget.epsilon} with δ = ${budget.delta} leaves no δ for the ρ = ${community.rhoSpent} that ${id} has already spent`,
    });
  }
  if (policy.accounting === 'zcdp' && state.rhoSpent > zcdpBudget(budget.epsilon, budget.delta)) {
    issues.push({
      path: ['budgets', id],
      message: `allows ρ = ${zcdpBudget(budget.epsilon, budget.delta)}, below the ρ = ${community.rhoSpent} that ${id} has already spent`,
    });
  }
  return issues;
}
