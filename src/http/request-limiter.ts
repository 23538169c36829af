/**
 * Per-key request limits (OWASP API4:2023): a token bucket for the request rate and a cap on
 * requests in progress at once. The HTTP middleware in `middleware/rate-limit.ts` applies any
 * `Limiter`; `RequestLimiter` here keeps its state in this process only (each gateway process limits
 * on its own: the embedded default, where there is one process), `shared-request-limiter.ts` keeps it
 * in PostgreSQL for every replica at once.
 */

export interface RateLimits {
  /** Tokens added to a key's bucket per minute: its sustained request rate. */
  readonly perMinute: number;
  /** Bucket capacity: requests an idle key may make at once. */
  readonly burst: number;
  /** Requests one key may have in progress at the same time. */
  readonly maxInFlight: number;
}

export type Admission =
  | { readonly admitted: true; release(): void }
  | {
      readonly admitted: false;
      readonly reason: 'rate' | 'in_flight';
      /** Whole seconds until a retry can succeed, for `Retry-After`. */
      readonly retryAfterSeconds: number;
    };

/** Admits or refuses one request of a key; a shared limiter answers asynchronously. */
export interface Limiter {
  admit(key: string): Admission | Promise<Admission>;
}

interface Bucket {
  tokens: number;
  refilledAt: number;
}

export class RequestLimiter implements Limiter {
  readonly #limits: RateLimits;
  readonly #now: () => number;
  // One entry per authenticated key, so the maps are bounded by the keys in the database.
  readonly #buckets = new Map<string, Bucket>();
  readonly #inFlight = new Map<string, number>();

  /** `now` returns milliseconds from any fixed origin. */
  constructor(limits: RateLimits, now: () => number = () => performance.now()) {
    this.#limits = limits;
    this.#now = now;
  }

  admit(key: string): Admission {
    const inFlight = this.#inFlight.get(key) ?? 0;
    // Checked before the bucket, so a request turned away for concurrency spends no token.
    if (inFlight >= this.#limits.maxInFlight) {
      return { admitted: false, reason: 'in_flight', retryAfterSeconds: 1 };
    }
    const bucket = this.#refill(key);
    if (bucket.tokens < 1) {
      const tokensPerSecond = this.#limits.perMinute / 60;
      return {
        admitted: false,
        reason: 'rate',
        retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / tokensPerSecond)),
      };
    }
    bucket.tokens -= 1;
    this.#inFlight.set(key, inFlight + 1);
    return admittedOnce(() => {
      const remaining = (this.#inFlight.get(key) ?? 1) - 1;
      if (remaining > 0) this.#inFlight.set(key, remaining);
      else this.#inFlight.delete(key);
    });
  }

  #refill(key: string): Bucket {
    const now = this.#now();
    const bucket = this.#buckets.get(key);
    if (!bucket) {
      const fresh = { tokens: this.#limits.burst, refilledAt: now };
      this.#buckets.set(key, fresh);
      return fresh;
    }
    const earned = ((now - bucket.refilledAt) / 60_000) * this.#limits.perMinute;
    bucket.tokens = Math.min(this.#limits.burst, bucket.tokens + earned);
    bucket.refilledAt = now;
    return bucket;
  }
}

/** An admission whose release gives the slot back once, however often it is called. */
export function admittedOnce(giveBack: () => void): Admission {
  let released = false;
  return {
    admitted: true,
    release: () => {
      if (released) return;
      released = true;
      giveBack();
    },
  };
}
