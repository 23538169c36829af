/**
 * Request limits shared by every gateway, admitted from leased blocks: the state lives in a store
 * all gateways reach (PostgreSQL, `postgres-limiter-store.ts`, or Redis, `redis-limiter-store.ts`),
 * and each gateway holds, per key, a few of the bucket's tokens and in-flight slots that it took
 * from the store in one atomic call. A request is admitted from what its gateway holds, in memory;
 * the store is called only when a block runs out, to give back what is unused once the key has had
 * no request in progress for `lingerMs`, and to renew the holding of requests still running. So a
 * busy key costs about one call per block, not one per request.
 *
 * Exact across gateways (the argument is in docs/operations.md, "Request limits with several
 * replicas"): the store refills a bucket only up to the burst minus every holder's unspent tokens,
 * and grants slots only up to `maxInFlight` summed over holders. A holding expires in the store
 * `leaseMs` after its last call, so a killed gateway's slots and tokens stop counting by then; a
 * live gateway uses what it holds only until that moment as its own clock sees it, and renews
 * before.
 *
 * Not hoarding: a gateway asks for slots only for requests waiting, and gives back slots it has not
 * needed all of for `lingerMs`; it asks for tokens in a block that doubles while the key keeps
 * using them up, at most an eighth of the burst. A refusal marks the key contended in the store,
 * and a gateway told so gives back what it does not use at once.
 *
 * Every wait is bounded: an admission that is not decided within `timeoutMs` (store busy or gone)
 * is refused with a 503, never a hang; what the late call grants is kept for the next requests and
 * given back after the linger like any other.
 */
import { type Admission, admittedOnce, type Limiter, type RateLimits } from './request-limiter.ts';

/** The limiter could not answer in time: the request is refused with 503, never let through. */
export class LimiterUnavailableError extends Error {
  override name = 'LimiterUnavailableError';
}

/** One call to the store: what a holder reports, gives back and asks for, for one key. */
export interface LeaseRequest {
  readonly key: string;
  /** The limiter asking; the store keeps one holding per key and holder. */
  readonly holder: string;
  /** Tokens of its holding still unspent, which it keeps; the rest it held were spent. */
  readonly unused: number;
  /** Unspent tokens it gives back to the bucket. */
  readonly give: number;
  /** Tokens more it asks for (the store grants what the bucket has, up to this). */
  readonly take: number;
  /** Slots to hold after the call: fewer gives some back, more asks (granted as far as free). */
  readonly slots: number;
  /** Holding fewer slots than this is a refusal, and then no token is taken. */
  readonly slotsNeeded: number;
}

/** What the holder holds after the call. */
export interface LeaseGrant {
  /** Unspent tokens held: those kept plus those taken. */
  readonly tokens: number;
  readonly slots: number;
  /** With no token held: milliseconds until the bucket has one, as the store's refill goes. */
  readonly retryAfterMs: number;
  /** Another holder was refused lately: give back what is not used at once. */
  readonly contended: boolean;
}

/** Where shared limits are kept: settles a holder's holding of a key atomically. */
export interface LimiterStore {
  lease(request: LeaseRequest, limits: RateLimits, leaseMs: number): Promise<LeaseGrant>;
  close(): Promise<void>;
}

export interface SharedLimiterOptions {
  /** How long one admission may wait for the store before the request is refused as unavailable. */
  readonly timeoutMs: number;
  /** How long a holding lasts in the store after its last call (a killed gateway's, that is). */
  readonly leaseMs: number;
  /** How long tokens and slots unused stay held before they go back (default 200 ms). */
  readonly lingerMs?: number;
  /** Told when a call that gives back or renews fails (the holding then expires on its own). */
  readonly onReturnError?: (error: unknown) => void;
}

interface Waiter {
  readonly resolve: (admission: Admission) => void;
  readonly reject: (error: unknown) => void;
  readonly timer: NodeJS.Timeout;
}

/** What this gateway holds of one key, and the requests waiting for more. */
interface Holding {
  /** Leased tokens not spent yet. */
  tokens: number;
  /** Leased slots, `busy` of them taken by requests in progress. */
  slots: number;
  busy: number;
  /** Tokens asked for per call when requests wait: doubles while used up, halves when idle. */
  block: number;
  /** Until when (this process's clock) the store keeps the holding: nothing is used after. */
  validUntil: number;
  lastUsed: number;
  /** When every slot held was last in use (or was granted): free slots go back a linger after. */
  fullAt: number;
  /** The store said no token before then: refuse without asking again. */
  refusedUntil: number;
  contendedUntil: number;
  /** A call failed: the timer calls again no sooner than this. */
  quietUntil: number;
  waiting: Waiter[];
  calling: boolean;
  timer: NodeJS.Timeout | undefined;
  timerAt: number;
}

type CallPurpose = 'demand' | 'give back' | 'give back slots' | 'renew';

const CONTENDED_MS = 1_000;
const RETRY_AFTER_FAILURE_MS = 1_000;

export class SharedRequestLimiter implements Limiter {
  readonly #store: LimiterStore;
  readonly #limits: RateLimits;
  readonly #options: SharedLimiterOptions;
  readonly #lingerMs: number;
  readonly #maxBlock: number;
  readonly #holder = crypto.randomUUID();
  // One entry per key with something held or waiting; dropped once it holds nothing.
  readonly #holdings = new Map<string, Holding>();

  constructor(store: LimiterStore, limits: RateLimits, options: SharedLimiterOptions) {
    this.#store = store;
    this.#limits = limits;
    this.#options = options;
    this.#lingerMs = options.lingerMs ?? 200;
    this.#maxBlock = Math.max(1, Math.min(64, Math.floor(limits.burst / 8)));
  }

  admit(key: string): Admission | Promise<Admission> {
    const holding = this.#holdingOf(key);
    const now = performance.now();
    this.#expire(holding, now);
    if (holding.waiting.length === 0 && this.#take(holding, now)) return this.#admitted(key, holding);
    if (holding.tokens < 1 && now < holding.refusedUntil) {
      return {
        admitted: false,
        reason: 'rate',
        retryAfterSeconds: Math.max(1, Math.ceil((holding.refusedUntil - now) / 1000)),
      };
    }
    return new Promise<Admission>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          holding.waiting.splice(holding.waiting.indexOf(waiter), 1);
          reject(new LimiterUnavailableError(`no admission within ${this.#options.timeoutMs} ms`));
        }, this.#options.timeoutMs),
      };
      holding.waiting.push(waiter);
      if (!holding.calling) this.#call(key, holding, 'demand');
    });
  }

  /** Gives back everything held (bounded by `timeoutMs`), then closes the store. */
  async close(): Promise<void> {
    const returns = [...this.#holdings].map(([key, holding]) => {
      clearTimeout(holding.timer);
      holding.timer = undefined;
      const idle = holding.tokens > 0 || holding.slots > holding.busy;
      return holding.calling || !idle ? undefined : this.#call(key, holding, 'give back');
    });
    await within(Promise.allSettled(returns), this.#options.timeoutMs).catch(() => {});
    await this.#store.close();
  }

  #holdingOf(key: string): Holding {
    let holding = this.#holdings.get(key);
    if (!holding) {
      holding = {
        tokens: 0,
        slots: 0,
        busy: 0,
        block: 1,
        validUntil: 0,
        lastUsed: 0,
        fullAt: 0,
        refusedUntil: 0,
        contendedUntil: 0,
        quietUntil: 0,
        waiting: [],
        calling: false,
        timer: undefined,
        timerAt: 0,
      };
      this.#holdings.set(key, holding);
    }
    return holding;
  }

  /** Past the store's expiry nothing held may be used: the store no longer counts it. */
  #expire(holding: Holding, now: number): void {
    if (now < holding.validUntil) return;
    holding.tokens = 0;
    holding.slots = 0;
  }

  /** Admits one request from what is held, if it can. */
  #take(holding: Holding, now: number): boolean {
    if (holding.busy >= holding.slots || holding.tokens < 1 || now >= holding.validUntil) return false;
    holding.busy += 1;
    holding.tokens -= 1;
    holding.lastUsed = now;
    if (holding.busy >= holding.slots) holding.fullAt = now;
    return true;
  }

  #admitted(key: string, holding: Holding): Admission {
    this.#schedule(key, holding);
    return admittedOnce(() => {
      holding.busy -= 1;
      holding.lastUsed = performance.now();
      this.#serve(key, holding);
      this.#schedule(key, holding);
    });
  }

  /** Admits waiting requests from what is held now. */
  #serve(key: string, holding: Holding): void {
    const now = performance.now();
    while (holding.waiting.length > 0 && this.#take(holding, now)) {
      const waiter = holding.waiting.shift()!;
      clearTimeout(waiter.timer);
      waiter.resolve(this.#admitted(key, holding));
    }
  }

  /**
   * One call to the store for `key`: for the requests waiting (more slots and a block of tokens),
   * to give back everything unused, to give back the slots unused by a key still in use, or to
   * renew the holding.
   */
  #call(key: string, holding: Holding, purpose: CallPurpose): Promise<void> {
    const waiters = purpose === 'demand' ? holding.waiting.length : 0;
    const giveBack = purpose === 'give back';
    const request: LeaseRequest = {
      key,
      holder: this.#holder,
      unused: giveBack ? 0 : holding.tokens,
      give: giveBack ? holding.tokens : 0,
      take: waiters > 0 ? Math.max(0, Math.max(waiters, holding.block) - holding.tokens) : 0,
      slots:
        giveBack || purpose === 'give back slots'
          ? holding.busy
          : Math.min(this.#limits.maxInFlight, Math.max(holding.slots, holding.busy + waiters)),
      slotsNeeded: waiters > 0 ? holding.busy + 1 : 0,
    };
    if (waiters > 0 && holding.tokens < 1) holding.block = Math.min(this.#maxBlock, holding.block * 2);
    if (giveBack) holding.block = Math.max(1, Math.floor(holding.block / 2));
    // What is given back is gone at once: this process never uses more than the store counts.
    holding.tokens -= request.give;
    holding.slots = Math.min(holding.slots, request.slots);
    holding.calling = true;
    const sent = performance.now();
    return this.#store.lease(request, this.#limits, this.#options.leaseMs).then(
      (grant) => {
        holding.calling = false;
        const now = performance.now();
        // Tokens spent while the call was under way come off what the store says is held.
        holding.tokens = Math.max(0, holding.tokens - request.unused + grant.tokens);
        if (grant.slots > holding.slots) holding.fullAt = now;
        holding.slots = grant.slots;
        holding.validUntil = sent + this.#options.leaseMs;
        if (grant.contended) {
          holding.contendedUntil = now + CONTENDED_MS;
          holding.block = 1;
        }
        holding.refusedUntil = grant.tokens < 1 ? now + grant.retryAfterMs : 0;
        this.#serve(key, holding);
        if (holding.waiting.length > 0) {
          if (grant.slots < request.slotsNeeded) this.#refuseWaiting(holding, 'in_flight', 1);
          else if (request.take > 0 && grant.tokens < 1) {
            this.#refuseWaiting(holding, 'rate', Math.max(1, Math.ceil(grant.retryAfterMs / 1000)));
          } else this.#call(key, holding, 'demand');
        }
        this.#schedule(key, holding);
      },
      (error: unknown) => {
        holding.calling = false;
        holding.quietUntil = performance.now() + RETRY_AFTER_FAILURE_MS;
        if (holding.waiting.length > 0) {
          for (const waiter of holding.waiting.splice(0)) {
            clearTimeout(waiter.timer);
            waiter.reject(error);
          }
        } else this.#options.onReturnError?.(error);
        this.#schedule(key, holding);
      },
    );
  }

  #refuseWaiting(holding: Holding, reason: 'rate' | 'in_flight', retryAfterSeconds: number): void {
    for (const waiter of holding.waiting.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.resolve({ admitted: false, reason, retryAfterSeconds });
    }
  }

  /**
   * Keeps the one timer of a holding: give back what is idle once the key has had no request in
   * progress for the linger (at once while the key is contended), else renew the slots and tokens
   * of a key in use before the store lets them expire; forget the key once nothing is held. A timer
   * already set earlier is kept: when it fires it looks again (a busy key does not reset a timer per
   * request).
   */
  #schedule(key: string, holding: Holding): void {
    if (holding.calling || holding.waiting.length > 0) return;
    const now = performance.now();
    this.#expire(holding, now);
    const next = this.#next(holding, now);
    if (next === undefined) {
      clearTimeout(holding.timer);
      holding.timer = undefined;
      if (holding.busy === 0 && now >= holding.refusedUntil) this.#holdings.delete(key);
      return;
    }
    if (holding.timer !== undefined && holding.timerAt <= next.at) return;
    clearTimeout(holding.timer);
    holding.timerAt = next.at;
    holding.timer = setTimeout(
      () => {
        holding.timer = undefined;
        if (holding.calling || holding.waiting.length > 0) return;
        const due = this.#next(holding, performance.now());
        if (due === undefined || performance.now() < due.at) this.#schedule(key, holding);
        else void this.#call(key, holding, due.purpose);
      },
      Math.max(0, next.at - now),
    );
    holding.timer.unref();
  }

  /** The next call a holding needs, and when, if it holds anything. */
  #next(holding: Holding, now: number): { at: number; purpose: CallPurpose } | undefined {
    const contended = now < holding.contendedUntil;
    const idle = holding.tokens > 0 || holding.slots > holding.busy;
    const linger = contended ? 0 : this.#lingerMs;
    const notBefore = holding.quietUntil;
    if (idle && (holding.busy === 0 || contended)) {
      return { at: Math.max(holding.lastUsed + linger, notBefore), purpose: 'give back' };
    }
    if (holding.slots > holding.busy) {
      return { at: Math.max(holding.fullAt + linger, notBefore), purpose: 'give back slots' };
    }
    if (idle || holding.slots > 0) {
      const at = holding.validUntil - this.#options.leaseMs / 2;
      return { at: Math.max(at, notBefore), purpose: 'renew' };
    }
    return undefined;
  }
}

/** `work`'s value, or LimiterUnavailableError after `timeoutMs`. */
function within<T>(work: Promise<T>, timeoutMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new LimiterUnavailableError(`no answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
