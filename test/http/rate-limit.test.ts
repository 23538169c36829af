/**
 * Per-key rate limits through the app, with the in-process limiter and the one shared in the
 * database: burst, 429 with Retry-After, refill, the in-flight cap, refused requests leaving the
 * ledger untouched, leases that expire, and a limiter that cannot answer refusing with 503.
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
import { type LimiterStore, SharedRequestLimiter } from '../../src/http/shared-request-limiter.ts';
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
const shared = (store: string, db: Kysely<Database>, limits: RateLimits, leaseMs = 60_000): Limiter =>
  new SharedRequestLimiter(SHARED_STORES[store]!(db), limits, { timeoutMs: 10_000, leaseMs });

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
    it('a lease not given back (its gateway was killed) stops counting once it expires', async () => {
      const limits = { perMinute: 6000, burst: 100, maxInFlight: 1 };
      const held = shared(store, database().db, limits);
      const key = crypto.randomUUID();
      expect(await held.admit(key)).toMatchObject({ admitted: true });
      expect(await held.admit(key)).toEqual({ admitted: false, reason: 'in_flight', retryAfterSeconds: 1 });

      const brief = shared(store, database().db, limits, 50);
      const other = crypto.randomUUID();
      expect(await brief.admit(other)).toMatchObject({ admitted: true });
      await new Promise((resolve) => setTimeout(resolve, 200));
      const again = await brief.admit(other);
      expect(again).toMatchObject({ admitted: true });
      if (again.admitted) again.release();
    });

    it('a released lease frees its slot at once, on any limiter over the store', async () => {
      const limits = { perMinute: 6000, burst: 100, maxInFlight: 1 };
      const [a, b] = [shared(store, database().db, limits), shared(store, database().db, limits)];
      const key = crypto.randomUUID();
      const first = await a.admit(key);
      expect(first.admitted).toBe(true);
      expect(await b.admit(key)).toMatchObject({ admitted: false, reason: 'in_flight' });
      if (first.admitted) first.release();
      await until(async () => {
        const next = await b.admit(key);
        if (next.admitted) next.release();
        return next.admitted;
      });
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
