/**
 * Group writes: the items that arrive while a group of them is being written wait, and go together
 * in the next write (at most `maxGroup` at a time), so a burst of N requests costs a few statements
 * instead of N. Each item's promise settles only after the write that carried it has finished,
 * with that item's own outcome: one item refused does not fail the others, and an error of the
 * write itself fails every item it carried.
 */

/** What a write says about one of its items. */
export type ItemOutcome<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: unknown };

interface Waiting<I, O> {
  readonly item: I;
  readonly resolve: (value: O) => void;
  readonly reject: (error: unknown) => void;
}

export class GroupWrite<I, O> {
  readonly #write: (items: readonly I[]) => Promise<readonly ItemOutcome<O>[]>;
  readonly #maxGroup: number;
  #waiting: Waiting<I, O>[] = [];
  #writing = false;

  /** `write` returns one outcome per item, in the items' order. */
  constructor(write: (items: readonly I[]) => Promise<readonly ItemOutcome<O>[]>, maxGroup: number) {
    this.#write = write;
    this.#maxGroup = maxGroup;
  }

  add(item: I): Promise<O> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ item, resolve, reject });
      if (!this.#writing) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#writing = true;
    while (this.#waiting.length > 0) await this.#writeGroup(this.#waiting.splice(0, this.#maxGroup));
    this.#writing = false;
  }

  async #writeGroup(group: readonly Waiting<I, O>[]): Promise<void> {
    let outcomes: readonly ItemOutcome<O>[];
    try {
      outcomes = await this.#write(group.map((waiting) => waiting.item));
    } catch (error) {
      for (const waiting of group) waiting.reject(error);
      return;
    }
    group.forEach((waiting, index) => {
      const outcome = outcomes[index];
      if (outcome === undefined) waiting.reject(new Error('a group write left an item without an outcome'));
      else if (outcome.ok) waiting.resolve(outcome.value);
      else waiting.reject(outcome.error);
    });
  }
}
