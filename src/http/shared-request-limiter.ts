/**
 * Request limits shared by every gateway on one PostgreSQL: each request is one call of
 * `dpgate.admit_request` (migration 0007), which refills and spends the key's token bucket and takes
 * an in-flight lease in one atomic step under the bucket row's lock, on the database's clock. A lease
 * expires after `leaseMs`, so the requests of a gateway killed mid-way stop counting by then.
 *
 * Leases are given back in batches: the requests that finished within one turn of the event loop
 * share one statement, so a busy gateway sends about one statement per request, not two.
 *
 * Every wait is bounded: an admission that does not answer within `timeoutMs` (database busy or
 * gone) refuses the request with a 503, never a hang; should it still admit later, its lease is
 * given back at once.
 */
import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/database.ts';
import type { Admission, Limiter, RateLimits } from './request-limiter.ts';

/** The limiter could not answer in time: the request is refused with 503, never let through. */
export class LimiterUnavailableError extends Error {
  override name = 'LimiterUnavailableError';
}

export interface SharedLimiterOptions {
  /** How long one admission may take before the request is refused as unavailable. */
  readonly timeoutMs: number;
  /** How long an in-flight lease lasts: a request still running after this stops counting. */
  readonly leaseMs: number;
  /** Told when giving a lease back fails (the lease then expires on its own). */
  readonly onReleaseError?: (error: unknown) => void;
}

interface AdmissionRow {
  admitted: boolean;
  reason: 'rate' | 'in_flight' | null;
  retry_after_seconds: number;
}

export class PostgresRequestLimiter implements Limiter {
  readonly #db: Kysely<Database>;
  readonly #limits: RateLimits;
  readonly #options: SharedLimiterOptions;
  /** Leases to give back with the next statement; a flush is scheduled while this is not empty. */
  #finished: string[] = [];

  constructor(db: Kysely<Database>, limits: RateLimits, options: SharedLimiterOptions) {
    this.#db = db;
    this.#limits = limits;
    this.#options = options;
  }

  async admit(key: string): Promise<Admission> {
    const lease = crypto.randomUUID();
    const { perMinute, burst, maxInFlight } = this.#limits;
    const call = sql<AdmissionRow>`select admitted, reason, retry_after_seconds
      from dpgate.admit_request(${key}, ${lease}::uuid, ${perMinute}, ${burst}, ${maxInFlight}, ${this.#options.leaseMs})`
      .execute(this.#db)
      .then((result) => result.rows[0]!);
    const row = await within(call, this.#options.timeoutMs, (late) => {
      if (late.admitted) this.#release(lease);
    });
    if (!row.admitted) {
      return { admitted: false, reason: row.reason ?? 'rate', retryAfterSeconds: row.retry_after_seconds };
    }
    let released = false;
    return {
      admitted: true,
      release: () => {
        if (released) return;
        released = true;
        this.#release(lease);
      },
    };
  }

  #release(lease: string): void {
    if (this.#finished.push(lease) > 1) return;
    setImmediate(() => {
      const leases = this.#finished;
      this.#finished = [];
      sql`select dpgate.release_requests(${leases}::uuid[])`
        .execute(this.#db)
        .catch((error: unknown) => this.#options.onReleaseError?.(error));
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
