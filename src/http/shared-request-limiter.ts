/**
 * Request limits shared by every gateway: the state lives in a store all of them reach (PostgreSQL,
 * `postgres-limiter-store.ts`, or Redis, `redis-limiter-store.ts`), which refills and spends the
 * key's token bucket and takes an in-flight lease in one atomic step, on the store's own clock. A
 * lease expires after `leaseMs`, so the requests of a gateway killed mid-way stop counting by then.
 *
 * Leases are given back in batches: the requests that finished within one turn of the event loop
 * share one call, so a busy gateway sends about one call per request, not two.
 *
 * Every wait is bounded: an admission that does not answer within `timeoutMs` (store busy or
 * gone) refuses the request with a 503, never a hang; should it still admit later, its lease is
 * given back at once.
 */
import { type Admission, admittedOnce, type Limiter, type RateLimits } from './request-limiter.ts';

/** The limiter could not answer in time: the request is refused with 503, never let through. */
export class LimiterUnavailableError extends Error {
  override name = 'LimiterUnavailableError';
}

/** What the store answers for one admission. */
export type StoreAdmission =
  | { readonly admitted: true }
  | { readonly admitted: false; readonly reason: 'rate' | 'in_flight'; readonly retryAfterSeconds: number };

/** Where shared limits are kept: admit atomically with a lease id, and give leases back. */
export interface LimiterStore {
  admit(key: string, lease: string, limits: RateLimits, leaseMs: number): Promise<StoreAdmission>;
  release(leases: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

export interface SharedLimiterOptions {
  /** How long one admission may take before the request is refused as unavailable. */
  readonly timeoutMs: number;
  /** How long an in-flight lease lasts: a request still running after this stops counting. */
  readonly leaseMs: number;
  /** Told when giving leases back fails (they then expire on their own). */
  readonly onReleaseError?: (error: unknown) => void;
}

export class SharedRequestLimiter implements Limiter {
  readonly #store: LimiterStore;
  readonly #limits: RateLimits;
  readonly #options: SharedLimiterOptions;
  /** Leases to give back with the next call; a flush is scheduled while this is not empty. */
  #finished: string[] = [];

  constructor(store: LimiterStore, limits: RateLimits, options: SharedLimiterOptions) {
    this.#store = store;
    this.#limits = limits;
    this.#options = options;
  }

  async admit(key: string): Promise<Admission> {
    const lease = crypto.randomUUID();
    const call = this.#store.admit(key, lease, this.#limits, this.#options.leaseMs);
    const answer = await within(call, this.#options.timeoutMs, (late) => {
      if (late.admitted) this.#release(lease);
    });
    if (!answer.admitted) return answer;
    return admittedOnce(() => this.#release(lease));
  }

  close(): Promise<void> {
    return this.#store.close();
  }

  #release(lease: string): void {
    if (this.#finished.push(lease) > 1) return;
    setImmediate(() => {
      const leases = this.#finished;
      this.#finished = [];
      this.#store.release(leases).catch((error: unknown) => this.#options.onReleaseError?.(error));
    });
  }
}

/**
 * `work`'s value, or LimiterUnavailableError after `timeoutMs`; a value arriving after that goes to
 * `late`, and a failure to the caller (or nowhere, once timed out).
 */
function within<T>(work: Promise<T>, timeoutMs: number, late: (value: T) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      reject(new LimiterUnavailableError(`no admission within ${timeoutMs} ms`));
    }, timeoutMs);
    work.then(
      (value) => {
        clearTimeout(timer);
        if (timedOut) late(value);
        else resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        if (!timedOut) reject(error);
      },
    );
  });
}
