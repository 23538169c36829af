/**
 * Per-key rate limits through the app, with the in-process limiter and the one shared in
 * PostgreSQL or Redis: burst, 429 with Retry-After, refill, the in-flight cap, refused requests
 * leaving the ledger untouched. Then the shared limiter's leases: exact bounds over several
 * limiters under load, unused tokens and slots given back, holdings that expire when their holder
 * is gone and are renewed while it lives, store calls per request, and a limiter that cannot answer
 * refusing with 503.
 */

import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { Hono } from 'hono';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.ts';
import { isDatabaseUnavailable } from '../../src/db/database-errors.ts';
import type { AppEnv } from '../../src/http/context.ts';
import { rateLimit } from '../../src/http/middleware/rate-limit.ts';
import { postgresLimiterStore } from '../../src/http/postgres-limiter-store.ts';
import { Problem, problemResponse } from '../../src/http/problem.ts';
import { redisLimiterStore } from '../../src/http/redis-limiter-store.ts';
import { type Limiter, type RateLimits, RequestLimiter } from '../../src/http/request-limiter.ts';
import {
  type LimiterStore,
  LimiterUnavailableError,
  SharedRequestLimiter,
} from '../../src/http/shared-request-limiter.ts';
import { createTestApp } from '../support/app.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { testPrincipal } from '../support/ledger.ts';
import { answers, TEST_REDIS_URL } from '../support/redis.ts';

/** The Redis store is tested where a Redis answers (the development and CI machines run one). */
const redisUp = await answers(TEST_REDIS_URL);
const opened: LimiterStore[] = [];
afterAll(async () => {
  for (const store of opened) await store.close();
});

const SHARED_STORES: Record<string, (db: Kysely<Database>) => LimiterStore> = {
  postgres: (db) => postgresLimiterStore(db),
  ...(redisUp
    ? {
        redis: () => {
          const store = redisLimiterStore(TEST_REDIS_URL, 5_000);
          opened.push(store);
          return store;
        },
      }
    : {}),
};
const shared = (
  store: string,
  db: Kysely<Database>,
  limits: RateLimits,
  options: {
    leaseMs?: number;
    lingerMs?: number;
    timeoutMs?: number;
    wrap?: (store: LimiterStore) => LimiterStore;
  } = {},
): SharedRequestLimiter => {
  const wrap = options.wrap ?? ((inner) => inner);
  return new SharedRequestLimiter(wrap(SHARED_STORES[store]!(db)), limits, {
    timeoutMs: options.timeoutMs ?? 10_000,
    leaseMs: options.leaseMs ?? 60_000,
    ...(options.lingerMs === undefined ? {} : { lingerMs: options.lingerMs }),
  });
};

/** Counts the calls to a store: one call is one statement (PostgreSQL) or one script (Redis). */
function counted() {
  const counts = { calls: 0 };
  const wrap = (inner: LimiterStore): LimiterStore => ({
    lease: (request, limits, leaseMs) => {
      counts.calls++;
      return inner.lease(request, limits, leaseMs);
    },
    close: () => inner.close(),
  });
  return { wrap, counts };
}

/** Cuts a store off at `kill()`, as a killed gateway is: later calls never reach it nor answer. */
function killable() {
  let killed = false;
  const wrap = (inner: LimiterStore): LimiterStore => ({
    lease: (request, limits, leaseMs) =>
      killed ? new Promise(() => {}) : inner.lease(request, limits, leaseMs),
    close: () => inner.close(),
  });
  return { wrap, kill: () => (killed = true) };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const STORES: Record<string, (db: Kysely<Database>, limits: RateLimits) => Limiter> = {
  memory: (_db, limits) => new RequestLimiter(limits),
  ...Object.fromEntries(
    Object.keys(SHARED_STORES).map((name) => [
      name,
      (db: Kysely<Database>, limits: RateLimits) => shared(name, db, limits),
    ]),
  ),
};

describeEachDatabase('rate limits', (database) => {
  describe.each(Object.entries(STORES))('kept in %s', (_name, makeLimiter) => {
    /** An app whose keys get `burst` requests at once and `perMinute` after that. */
    const appWithLimits = (perMinute: number, burst: number) =>
      createTestApp(database(), () => ({
        requestLimiter: makeLimiter(database().db, { perMinute, burst, maxInFlight: 100 }),
      }));
    const me = (t: Awaited<ReturnType<typeof appWithLimits>>, key: string) =>
      t.app.request('/v1/me', { headers: t.bearer(key) });

    it('answers a burst, then 429 rate_limited with Retry-After; each key has its own bucket', async () => {
      // One token a minute: nothing refills while the test runs.
      const t = await appWithLimits(1, 5);
      for (let i = 0; i < 5; i++) expect((await me(t, t.keys.analyst)).status).toBe(200);
      const refused = await me(t, t.keys.analyst);
      expect(refused.status).toBe(429);
      expect(refused.headers.get('content-type')).toBe('application/problem+json');
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(55);
      expect(await refused.json()).toMatchObject({ code: 'rate_limited', limit: 'rate' });
      expect((await me(t, t.keys.council)).status).toBe(200);
    });

    it('admits again once the bucket has refilled for Retry-After seconds', async () => {
      const t = await appWithLimits(60, 1);
      expect((await me(t, t.keys.analyst)).status).toBe(200);
      const refused = await me(t, t.keys.analyst);
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBe('1');
      await new Promise((resolve) => setTimeout(resolve, 1_050));
      expect((await me(t, t.keys.analyst)).status).toBe(200);
    });

    it('does not limit /health, and answers an unknown key 401 rather than 429', async () => {
      const t = await appWithLimits(1, 1);
      for (let i = 0; i < 3; i++) expect((await t.app.request('/health')).status).toBe(200);
      for (let i = 0; i < 3; i++) expect((await me(t, 'not-a-key')).status).toBe(401);
    });

    it('refuses a query at the limit before it runs: the ledger and the audit log do not change', async () => {
      // A bucket of two that refills once a minute, so nothing refills while the test runs.
      const slow = await appWithLimits(1, 2);
      const { db } = database();
      const ledgerState = async () => ({
        charges: await db
          .selectFrom('dpgate.charges')
          .select(({ fn }) => fn.countAll().as('n'))
          .executeTakeFirst(),
        budgets: await db
          .selectFrom('dpgate.community_budgets')
          .select(['community_id', 'epsilon_spent', 'delta_spent', 'rho_spent'])
          .orderBy('community_id')
          .execute(),
        audit: await db
          .selectFrom('dpgate.audit_log')
          .select(({ fn }) => fn.countAll().as('n'))
          .executeTakeFirst(),
      });
      const query = (epsilon: number) =>
        slow.app.request('/v1/queries', {
          method: 'POST',
          headers: { ...slow.bearer(slow.keys.analyst), 'content-type': 'application/json' },
          body: JSON.stringify({ sql: 'SELECT COUNT(*) FROM people', epsilon }),
        });

      const beforeAnswered = await ledgerState();
      expect((await query(0.5)).status).toBe(200);
      const afterAnswered = await ledgerState();
      expect(afterAnswered.charges).not.toEqual(beforeAnswered.charges);

      expect((await slow.app.request('/v1/me', { headers: slow.bearer(slow.keys.analyst) })).status).toBe(
        200,
      );
      const refused = await query(0.4);
      expect(refused.status).toBe(429);
      expect(await ledgerState()).toEqual(afterAnswered);
    });
  });

  describe.each(Object.keys(SHARED_STORES))('shared in %s', (store) => {
    it('the slots of a killed holder stop counting once its lease expires', async () => {
      const limits = { perMinute: 6000, burst: 100, maxInFlight: 1 };
      const key = crypto.randomUUID();
      const cut = killable();
      const doomed = shared(store, database().db, limits, { leaseMs: 1_000, wrap: cut.wrap });
      const other = shared(store, database().db, limits, { leaseMs: 1_000 });
      expect(await doomed.admit(key)).toMatchObject({ admitted: true });
      cut.kill(); // its request never finishes, and it never gives back nor renews
      expect(await other.admit(key)).toEqual({ admitted: false, reason: 'in_flight', retryAfterSeconds: 1 });
      await sleep(1_100);
      const again = await other.admit(key);
      expect(again).toMatchObject({ admitted: true });
      if (again.admitted) again.release();
    });

    it('a holder that is alive renews the slots of requests still running past the lease', async () => {
      const limits = { perMinute: 6000, burst: 100, maxInFlight: 1 };
      const key = crypto.randomUUID();
      // Renewed every 300 ms, so a timer late by less than that under load still renews in time.
      const [running, other] = [0, 1].map(() => shared(store, database().db, limits, { leaseMs: 600 }));
      const long = await running!.admit(key);
      expect(long.admitted).toBe(true);
      await sleep(1_500);
      expect(await other!.admit(key)).toMatchObject({ admitted: false, reason: 'in_flight' });
      if (long.admitted) long.release();
      await until(async () => {
        const next = await other!.admit(key);
        if (next.admitted) next.release();
        return next.admitted;
      });
    });

    it("a finished request's slot goes back to the store after the linger, to any limiter", async () => {
      const limits = { perMinute: 6000, burst: 100, maxInFlight: 1 };
      const [a, b] = [0, 1].map(() => shared(store, database().db, limits, { lingerMs: 100 }));
      const key = crypto.randomUUID();
      const first = await a!.admit(key);
      expect(first.admitted).toBe(true);
      expect(await b!.admit(key)).toMatchObject({ admitted: false, reason: 'in_flight' });
      if (first.admitted) first.release();
      await until(async () => {
        const next = await b!.admit(key);
        if (next.admitted) next.release();
        return next.admitted;
      });
    });

    it('a limiter whose key is still in use gives back the slots it no longer uses', async () => {
      const limits = { perMinute: 6000, burst: 100, maxInFlight: 2 };
      const [a, b] = [0, 1].map(() => shared(store, database().db, limits, { lingerMs: 100 }));
      const key = crypto.randomUUID();
      const [long, brief] = await Promise.all([a!.admit(key), a!.admit(key)]);
      if (!long?.admitted || !brief?.admitted) throw new Error('expected both admitted');
      expect(await b!.admit(key)).toMatchObject({ admitted: false, reason: 'in_flight' });
      brief.release();
      // `long` still runs on a: a's second slot goes back after the linger, not at its renewal.
      await until(async () => {
        const next = await b!.admit(key);
        if (next.admitted) next.release();
        return next.admitted;
      });
      long.release();
    });

    it('gives unspent tokens back after the linger: two limiters in turn spend exactly the burst', async () => {
      // A burst of 40 lets a block grow to 5 tokens; nothing refills while the test runs.
      const limits = { perMinute: 1, burst: 40, maxInFlight: 100 };
      const [a, b] = [0, 1].map(() => shared(store, database().db, limits, { lingerMs: 100 }));
      const key = crypto.randomUUID();
      const spend = async (limiter: Limiter, count: number) => {
        let admitted = 0;
        for (let i = 0; i < count; i++) {
          const admission = await limiter.admit(key);
          if (admission.admitted) {
            admitted++;
            admission.release();
          }
        }
        return admitted;
      };
      expect(await spend(a!, 9)).toBe(9); // a holds the rest of its last block unspent
      await sleep(400);
      expect(await spend(b!, 40)).toBe(31);
      expect(await b!.admit(key)).toMatchObject({ admitted: false, reason: 'rate' });
    });

    it('admits exactly the limit of many requests arriving at once on two limiters, each on its own', async () => {
      const limits = { perMinute: 6000, burst: 1000, maxInFlight: 5 };
      const [a, b] = [shared(store, database().db, limits), shared(store, database().db, limits)];
      const [busy, idle] = [crypto.randomUUID(), crypto.randomUUID()];
      const admissions = await Promise.all(
        Array.from({ length: 24 }, (_, i) => (i % 2 === 0 ? a : b).admit(i % 3 === 0 ? idle : busy)),
      );
      const admitted = (key: string) =>
        admissions.filter((admission, i) => admission.admitted && (i % 3 === 0 ? idle : busy) === key);
      expect(admitted(busy)).toHaveLength(5);
      expect(admitted(idle)).toHaveLength(5);
      expect(admissions.filter((admission) => !admission.admitted)).toHaveLength(14);
      for (const admission of admissions) if (admission.admitted) admission.release();
    });

    it("holds the bounds exactly over three limiters under load: the bucket's rate and the in-flight cap", async () => {
      // 10 tokens a second after a burst of 20, at most 4 in flight; 3 limiters × 6 clients ask
      // without pause for 1.5 s, each request holding its slot 0–8 ms.
      const limits = { perMinute: 600, burst: 20, maxInFlight: 4 };
      const limiters = [0, 1, 2].map(() => shared(store, database().db, limits, { lingerMs: 50 }));
      const key = crypto.randomUUID();
      const admittedAt: number[] = [];
      let inFlight = 0;
      let mostInFlight = 0;
      const started = performance.now();
      const client = async (limiter: Limiter) => {
        while (performance.now() - started < 1_500) {
          const admission = await limiter.admit(key);
          if (!admission.admitted) {
            await sleep(2);
            continue;
          }
          admittedAt.push(performance.now());
          mostInFlight = Math.max(mostInFlight, ++inFlight);
          await sleep(Math.floor(Math.random() * 9));
          inFlight--;
          admission.release();
        }
      };
      await Promise.all(limiters.flatMap((limiter) => Array.from({ length: 6 }, () => client(limiter))));
      expect(mostInFlight).toBeLessThanOrEqual(limits.maxInFlight);
      expect(mostInFlight).toBeGreaterThan(1);
      // Every window [t_i, t_j] holds at most burst + rate × its length admissions (one token of
      // slack for the microseconds between spending a token and taking the time).
      const perMs = limits.perMinute / 60_000;
      for (let i = 0; i < admittedAt.length; i++) {
        for (let j = i; j < admittedAt.length; j++) {
          expect(j - i + 1).toBeLessThanOrEqual(limits.burst + perMs * (admittedAt[j]! - admittedAt[i]!) + 1);
        }
      }
      // Not vacuous: the burst and most of the refill were used.
      expect(admittedAt.length).toBeGreaterThanOrEqual(limits.burst + 5);
    });

    it('gives back what a call answering after the timeout granted', async () => {
      const limits = { perMinute: 1, burst: 3, maxInFlight: 1 };
      const slow = (inner: LimiterStore): LimiterStore => ({
        lease: async (request, l, leaseMs) => {
          await sleep(300);
          return inner.lease(request, l, leaseMs);
        },
        close: () => inner.close(),
      });
      const late = shared(store, database().db, limits, { timeoutMs: 100, lingerMs: 50, wrap: slow });
      const key = crypto.randomUUID();
      await expect(late.admit(key)).rejects.toBeInstanceOf(LimiterUnavailableError);
      await sleep(1_000);
      // The late grant (a token and the only slot) went back: another limiter gets all three.
      const other = shared(store, database().db, limits);
      for (let i = 0; i < 3; i++) {
        const admission = await other.admit(key);
        expect(admission).toMatchObject({ admitted: true });
        if (admission.admitted) admission.release();
      }
      expect(await other.admit(key)).toMatchObject({ admitted: false, reason: 'rate' });
    });

    it('answers a key over its rate with the Retry-After the store gave, without asking it again meanwhile', async () => {
      const limits = { perMinute: 1, burst: 1, maxInFlight: 10 };
      const { wrap, counts } = counted();
      const limiter = shared(store, database().db, limits, { wrap });
      const key = crypto.randomUUID();
      const first = await limiter.admit(key);
      expect(first.admitted).toBe(true);
      if (first.admitted) first.release();
      const refused = await limiter.admit(key);
      expect(refused).toMatchObject({ admitted: false, reason: 'rate' });
      if (refused.admitted) throw new Error('expected a refusal');
      // One token a minute: the bucket has one again in about 60 s.
      expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(59);
      expect(refused.retryAfterSeconds).toBeLessThanOrEqual(60);
      const calls = counts.calls;
      for (let i = 0; i < 20; i++) {
        const again = await limiter.admit(key);
        expect(again).toMatchObject({ admitted: false, reason: 'rate' });
      }
      expect(counts.calls).toBe(calls);
    });

    it('sends about no call per request for a busy key in steady state, also when requests outlast the linger', async () => {
      const limits = { perMinute: 6_000_000, burst: 1_000_000, maxInFlight: 100 };
      const { wrap, counts } = counted();
      const limiter = shared(store, database().db, limits, { lingerMs: 5, wrap });
      const key = crypto.randomUUID();
      const requests = async (count: number, lastingMs: number) => {
        for (let i = 0; i < count; i++) {
          const admission = await limiter.admit(key);
          if (!admission.admitted) throw new Error('refused');
          await (lastingMs > 0 ? sleep(lastingMs) : Promise.resolve());
          admission.release();
        }
      };
      await Promise.all([requests(100, 0), requests(100, 0)]); // the blocks grow to their size
      let before = counts.calls;
      await Promise.all([requests(1000, 0), requests(1000, 0)]);
      // Blocks of 64 tokens: one call per 64 requests, about 0.016 per request.
      expect((counts.calls - before) / 2000).toBeLessThanOrEqual(0.02);
      // Requests of 10 ms with a linger of 5: a key with a request in progress is not idle, so
      // nothing is given back between them (four in progress at a time, overlapping). A few calls
      // grow the holding to four slots and take three blocks of tokens; giving back between
      // requests would cost two calls per request.
      before = counts.calls;
      await Promise.all(
        [0, 3, 6, 9].map(async (offset) => {
          await sleep(offset);
          await requests(40, 10);
        }),
      );
      expect((counts.calls - before) / 160).toBeLessThanOrEqual(0.1);
    });
  });
});

/** Polls (the release is sent without waiting for it) until `check` holds. */
async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('condition not reached');
}

describe('shared limiter whose database cannot answer', () => {
  const limits = { perMinute: 60, burst: 10, maxInFlight: 2 };
  const appOver = (limiter: Limiter) =>
    new Hono<AppEnv>()
      .use(async (c, next) => {
        c.set('principal', testPrincipal());
        await next();
      })
      .use(rateLimit(limiter))
      .get('/ok', (c) => c.text('ok'))
      .onError((error, c) => {
        if (error instanceof Problem) return problemResponse(error, c.var.requestId);
        // As the app renders it (src/http/app.ts).
        if (isDatabaseUnavailable(error))
          return problemResponse(new Problem('database_unavailable', 'down'), c.var.requestId);
        return c.text('unexpected', 500);
      });
  const overPool = (port: number) =>
    new Kysely<Database>({
      dialect: new PostgresDialect({
        pool: new pg.Pool({
          host: '127.0.0.1',
          port,
          user: 'x',
          database: 'x',
          connectionTimeoutMillis: 30_000,
        }),
      }),
    });

  it('answers 503 limiter_unavailable within the timeout when the database hangs', async () => {
    // Accepts connections and never answers: every wait would hang without the limiter's timeout.
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const db = overPool((silent.address() as AddressInfo).port);
    try {
      const limiter = new SharedRequestLimiter(postgresLimiterStore(db), limits, {
        timeoutMs: 200,
        leaseMs: 60_000,
      });
      const response = await appOver(limiter).request('/ok');
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('1');
      expect(await response.json()).toMatchObject({ code: 'limiter_unavailable' });
    } finally {
      silent.close();
      void db.destroy().catch(() => {});
    }
  });

  it('answers 503 limiter_unavailable at once when Redis refuses connections, and within the timeout when it hangs', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const stores = [
      redisLimiterStore(`redis://127.0.0.1:${closedPort}`, 200),
      redisLimiterStore(`redis://127.0.0.1:${(silent.address() as AddressInfo).port}`, 200),
    ];
    try {
      for (const store of stores) {
        const limiter = new SharedRequestLimiter(store, limits, { timeoutMs: 300, leaseMs: 60_000 });
        for (let i = 0; i < 2; i++) {
          const response = await appOver(limiter).request('/ok');
          expect(response.status).toBe(503);
          expect(await response.json()).toMatchObject({ code: 'limiter_unavailable' });
        }
      }
    } finally {
      for (const store of stores) await store.close();
      silent.close();
    }
  });

  it('answers 503 database_unavailable when the database refuses connections', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const db = overPool(port);
    const limiter = new SharedRequestLimiter(postgresLimiterStore(db), limits, {
      timeoutMs: 5_000,
      leaseMs: 60_000,
    });
    const response = await appOver(limiter).request('/ok');
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ code: 'database_unavailable' });
    await db.destroy();
  });
});

describe('rate limit middleware: requests in progress', () => {
  it('answers 429 while a key has the maximum in progress, and admits again when one finishes', async () => {
    const principal = testPrincipal();
    const gates: (() => void)[] = [];
    const app = new Hono<AppEnv>()
      .use(async (c, next) => {
        c.set('principal', principal);
        await next();
      })
      .use(rateLimit(new RequestLimiter({ perMinute: 6000, burst: 100, maxInFlight: 2 })))
      .get('/slow', async (c) => {
        await new Promise<void>((resolve) => gates.push(resolve));
        return c.text('done');
      })
      .onError((error, c) =>
        error instanceof Problem ? problemResponse(error, c.var.requestId) : c.text('unexpected', 500),
      );

    const first = app.request('/slow');
    const second = app.request('/slow');
    while (gates.length < 2) await new Promise((resolve) => setTimeout(resolve, 1));
    const third = await app.request('/slow');
    expect(third.status).toBe(429);
    expect(third.headers.get('retry-after')).toBe('1');
    expect(await third.json()).toMatchObject({ code: 'rate_limited', limit: 'in_flight' });

    gates.shift()!();
    expect((await first).status).toBe(200);
    const fourth = app.request('/slow');
    while (gates.length < 2) await new Promise((resolve) => setTimeout(resolve, 1));
    for (const open of gates) open();
    expect((await second).status).toBe(200);
    expect((await fourth).status).toBe(200);
  });

  it('frees the slot when the handler fails', async () => {
    const limiter = new RequestLimiter({ perMinute: 6000, burst: 100, maxInFlight: 1 });
    const app = new Hono<AppEnv>()
      .use(async (c, next) => {
        c.set('principal', testPrincipal());
        await next();
      })
      .use(rateLimit(limiter))
      .get('/fails', () => {
        throw new Error('boom');
      })
      .onError((_error, c) => c.text('failed', 500));
    expect((await app.request('/fails')).status).toBe(500);
    expect((await app.request('/fails')).status).toBe(500);
  });
});
