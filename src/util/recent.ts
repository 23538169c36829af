/**
 * A map that keeps at most `maxEntries` values of total weight `maxWeight`, the most recently used,
 * forgetting the least recently used first: the caches of pure results (plans, parses,
 * partition-selection searches) and of released answers' bytes.
 */
export class Recent<V> {
  readonly #entries = new Map<string, V>();
  #weight = 0;

  constructor(
    readonly maxEntries: number,
    readonly maxWeight = Number.POSITIVE_INFINITY,
    readonly weigh: (value: V) => number = () => 0,
  ) {}

  get(key: string): V | undefined {
    const value = this.#entries.get(key);
    if (value === undefined) return undefined;
    // Re-inserted, so Map's insertion order is the order of last use.
    this.#entries.delete(key);
    this.#entries.set(key, value);
    return value;
  }

  set(key: string, value: V): void {
    const weight = this.weigh(value);
    if (weight > this.maxWeight) return;
    const earlier = this.#entries.get(key);
    if (earlier !== undefined) {
      this.#weight -= this.weigh(earlier);
      this.#entries.delete(key);
    }
    this.#entries.set(key, value);
    this.#weight += weight;
    for (const [oldest, old] of this.#entries) {
      if (this.#entries.size <= this.maxEntries && this.#weight <= this.maxWeight) break;
      this.#entries.delete(oldest);
      this.#weight -= this.weigh(old);
    }
  }
}
