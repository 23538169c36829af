/**
 * Group commit of answer charges: the charges over the same communities that arrive in one gateway
 * while a group of them is being committed wait, and go together in the next transaction (lock the union of their budget rows,
 * plan each in arrival order on the rows as the ones before it leave them, record them all in one
 * statement, commit). Each charge is still checked on its own: one that is refused writes nothing
 * and the others commit. A charge's promise settles only after its group's transaction committed,
 * so every answer is released after its own charge, as before; what changes is how many charges
 * share one lock, one round trip and one commit.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import type { PendingAnswer } from './answers.ts';
import type { AuditEntry } from './audit-log.ts';
import {
  applyPlanned,
  type ChargeRequest,
  type CommunityCharge,
  lockBudgets,
  type PlannedCharge,
  planCharge,
  type RecordOutcome,
  recordCharges,
} from './charge.ts';
import { ledgerTransaction } from './ledger-transaction.ts';

export interface AnswerCharge {
  readonly request: ChargeRequest;
  /** Reserved, pending, by the charge's own statement: never an answer without a charge. */
  readonly answer: PendingAnswer;
  /** The audit entry recording the charge, from what each community is charged. */
  readonly audit: (communities: PlannedCharge['communities']) => AuditEntry;
}

/** Bounds one transaction's work (and its audit entries) whatever the load. */
const MAX_GROUP = 32;

interface Waiting {
  readonly charge: AnswerCharge;
  readonly resolve: (charges: CommunityCharge[]) => void;
  readonly reject: (error: unknown) => void;
}

type Settlement = RecordOutcome | { readonly status: 'failed'; readonly error: unknown };

class ChargeGroups {
  readonly #db: Kysely<Database>;
  #waiting: Waiting[] = [];
  #committing = false;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  charge(charge: AnswerCharge): Promise<CommunityCharge[]> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ charge, resolve, reject });
      if (!this.#committing) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#committing = true;
    while (this.#waiting.length > 0) {
      const group = this.#waiting.splice(0, MAX_GROUP);
      // Charges to plan again go first, keeping their place ahead of later arrivals.
      this.#waiting = [...(await this.#commit(group)), ...this.#waiting];
    }
    this.#committing = false;
  }

  /** Commits one group and settles its charges; returns those to plan again. */
  async #commit(group: readonly Waiting[]): Promise<Waiting[]> {
    let settlements: Settlement[];
    try {
      // Safe to run again on a serialization failure or deadlock: it writes only through `trx`.
      settlements = await ledgerTransaction(this.#db, async (trx) => {
        const budgets = await lockBudgets(
          trx,
          group.flatMap((waiting) => waiting.charge.request.communities),
        );
        const settled: Settlement[] = [];
        const items: Parameters<typeof recordCharges>[1][number][] = [];
        const itemOf: number[] = [];
        group.forEach(({ charge }, index) => {
          try {
            const planned = planCharge(budgets, charge.request);
            applyPlanned(budgets, planned);
            items.push({ planned, answer: charge.answer, audit: charge.audit(planned.communities) });
            itemOf.push(index);
          } catch (error) {
            settled[index] = { status: 'failed', error };
          }
        });
        const outcomes = items.length > 0 ? await recordCharges(trx, items) : [];
        outcomes.forEach((outcome, k) => {
          settled[itemOf[k]!] = outcome;
        });
        return settled;
      });
    } catch (error) {
      for (const waiting of group) waiting.reject(error);
      return [];
    }
    const again: Waiting[] = [];
    group.forEach((waiting, index) => {
      const settlement = settlements[index]!;
      if (settlement.status === 'charged') waiting.resolve(settlement.charges);
      else if (settlement.status === 'replan') again.push(waiting);
      else waiting.reject(settlement.error);
    });
    return again;
  }
}

const groups = new WeakMap<Kysely<Database>, Map<string, ChargeGroups>>();

/**
 * Charges one answer in this gateway's next group for the same communities; resolves once the
 * charge has committed. Groups are per set of communities, so a budget row that is slow to lock
 * delays only the charges that need it. Rejects with BudgetExhaustedError,
 * IdempotencyKeyTakenError, PolicySupersededError or UnknownCommunityError (nothing charged), or
 * with the group's database error.
 */
export function chargeAnswer(db: Kysely<Database>, charge: AnswerCharge): Promise<CommunityCharge[]> {
  let byScope = groups.get(db);
  if (!byScope) {
    byScope = new Map();
    groups.set(db, byScope);
  }
  const scope = [...new Set(charge.request.communities)].sort().join('\n');
  let group = byScope.get(scope);
  if (!group) {
    group = new ChargeGroups(db);
    byScope.set(scope, group);
  }
  return group.charge(charge);
}
