/**
 * What the shared request limiter costs, PostgreSQL against Redis, interleaved call by call:
 * - one lease call (`dpgate.lease_requests` of migration 0009, or the same as a Lua script on Redis):
 *   take a token and a slot for a key, then give them back; this is what a key that is not busy
 *   pays, and what a busy key pays once per block;
 * - a request of a busy key through `SharedRequestLimiter` (admit, release), with the store calls it
 *   caused per request.
 * One client. Needs PostgreSQL (DATABASE_URL) and Redis (REDIS_URL, default redis://127.0.0.1:6379).
 * Run: `npx tsx bench/limiter.bench.ts` (BENCH_ROUNDS, default 2000).
 */
import { loadavg } from 'node:os';
import { postgresLimiterStore } from '../src/http/postgres-limiter-store.ts';
import { redisLimiterStore } from '../src/http/redis-limiter-store.ts';
import { type LimiterStore, SharedRequestLimiter } from '../src/http/shared-request-limiter.ts';
import { openTestDatabase } from '../test/support/databases.ts';

process.env.DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/test';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2000);
const LIMITS = { perMinute: 1e9, burst: 1e9, maxInFlight: 1_000_000 };
const LEASE_MS = 120_000;

const median = (ms: number[]) => [...ms].sort((a, b) => a - b)[Math.floor(ms.length / 2)]!;

/** The store, and a limiter over it that counts the calls it makes. */
function measured(store: LimiterStore) {
  const counts = { calls: 0 };
  const limiter = new SharedRequestLimiter(
    {
      lease: (request, limits, leaseMs) => {
        counts.calls++;
        return store.lease(request, limits, leaseMs);
      },
      close: async () => {},
    },
    LIMITS,
    { timeoutMs: 5_000, leaseMs: LEASE_MS },
  );
  return { store, limiter, counts };
}

const oneCall = async (store: LimiterStore, key: string) => {
  const holder = crypto.randomUUID();
  const ask = { key, holder, unused: 0, give: 0, take: 1, slots: 1, slotsNeeded: 1 };
  await store.lease(ask, LIMITS, LEASE_MS);
  await store.lease({ ...ask, give: 1, take: 0, slots: 0, slotsNeeded: 0 }, LIMITS, LEASE_MS);
};
const oneRequest = async (limiter: SharedRequestLimiter, key: string) => {
  const admission = await limiter.admit(key);
  if (!admission.admitted) throw new Error('refused');
  admission.release();
};

const database = await openTestDatabase('postgres', { demo: false });
const stores = {
  postgres: measured(postgresLimiterStore(database.db)),
  redis: measured(redisLimiterStore(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', 5_000)),
};
try {
  console.log(
    `shared limiter, ${ROUNDS} interleaved rounds; node ${process.version}; load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const key = crypto.randomUUID();
  for (const [name, { store, limiter }] of Object.entries(stores)) {
    // Warm: connections open, the blocks grown to their size.
    for (let i = 0; i < 200; i++) await oneRequest(limiter, `${key}:${name}`);
    await oneCall(store, `${key}:${name}`);
  }
  const times = {
    postgres: { call: [] as number[], request: [] as number[] },
    redis: { call: [] as number[], request: [] as number[] },
  };
  const callsBefore = { postgres: stores.postgres.counts.calls, redis: stores.redis.counts.calls };
  for (let i = 0; i < ROUNDS; i++) {
    for (const name of ['postgres', 'redis'] as const) {
      const { store, limiter } = stores[name];
      let started = performance.now();
      await oneCall(store, `${key}:${name}:calls`);
      times[name].call.push((performance.now() - started) / 2);
      started = performance.now();
      await oneRequest(limiter, `${key}:${name}`);
      times[name].request.push(performance.now() - started);
    }
  }
  for (const name of ['postgres', 'redis'] as const) {
    const calls = (stores[name].counts.calls - callsBefore[name]) / ROUNDS;
    console.log(
      `${name}: one lease call ${median(times[name].call).toFixed(3)} ms; a request of a busy key ${median(times[name].request).toFixed(4)} ms, ${calls.toFixed(4)} calls per request (medians)`,
    );
  }
} finally {
  for (const { store, limiter } of Object.values(stores)) {
    await limiter.close();
    await store.close();
  }
  await database.close();
}
