/**
 * Group commit of answer charges: the charges over the same communities that arrive in one gateway
 * while a group of them is being committed wait, and go together in the next statement (each
 * planned in arrival order on the budget rows as the ones before it leave them, all recorded by one
 * `dpgate.commit_charges` call, autocommit). Each charge is still checked on its own: one that is
 * refused writes nothing and the others commit. A charge's promise settles only after its group's
 * statement committed, so every answer is released after its own charge.
 *
 * The rows a group is planned on are the ones the gateway's last statement returned (read once,
 * unlocked, the first time a community is charged). When another gateway charged them since, the
 * statement refuses the charges planned on them as stale, and those go again at once in a
 * transaction: its first statement locks the rows and returns them, so what it finds stale is
 * planned on the locked rows and sent once more (the path every charge took before: lock, plan,
 * record, commit).
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import {
  type BudgetSnapshot,
  type ChargeItem,
  type CommunityCharge,
  readBudgets,
  type Settlement,
  settleCharges,
} from './charge.ts';
import { GroupWrite, type ItemOutcome } from './group-write.ts';
import { ledgerStatement, ledgerTransaction } from './ledger-transaction.ts';

/** An answer's charge: with its pending answer and audit entry, and the repeat lookup when answers are reused. */
export type AnswerCharge = ChargeItem & Required<Pick<ChargeItem, 'answer' | 'audit'>>;

export type AnswerChargeOutcome =
  | { readonly status: 'charged'; readonly charges: CommunityCharge[] }
  /** A released answer to the same request from the same principal: its text; nothing charged. */
  | { readonly status: 'repeat'; readonly responseText: string };

/** Bounds one statement's work (and its audit entries) whatever the load. */
const MAX_GROUP = 32;

class ChargeGroups {
  readonly #db: Kysely<Database>;
  readonly #snapshot: BudgetSnapshot;
  readonly #groups = new GroupWrite<AnswerCharge, AnswerChargeOutcome>(
    async (charges) => (await this.#settle(charges)).map(outcomeOf),
    MAX_GROUP,
  );

  constructor(db: Kysely<Database>, snapshot: BudgetSnapshot) {
    this.#db = db;
    this.#snapshot = snapshot;
  }

  charge(charge: AnswerCharge): Promise<AnswerChargeOutcome> {
    return this.#groups.add(charge);
  }

  async #settle(charges: readonly AnswerCharge[]): Promise<Settlement[]> {
    const needed = [...new Set(charges.flatMap((charge) => charge.request.communities))];
    const unseen = needed.filter((id) => !this.#snapshot.has(id));
    for (const row of await readBudgets(this.#db, unseen)) this.#snapshot.set(row.community_id, row);
    const settled = await ledgerStatement(() =>
      settleCharges(this.#db, charges, this.#snapshot, { untilSettled: false }),
    );
    const stale = settled.flatMap((settlement, index) => (settlement.status === 'stale' ? [index] : []));
    if (stale.length === 0) return settled;
    // Safe to run again on a serialization failure or deadlock: it writes only through `trx`.
    const again = await ledgerTransaction(this.#db, (trx) =>
      settleCharges(
        trx,
        stale.map((index) => charges[index]!),
        this.#snapshot,
        { untilSettled: true },
      ),
    );
    stale.forEach((index, k) => {
      settled[index] = again[k]!;
    });
    return settled;
  }
}

function outcomeOf(settlement: Settlement): ItemOutcome<AnswerChargeOutcome> {
  if (settlement.status === 'charged' || settlement.status === 'repeat')
    return { ok: true, value: settlement };
  if (settlement.status === 'stale') return { ok: false, error: new Error('a charge was left stale') };
  return { ok: false, error: settlement.error };
}

const groups = new WeakMap<
  Kysely<Database>,
  { snapshot: BudgetSnapshot; byScope: Map<string, ChargeGroups> }
>();

/**
 * Charges one answer in this gateway's next group for the same communities; resolves once the
 * charge has committed, or with the released answer to the same request when one exists. Groups
 * are per set of communities, so a budget row that is slow to lock delays only the charges that
 * need it; they share one snapshot of the rows per database. Rejects with BudgetExhaustedError,
 * IdempotencyKeyTakenError, PolicySupersededError or UnknownCommunityError (nothing charged), or
 * with the group's database error.
 */
export function chargeAnswer(db: Kysely<Database>, charge: AnswerCharge): Promise<AnswerChargeOutcome> {
  let ledger = groups.get(db);
  if (!ledger) {
    ledger = { snapshot: new Map(), byScope: new Map() };
    groups.set(db, ledger);
  }
  const scope = [...new Set(charge.request.communities)].sort().join('\n');
  let group = ledger.byScope.get(scope);
  if (!group) {
    group = new ChargeGroups(db, ledger.snapshot);
    ledger.byScope.set(scope, group);
  }
  return group.charge(charge);
}
