/**
 * Two gateway processes on one PostgreSQL share each key's request limits, kept in PostgreSQL or in
 * Redis (where one answers): a key with a burst of ten gets ten requests in all, however they are
 * spread over the gateways, and both then refuse it. A busy key's requests send about no statement
 * for the limits, counted on the wire.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWireCounter } from '../../bench/wire-counter.ts';
import { createApiKey } from '../../src/principals/api-keys.ts';
import { openTestDatabase, TEST_DATABASE_KINDS, type TestDatabase } from '../support/databases.ts';
import { type GatewayProcess, startGateway } from '../support/gateway-process.ts';
import { answers, TEST_REDIS_URL } from '../support/redis.ts';

const BURST = 10;
const STORES = [
  { DPGATE_RATE_LIMIT_STORE: 'postgres' },
  ...((await answers(TEST_REDIS_URL))
    ? [{ DPGATE_RATE_LIMIT_STORE: 'redis', DPGATE_REDIS_URL: TEST_REDIS_URL }]
    : []),
];

describe.runIf(TEST_DATABASE_KINDS.includes('postgres')).each(STORES)(
  'request limits shared by two gateways, %o',
  (store) => {
    let database: TestDatabase;
    let dataDir: string;
    let gateways: GatewayProcess[] = [];

    beforeAll(async () => {
      database = await openTestDatabase('postgres');
      dataDir = mkdtempSync(join(tmpdir(), 'dpgate-limits-'));
      const env = {
        DATABASE_URL: database.url,
        DPGATE_DATA_DIR: dataDir,
        DPGATE_DEMO: '0',
        // One token a minute after the burst: nothing refills while the test runs.
        DPGATE_RATE_LIMIT_PER_MINUTE: '1',
        DPGATE_RATE_LIMIT_BURST: String(BURST),
        DPGATE_MAX_IN_FLIGHT_PER_KEY: '100',
        ...store,
      };
      gateways = await Promise.all([startGateway(env), startGateway(env)]);
    });

    afterAll(async () => {
      await Promise.all(gateways.map((gateway) => gateway.stop()));
      await database?.close();
      rmSync(dataDir, { recursive: true, force: true });
    });

    const me = (gateway: GatewayProcess, key: string) =>
      fetch(`${gateway.url}/v1/me`, { headers: { authorization: `Bearer ${key}` } }).then(
        async (response) => ({
          status: response.status,
          body: (await response.json()) as { code?: string; limit?: string },
        }),
      );

    it('admits a burst of ten over both gateways as a whole, then both answer 429', async () => {
      const key = (await createApiKey(database.db, { role: 'analyst', name: 'limited analyst' })).key;
      // Twenty requests at once, ten to each gateway: with per-process buckets all twenty would pass.
      const outcomes = await Promise.all(
        Array.from({ length: 2 * BURST }, (_, i) => me(gateways[i % 2]!, key)),
      );
      const admitted = outcomes.filter((o) => o.status === 200);
      const refused = outcomes.filter((o) => o.status === 429);
      expect(admitted).toHaveLength(BURST);
      expect(refused).toHaveLength(BURST);
      for (const outcome of refused)
        expect(outcome.body).toMatchObject({ code: 'rate_limited', limit: 'rate' });
      for (const gateway of gateways) expect((await me(gateway, key)).status).toBe(429);

      // Another key has its own bucket on both gateways.
      const other = (await createApiKey(database.db, { role: 'analyst', name: 'other analyst' })).key;
      expect((await me(gateways[0]!, other)).status).toBe(200);
      expect((await me(gateways[1]!, other)).status).toBe(200);
    });

    /** Statements on the wire per /v1/me request of one busy key, limits kept as `limitsEnv` says. */
    const statementsPerRequest = async (limitsEnv: Record<string, string | undefined>) => {
      const counter = await startWireCounter(database.url!);
      const counted = await startGateway({
        DATABASE_URL: counter.url,
        DPGATE_DATA_DIR: dataDir,
        DPGATE_DEMO: '0',
        DPGATE_RATE_LIMIT_PER_MINUTE: '6000000',
        DPGATE_RATE_LIMIT_BURST: '1000000',
        DPGATE_MAX_IN_FLIGHT_PER_KEY: '100',
        // The key is looked up once, not every 2 s.
        DPGATE_KEY_CACHE_MS: '600000',
        ...limitsEnv,
      });
      try {
        const key = (await createApiKey(database.db, { role: 'analyst', name: 'busy analyst' })).key;
        const client = async (count: number) => {
          for (let i = 0; i < count; i++) expect((await me(counted, key)).status).toBe(200);
        };
        await Promise.all([client(50), client(50)]);
        const before = counter.counts.statements;
        await Promise.all([client(300), client(300)]);
        return (counter.counts.statements - before) / 600;
      } finally {
        await counted.stop();
        await counter.close();
      }
    };

    it.runIf(store.DPGATE_RATE_LIMIT_STORE === 'postgres')(
      'sends about no limiter statement per request of a busy key, counted on the wire',
      async () => {
        const shared = await statementsPerRequest(store);
        // The route's own statement (the budgets /v1/me shows), without any shared limits.
        const route = await statementsPerRequest({ DPGATE_RATE_LIMIT_STORE: 'memory' });
        expect(route).toBeGreaterThanOrEqual(1);
        // One lease call per block of 64 requests, and nothing per request.
        expect(shared - route).toBeLessThanOrEqual(0.05);
      },
    );

    it('keeps the limits in memory when told to, so each process limits on its own', async () => {
      const local = await startGateway({
        DATABASE_URL: database.url,
        DPGATE_DATA_DIR: dataDir,
        DPGATE_DEMO: '0',
        DPGATE_RATE_LIMIT_STORE: 'memory',
        DPGATE_RATE_LIMIT_PER_MINUTE: '1',
        DPGATE_RATE_LIMIT_BURST: '1',
      });
      try {
        const key = (await createApiKey(database.db, { role: 'analyst', name: 'local analyst' })).key;
        expect((await me(local, key)).status).toBe(200);
        expect((await me(local, key)).status).toBe(429);
        // The shared gateways never saw the key spend anything.
        expect((await me(gateways[0]!, key)).status).toBe(200);
      } finally {
        await local.stop();
      }
    });
  },
);
