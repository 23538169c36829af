/**
 * Per-key rate limits through the app: burst, 429 with Retry-After, refill, the in-flight cap, and
 * refused requests leaving the ledger untouched.
 */
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import type { AppEnv } from '../../src/http/context.ts';
import { rateLimit } from '../../src/http/middleware/rate-limit.ts';
import { Problem, problemResponse } from '../../src/http/problem.ts';
import { RequestLimiter } from '../../src/http/request-limiter.ts';
import { createTestApp } from '../support/app.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { testPrincipal } from '../support/ledger.ts';

describeEachDatabase('rate limits', (database) => {
  /** An app whose keys get `burst` requests at once and `perMinute` after that. */
  const appWithLimits = (perMinute: number, burst: number) =>
    createTestApp(database(), () => ({ rateLimits: { perMinute, burst, maxInFlight: 100 } }));
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

    expect((await slow.app.request('/v1/me', { headers: slow.bearer(slow.keys.analyst) })).status).toBe(200);
    const refused = await query(0.4);
    expect(refused.status).toBe(429);
    expect(await ledgerState()).toEqual(afterAnswered);
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
