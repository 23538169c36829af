/**
 * The policy in force, and the last policy set that was refused. A refused set never replaces the
 * current one: the gateway keeps serving the last good policy and reports why the new one failed.
 */
import type { PolicyIssue } from './issues.ts';
import type { PolicySnapshot } from './validate.ts';

export interface PolicyRefusal {
  readonly at: Date;
  readonly issues: readonly PolicyIssue[];
}

export class PolicyStore {
  #current: PolicySnapshot;
  #lastRefusal: PolicyRefusal | undefined;

  constructor(initial: PolicySnapshot) {
    this.#current = initial;
  }
  get current(): PolicySnapshot {
    return this.#current;
  }
  get lastRefusal(): PolicyRefusal | undefined {
    return this.#lastRefusal;
  }
  accept(snapshot: PolicySnapshot): void {
    this.#current = snapshot;
    this.#lastRefusal = undefined;
  }
  refuse(issues: readonly PolicyIssue[]): void {
    this.#lastRefusal = { at: new Date(), issues };
  }
}
