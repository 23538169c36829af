/**
 * What a repeated request would only recompute, kept in this process so that a repeat costs no
 * planning and no statement:
 * - the plan of a canonical request and its fingerprint, per policy snapshot: a reload makes a new
 *   snapshot, so nothing planned under an old one is reused (planQuery is pure in the SQL, the
 *   request, the role and the snapshot, so a kept plan is exactly what planning again would give);
 * - the bytes a repeat sends for a (principal, fingerprint): those of a released answer, which never
 *   changes once released. Whether a repeat may be served at all is decided by the caller on every
 *   request, under the policy in force (`reuse_answers`).
 * Both are bounded, dropping the least recently used first.
 */
import type { PolicySnapshot } from '../policy/validate.ts';
import type { PlanQueryResult } from '../sql/index.ts';
import { Recent } from '../util/recent.ts';

export interface PlannedRequest {
  readonly planned: PlanQueryResult;
  /** Identifies the release (SQL, mechanism, losses, policy version, post-processing); private plans only. */
  readonly fingerprint: string | undefined;
}

const MAX_PLANS_PER_SNAPSHOT = 1_000;
const MAX_ANSWERS = 10_000;
/** Characters of stored answers kept at most (about 2 bytes each in V8's worst case). */
const MAX_ANSWER_CHARS = 16 * 1024 * 1024;

export class RepeatCache {
  readonly #plans = new WeakMap<PolicySnapshot, Recent<PlannedRequest>>();
  readonly #answers = new Recent<string>(MAX_ANSWERS, MAX_ANSWER_CHARS, (text) => text.length);

  /** The kept plan of `request` under `policy`, or the one `plan` makes (then kept). */
  plan(policy: PolicySnapshot, request: string, plan: () => PlannedRequest): PlannedRequest {
    let plans = this.#plans.get(policy);
    if (!plans) {
      plans = new Recent<PlannedRequest>(MAX_PLANS_PER_SNAPSHOT);
      this.#plans.set(policy, plans);
    }
    const kept = plans.get(request);
    if (kept) return kept;
    const made = plan();
    plans.set(request, made);
    return made;
  }

  repeat(principalId: string, fingerprint: string): string | undefined {
    return this.#answers.get(`${principalId}\n${fingerprint}`);
  }

  keepRepeat(principalId: string, fingerprint: string, text: string): void {
    this.#answers.set(`${principalId}\n${fingerprint}`, text);
  }
}
